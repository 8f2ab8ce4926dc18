package tui

import (
	"fmt"
	"github.com/pgtend/pgtend/tui/text"
	"slices"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
)

const (
	wideWidth = 160 // from here on two panes are shown side by side
	// Below this the frame cannot hold a title, headings and one row.
	minWidth, minHeight = 32, 8
	chromeHeight        = 3 // header, tab bar, footer
)

// layout gives each pane the cells inside its border: one pane on narrow
// terminals, the pair (tables|chunks or disk|calendar) side by side from
// wideWidth columns. A box of w×h holds (w-2)×(h-2) (see box).
func (m *Model) layout() {
	innerH := m.bodyHeight() - 2
	for i, p := range m.panes() {
		p.SetSize(m.boxWidth(i)-2, innerH)
	}
	if m.action != nil {
		m.action.SetSize(m.width-2, innerH)
	}
	if m.wizard != nil {
		m.wizard.SetSize(m.width-2, innerH)
	}
}

func (m *Model) wide() bool { return m.width >= wideWidth }

// boxWidth is the outer width of pane i's box. A pane without a partner
// (the last of an odd count) takes the whole width.
func (m *Model) boxWidth(i int) int {
	if !m.wide() || (i%2 == 0 && i+1 >= paneCount) {
		return m.width
	}
	if i%2 == 0 {
		return m.width / 2
	}
	return m.width - m.width/2
}

func (m *Model) bodyHeight() int { return max(m.height-chromeHeight, 3) }

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
	if m.width < minWidth || m.height < minHeight {
		return m.tooSmall()
	}
	ell := m.styles.Glyphs.Ellipsis
	return strings.Join([]string{
		fitLine(m.headerLine(), m.width, ell),
		fitLine(m.tabLine(), m.width, ell),
		m.body(),
		fitLine(m.footerLine(), m.width, ell),
	}, "\n")
}

// tooSmall fills the terminal with a request for more room, rather than a
// frame whose border would wrap.
func (m *Model) tooSmall() string {
	msg := fmt.Sprintf("pgtend needs %dx%d, this terminal is %dx%d", minWidth, minHeight, m.width, m.height)
	return fitBlock([]string{msg}, m.width, m.height, m.styles.Glyphs.Ellipsis)
}

func (m *Model) body() string {
	bodyH := m.bodyHeight()
	draw := func(i, w int, content string) []string {
		style, border := m.styles.Pane, m.styles.Glyphs.Border
		if i == m.active {
			style, border = m.styles.PaneFocused, m.styles.PaneFocusedBorder
		}
		return box(content, w, bodyH, border, style)
	}
	if m.showHelp {
		return strings.Join(draw(m.active, m.width, m.helpView(m.width-2, bodyH-2)), "\n")
	}
	if m.action != nil { // one box, full width, even where two panes would show
		return strings.Join(draw(m.active, m.width, m.action.View()), "\n")
	}
	if m.wizard != nil {
		return strings.Join(draw(m.active, m.width, m.wizard.View()), "\n")
	}
	if first := m.active - m.active%2; m.wide() && first+1 < paneCount {
		return joinBoxes(
			draw(first, m.boxWidth(first), m.panes()[first].View()),
			draw(first+1, m.boxWidth(first+1), m.panes()[first+1].View()))
	}
	return strings.Join(draw(m.active, m.width, m.panes()[m.active].View()), "\n")
}

// headerLine says where pgtend is connected and how fresh the figures are.
// When it does not fit, the versions go first, then the refresh time, then
// the database name is shortened: the connection state always stays.
func (m *Model) headerLine() string {
	s, g := m.styles, m.styles.Glyphs
	sep := s.Header.Render(g.Sep)
	var db, state string
	var optional []string // dropped from the front when narrow
	if r := m.report; r != nil {
		db = r.Server.Database
		if m.opts.Target != "" {
			db = m.opts.Target + ":" + db
		}
		db = m.clean(db)
		if r.Server.Timescale != nil {
			optional = append(optional, s.Header.Render("TimescaleDB "+m.clean(*r.Server.Timescale)))
		}
		optional = append(optional, s.Header.Render("PostgreSQL "+m.clean(firstWord(r.Server.Version))))
	}
	switch now := m.opts.Now(); {
	case m.lastErr != nil && m.loading:
		state = s.Error.Render("reconnecting" + g.Wait)
	case m.lastErr != nil:
		wait := max(m.retryAt.Sub(now).Round(time.Second), 0)
		state = s.Error.Render(fmt.Sprintf("reconnecting in %s", wait))
	case m.report == nil:
		state = s.Header.Render("connecting" + g.Wait)
	case m.report.Estimated:
		state = s.Due.Render("sizes estimated, measuring" + g.Wait)
	default:
		state = s.OK.Render("connected")
	}
	// refreshed, fullest first: when the refresh is stretched it says so
	// (or --refresh would seem ignored), dropped before the time itself.
	var refreshed []string
	if !m.lastRefresh.IsZero() {
		text := "refreshed " + m.lastRefresh.Format("15:04:05")
		if m.refreshEvery > m.opts.Refresh && m.lastErr == nil {
			refreshed = append(refreshed, sep+s.Header.Render(text+", every "+m.refreshEvery.Round(100*time.Millisecond).String()))
		}
		refreshed = append(refreshed, sep+s.Header.Render(text))
	}
	refreshed = append(refreshed, "")
	suffix := ""
	if m.opts.ReadOnly {
		suffix = " " + s.ReadOnly.Render("READ-ONLY")
	}
	build := func(db string, optional []string, refreshed string) string {
		parts := []string{s.Title.Render("pgtend")}
		if db != "" {
			parts = append(parts, s.HeaderValue.Render(db))
		}
		parts = append(parts, optional...)
		return strings.Join(append(parts, state), sep) + refreshed + suffix
	}
	for ; len(optional) > 0; optional = optional[1:] {
		if line := build(db, optional, refreshed[0]); lipgloss.Width(line) <= m.width {
			return line
		}
	}
	for _, r := range refreshed {
		if line := build(db, nil, r); lipgloss.Width(line) <= m.width {
			return line
		}
	}
	// Shorten the database name to what is left; drop it below a few cells.
	room := m.width - lipgloss.Width(build("", nil, "")) - lipgloss.Width(sep)
	if db == "" || room < 4 {
		return build("", nil, "")
	}
	return build(ansi.Truncate(db, room, g.Ellipsis), nil, "")
}

func (m *Model) clean(s string) string { return cleanFor(s, m.opts.ASCII) }

func firstWord(s string) string {
	if i := strings.IndexByte(s, ' '); i > 0 {
		return s[:i]
	}
	return s
}

// tabLine names the panes, followed by a lost connection's error; when
// that does not fit, only the active pane keeps its name.
func (m *Model) tabLine() string {
	tabs := func(names bool) string {
		var b strings.Builder
		keys := m.keys.paneKeys()
		for i, p := range m.panes() {
			style, label := m.styles.Tab, keys[i].Help().Key
			if i == m.active {
				style = m.styles.TabActive
			}
			if names || i == m.active {
				label += " " + p.Title()
			}
			b.WriteString(style.Render(label))
		}
		return b.String()
	}
	errText := ""
	if m.lastErr != nil {
		errText = " " + m.styles.Error.Render(m.clean(text.OneLine(m.lastErr.Error())))
	}
	line := tabs(true) + errText
	if lipgloss.Width(line) > m.width { // the error matters more than the tab names
		line = tabs(false) + errText
	}
	return line
}

// footerLine lists the keys of the moment. Help and quit always stay: when
// the line is too long, the other keys go from the end.
func (m *Model) footerLine() string {
	var optional, always []key.Binding
	switch m.focus() {
	case focusAction:
		optional = m.action.keys(m.keys)
	case focusWizard:
		optional = m.wizard.keys()
	case focusFilter:
		optional = m.tables.filterKeys(m.keys)
	case focusNote:
		optional = m.calendar.noteKeys(m.keys)
	case focusHelp:
		always = []key.Binding{as(m.keys.Back, "close help"), m.keys.Quit}
	default:
		optional = append(m.panes()[m.active].keys(m.keys), m.keys.NextPane, m.keys.Refresh)
		always = []key.Binding{m.keys.Help, m.keys.Quit}
	}
	sep := ansi.StringWidth(m.help.ShortSeparator)
	width := func(k key.Binding) int { return ansi.StringWidth(k.Help().Key) + 1 + ansi.StringWidth(k.Help().Desc) }
	used := -sep
	for _, k := range always {
		used += sep + width(k)
	}
	optional = slices.DeleteFunc(slices.Clone(optional), func(k key.Binding) bool { return !k.Enabled() }) // hidden keys take no room
	n := 0
	for ; n < len(optional); n++ {
		if used+sep+width(optional[n]) > m.width {
			break
		}
		used += sep + width(optional[n])
	}
	m.help.SetWidth(0) // cut here, not by the help model, which would cut help and quit
	return m.help.ShortHelpView(append(optional[:n:n], always...))
}
