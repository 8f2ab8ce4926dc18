package tui

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"github.com/pgtend/pgtend/ops/report"
	"github.com/pgtend/pgtend/theme"
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
	filtering bool
	estimated bool // the figures shown are estimates
	input     textinput.Model
	cursor    listCursor
	selKey    string
	changed   map[string]time.Time // table key -> when its size last changed
	growth    *growthTracker
	now       time.Time
	// What the report says of other retention managers (tablesnotes.go).
	warnings   map[string][]report.Warning // by table key
	dbWarnings []report.Warning            // about no table in particular
	detached   map[string]report.DetachedTable
	footer     accounting // the database's size reconciled (tablesaggregates.go)
}

func newTablesPane() *tablesPane {
	in := textinput.New()
	in.Prompt = "/"
	in.Placeholder = "table name"
	return &tablesPane{input: in, changed: map[string]time.Time{}, growth: newGrowthTracker()}
}

func (p *tablesPane) Title() string { return "Tables" }

func (p *tablesPane) setContext(s theme.Styles, stale bool) {
	p.paneBase.setContext(s, stale)
	p.input.SetStyles(s.Input)
}

func (p *tablesPane) SetSize(w, h int) {
	p.paneBase.SetSize(w, h)
	p.input.SetWidth(max(p.width-len(p.input.Prompt)-1, 1))
	p.cursor.setHeight(p.listHeight())
}

// listHeight leaves room for the title line, the column headings, the
// notes on retention managed elsewhere and the footer.
func (p *tablesPane) listHeight() int { return max(p.height-2-p.notesHeight()-p.footerHeight(), 1) }

// setReport takes new figures, keeping the cursor on the same table and
// remembering which sizes changed so they can be highlighted.
// Estimated sizes neither count as changes (the measured ones replacing
// them are not news) nor feed the growth measurement.
func (p *tablesPane) setReport(r *report.Report, now time.Time) {
	old := map[string]*int64{}
	if !p.estimated {
		for _, t := range p.all {
			old[t.Key()] = t.TotalBytes
		}
	}
	for _, t := range r.Tables {
		k := t.Key()
		if prev, seen := old[k]; seen && !sameSize(prev, t.TotalBytes) {
			p.changed[k] = now
		}
		if t.TotalBytes != nil && !r.Estimated {
			p.growth.add(k, now, *t.TotalBytes)
		}
	}
	p.estimated = r.Estimated
	for k, at := range p.changed { // forget highlights long over
		if now.Sub(at) >= highlightFor {
			delete(p.changed, k)
		}
	}
	p.all, p.now = r.Tables, now
	p.setManagers(r)
	p.footer = accountingOf(r)
	p.cursor.setHeight(p.listHeight())
	p.refilter()
}

// setNow moves the pane's clock: highlights fade, ages grow.
func (p *tablesPane) setNow(now time.Time) { p.now = now }

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

// filter is the text the rows are filtered by: the input's, kept after
// the input closes.
func (p *tablesPane) filter() string { return p.input.Value() }

// refilter rebuilds the visible rows and puts the cursor back on the
// remembered table; when the filter hides it, the row the cursor lands on
// is the one shown selected, so it becomes the one remembered.
func (p *tablesPane) refilter() {
	p.rows = p.rows[:0]
	needle := strings.ToLower(p.filter())
	for _, t := range p.all {
		if needle == "" || strings.Contains(strings.ToLower(t.Key()), needle) {
			p.rows = append(p.rows, t)
		}
	}
	slices.SortStableFunc(p.rows, p.compare)
	if !p.cursor.find(len(p.rows), func(i int) bool { return p.rows[i].Key() == p.selKey }) {
		p.remember()
	}
}

func (p *tablesPane) remember() {
	if t := p.selected(); t != nil {
		p.selKey = t.Key()
	}
}

func val(n *int64) int64 {
	if n == nil {
		return -1
	}
	return *n
}

func (p *tablesPane) compare(a, b report.Table) int {
	byName := cmp.Compare(a.Key(), b.Key())
	var c int
	switch p.sortBy {
	case sortSize:
		c = cmp.Compare(val(b.TotalBytes), val(a.TotalBytes))
	case sortGrowth:
		ga, _ := p.growth.perDay(a.Key(), a.ExpectedGrowthPerDay)
		gb, _ := p.growth.perDay(b.Key(), b.ExpectedGrowthPerDay)
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

func (p *tablesPane) bindings(k KeyMap) []key.Binding {
	return append(append([]key.Binding{k.Enter}, k.actionBindings()...), k.Sort, k.Filter)
}

func (p *tablesPane) keys(k KeyMap) []key.Binding {
	return append([]key.Binding{k.Up, k.Down}, p.bindings(k)...)
}

// filterKeys are the keys while the filter is typed.
func (p *tablesPane) filterKeys(k KeyMap) []key.Binding {
	return []key.Binding{as(k.Submit, "apply"), as(k.Back, "clear")}
}

func (p *tablesPane) update(msg tea.KeyPressMsg, k KeyMap) tea.Cmd {
	if p.filtering {
		switch {
		case key.Matches(msg, k.Submit):
			p.filtering = false
			p.input.Blur()
			return nil
		case key.Matches(msg, k.Back):
			p.filtering = false
			p.input.Blur()
			p.input.SetValue("")
			p.refilter()
			return nil
		}
		var cmd tea.Cmd
		p.input, cmd = p.input.Update(msg)
		p.refilter()
		return cmd
	}
	switch {
	case p.cursor.navigate(msg, k):
	case key.Matches(msg, k.Sort):
		p.sortBy = (p.sortBy + 1) % sortCount
		p.refilter()
	case key.Matches(msg, k.Filter):
		p.filtering = true
		return p.input.Focus()
	case key.Matches(msg, k.Back):
		if p.filter() != "" {
			p.input.SetValue("")
			p.refilter()
		}
	}
	p.remember()
	return nil
}
