// Package tui is pgtend's console: Bubble Tea models for the panes, the root
// model that routes messages and owns the layout, and plain-text rendering
// of reports. It runs no SQL: data comes from the Load function it is given.
package tui

import (
	"context"
	"github.com/pgtend/pgtend/tui/text"
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/pgtend/pgtend/ops/backup"
	"github.com/pgtend/pgtend/ops/config"
	"github.com/pgtend/pgtend/ops/health"
	"github.com/pgtend/pgtend/ops/maint"
	"github.com/pgtend/pgtend/ops/report"
	"github.com/pgtend/pgtend/ops/state"
	"github.com/pgtend/pgtend/ops/triage"
	"github.com/pgtend/pgtend/theme"
)

// Options configure the console.
type Options struct {
	// Load reads a fresh report; it must honour ctx's deadline.
	Load     func(ctx context.Context) (*report.Report, error)
	Refresh  time.Duration // between refreshes; default 5s
	Timeout  time.Duration // deadline of one Load; default 30s
	ReadOnly bool
	ASCII    bool
	Dark     bool             // initial guess; the terminal's answer replaces it
	Now      func() time.Time // clock, for tests; default time.Now
	Target   string           // what the header calls the connection, e.g. a target name
	// Estimate, when set, makes the first load: a quick report of estimated
	// sizes, so the first frame comes at once on thousands of chunks; the
	// measured report follows immediately.
	Estimate func(ctx context.Context) (*report.Report, error)
	// SizeHistory seeds growth per day with sizes stored by earlier runs.
	SizeHistory []state.Sample
	// Tick records that a person did a manual calendar task, with a note;
	// nil hides the tick-off key.
	Tick func(ctx context.Context, task, note string) error
	// Actions plans and runs maintenance; nil (or ReadOnly) hides the
	// action keys.
	Actions Actions
	// Registry is what maintenance there is: each action with a console
	// key gets it. Default: maint.Default().
	Registry *maint.Registry
	// Backups lists the backup directory, read with every report for the
	// Disk pane's Backups list; nil shows none.
	Backups func(ctx context.Context) (*backup.Listing, error)
	// Health reads the Health pane's findings; it must honour ctx's
	// deadline. nil: the pane says there are none.
	Health func(ctx context.Context) (*health.Report, error)
	// Thresholds judge the Health pane's disk finding, made from the Disk
	// pane's figures (the policy's [health]).
	Thresholds config.Health
	// Signals cancels queries and terminates sessions from the Health
	// pane; nil (or ReadOnly) disables its keys.
	Signals Signals
	// Checklists reads the checklists' sheets and records their walks;
	// nil (or no Actions, or ReadOnly) hides the checklist keys (w, m, Q).
	Checklists Checklists
	// Triage reads the Triage pane's options from a measured report; it
	// must honour ctx's deadline. nil: the pane says there are none.
	Triage func(ctx context.Context, r *report.Report) (*triage.Triage, error)
	// TriageAt opens the console on the Triage pane when the data
	// directory's filesystem is at least this full (percent; [disk]
	// triage_at, default 90).
	TriageAt int
}

// Actions is what the console's maintenance needs from ops.
type Actions interface {
	// Plan makes the plan of a registry action (by name) for one table
	// (schema.name); it changes nothing.
	Plan(ctx context.Context, action, table string) (*maint.Plan, error)
	// Run runs a plan, calling emit for every event (from other
	// goroutines), records it in the history, and returns when it is done
	// or ctx is cancelled.
	Run(ctx context.Context, plan *maint.Plan, emit func(maint.Event)) (maint.Result, error)
}

// Pane indexes.
const (
	paneTables = iota
	paneChunks
	paneDisk
	paneCalendar
	paneTriage // key 5
	paneHealth // key 6
	paneCount
)

// Model is the root model: it owns the layout, the refresh loop and the
// connection state, and routes keys to the active pane.
type Model struct {
	opts   Options
	styles theme.Styles
	keys   KeyMap
	help   help.Model

	width, height int
	active        int
	showHelp      bool

	tables   *tablesPane
	chunks   *chunksPane
	disk     *diskPane
	calendar *calendarPane
	health   *healthPane
	triage   *triagePane

	healthLoading bool
	healthSeq     int

	triageLoading bool
	triageSeq     int
	triageChecked bool // the first seen filesystem was judged for opening on Triage

	action    *actionView // open maintenance, drawn in the panes' place
	actionSeq int
	wizard    *wizardView // an open checklist, drawn in the panes' place

	report      *report.Report
	loading     bool
	loadSeq     int
	loadStart   time.Time
	lastRefresh time.Time
	// refreshEvery is the wait before the next refresh: the --refresh
	// interval, stretched when reading a report takes long (see
	// refreshWait).
	refreshEvery time.Duration
	lastErr      error
	failures     int
	retryAt      time.Time
	ticking      bool // a clockMsg is on its way
}

// New builds the console model.
func New(opts Options) *Model {
	if opts.Refresh <= 0 {
		opts.Refresh = 5 * time.Second
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 30 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Registry == nil {
		opts.Registry = maint.Default()
	}
	m := &Model{opts: opts, keys: DefaultKeyMap(), help: help.New()}
	m.keys.Actions = registryKeys(opts.Registry, opts.actionsEnabled())
	m.keys.enableChecklists(opts.checklistsEnabled())
	m.keys.Flags = registryFlagKeys(opts.Registry)
	m.tables = newTablesPane()
	m.chunks = newChunksPane()
	m.disk = newDiskPane()
	m.calendar = newCalendarPane()
	m.calendar.tick = opts.Tick
	m.calendar.checklists = opts.checklistsEnabled()
	m.calendar.enableActions(opts.Registry, opts.actionsEnabled())
	m.health = newHealthPane()
	m.health.enabled, m.health.signals = opts.healthEnabled(), opts.signalsEnabled()
	m.keys.Cancel.SetEnabled(opts.signalsEnabled())
	m.keys.Terminate.SetEnabled(opts.signalsEnabled())
	for _, a := range m.keys.Actions {
		m.health.actions[a.Action.Name] = a
	}
	m.health.km = m.keys
	m.triage = newTriagePane()
	m.triage.enabled, m.triage.runs, m.triage.loudAt, m.triage.km = opts.triageEnabled(), opts.actionsEnabled(), opts.triageAt(), m.keys
	for _, smp := range opts.SizeHistory {
		m.tables.growth.add(smp.Table, smp.At, smp.Bytes)
	}
	m.setStyles(theme.New(opts.Dark, opts.ASCII, false))
	return m
}

// setStyles switches theme everywhere at once: root, help and panes.
func (m *Model) setStyles(s theme.Styles) {
	m.styles = s
	m.help.Styles = s.Help
	m.help.Ellipsis = s.Glyphs.Ellipsis
	m.help.ShortSeparator = s.Glyphs.KeySep
	m.keys.Up.SetHelp(s.Glyphs.UpKey, "up")
	m.keys.Down.SetHelp(s.Glyphs.DownKey, "down")
	m.setStale(m.lastErr != nil)
	if m.action != nil {
		m.action.setStyles(s)
	}
	if m.wizard != nil {
		m.wizard.setStyles(s)
	}
}

func (m *Model) setStale(stale bool) {
	for _, p := range m.panes() {
		p.setContext(m.styles, stale)
	}
}

func (m *Model) panes() []pane {
	return []pane{m.tables, m.chunks, m.disk, m.calendar, m.triage, m.health}
}

// paneKeys are the panes' keys, in the panes' order: the tab bar labels
// each pane with its key.
func (k KeyMap) paneKeys() []key.Binding {
	return []key.Binding{k.Pane1, k.Pane2, k.Pane3, k.Pane4, k.Pane5, k.Pane6}
}

// Init starts the first load and asks the terminal for its background.
func (m *Model) Init() tea.Cmd {
	return tea.Batch(m.load(), m.loadHealth(), tea.RequestBackgroundColor)
}

// Update routes a message.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		m.layout()
		return m, nil
	case tea.BackgroundColorMsg:
		m.setStyles(theme.New(msg.IsDark(), m.opts.ASCII, m.styles.Mono))
		return m, nil
	case tea.ColorProfileMsg: // NO_COLOR, TERM=dumb: say with reverse what colour said
		m.setStyles(theme.New(m.styles.Dark, m.opts.ASCII, msg.Profile <= colorprofile.ASCII))
		return m, nil
	case reportMsg:
		cmd := m.gotReport(msg)
		m.healthDisk() // the Disk pane's figures changed
		if msg.err == nil {
			m.openOnTriage(msg.report)
			cmd = tea.Batch(cmd, m.loadTriage(msg.report))
		}
		return m, cmd
	case triageMsg:
		m.gotTriage(msg)
		return m, nil
	case healthMsg:
		return m, m.gotHealth(msg)
	case healthRefreshMsg:
		if msg.seq != m.healthSeq {
			return m, nil
		}
		return m, m.loadHealth()
	case openActionMsg: // the Calendar pane's schedules and jobs
		return m, m.openActionOn(msg)
	case tickedMsg:
		if msg.err != nil {
			m.calendar.status = "could not record " + msg.task + ": " + text.OneLine(msg.err.Error())
			return m, nil
		}
		m.calendar.status = "recorded: " + msg.task + " done"
		return m, m.load() // the calendar's "last done" comes from the history
	case refreshMsg:
		if msg.seq != m.loadSeq {
			return m, nil // a manual refresh came in between
		}
		return m, m.load()
	case clockMsg:
		m.ticking = false
		m.tables.setNow(m.opts.Now())
		return m, m.startClock()
	case planMsg, runEventMsg, runDoneMsg, runIdleMsg:
		return m, m.actionMsg(msg)
	case openChecklistMsg, wizardDiskMsg, wizardSheetMsg, wizardDoneMsg, wizardRecordedMsg:
		return m, m.wizardMsg(msg)
	case tea.KeyPressMsg:
		return m, m.handleKey(msg)
	}
	return m, nil
}

func (m *Model) handleKey(msg tea.KeyPressMsg) tea.Cmd {
	f := m.focus()
	if msg.String() == "ctrl+c" { // quits from anywhere, the filter included…
		if f == focusAction && m.action.running() { // …but a run is cancelled first, or left alone
			m.action.askCancel()
			return nil
		}
		if f == focusWizard && m.wizard.running() {
			m.wizard.act.askCancel()
			return nil
		}
		return tea.Quit
	}
	switch f {
	case focusWizard:
		return m.wizardKey(msg)
	case focusAction:
		ran := m.action.phase == phaseFinished
		cmd := m.actionKey(msg)
		if ran && m.action == nil { // what it did shows among the findings at once
			m.healthLoading = false
			cmd = tea.Batch(cmd, m.loadHealth())
		}
		return cmd
	case focusFilter:
		return m.tables.update(msg, m.keys)
	case focusNote:
		return m.calendar.update(msg, m.keys)
	case focusHelp: // the help covers the panes: only closing it makes sense
		switch {
		case key.Matches(msg, m.keys.Quit):
			return tea.Quit
		case key.Matches(msg, m.keys.Help), key.Matches(msg, m.keys.Back):
			m.showHelp = false
		}
		return nil
	}
	if a, ok := m.keys.matchAction(msg); ok {
		return m.openAction(a)
	}
	if script, ok := m.keys.matchChecklist(msg); ok {
		return m.openChecklist(script, "")
	}
	switch {
	case key.Matches(msg, m.keys.Quit):
		return tea.Quit
	case key.Matches(msg, m.keys.Help):
		m.showHelp = true
	case key.Matches(msg, m.keys.Refresh):
		return tea.Batch(m.load(), m.loadHealth())
	case key.Matches(msg, m.keys.Pane1):
		m.active = paneTables
	case key.Matches(msg, m.keys.Pane2):
		m.active = paneChunks
	case key.Matches(msg, m.keys.Pane3):
		m.active = paneDisk
	case key.Matches(msg, m.keys.Pane4):
		m.active = paneCalendar
	case key.Matches(msg, m.keys.Pane5):
		m.active = paneTriage
		return m.loadTriage(m.report) // figures of now, not of a minute ago
	case key.Matches(msg, m.keys.Pane6):
		m.active = paneHealth
	case key.Matches(msg, m.keys.NextPane):
		m.active = (m.active + 1) % paneCount
	case key.Matches(msg, m.keys.PrevPane):
		m.active = (m.active + paneCount - 1) % paneCount
	case m.active == paneTables && key.Matches(msg, m.keys.Enter):
		if t := m.tables.selected(); t != nil {
			m.chunks.show(t.Schema, t.Name)
			m.active = paneChunks
		}
	case m.active == paneChunks && key.Matches(msg, m.keys.Back):
		m.active = paneTables
	case m.active == paneTriage && key.Matches(msg, m.keys.Enter):
		return m.triageKey()
	case m.active == paneHealth && healthKeyMatches(msg, m.keys):
		return m.healthKey(msg)
	default:
		cmd := m.panes()[m.active].update(msg, m.keys)
		if m.active == paneTables {
			m.followSelection()
		}
		return cmd
	}
	return nil
}

// followSelection shows in the Chunks pane the chunks of the table under
// the Tables cursor, when it has any (a plain table leaves the last chunked
// table shown): pressing 2, or looking at the pane beside, shows the
// table one is on.
func (m *Model) followSelection() {
	if t := m.tables.selected(); t != nil && t.Chunks > 0 {
		m.chunks.show(t.Schema, t.Name)
	}
}
