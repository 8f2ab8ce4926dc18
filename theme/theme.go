// Package theme builds pgtend's one Styles value: adaptive colours for light
// and dark terminals, text attributes that still read without colour
// (NO_COLOR, TERM=dumb: the program's colour profile strips colour, not
// bold or reverse), and ASCII glyphs for terminals that are not UTF-8.
package theme

import (
	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/textinput"
	"charm.land/lipgloss/v2"
)

// Glyphs are every non-letter character the console draws: in ASCII mode
// the whole frame must be 7-bit, so nothing outside this set may hold one.
type Glyphs struct {
	BarFull, BarHalf, BarEmpty string
	Cursor                     string // marks the selected row without relying on colour
	Sep                        string // between header items
	KeySep                     string // between keys in the footer
	Arrow                      string // before → after
	Ellipsis                   string // ends a truncated cell: one column wide
	Wait                       string // ends "loading", "connecting"
	Unknown                    string // a figure nobody could read
	Up, Down                   string // sort direction
	UpKey, DownKey             string // help labels of the cursor keys
	Check, Cross               string // a maintenance step that succeeded, failed
	Fold, Unfold               string // before a group of lines folded away (a table's steps), and shown
	Border                     lipgloss.Border
	// FocusBorder marks the focused pane where colour cannot (NO_COLOR):
	// beside another pane, a border is all that tells them apart.
	FocusBorder lipgloss.Border
}

// UnicodeGlyphs and ASCIIGlyphs are the two glyph sets.
var (
	UnicodeGlyphs = Glyphs{
		BarFull: "█", BarHalf: "▌", BarEmpty: "░", Cursor: "›", Sep: " · ", KeySep: " • ",
		Arrow: "→", Ellipsis: "…", Wait: "…", Unknown: "—", Up: "▲", Down: "▼",
		UpKey: "↑/k", DownKey: "↓/j", Check: "✓", Cross: "✗", Fold: "▸", Unfold: "▾", Border: lipgloss.RoundedBorder(),
		FocusBorder: lipgloss.ThickBorder(),
	}
	ASCIIGlyphs = Glyphs{
		BarFull: "#", BarHalf: "#", BarEmpty: ".", Cursor: ">", Sep: " | ", KeySep: " | ",
		Arrow: "->", Ellipsis: "~", Wait: "...", Unknown: "-", Up: "^", Down: "v",
		UpKey: "k/up", DownKey: "j/down", Check: "+", Cross: "x", Fold: "+", Unfold: "-", Border: lipgloss.ASCIIBorder(),
		FocusBorder: lipgloss.Border{Top: "=", Bottom: "=", Left: "|", Right: "|",
			TopLeft: "+", TopRight: "+", BottomLeft: "+", BottomRight: "+"},
	}
)

// Styles is every style the console draws with.
type Styles struct {
	Dark   bool
	ASCII  bool
	Mono   bool
	Glyphs Glyphs

	Title       lipgloss.Style // product name in the header
	Header      lipgloss.Style
	HeaderValue lipgloss.Style
	Tab         lipgloss.Style
	TabActive   lipgloss.Style
	Pane        lipgloss.Style // border around a pane, drawn with Glyphs.Border
	PaneFocused lipgloss.Style
	// PaneFocusedBorder is the focused pane's border: Glyphs.Border in
	// colour, Glyphs.FocusBorder without.
	PaneFocusedBorder lipgloss.Border
	PaneTitle         lipgloss.Style
	Column            lipgloss.Style // column headings
	Selected          lipgloss.Style // the row under the cursor
	Dim               lipgloss.Style
	Stale             lipgloss.Style // figures from before a lost connection
	Changed           lipgloss.Style // a figure that just changed
	Bar               lipgloss.Style
	BarEmpty          lipgloss.Style
	OK                lipgloss.Style
	Due               lipgloss.Style
	Overdue           lipgloss.Style
	Error             lipgloss.Style
	ReadOnly          lipgloss.Style
	Footer            lipgloss.Style
	Help              help.Styles
	Input             textinput.Styles // the filter line
}

// New builds the styles for a dark or light background. ascii picks the
// 7-bit glyphs; mono says the terminal shows no colour (NO_COLOR, TERM=dumb),
// so whatever colour alone would tell must be told by reverse or bold.
func New(dark, ascii, mono bool) Styles {
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
	s := Styles{Dark: dark, ASCII: ascii, Mono: mono, Glyphs: g}
	s.Title = lipgloss.NewStyle().Bold(true).Foreground(accent)
	s.Header = lipgloss.NewStyle().Foreground(muted)
	s.HeaderValue = lipgloss.NewStyle().Foreground(fg)
	s.Tab = lipgloss.NewStyle().Foreground(muted).Padding(0, 1)
	s.TabActive = lipgloss.NewStyle().Foreground(accent).Bold(true).Underline(true).Padding(0, 1)
	s.Pane = lipgloss.NewStyle().Foreground(faint)
	s.PaneFocused = lipgloss.NewStyle().Foreground(accent)
	s.PaneFocusedBorder = g.Border
	if mono {
		s.PaneFocusedBorder = g.FocusBorder
	}
	s.PaneTitle = lipgloss.NewStyle().Bold(true).Foreground(fg)
	s.Column = lipgloss.NewStyle().Bold(true).Foreground(muted)
	// With colour a background reads better than reverse video; without,
	// a background would vanish and leave only the cursor glyph.
	s.Selected = lipgloss.NewStyle().Background(selBg).Foreground(fg).Bold(true)
	if mono {
		s.Selected = lipgloss.NewStyle().Reverse(true).Bold(true)
	}
	s.Dim = lipgloss.NewStyle().Foreground(muted)
	s.Stale = lipgloss.NewStyle().Foreground(faint).Faint(true)
	s.Changed = lipgloss.NewStyle().Background(changed).Bold(true)
	if mono {
		s.Changed = lipgloss.NewStyle().Underline(true).Bold(true)
	}
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
	// The input's own defaults are ANSI white, unreadable on a light
	// background. Its cursor stays steady: a blinking one would repaint
	// the whole frame twice a second for nothing.
	s.Input = textinput.DefaultStyles(dark)
	s.Input.Focused = textinput.StyleState{
		Prompt:      lipgloss.NewStyle().Foreground(accent).Bold(true),
		Text:        lipgloss.NewStyle().Foreground(fg),
		Placeholder: lipgloss.NewStyle().Foreground(muted),
		Suggestion:  lipgloss.NewStyle().Foreground(muted),
	}
	s.Input.Blurred = s.Input.Focused
	s.Input.Cursor.Color = fg
	s.Input.Cursor.Blink = false
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
