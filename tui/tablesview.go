package tui

import (
	"fmt"
	"github.com/pgtend/pgtend/tui/text"
	"strings"
	"time"

	"charm.land/lipgloss/v2"
	"github.com/pgtend/pgtend/ops/report"
)

// tableColumns fit 80 columns (76 cells inside the border and cursor
// marker) with the longest table name of the trading schema whole and the
// figures that matter for retention: size, retention, past it, growth.
var tableColumns = []column{
	{title: "TABLE", width: 22, flex: true},
	{title: "KIND", width: 7, priority: 2},
	{title: "TOTAL", width: 8, right: true},
	{title: "", width: 6, priority: 3},
	{title: "TABLE", width: 9, right: true, priority: 7},
	{title: "INDEX", width: 9, right: true, priority: 6},
	{title: "TOAST", width: 9, right: true, priority: 7},
	{title: "ROWS", width: 11, right: true, priority: 5},
	{title: "DEAD", width: 9, right: true, priority: 5},
	{title: "VACUUMED", width: 10, priority: 6},
	{title: "ANALYZED", width: 10, priority: 8},
	{title: "RETENTION", width: 9, right: true, priority: 1},
	// Who else drops the table's old data; narrower panes name it in the
	// RETENTION cell instead (see tablesnotes.go).
	{title: "MANAGED BY", width: 22, priority: 4},
	{title: "PAST RET.", width: 9, right: true, priority: 1},
	{title: "GROWTH/D", width: 9, right: true, priority: 2},
}

const (
	colTotal   = 2 // indexes into tableColumns
	colBar     = 3
	colManaged = 12
)

func (p *tablesPane) kindShort(t report.Table) string {
	if _, kept := p.detached[t.Key()]; kept {
		return "kept" // detached from its partition set by pg_partman
	}
	return kindShort(t)
}

func kindShort(t report.Table) string {
	switch {
	case t.Missing:
		return "MISSING"
	case t.Kind == nil:
		return "?"
	case *t.Kind == report.KindHypertable:
		return "hyper"
	case *t.Kind == report.KindPartitioned:
		return "part"
	case *t.Kind == report.KindInherited:
		return "inh"
	case *t.Kind == report.KindContinuousAggregate:
		return "cagg"
	case *t.Kind == report.KindMaterializedView:
		return "matview"
	}
	return "table"
}

func (p *tablesPane) View() string {
	s := p.styles
	title := fmt.Sprintf("%d tables, sorted by %s", len(p.rows), sortNames[p.sortBy])
	switch {
	case p.all == nil:
		title = "Tables"
	case len(p.rows) == 1:
		title = "1 table, sorted by " + sortNames[p.sortBy]
	}
	if p.filter() != "" && !p.filtering {
		title += fmt.Sprintf(", filter %q", p.clean(p.filter()))
	}
	lines := []string{s.PaneTitle.Render(title)}
	if p.filtering {
		lines[0] = p.input.View()
	}
	keep, widths := fitColumns(tableColumns, p.width-2)
	lines = append(lines, "  "+gridHeader(tableColumns, keep, widths, s.Column, s.Glyphs.Ellipsis))
	switch {
	case p.all == nil:
		return p.frame(append(lines, s.Dim.Render("  loading"+s.Glyphs.Wait)))
	case len(p.rows) == 0:
		return p.frame(append(lines, s.Dim.Render("  no table matches the filter")))
	}
	var largest int64 = 1
	for _, t := range p.all {
		largest = max(largest, val(t.TotalBytes))
	}
	barW, managedShown := 0, false
	for j, i := range keep {
		switch i {
		case colBar:
			barW = widths[j]
		case colManaged:
			managedShown = true
		}
	}
	from, to := p.cursor.visible()
	for i := from; i < to; i++ {
		t := p.rows[i]
		marker, pt := p.rowLook(i == p.cursor.index, t.Missing, s.Error)
		if p.justChanged(t) && !p.stale {
			pt.own = map[int]lipgloss.Style{colTotal: s.Changed}
		}
		if len(p.warnings[t.Key()]) > 0 { // "!" beside the cursor's column
			marker = strings.TrimSuffix(marker, " ") + p.style(s.Error).Render("!")
		}
		cells := p.cells(t, largest, barW, managedShown, pt.styled)
		lines = append(lines, marker+gridRow(tableColumns, keep, widths, cells, s.Glyphs.Ellipsis, pt))
	}
	if h := p.notesHeight(); h > 0 { // right under the rows: the list's length does not follow the cursor
		lines = append(lines, p.notesView(h)...)
	}
	if p.footerHeight() > 0 { // at the bottom
		for len(lines) < p.height-1 {
			lines = append(lines, "")
		}
		lines = append(lines[:p.height-1], p.style(s.Dim).Render("  "+p.footer.footerLine(p.width-4, s.Glyphs.Ellipsis)))
	}
	return p.frame(lines)
}

func (p *tablesPane) justChanged(t report.Table) bool {
	at, ok := p.changed[t.Key()]
	return ok && p.now.Sub(at) < highlightFor
}

// cells formats one table's row as plain text; only the bar is coloured,
// and only when the row as a whole is not (see paint).
func (p *tablesPane) cells(t report.Table, largest int64, barW int, managedShown, rowStyled bool) []string {
	s, unknown := p.styles, p.styles.Glyphs.Unknown
	total := p.bytes(t.TotalBytes)
	if t.Locked {
		total = "locked"
	}
	filled, rest := bar(float64(val(t.TotalBytes))/float64(largest), barW, s.Glyphs.BarFull, s.Glyphs.BarHalf, s.Glyphs.BarEmpty)
	barCell := filled + rest
	if !rowStyled && barW > 0 {
		barCell = s.Bar.Render(filled) + s.BarEmpty.Render(rest)
	}
	expired := unknown
	if (t.RetentionDays != nil || t.IntegerRetention != nil) && t.ExpiredBytes != nil {
		expired = text.BytesOf(*t.ExpiredBytes)
	}
	vac := t.LastVacuumed()
	growth := unknown
	if g, measured := p.growth.perDay(t.Key(), t.ExpectedGrowthPerDay); measured {
		growth = text.BytesOf(int64(g))
	} else if t.ExpectedGrowthPerDay != nil {
		growth = "~" + text.BytesOf(*t.ExpectedGrowthPerDay)
	}
	rows, dead := text.Count(t.RowEstimate), text.Count(t.DeadTuples)
	if t.Missing {
		rows, dead = unknown, unknown
	}
	return []string{
		p.displayName(t), p.kindShort(t), total, barCell,
		p.bytes(t.TableBytes), p.bytes(t.IndexBytes), p.bytes(t.ToastBytes),
		rows, dead, shortAgo(vac, p.now), shortAgo(t.LastAnalyze, p.now),
		p.retentionCell(t, managedShown), p.managedCell(t), expired, growth,
	}
}

// displayName leaves out the public schema, as psql's \dt does.
func (p *paneBase) displayName(t report.Table) string { return p.qualified(t.Schema, t.Name) }

func (p *paneBase) qualified(schema, name string) string {
	if schema == "public" {
		return p.clean(name)
	}
	return p.clean(schema + "." + name)
}

// shortAgo is a compact age ("3h", "12d") for narrow columns.
func shortAgo(t *time.Time, now time.Time) string {
	if t == nil {
		return "never"
	}
	d := now.Sub(*t)
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return fmt.Sprintf("%dm ago", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh ago", int(d.Hours()))
	default:
		return fmt.Sprintf("%dd ago", int(d.Hours()/24))
	}
}
