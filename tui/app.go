// Package tui is pgtend's console: Bubble Tea models for the panes, the root
// model that routes messages and owns the layout, and plain-text rendering
// of reports. It runs no SQL: data comes from the Load function it is given.
package tui

import (
	"context"
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/pgtend/pgtend/ops/report"
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
}

const wideWidth = 160 // from here on two panes are shown side by side

// Pane indexes.
const (
	paneTables = iota
	paneChunks
	paneDisk
	paneCalendar
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

	report      *report.Report
	loading     bool
	loadSeq     int
	lastRefresh time.Time
	lastErr     error
	failures    int
	retryAt     time.Time
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
	m := &Model{opts: opts, keys: DefaultKeyMap(), help: help.New()}
	m.tables = newTablesPane()
	m.chunks = newChunksPane()
	m.disk = newDiskPane()
	m.calendar = newCalendarPane()
	m.setStyles(theme.New(opts.Dark, opts.ASCII))
	return m
}

func (m *Model) setStyles(s theme.Styles) {
	m.styles = s
	m.help.Styles = s.Help
	m.help.Ellipsis = s.Glyphs.Ellipsis
}

func (m *Model) panes() []pane { return []pane{m.tables, m.chunks, m.disk, m.calendar} }

// Init starts the first load and asks the terminal for its background.
func (m *Model) Init() tea.Cmd {
	return tea.Batch(m.load(), tea.RequestBackgroundColor)
}

// Messages.
type (
	reportMsg struct {
		seq    int
		report *report.Report
		err    error
	}
	refreshMsg struct{ seq int }
	// clockMsg repaints time-dependent text (reconnect countdown, highlights).
	clockMsg struct{}
)

func (m *Model) load() tea.Cmd {
	if m.loading || m.opts.Load == nil {
		return nil
	}
	m.loading = true
	m.loadSeq++
	seq, load, timeout := m.loadSeq, m.opts.Load, m.opts.Timeout
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		r, err := load(ctx)
		return reportMsg{seq: seq, report: r, err: err}
	}
}

// Update routes a message.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		m.layout()
		return m, nil
	case tea.BackgroundColorMsg:
		m.setStyles(theme.New(msg.IsDark(), m.opts.ASCII))
		return m, nil
	case reportMsg:
		return m, m.gotReport(msg)
	case refreshMsg:
		if msg.seq != m.loadSeq {
			return m, nil // a manual refresh came in between
		}
		return m, m.load()
	case clockMsg:
		if m.lastErr != nil || m.tables.highlighting(m.opts.Now()) {
			return m, clockTick()
		}
		return m, nil
	case tea.KeyPressMsg:
		return m, m.handleKey(msg)
	}
	return m, nil
}

func clockTick() tea.Cmd {
	return tea.Tick(time.Second, func(time.Time) tea.Msg { return clockMsg{} })
}

// gotReport applies a finished load: new figures, or a lost connection that
// keeps the last figures (greyed) and retries with backoff.
func (m *Model) gotReport(msg reportMsg) tea.Cmd {
	if msg.seq != m.loadSeq {
		return nil
	}
	m.loading = false
	now := m.opts.Now()
	seq := m.loadSeq
	if msg.err != nil {
		m.lastErr = msg.err
		m.failures++
		backoff := min(time.Second<<min(m.failures-1, 5), 30*time.Second)
		m.retryAt = now.Add(backoff)
		m.setStale(true)
		return tea.Batch(tea.Tick(backoff, func(time.Time) tea.Msg { return refreshMsg{seq: seq} }), clockTick())
	}
	m.lastErr, m.failures = nil, 0
	m.report, m.lastRefresh = msg.report, now
	m.setStale(false)
	m.tables.setReport(msg.report, now)
	m.chunks.setReport(msg.report)
	m.disk.setReport(msg.report, m.tables.growth)
	m.calendar.setReport(msg.report)
	cmds := []tea.Cmd{tea.Tick(m.opts.Refresh, func(time.Time) tea.Msg { return refreshMsg{seq: seq} })}
	if m.tables.highlighting(now) {
		cmds = append(cmds, clockTick())
	}
	return tea.Batch(cmds...)
}

func (m *Model) setStale(stale bool) {
	for _, p := range m.panes() {
		p.setContext(m.styles, stale)
	}
}

func (m *Model) handleKey(msg tea.KeyPressMsg) tea.Cmd {
	if m.tables.filtering {
		return m.tables.update(msg, m.keys)
	}
	switch {
	case key.Matches(msg, m.keys.Quit):
		return tea.Quit
	case key.Matches(msg, m.keys.Help):
		m.showHelp = !m.showHelp
		m.layout()
		return nil
	case key.Matches(msg, m.keys.Refresh):
		return m.load()
	case key.Matches(msg, m.keys.Pane1):
		m.active = paneTables
	case key.Matches(msg, m.keys.Pane2):
		m.active = paneChunks
	case key.Matches(msg, m.keys.Pane3):
		m.active = paneDisk
	case key.Matches(msg, m.keys.Pane4):
		m.active = paneCalendar
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
	default:
		return m.panes()[m.active].update(msg, m.keys)
	}
	m.layout()
	return nil
}

// layout gives each pane its size: one pane on narrow terminals, the pair
// (tables|chunks or disk|calendar) side by side from wideWidth columns.
func (m *Model) layout() {
	bodyH := m.bodyHeight()
	for _, p := range m.panes() {
		p.setContext(m.styles, m.lastErr != nil)
	}
	if m.wide() {
		left := m.width / 2
		for i, p := range m.panes() {
			w := left
			if i%2 == 1 {
				w = m.width - left
			}
			p.SetSize(w-2, bodyH-2)
		}
		return
	}
	for _, p := range m.panes() {
		p.SetSize(m.width-2, bodyH-2)
	}
}

func (m *Model) wide() bool { return m.width >= wideWidth }

func (m *Model) bodyHeight() int {
	return max(m.height-3-m.helpHeight(), 3)
}

func (m *Model) helpHeight() int {
	if !m.showHelp {
		return 0
	}
	return lipgloss.Height(m.help.FullHelpView(m.fullHelp())) + 1
}

// View draws the header, the tab bar, the pane(s) and the footer.
func (m *Model) View() tea.View {
	v := tea.NewView(m.render())
	v.AltScreen = true
	v.WindowTitle = "pgtend"
	return v
}

func (m *Model) render() string {
	if m.width == 0 || m.height == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString(fitLine(m.headerLine(), m.width) + "\n")
	b.WriteString(fitLine(m.tabLine(), m.width) + "\n")
	b.WriteString(m.body() + "\n")
	if m.showHelp {
		m.help.SetWidth(m.width)
		b.WriteString(m.help.FullHelpView(m.fullHelp()) + "\n\n")
	}
	m.help.SetWidth(m.width)
	b.WriteString(fitLine(m.footerLine(), m.width))
	return b.String()
}

func (m *Model) body() string {
	bodyH := m.bodyHeight()
	box := func(i, w int) string {
		style := m.styles.Pane
		if i == m.active {
			style = m.styles.PaneFocused
		}
		return style.Width(w).Height(bodyH).Render(m.panes()[i].View())
	}
	if m.wide() {
		left := m.width / 2
		first := m.active - m.active%2
		return lipgloss.JoinHorizontal(lipgloss.Top, box(first, left), box(first+1, m.width-left))
	}
	return box(m.active, m.width)
}

// headerLine says where pgtend is connected and how fresh the figures are;
// on narrow terminals the versions go first, the connection state last.
func (m *Model) headerLine() string {
	s := m.styles
	sep := s.Header.Render(s.Glyphs.Sep)
	parts := []string{s.Title.Render("pgtend")}
	var optional []int // indexes of parts that may be dropped, first dropped first
	if r := m.report; r != nil {
		db := Clean(r.Server.Database)
		if m.opts.Target != "" {
			db = Clean(m.opts.Target) + ":" + db
		}
		parts = append(parts, s.HeaderValue.Render(db), s.Header.Render("PostgreSQL "+Clean(firstWord(r.Server.Version))))
		optional = append(optional, len(parts)-1)
		if r.Server.Timescale != nil {
			parts = append(parts, s.Header.Render("TimescaleDB "+Clean(*r.Server.Timescale)))
			optional = append([]int{len(parts) - 1}, optional...)
		}
	}
	now := m.opts.Now()
	switch {
	case m.lastErr != nil:
		wait := max(m.retryAt.Sub(now).Round(time.Second), 0)
		parts = append(parts, s.Error.Render(fmt.Sprintf("reconnecting in %s", wait)))
	case m.report == nil:
		parts = append(parts, s.Header.Render("connecting…"))
	default:
		parts = append(parts, s.OK.Render("connected"))
	}
	if !m.lastRefresh.IsZero() {
		parts = append(parts, s.Header.Render("refreshed "+m.lastRefresh.Format("15:04:05")))
		optional = append(optional, len(parts)-1)
	}
	suffix := ""
	if m.opts.ReadOnly {
		suffix = " " + s.ReadOnly.Render("READ-ONLY")
	}
	dropped := map[int]bool{}
	for {
		var kept []string
		for i, p := range parts {
			if !dropped[i] {
				kept = append(kept, p)
			}
		}
		line := strings.Join(kept, sep) + suffix
		if lipgloss.Width(line) <= m.width || len(dropped) == len(optional) {
			return line
		}
		dropped[optional[len(dropped)]] = true
	}
}

func firstWord(s string) string {
	if i := strings.IndexByte(s, ' '); i > 0 {
		return s[:i]
	}
	return s
}

func (m *Model) tabLine() string {
	var tabs []string
	for i, p := range m.panes() {
		style := m.styles.Tab
		if i == m.active {
			style = m.styles.TabActive
		}
		tabs = append(tabs, style.Render(fmt.Sprintf("%d %s", i+1, p.Title())))
	}
	line := strings.Join(tabs, "")
	if m.lastErr != nil {
		line += " " + m.styles.Error.Render(Clean(oneLine(m.lastErr.Error())))
	}
	return line
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func (m *Model) footerLine() string {
	keys := append(m.panes()[m.active].keys(m.keys), m.keys.NextPane, m.keys.Refresh, m.keys.Help, m.keys.Quit)
	return m.help.ShortHelpView(keys)
}

func (m *Model) fullHelp() [][]key.Binding {
	k := m.keys
	return [][]key.Binding{
		{k.Up, k.Down, k.PageUp, k.PageDown, k.Top, k.Bottom},
		{k.Enter, k.Back, k.Sort, k.Filter},
		{k.Pane1, k.Pane2, k.Pane3, k.Pane4, k.NextPane, k.PrevPane},
		{k.Refresh, k.Help, k.Quit},
	}
}

// pane is what the root needs of each pane.
type pane interface {
	Title() string
	SetSize(w, h int)
	View() string
	update(msg tea.KeyPressMsg, keys KeyMap) tea.Cmd
	keys(keys KeyMap) []key.Binding
	setContext(s theme.Styles, stale bool)
}

// paneBase holds what every pane shares.
type paneBase struct {
	styles        theme.Styles
	stale         bool
	width, height int
}

func (p *paneBase) SetSize(w, h int) { p.width, p.height = max(w, 1), max(h, 1) }

func (p *paneBase) setContext(s theme.Styles, stale bool) { p.styles, p.stale = s, stale }

// style returns st, or the greyed style when the figures are stale.
func (p *paneBase) style(st lipgloss.Style) lipgloss.Style {
	if p.stale {
		return p.styles.Stale
	}
	return st
}

// frame pads content lines to the pane's height.
func (p *paneBase) frame(lines []string) string {
	for len(lines) < p.height {
		lines = append(lines, "")
	}
	for i := range lines {
		lines[i] = fitLine(lines[i], p.width)
	}
	return strings.Join(lines[:p.height], "\n")
}
