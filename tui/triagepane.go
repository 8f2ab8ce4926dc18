package tui

import (
	"context"
	"errors"
	"maps"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/pgtend/pgtend/ops/config"
	"github.com/pgtend/pgtend/ops/maint"
	"github.com/pgtend/pgtend/ops/report"
	"github.com/pgtend/pgtend/ops/triage"
)

// The Triage pane answers "the disk is filling: what frees space?" in one
// ranked list (ops/triage): each option's bytes (~ an estimate), when they
// come back, the days they buy, what it is; under the list the selected
// option in full — how the space returns, what it locks, where the figure
// comes from, and the command that does it. Enter opens that registry
// action's plan, confirmed and run in the action view like every other
// (a replication slot's drop by typing the slot's name, a detached
// partition's or pg_repack leftover's by the table's). The console opens
// on it by itself when the filesystem is fuller than [disk] triage_at.

// triageEvery is the least time between two triage reads while another
// pane shows: a triage measures bloat (pgstattuple_approx) and lists
// files, too much to repeat every refresh for a pane nobody looks at; it
// is read at once when the pane is shown.
const triageEvery = 10 * time.Minute

// triageShownEvery is the least time between two reads while the pane
// shows: fresh enough to watch space come back, not a bloat measure every
// refresh.
const triageShownEvery = 30 * time.Second

type triagePane struct {
	paneBase
	triage  *triage.Triage
	err     error
	cursor  listCursor
	enabled bool    // a Triage loader was given
	loudAt  float64 // percent used from which the headline is loud (Options.triageAt)
	km      KeyMap  // for the key the detail names
	runs    bool    // Enter may open an action
	read    time.Time
}

func newTriagePane() *triagePane { return &triagePane{} }

func (p *triagePane) Title() string { return "Triage" }

// triageMsg carries a finished triage read.
type triageMsg struct {
	seq    int
	triage *triage.Triage
	err    error
}

func (p *triagePane) SetSize(w, h int) {
	p.paneBase.SetSize(w, h)
	p.cursor.setHeight(p.listHeight())
}

// listHeight leaves the selected option's detail a third of the pane.
func (p *triagePane) listHeight() int {
	detail := max(p.height/3, min(7, p.height-4))
	n := 1
	if p.triage != nil {
		n = max(len(p.triage.Options), 1)
	}
	return max(min(n, p.height-2-1-detail), 1)
}

// setTriage takes a new read, keeping the cursor on the option it was on
// (Option.Key) when it is still listed.
func (p *triagePane) setTriage(t *triage.Triage, at time.Time) {
	var key string
	if o := p.selected(); o != nil {
		key = o.Key()
	}
	p.triage, p.err, p.read = t, nil, at
	p.cursor.setHeight(p.listHeight())
	if key == "" || !p.cursor.find(len(t.Options), func(i int) bool { return t.Options[i].Key() == key }) {
		p.cursor.setLen(len(t.Options))
	}
}

// selected is the option under the cursor, nil when none.
func (p *triagePane) selected() *triage.Option {
	if p.triage == nil || p.cursor.index < 0 || p.cursor.index >= len(p.triage.Options) {
		return nil
	}
	return &p.triage.Options[p.cursor.index]
}

// runnable: Enter opens the selected option's plan.
func (p *triagePane) runnable() bool {
	o := p.selected()
	return o != nil && o.Run != nil && p.runs
}

func (p *triagePane) bindings(k KeyMap) []key.Binding {
	if !p.enabled || !p.runs {
		return nil // the list moves with the list keys; nothing else to say
	}
	return []key.Binding{as(k.Enter, "open the option's plan")}
}

func (p *triagePane) keys(k KeyMap) []key.Binding {
	out := []key.Binding{k.Up, k.Down}
	if p.runnable() {
		out = append(out, as(k.Enter, "plan it"))
	}
	return out
}

func (p *triagePane) update(msg tea.KeyPressMsg, k KeyMap) tea.Cmd {
	p.cursor.navigate(msg, k)
	return nil
}

// triageEnabled: the console reads the triage.
func (o Options) triageEnabled() bool { return o.Triage != nil }

// triageAt is TriageAt, or [disk] triage_at's default when it is not set:
// where the console opens on Triage and the pane's headline turns loud.
func (o Options) triageAt() float64 {
	if o.TriageAt <= 0 {
		return float64(config.DefaultDisk.TriageAtPercent)
	}
	return float64(o.TriageAt)
}

// loadTriage reads the triage of a measured report off the Update loop,
// within the report's deadline: at once when there is none yet, else at
// most every triageShownEvery while the pane shows, triageEvery while not.
func (m *Model) loadTriage(r *report.Report) tea.Cmd {
	if m.opts.Triage == nil || m.triageLoading || r == nil || r.Estimated {
		return nil
	}
	every := triageEvery
	if m.active == paneTriage {
		every = triageShownEvery
	}
	if m.triage.triage != nil && m.opts.Now().Sub(m.triage.read) < every {
		return nil
	}
	m.triageLoading = true
	m.triageSeq++
	seq, load, timeout := m.triageSeq, m.opts.Triage, m.opts.Timeout
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		t, err := load(ctx, r)
		if err == nil && t == nil {
			err = errors.New("no triage came back")
		}
		return triageMsg{seq: seq, triage: t, err: err}
	}
}

func (m *Model) gotTriage(msg triageMsg) {
	if msg.seq != m.triageSeq {
		return
	}
	m.triageLoading = false
	if msg.err != nil {
		m.triage.err = msg.err
		return
	}
	m.triage.setTriage(msg.triage, m.opts.Now())
}

// openOnTriage makes the first report whose filesystem pgtend sees open
// the console on Triage when it is at least [disk] triage_at full; once
// only, so a refresh never takes the operator away from another pane.
func (m *Model) openOnTriage(r *report.Report) {
	if m.triageChecked || r == nil {
		return
	}
	total, free, ok := r.Disk.Space()
	if !ok || total <= 0 {
		return
	}
	m.triageChecked = true
	if 100*float64(total-free)/float64(total) >= m.opts.triageAt() && m.action == nil {
		m.active = paneTriage
	}
}

// triageKey opens the plan of the option under the Triage cursor: its
// registry action, with its table and flags, confirmed by the slot's name
// for a slot, else as the action view confirms.
func (m *Model) triageKey() tea.Cmd {
	o := m.triage.selected()
	if o == nil || o.Run == nil || !m.opts.actionsEnabled() || m.report == nil || m.action != nil {
		return nil
	}
	a, ok := m.opts.Registry.Action(o.Run.Action)
	if !ok {
		return nil
	}
	shown := "database " + m.clean(m.report.Server.Database)
	switch {
	case o.Run.Confirm != "":
		shown = m.clean(o.Run.Confirm)
	case o.Run.Table != "":
		shown = m.clean(o.Run.Table)
	}
	m.actionSeq++
	m.action = newActionView(m.actionSeq, a, o.Run.Table, shown, flaggedActions{m.opts.Actions, o.Run.Flags}, m.opts.Now, m.styles, m.keys)
	m.action.SetSize(m.width-2, m.bodyHeight()-2)
	return m.action.startPlan()
}

// flaggedActions plans with an option's flags (drop-slot's --slot,
// reindex's --index) set on the context, as the command line sets them.
type flaggedActions struct {
	Actions
	flags maint.Flags
}

// The plan view's own switches (--blocking, --measure) come on top: they
// are set on ctx when it plans again.
func (a flaggedActions) Plan(ctx context.Context, action, table string) (*maint.Plan, error) {
	if len(a.flags) > 0 {
		f := maint.Flags{}
		maps.Copy(f, a.flags)
		maps.Copy(f, maint.FlagsOf(ctx))
		ctx = maint.WithFlags(ctx, f)
	}
	return a.Actions.Plan(ctx, action, table)
}
