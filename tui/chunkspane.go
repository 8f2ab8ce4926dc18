package tui

import (
	"cmp"
	"fmt"
	"github.com/pgtend/pgtend/tui/text"
	"slices"
	"strconv"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/pgtend/pgtend/ops/report"
)

// Sort orders of the Chunks pane, cycled by `s`: by range (the report's
// order, oldest first), largest first, worst compressed first.
const (
	chunkSortRange = iota
	chunkSortSize
	chunkSortRatio
	chunkSortCount
)

var chunkSortNames = [chunkSortCount]string{"", "largest first", "worst compressed first"}

// chunksPane lists the chunks or partitions of one table.
type chunksPane struct {
	paneBase
	schema, table string
	loaded        bool
	all           []report.Chunk
	rows          []report.Chunk // the table's, in sort order
	tables        []report.Table // for the shown table's time zone
	loc           *time.Location // the shown table's: its ranges are drawn in it
	sortBy        int
	cursor        listCursor
	// Worked out when the rows change, not on every frame: with thousands
	// of chunks they cost more than drawing the visible ones.
	rangeW [2]int // widest FROM and TO texts
	sum    report.ChunkTotals
}

func newChunksPane() *chunksPane { return &chunksPane{} }

func (p *chunksPane) Title() string { return "Chunks" }

func (p *chunksPane) SetSize(w, h int) {
	p.paneBase.SetSize(w, h)
	p.cursor.setHeight(p.listHeight())
}

// totalLines is the totals at the pane's foot, with a blank line above;
// dropped when the pane is too short to list chunks as well.
func (p *chunksPane) totalLines() int {
	if p.height < 7 {
		return 0
	}
	return 3
}

// listHeight leaves room for the title, the headings and the totals.
func (p *chunksPane) listHeight() int { return max(p.height-2-p.totalLines(), 1) }

func (p *chunksPane) setReport(r *report.Report) {
	p.all, p.tables, p.loaded = r.Chunks, r.Tables, true
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
		p.cursor.top()
	}
	p.pick()
}

// pick lists the chosen table's chunks in the sort order, keeping the
// cursor on the chunk it was on (a refresh may move rows).
func (p *chunksPane) pick() {
	on := p.selectedKey()
	p.loc = time.UTC
	for _, t := range p.tables {
		if t.Schema == p.schema && t.Name == p.table {
			p.loc = t.Location()
		}
	}
	p.rows = p.rows[:0]
	for _, c := range p.all {
		if c.TableSchema == p.schema && c.Table == p.table {
			p.rows = append(p.rows, c)
		}
	}
	if p.sortBy != chunkSortRange {
		slices.SortStableFunc(p.rows, p.compare)
	}
	p.cursor.find(len(p.rows), func(i int) bool { return chunkKey(p.rows[i]) == on })
	p.rangeW, p.sum = [2]int{}, report.ChunkTotals{}
	for _, c := range p.rows {
		p.rangeW[0] = max(p.rangeW[0], rangeWidth(c.RangeStart, c.RangeStartInteger, p.loc))
		p.rangeW[1] = max(p.rangeW[1], rangeWidth(c.RangeEnd, c.RangeEndInteger, p.loc))
		p.sum.Add(c)
	}
}

// compare orders chunks for the sorts other than by range (stable, so
// ties keep the range order). Unknown sizes and uncompressed chunks go last.
func (p *chunksPane) compare(a, b report.Chunk) int {
	switch p.sortBy {
	case chunkSortSize:
		return cmp.Compare(val(b.TotalBytes), val(a.TotalBytes))
	case chunkSortRatio:
		ra, oka := ratio(a)
		rb, okb := ratio(b)
		if oka != okb {
			if oka {
				return -1
			}
			return 1
		}
		return cmp.Compare(ra, rb)
	}
	return 0
}

// ratio is before/after of a compressed chunk with both figures.
func ratio(c report.Chunk) (float64, bool) {
	if !c.Compressed || c.BeforeBytes == nil || c.AfterBytes == nil || *c.AfterBytes == 0 {
		return 0, false
	}
	return float64(*c.BeforeBytes) / float64(*c.AfterBytes), true
}

func (p *chunksPane) bindings(k KeyMap) []key.Binding {
	return append(append([]key.Binding{k.Sort}, k.actionBindings()...), k.Back)
}

func (p *chunksPane) keys(k KeyMap) []key.Binding {
	return append([]key.Binding{k.Up, k.Down}, p.bindings(k)...)
}

func (p *chunksPane) update(msg tea.KeyPressMsg, k KeyMap) tea.Cmd {
	switch {
	case p.cursor.navigate(msg, k):
	case key.Matches(msg, k.Sort):
		// A new order is read from its top (the largest, the worst
		// compressed); refreshes keep the cursor on its chunk.
		p.sortBy = (p.sortBy + 1) % chunkSortCount
		p.pick()
		p.cursor.top()
	}
	return nil
}

func chunkKey(c report.Chunk) string { return c.ChunkSchema + "." + c.Chunk }

// selectedKey is the chunk under the cursor, "" when there is none.
func (p *chunksPane) selectedKey() string {
	if i := p.cursor.index; i >= 0 && i < len(p.rows) {
		return chunkKey(p.rows[i])
	}
	return ""
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

// rangeWidth is len(text.RangeText(…)) without formatting it.
func rangeWidth(t *time.Time, i *int64, loc *time.Location) int {
	switch {
	case t != nil && text.Midnight(*t, loc):
		return len("2006-01-02")
	case t != nil:
		return len("2006-01-02 15:04")
	case i != nil:
		return len(strconv.FormatInt(*i, 10))
	}
	return 1
}

func (p *chunksPane) View() string {
	s := p.styles
	unknown := s.Glyphs.Unknown
	switch {
	case !p.loaded:
		return p.frame([]string{s.Dim.Render("loading" + s.Glyphs.Wait)})
	case p.table == "":
		return p.frame([]string{s.PaneTitle.Render("No chunks or partitions"), s.Dim.Render("Plain tables have none.")})
	case len(p.rows) == 0:
		return p.frame([]string{s.PaneTitle.Render(p.qualified(p.schema, p.table)), s.Dim.Render("No chunks or partitions: a plain table, or one missing.")})
	}
	count := fmt.Sprintf("  %d chunks", len(p.rows))
	if p.loc != time.UTC { // a timestamp or date column: its ranges are local times
		count += ", times in " + p.clean(p.loc.String())
	}
	if p.sortBy != chunkSortRange {
		count += ", " + chunkSortNames[p.sortBy]
	}
	lines := []string{s.PaneTitle.Render(p.qualified(p.schema, p.table)) + s.Dim.Render(count)}
	cols := slices.Clone(chunkColumns)
	cols[1].width = max(cols[1].width, p.rangeW[0]) // wider for sub-day bounds
	cols[2].width = max(cols[2].width, p.rangeW[1])
	keep, widths := fitColumns(cols, p.width-2)
	lines = append(lines, "  "+gridHeader(cols, keep, widths, s.Column, s.Glyphs.Ellipsis))
	from, to := p.cursor.visible()
	for i := from; i < to; i++ {
		c := p.rows[i]
		comp, past := "", ""
		if c.Compressed {
			comp = "C"
		}
		partly := c.PartlyExpiredBytes != nil
		switch {
		case c.Expired:
			past = "past"
		case partly: // some rows past retention: no whole removal takes them
			past = "part"
		}
		cells := []string{p.clean(c.Chunk), text.RangeText(c.RangeStart, c.RangeStartInteger, p.loc, unknown), text.RangeText(c.RangeEnd, c.RangeEndInteger, p.loc, unknown),
			p.bytes(c.TotalBytes), comp, p.bytes(c.BeforeBytes), p.bytes(c.AfterBytes), text.RatioOr(c.BeforeBytes, c.AfterBytes, unknown), past}
		marker, pt := p.rowLook(i == p.cursor.index, c.Expired || partly, s.Due)
		lines = append(lines, marker+gridRow(cols, keep, widths, cells, s.Glyphs.Ellipsis, pt))
	}
	if p.totalLines() > 0 {
		for len(lines) < p.height-2 {
			lines = append(lines, "")
		}
		lines = append(lines[:p.height-2], p.totals()...)
	}
	return p.frame(lines)
}

// totals sums the listed chunks: count and size, compression, what is past
// retention. Two short lines rather than one that 80 columns would cut.
func (p *chunksPane) totals() []string {
	t, g, st := p.sum, p.styles.Glyphs, p.style(p.styles.PaneTitle)
	size := fmt.Sprintf("%d chunks: %s, none compressed", t.Chunks, text.BytesOf(t.Bytes))
	if t.Compressed > 0 {
		size = fmt.Sprintf("%d chunks: %s, %d compressed (%s %s %s, %s)", t.Chunks, text.BytesOf(t.Bytes), t.Compressed,
			text.BytesOf(t.Before), g.Arrow, text.BytesOf(t.After), text.RatioOr(&t.Before, &t.After, g.Unknown))
	}
	past := fmt.Sprintf("past retention: %d chunks, %s", t.Expired, text.BytesOf(t.ExpiredBytes))
	// And the rows past it that no whole removal takes (DEFAULT and
	// straddling partitions, an inheritance parent's own rows): estimated.
	if partly := p.partlyExpired(); partly > 0 {
		where := "rows of " + text.Plural(t.Partly, "chunk") + " partly past"
		if t.Partly == 0 {
			where = "the parent's own rows"
		}
		past += fmt.Sprintf(" + ~%s in %s (est.)", text.BytesOf(partly), where)
	}
	return []string{st.Render(size), st.Render(past)}
}

// partlyExpired is the shown table's estimate of the bytes past retention
// outside whole chunks: its own figure (an inheritance parent's rows
// included), else the chunks' sum.
func (p *chunksPane) partlyExpired() int64 {
	for _, t := range p.tables {
		if t.Schema == p.schema && t.Name == p.table && t.PartlyExpiredBytes != nil {
			return *t.PartlyExpiredBytes
		}
	}
	return p.sum.PartlyBytes
}
