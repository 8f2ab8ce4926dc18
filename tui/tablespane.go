package tui

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"github.com/pgtend/pgtend/ops/report"
)

// Sort orders of the Tables pane, cycled by `s`.
const (
	sortSize = iota
	sortName
	sortGrowth
	sortExpired
	sortCount
)

var sortNames = [sortCount]string{"size", "name", "growth", "past retention"}

const highlightFor = 2 * time.Second

// tablesPane lists every table with its sizes and policy.
type tablesPane struct {
	paneBase
	all       []report.Table
	rows      []report.Table // filtered and sorted
	sortBy    int
	filter    string
	filtering bool
	input     textinput.Model
	cursor    listCursor
	selKey    string
	changed   map[string]time.Time // table key -> when its size last changed
	growth    *growthTracker
	now       time.Time
}

func newTablesPane() *tablesPane {
	in := textinput.New()
	in.Prompt = "/"
	in.Placeholder = "table name"
	return &tablesPane{input: in, changed: map[string]time.Time{}, growth: newGrowthTracker()}
}

func (p *tablesPane) Title() string { return "Tables" }

func tableKey(t report.Table) string { return t.Schema + "." + t.Name }

func (p *tablesPane) SetSize(w, h int) {
	p.paneBase.SetSize(w, h)
	p.cursor.setHeight(p.listHeight())
}

// listHeight leaves room for the title line and the column headings.
func (p *tablesPane) listHeight() int { return max(p.height-2, 1) }

// setReport takes new figures, keeping the cursor on the same table and
// remembering which sizes changed so they can be highlighted.
func (p *tablesPane) setReport(r *report.Report, now time.Time) {
	old := map[string]*int64{}
	for _, t := range p.all {
		old[tableKey(t)] = t.TotalBytes
	}
	for _, t := range r.Tables {
		k := tableKey(t)
		if prev, seen := old[k]; seen && !sameSize(prev, t.TotalBytes) {
			p.changed[k] = now
		}
		if t.TotalBytes != nil {
			p.growth.add(k, now, *t.TotalBytes)
		}
	}
	p.all, p.now = r.Tables, now
	p.refilter()
}

func sameSize(a, b *int64) bool {
	return (a == nil) == (b == nil) && (a == nil || *a == *b)
}

func (p *tablesPane) highlighting(now time.Time) bool {
	for _, at := range p.changed {
		if now.Sub(at) < highlightFor {
			return true
		}
	}
	return false
}

func (p *tablesPane) refilter() {
	p.rows = p.rows[:0]
	needle := strings.ToLower(p.filter)
	for _, t := range p.all {
		if needle == "" || strings.Contains(strings.ToLower(tableKey(t)), needle) {
			p.rows = append(p.rows, t)
		}
	}
	slices.SortStableFunc(p.rows, p.compare)
	p.cursor.setLen(len(p.rows))
	for i, t := range p.rows {
		if tableKey(t) == p.selKey {
			p.cursor.index = i
			p.cursor.clamp()
			return
		}
	}
	p.remember()
}

func (p *tablesPane) remember() {
	if t := p.selected(); t != nil {
		p.selKey = tableKey(*t)
	}
}

func val(n *int64) int64 {
	if n == nil {
		return -1
	}
	return *n
}

func (p *tablesPane) compare(a, b report.Table) int {
	byName := cmp.Compare(tableKey(a), tableKey(b))
	var c int
	switch p.sortBy {
	case sortSize:
		c = cmp.Compare(val(b.TotalBytes), val(a.TotalBytes))
	case sortGrowth:
		ga, _ := p.growth.perDay(tableKey(a), a.ExpectedGrowthPerDay)
		gb, _ := p.growth.perDay(tableKey(b), b.ExpectedGrowthPerDay)
		c = cmp.Compare(gb, ga)
	case sortExpired:
		c = cmp.Compare(val(b.ExpiredBytes), val(a.ExpiredBytes))
	}
	if c != 0 {
		return c
	}
	return byName
}

func (p *tablesPane) selected() *report.Table {
	if p.cursor.index < 0 || p.cursor.index >= len(p.rows) {
		return nil
	}
	return &p.rows[p.cursor.index]
}

func (p *tablesPane) keys(k KeyMap) []key.Binding {
	if p.filtering {
		return []key.Binding{key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "apply")), key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "clear"))}
	}
	return []key.Binding{k.Up, k.Down, k.Enter, k.Sort, k.Filter}
}

func (p *tablesPane) update(msg tea.KeyPressMsg, k KeyMap) tea.Cmd {
	if p.filtering {
		switch msg.String() {
		case "enter":
			p.filtering = false
			p.input.Blur()
			return nil
		case "esc":
			p.filtering = false
			p.input.Blur()
			p.input.SetValue("")
			p.filter = ""
			p.refilter()
			return nil
		}
		var cmd tea.Cmd
		p.input, cmd = p.input.Update(msg)
		p.filter = p.input.Value()
		p.refilter()
		return cmd
	}
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
	case key.Matches(msg, k.Sort):
		p.sortBy = (p.sortBy + 1) % sortCount
		p.refilter()
	case key.Matches(msg, k.Filter):
		p.filtering = true
		p.input.SetValue(p.filter)
		return p.input.Focus()
	case key.Matches(msg, k.Back):
		if p.filter != "" {
			p.filter = ""
			p.input.SetValue("")
			p.refilter()
		}
	}
	p.remember()
	return nil
}

var tableColumns = []column{
	{title: "TABLE", width: 18, flex: true},
	{title: "KIND", width: 5, priority: 2},
	{title: "TOTAL", width: 9, right: true},
	{title: "", width: 10, priority: 3},
	{title: "TABLE", width: 9, right: true, priority: 6},
	{title: "INDEX", width: 9, right: true, priority: 5},
	{title: "TOAST", width: 9, right: true, priority: 6},
	{title: "ROWS", width: 11, right: true, priority: 4},
	{title: "DEAD", width: 9, right: true, priority: 4},
	{title: "VACUUMED", width: 10, priority: 5},
	{title: "ANALYZED", width: 10, priority: 7},
	{title: "RETENTION", width: 9, right: true, priority: 1},
	{title: "PAST RET.", width: 9, right: true, priority: 1},
	{title: "GROWTH/D", width: 10, right: true, priority: 2},
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
	}
	return "table"
}

func (p *tablesPane) View() string {
	s := p.styles
	title := fmt.Sprintf("%d tables, sorted by %s", len(p.rows), sortNames[p.sortBy])
	if p.filter != "" && !p.filtering {
		title += fmt.Sprintf(", filter %q", p.filter)
	}
	lines := []string{s.PaneTitle.Render(title)}
	if p.filtering {
		lines[0] = p.input.View()
	}
	keep, widths := fitColumns(tableColumns, p.width-2)
	lines = append(lines, "  "+gridHeader(tableColumns, keep, widths, s.Column, s.Glyphs.Ellipsis))
	if len(p.all) == 0 {
		lines = append(lines, s.Dim.Render("  loading…"))
		return p.frame(lines)
	}
	var largest int64 = 1
	for _, t := range p.all {
		largest = max(largest, val(t.TotalBytes))
	}
	barW := 0
	for j, i := range keep {
		if i == 3 {
			barW = widths[j]
		}
	}
	from, to := p.cursor.visible()
	for i := from; i < to; i++ {
		t := p.rows[i]
		cells := p.cells(t, largest, barW)
		row := gridRow(tableColumns, keep, widths, cells, s.Glyphs.Ellipsis)
		marker := "  "
		switch {
		case i == p.cursor.index:
			marker = s.Glyphs.Cursor + " "
			row = s.Selected.Render(row)
		case p.stale:
			row = s.Stale.Render(row)
		case t.Missing:
			row = s.Error.Render(row)
		}
		lines = append(lines, marker+row)
	}
	return p.frame(lines)
}

// cells formats one table's row; styled cells are plain text when stale so
// the whole row greys out.
func (p *tablesPane) cells(t report.Table, largest int64, barW int) []string {
	s := p.styles
	total := Bytes(t.TotalBytes)
	if t.Locked {
		total = "locked"
	} else if at, ok := p.changed[tableKey(t)]; ok && p.now.Sub(at) < highlightFor && !p.stale {
		total = s.Changed.Render(total)
	}
	filled, rest := bar(float64(val(t.TotalBytes))/float64(largest), barW, s.Glyphs.BarFull, s.Glyphs.BarHalf, s.Glyphs.BarEmpty)
	barCell := p.style(s.Bar).Render(filled) + p.style(s.BarEmpty).Render(rest)
	expired := "—"
	if t.RetentionDays != nil && t.ExpiredBytes != nil {
		expired = BytesOf(*t.ExpiredBytes)
	}
	vac := t.LastVacuum
	if t.LastAutovacuum != nil && (vac == nil || t.LastAutovacuum.After(*vac)) {
		vac = t.LastAutovacuum
	}
	growth := "—"
	if g, measured := p.growth.perDay(tableKey(t), t.ExpectedGrowthPerDay); measured {
		growth = BytesOf(int64(g))
	} else if t.ExpectedGrowthPerDay != nil {
		growth = "~" + BytesOf(*t.ExpectedGrowthPerDay)
	}
	rows, dead := Count(t.RowEstimate), Count(t.DeadTuples)
	if t.Missing {
		rows, dead = "—", "—"
	}
	return []string{
		displayName(t), kindShort(t), total, barCell,
		Bytes(t.TableBytes), Bytes(t.IndexBytes), Bytes(t.ToastBytes),
		rows, dead, shortAgo(vac, p.now), shortAgo(t.LastAnalyze, p.now),
		Retention(t.RetentionDays, t.Permanent), expired, growth,
	}
}

// displayName leaves out the public schema, as psql's \dt does.
func displayName(t report.Table) string {
	if t.Schema == "public" {
		return Clean(t.Name)
	}
	return Clean(t.Schema + "." + t.Name)
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
