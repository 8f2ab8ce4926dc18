// Package theme builds pgtend's one Styles value: adaptive colours for light
// and dark terminals, text attributes that still read without colour
// (NO_COLOR, TERM=dumb: the program's colour profile strips colour, not
// bold or reverse), and ASCII glyphs for terminals that are not UTF-8.
package theme

import (
	"charm.land/bubbles/v2/help"
	"charm.land/lipgloss/v2"
)

// Glyphs are the characters drawn for bars, borders and markers.
type Glyphs struct {
	BarFull, BarHalf, BarEmpty string
	Cursor                     string // marks the selected row without relying on colour
	Sep                        string // between header items
	Arrow                      string // before → after
	Ellipsis                   string
	Up, Down                   string // sort direction
	Border                     lipgloss.Border
}

// UnicodeGlyphs and ASCIIGlyphs are the two glyph sets.
var (
	UnicodeGlyphs = Glyphs{BarFull: "█", BarHalf: "▌", BarEmpty: "░", Cursor: "›", Sep: " · ", Arrow: "→", Ellipsis: "…", Up: "▲", Down: "▼", Border: lipgloss.RoundedBorder()}
	ASCIIGlyphs   = Glyphs{BarFull: "#", BarHalf: "#", BarEmpty: ".", Cursor: ">", Sep: " | ", Arrow: "->", Ellipsis: "~", Up: "^", Down: "v", Border: lipgloss.ASCIIBorder()}
)

// Styles is every style the console draws with.
type Styles struct {
	Dark   bool
	ASCII  bool
	Glyphs Glyphs

	Title       lipgloss.Style // product name in the header
	Header      lipgloss.Style
	HeaderValue lipgloss.Style
	Tab         lipgloss.Style
	TabActive   lipgloss.Style
	Pane        lipgloss.Style // border around a pane
	PaneFocused lipgloss.Style
	PaneTitle   lipgloss.Style
	Column      lipgloss.Style // column headings
	Selected    lipgloss.Style // the row under the cursor
	Dim         lipgloss.Style
	Stale       lipgloss.Style // figures from before a lost connection
	Changed     lipgloss.Style // a figure that just changed
	Bar         lipgloss.Style
	BarEmpty    lipgloss.Style
	OK          lipgloss.Style
	Due         lipgloss.Style
	Overdue     lipgloss.Style
	Error       lipgloss.Style
	ReadOnly    lipgloss.Style
	Footer      lipgloss.Style
	Help        help.Styles
}

// New builds the styles for a dark or light background.
func New(dark, ascii bool) Styles {
	ld := lipgloss.LightDark(dark)
	var (
		fg      = ld(lipgloss.Color("#1f2328"), lipgloss.Color("#e6edf3"))
		muted   = ld(lipgloss.Color("#6e7781"), lipgloss.Color("#8b949e"))
		faint   = ld(lipgloss.Color("#afb8c1"), lipgloss.Color("#484f58"))
		accent  = ld(lipgloss.Color("#0969da"), lipgloss.Color("#58a6ff"))
		green   = ld(lipgloss.Color("#1a7f37"), lipgloss.Color("#3fb950"))
		yellow  = ld(lipgloss.Color("#9a6700"), lipgloss.Color("#d29922"))
		red     = ld(lipgloss.Color("#cf222e"), lipgloss.Color("#f85149"))
		selBg   = ld(lipgloss.Color("#ddf4ff"), lipgloss.Color("#1f3a5f"))
		changed = ld(lipgloss.Color("#fff8c5"), lipgloss.Color("#5a4a00"))
	)
	g := UnicodeGlyphs
	if ascii {
		g = ASCIIGlyphs
	}
	s := Styles{Dark: dark, ASCII: ascii, Glyphs: g}
	s.Title = lipgloss.NewStyle().Bold(true).Foreground(accent)
	s.Header = lipgloss.NewStyle().Foreground(muted)
	s.HeaderValue = lipgloss.NewStyle().Foreground(fg)
	s.Tab = lipgloss.NewStyle().Foreground(muted).Padding(0, 1)
	s.TabActive = lipgloss.NewStyle().Foreground(accent).Bold(true).Underline(true).Padding(0, 1)
	s.Pane = lipgloss.NewStyle().Border(g.Border).BorderForeground(faint)
	s.PaneFocused = lipgloss.NewStyle().Border(g.Border).BorderForeground(accent)
	s.PaneTitle = lipgloss.NewStyle().Bold(true).Foreground(fg)
	s.Column = lipgloss.NewStyle().Bold(true).Foreground(muted)
	s.Selected = lipgloss.NewStyle().Reverse(true).Bold(true)
	if !ascii { // with colour, a background reads better than reverse video
		s.Selected = lipgloss.NewStyle().Background(selBg).Foreground(fg).Bold(true)
	}
	s.Dim = lipgloss.NewStyle().Foreground(muted)
	s.Stale = lipgloss.NewStyle().Foreground(faint).Faint(true)
	s.Changed = lipgloss.NewStyle().Background(changed).Bold(true)
	s.Bar = lipgloss.NewStyle().Foreground(accent)
	s.BarEmpty = lipgloss.NewStyle().Foreground(faint)
	s.OK = lipgloss.NewStyle().Foreground(green)
	s.Due = lipgloss.NewStyle().Foreground(yellow).Bold(true)
	s.Overdue = lipgloss.NewStyle().Foreground(red).Bold(true)
	s.Error = lipgloss.NewStyle().Foreground(red).Bold(true)
	s.ReadOnly = lipgloss.NewStyle().Foreground(yellow).Bold(true).Reverse(true).Padding(0, 1)
	s.Footer = lipgloss.NewStyle().Foreground(muted)
	s.Help = help.New().Styles
	s.Help.ShortKey = lipgloss.NewStyle().Foreground(fg).Bold(true)
	s.Help.FullKey = s.Help.ShortKey
	s.Help.ShortDesc = lipgloss.NewStyle().Foreground(muted)
	s.Help.FullDesc = s.Help.ShortDesc
	s.Help.ShortSeparator = lipgloss.NewStyle().Foreground(faint)
	s.Help.FullSeparator = s.Help.ShortSeparator
	s.Help.Ellipsis = s.Help.ShortSeparator
	return s
}

// Status returns the style for a calendar status.
func (s Styles) Status(status string) lipgloss.Style {
	switch status {
	case "ok":
		return s.OK
	case "due":
		return s.Due
	case "overdue":
		return s.Overdue
	}
	return s.Dim
}
