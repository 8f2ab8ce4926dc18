package tui

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/pgtend/pgtend/ops/health"
	"github.com/pgtend/pgtend/ops/maint"
)

// The Health pane is the maintenance guide's troubleshooting table, live:
// one row per finding (connections, idle in transaction, long
// transactions, locks, the xmin horizon, dead tuples, autovacuum,
// wraparound, compression, backups, disk), and under each that is not
// well the sessions, tables, slots it is about. Under the list, the
// selected row's evidence — each figure with its source — what it means
// and what fixes it, with the key that does: K terminates a session, C
// cancels its query (each a plan, a confirmation that shows who the
// session is, then the run), the registry's keys (v vacuum, c compress)
// work on the row's table, Enter goes to the pane that shows it.

// Signals is what the Health pane's cancel and terminate need from ops.
type Signals interface {
	// PlanSignal plans cancelling a session's query or terminating it; it
	// changes nothing, and refuses what must not be signalled.
	PlanSignal(ctx context.Context, sig maint.Signal, b maint.Backend) (*maint.Plan, error)
	// RunSignal runs such a plan, emitting its events.
	RunSignal(ctx context.Context, plan *maint.Plan, emit func(maint.Event)) (maint.Result, error)
}

// healthRow is one line of the list: a finding (item -1) or one of its
// items.
type healthRow struct{ finding, item int }

type healthPane struct {
	paneBase
	report *health.Report // with the disk finding from the Disk pane's figures
	err    error          // the last load's, shown over the last findings
	rows   []healthRow
	cursor listCursor

	signals bool                 // cancel and terminate may be offered
	actions map[string]ActionKey // the registry's actions with a key, by name
	enabled bool                 // a Health loader was given
	km      KeyMap               // for the keys the detail names
}

func newHealthPane() *healthPane {
	return &healthPane{actions: map[string]ActionKey{}}
}

func (p *healthPane) Title() string { return "Health" }

// healthMsg carries a finished health load.
type (
	healthMsg struct {
		seq    int
		report *health.Report
		err    error
		took   time.Duration
	}
	healthRefreshMsg struct{ seq int }
)

// listHeight is the room of the list: all its rows when they fit, leaving
// the selected row's detail at least a third of the pane (6 lines when
// there is room); the detail takes what the list leaves.
func (p *healthPane) listHeight() int {
	detail := max(p.height/3, min(6, p.height-4))
	return max(min(len(p.rows), p.height-p.headLines()-1-detail), 1)
}

// headLines are the lines above the list: the title, and what the role
// cannot see.
func (p *healthPane) headLines() int {
	if p.report != nil && !p.report.SeesAllSessions {
		return 2
	}
	return 1
}

func (p *healthPane) SetSize(w, h int) {
	p.paneBase.SetSize(w, h)
	p.cursor.setHeight(p.listHeight())
}

// setReport takes a new report, keeping the cursor on the row it was on
// (the same finding and item name) when it is still there.
func (p *healthPane) setReport(r *health.Report) {
	var check, name string
	if row, ok := p.selectedRow(); ok {
		check = p.report.Findings[row.finding].Check
		if row.item >= 0 {
			name = p.report.Findings[row.finding].Items[row.item].Name
		}
	}
	p.report, p.err = r, nil
	p.rows = p.rows[:0]
	// Worst first: what is wrong is on screen before what is well.
	order := make([]int, len(r.Findings))
	for i := range order {
		order[i] = i
	}
	rank := map[health.Status]int{health.Critical: 0, health.Warning: 1, health.Unknown: 2, health.OK: 3}
	slices.SortStableFunc(order, func(a, b int) int { return rank[r.Findings[a].Status] - rank[r.Findings[b].Status] })
	for _, fi := range order {
		f := r.Findings[fi]
		p.rows = append(p.rows, healthRow{fi, -1})
		if !listsItems(f) {
			continue // its items are in its detail
		}
		for ii := range f.Items {
			p.rows = append(p.rows, healthRow{fi, ii})
		}
	}
	p.cursor.setHeight(p.listHeight())
	if check == "" || !p.cursor.find(len(p.rows), func(i int) bool {
		f := r.Findings[p.rows[i].finding]
		if f.Check != check {
			return false
		}
		if p.rows[i].item < 0 {
			return name == ""
		}
		return f.Items[p.rows[i].item].Name == name
	}) {
		p.cursor.setLen(len(p.rows))
	}
}

// listsItems: a finding's items are rows of the list when it is not well,
// or when they are sessions (each one key from its end).
func listsItems(f health.Finding) bool {
	return f.Status != health.OK || slices.ContainsFunc(f.Items, func(it health.Item) bool { return it.Session != nil && it.Fix != "" })
}

// setDisk puts the disk finding, judged from the Disk pane's figures, in
// the report.
func (p *healthPane) setDisk(f health.Finding) {
	if p.report == nil {
		return
	}
	p.report.Set(f)
	p.setReport(p.report)
}

func (p *healthPane) selectedRow() (healthRow, bool) {
	if p.report == nil || p.cursor.index < 0 || p.cursor.index >= len(p.rows) {
		return healthRow{}, false
	}
	return p.rows[p.cursor.index], true
}

// selected is the finding under the cursor and the item, nil on a
// finding's own row.
func (p *healthPane) selected() (*health.Finding, *health.Item) {
	row, ok := p.selectedRow()
	if !ok {
		return nil, nil
	}
	f := &p.report.Findings[row.finding]
	if row.item < 0 {
		// A finding about one session or table is that item: its keys work
		// on the finding's row too.
		if len(f.Items) == 1 && listsItems(*f) {
			return f, &f.Items[0]
		}
		return f, nil
	}
	return f, &f.Items[row.item]
}

// session is the session under the cursor that may be signalled.
func (p *healthPane) session() (*health.Session, bool) {
	_, it := p.selected()
	if it == nil || it.Session == nil || !p.signals || it.NoFix != "" || it.Fix == "" {
		return nil, false
	}
	return it.Session, true
}

// fixKey is the key of the registry action that fixes it: one on its
// table, or one on the whole database (backup) for an item without one.
func (p *healthPane) fixKey(it *health.Item) (key.Binding, bool) {
	if it == nil || it.Fix == "" {
		return key.Binding{}, false
	}
	a, ok := p.actions[it.Fix]
	if !ok || (it.Table == "" && !a.Action.Database) {
		return key.Binding{}, false
	}
	return a.Binding, true
}

// fixes says whether the item under the cursor names the action as its
// fix: a database action (backup) opens from it with no table.
func (p *healthPane) fixes(action string) bool {
	_, it := p.selected()
	return it != nil && it.Fix == action
}

// table is the table under the cursor that a registry action works on.
func (p *healthPane) table() (string, bool) {
	_, it := p.selected()
	if it == nil || it.Table == "" {
		return "", false
	}
	return it.Table, true
}

// bindings are every key the pane answers to: cancel and terminate (not
// in read-only mode), going to the row's pane, and the registry's actions
// (on the row's table), as one line: the Tables pane lists them each.
func (p *healthPane) bindings(k KeyMap) []key.Binding {
	out := []key.Binding{k.Terminate, k.Cancel, as(k.Enter, "show in its pane")}
	var keys, labels []string
	for _, a := range k.Actions {
		if a.Binding.Enabled() {
			keys, labels = append(keys, a.Binding.Keys()...), append(labels, a.Binding.Help().Key)
		}
	}
	if len(keys) > 0 {
		out = append(out, key.NewBinding(key.WithKeys(keys...), key.WithHelp(strings.Join(labels, "/"), "on the row's table")))
	}
	return out
}

// keys offer what works on the row under the cursor.
func (p *healthPane) keys(k KeyMap) []key.Binding {
	out := []key.Binding{k.Up, k.Down}
	f, it := p.selected()
	if s, ok := p.session(); ok {
		out = append(out, k.Terminate)
		if s.State == "active" {
			out = append(out, k.Cancel)
		}
	}
	if b, ok := p.fixKey(it); ok {
		out = append(out, b)
	}
	if f != nil && p.goesTo(f, it) != "" {
		out = append(out, as(k.Enter, p.goesTo(f, it)))
	}
	return out
}

// goesTo names the pane Enter shows the row in, "" when none does.
func (p *healthPane) goesTo(f *health.Finding, it *health.Item) string {
	switch {
	case f.Check == health.CheckDisk:
		return "triage pane"
	case it != nil && it.Kind == health.KindHypertable:
		return "its chunks"
	case it != nil && it.Kind == health.KindTable && it.Table != "":
		return "its table"
	}
	return ""
}

func (p *healthPane) update(msg tea.KeyPressMsg, k KeyMap) tea.Cmd {
	p.cursor.navigate(msg, k)
	return nil
}

// healthEnabled: the console reads health findings.
func (o Options) healthEnabled() bool { return o.Health != nil }

// signalsEnabled: the Health pane may cancel and terminate sessions.
func (o Options) signalsEnabled() bool { return o.Signals != nil && !o.ReadOnly }

// loadHealth reads the findings off the Update loop, within the report's
// deadline.
func (m *Model) loadHealth() tea.Cmd {
	if m.opts.Health == nil || m.healthLoading {
		return nil
	}
	m.healthLoading = true
	m.healthSeq++
	seq, load, timeout, now := m.healthSeq, m.opts.Health, m.opts.Timeout, m.opts.Now
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		began := now()
		r, err := load(ctx)
		if err == nil && r == nil {
			err = errors.New("the database returned no findings")
		}
		return healthMsg{seq: seq, report: r, err: err, took: now().Sub(began)}
	}
}

// gotHealth applies a finished health load and schedules the next, as the
// report's refresh does (never more often than the share of the server
// the report allows itself).
func (m *Model) gotHealth(msg healthMsg) tea.Cmd {
	if msg.seq != m.healthSeq {
		return nil
	}
	m.healthLoading = false
	seq := m.healthSeq
	next := tea.Tick(refreshWait(m.opts.Refresh, msg.took), func(time.Time) tea.Msg { return healthRefreshMsg{seq: seq} })
	if msg.err != nil {
		m.health.err = msg.err
		return next
	}
	m.health.setReport(msg.report)
	m.healthDisk()
	return next
}

// healthDisk judges the disk from the Disk pane's figures: the same free
// space, the same growth per day (measured while pgtend ran, else the
// policy's expectation).
func (m *Model) healthDisk() {
	if m.report == nil || m.health.report == nil {
		return
	}
	expected, known := m.report.ExpectedGrowth()
	perDay, measured := m.tables.growth.totalPerDay(expected)
	g := health.Growth{PerDay: perDay}
	switch {
	case measured:
		g.Basis = "measured while pgtend ran (the Disk pane's)"
	case known:
		g.Basis = "expected by the policy (the Disk pane's)"
	}
	m.health.setDisk(health.Disk(m.report.Disk, g, m.opts.Thresholds))
}

// healthKeyMatches: the key is one of the Health pane's that reach beyond
// it (healthKey).
func healthKeyMatches(msg tea.KeyPressMsg, k KeyMap) bool {
	return key.Matches(msg, k.Terminate) || key.Matches(msg, k.Cancel) || key.Matches(msg, k.Enter)
}

// healthKey handles the keys of the Health pane that reach beyond it.
func (m *Model) healthKey(msg tea.KeyPressMsg) tea.Cmd {
	switch {
	case key.Matches(msg, m.keys.Terminate):
		return m.openSignal(maint.SignalTerminate)
	case key.Matches(msg, m.keys.Cancel):
		return m.openSignal(maint.SignalCancel)
	case key.Matches(msg, m.keys.Enter):
		f, it := m.health.selected()
		switch {
		case f == nil:
		case f.Check == health.CheckDisk: // what frees space, ranked, one key from its plan
			m.active = paneTriage
			return m.loadTriage(m.report)
		case it != nil && it.Kind == health.KindHypertable:
			if schema, name, ok := strings.Cut(it.Table, "."); ok {
				m.chunks.show(schema, name)
				m.active = paneChunks
			}
		case it != nil && it.Kind == health.KindTable && it.Table != "":
			if m.tables.cursor.find(len(m.tables.rows), func(i int) bool { return m.tables.rows[i].Key() == it.Table }) {
				m.followSelection()
				m.active = paneTables
			}
		}
	}
	return nil
}

// signalActions is a signal's plan and run as the action view asks for
// them: the view draws the plan, confirms with y, runs and sums up, as it
// does for every action.
type signalActions struct {
	signals Signals
	sig     maint.Signal
	backend maint.Backend
}

func (a signalActions) Plan(ctx context.Context, _, _ string) (*maint.Plan, error) {
	return a.signals.PlanSignal(ctx, a.sig, a.backend)
}

func (a signalActions) Run(ctx context.Context, plan *maint.Plan, emit func(maint.Event)) (maint.Result, error) {
	return a.signals.RunSignal(ctx, plan, emit)
}

// openSignal opens the plan of cancelling or terminating the session under
// the Health pane's cursor.
func (m *Model) openSignal(sig maint.Signal) tea.Cmd {
	s, ok := m.health.session()
	if !ok || !m.opts.signalsEnabled() || (sig == maint.SignalCancel && s.State != "active") {
		return nil
	}
	b := maint.Backend{PID: s.PID}
	if s.BackendStart != nil {
		b.Start = *s.BackendStart
	}
	shown := who(*s)
	m.actionSeq++
	m.action = newActionView(m.actionSeq, maint.Action{Name: string(sig), Heading: sig.Heading()}, shown, m.clean(shown),
		signalActions{m.opts.Signals, sig, b}, m.opts.Now, m.styles, m.keys)
	m.action.SetSize(m.width-2, m.bodyHeight()-2)
	return m.action.startPlan()
}

// who names a session as the plan's heading does.
func who(s health.Session) string {
	out := "pid " + strconv.Itoa(int(s.PID))
	if s.User != "" || s.Application != "" {
		out += " (" + s.User
		if s.Application != "" {
			out += ", " + s.Application
		}
		out += ")"
	}
	return out
}
