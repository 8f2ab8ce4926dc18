package tui

import (
	"fmt"
	"slices"

	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/pgtend/pgtend/ops/report"
)

// chunksPane lists the chunks or partitions of one table.
type chunksPane struct {
	paneBase
	schema, table string
	all           []report.Chunk
	rows          []report.Chunk
	cursor        listCursor
}

func newChunksPane() *chunksPane { return &chunksPane{} }

func (p *chunksPane) Title() string { return "Chunks" }

func (p *chunksPane) SetSize(w, h int) {
	p.paneBase.SetSize(w, h)
	p.cursor.setHeight(max(p.height-4, 1)) // title, headings, rule, totals
}

func (p *chunksPane) setReport(r *report.Report) {
	p.all = r.Chunks
	if p.table == "" { // nothing chosen yet: the table with the most chunks
		counts := map[[2]string]int{}
		best := 0
		for _, c := range r.Chunks {
			k := [2]string{c.TableSchema, c.Table}
			counts[k]++
			if counts[k] > best {
				best, p.schema, p.table = counts[k], c.TableSchema, c.Table
			}
		}
	}
	p.pick()
}

func (p *chunksPane) show(schema, table string) {
	if schema != p.schema || table != p.table {
		p.schema, p.table = schema, table
		p.cursor.index, p.cursor.offset = 0, 0
	}
	p.pick()
}

func (p *chunksPane) pick() {
	p.rows = p.rows[:0]
	for _, c := range p.all {
		if c.TableSchema == p.schema && c.Table == p.table {
			p.rows = append(p.rows, c)
		}
	}
	p.cursor.setLen(len(p.rows))
}

func (p *chunksPane) keys(k KeyMap) []key.Binding { return []key.Binding{k.Up, k.Down, k.Back} }

func (p *chunksPane) update(msg tea.KeyPressMsg, k KeyMap) tea.Cmd {
	switch {
	case key.Matches(msg, k.Up):
		p.cursor.move(-1)
	case key.Matches(msg, k.Down):
		p.cursor.move(1)
	case key.Matches(msg, k.PageUp):
		p.cursor.move(-p.cursor.height)
	case key.Matches(msg, k.PageDown):
		p.cursor.move(p.cursor.height)
	case key.Matches(msg, k.Top):
		p.cursor.top()
	case key.Matches(msg, k.Bottom):
		p.cursor.bottom()
	}
	return nil
}

var chunkColumns = []column{
	{title: "CHUNK", width: 17, flex: true},
	{title: "FROM", width: 10, priority: 1},
	{title: "TO", width: 10, priority: 3},
	{title: "SIZE", width: 9, right: true},
	{title: "C", width: 1, priority: 2},
	{title: "BEFORE", width: 9, right: true, priority: 2},
	{title: "AFTER", width: 9, right: true, priority: 2},
	{title: "RATIO", width: 6, right: true, priority: 2},
	{title: "PAST", width: 4, priority: 1},
}

// rangeText shows a bound as a date when it is a midnight (daily chunks
// and partitions), with the time otherwise.
func rangeText(t *time.Time, i *int64) string {
	switch {
	case t != nil && t.UTC().Format("15:04:05") == "00:00:00":
		return t.UTC().Format("2006-01-02")
	case t != nil:
		return t.UTC().Format("2006-01-02 15:04")
	case i != nil:
		return fmt.Sprint(*i)
	}
	return "—"
}

func (p *chunksPane) View() string {
	s := p.styles
	if p.table == "" {
		return p.frame([]string{s.PaneTitle.Render("No chunks or partitions"), s.Dim.Render("Plain tables have none; press 1 and pick a hypertable or partitioned table.")})
	}
	var tot struct {
		n, compressed, expired int
		bytes, before, after   int64
		expiredBytes           int64
	}
	for _, c := range p.rows {
		tot.n++
		tot.bytes += val0(c.TotalBytes)
		if c.Compressed {
			tot.compressed++
			tot.before += val0(c.BeforeBytes)
			tot.after += val0(c.AfterBytes)
		}
		if c.Expired {
			tot.expired++
			tot.expiredBytes += val0(c.TotalBytes)
		}
	}
	lines := []string{s.PaneTitle.Render(Clean(p.schema+"."+p.table)) + s.Dim.Render(fmt.Sprintf("  %d chunks", len(p.rows)))}
	cols := slices.Clone(chunkColumns)
	for _, c := range p.rows { // widen the range columns for sub-day bounds
		cols[1].width = max(cols[1].width, len(rangeText(c.RangeStart, c.RangeStartInteger)))
		cols[2].width = max(cols[2].width, len(rangeText(c.RangeEnd, c.RangeEndInteger)))
	}
	keep, widths := fitColumns(cols, p.width-2)
	lines = append(lines, "  "+gridHeader(cols, keep, widths, s.Column, s.Glyphs.Ellipsis))
	from, to := p.cursor.visible()
	for i := from; i < to; i++ {
		c := p.rows[i]
		comp, past := "", ""
		if c.Compressed {
			comp = "C"
		}
		if c.Expired {
			past = "past"
		}
		cells := []string{Clean(c.Chunk), rangeText(c.RangeStart, c.RangeStartInteger), rangeText(c.RangeEnd, c.RangeEndInteger),
			Bytes(c.TotalBytes), comp, Bytes(c.BeforeBytes), Bytes(c.AfterBytes), Ratio(c.BeforeBytes, c.AfterBytes), past}
		row := gridRow(cols, keep, widths, cells, s.Glyphs.Ellipsis)
		marker := "  "
		switch {
		case i == p.cursor.index:
			marker = s.Glyphs.Cursor + " "
			row = s.Selected.Render(row)
		case p.stale:
			row = s.Stale.Render(row)
		case c.Expired:
			row = s.Due.Render(row)
		}
		lines = append(lines, marker+row)
	}
	for len(lines) < p.height-1 {
		lines = append(lines, "")
	}
	total := fmt.Sprintf("%d chunks, %d compressed: %s", tot.n, tot.compressed, BytesOf(tot.bytes))
	if tot.compressed > 0 {
		total += fmt.Sprintf(" (compressed %s %s %s, %s)", BytesOf(tot.before), s.Glyphs.Arrow, BytesOf(tot.after), Ratio(&tot.before, &tot.after))
	}
	total += fmt.Sprintf("; past retention: %d, %s", tot.expired, BytesOf(tot.expiredBytes))
	lines = append(lines[:p.height-1], p.style(s.PaneTitle).Render(total))
	return p.frame(lines)
}

func val0(n *int64) int64 {
	if n == nil {
		return 0
	}
	return *n
}
