package tui

import (
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/pgtend/pgtend/theme"
	"github.com/pgtend/pgtend/tui/text"
)

// pane is what the root needs of each pane.
type pane interface {
	Title() string
	// SetSize gives the pane the cells inside its border.
	SetSize(w, h int)
	View() string
	update(msg tea.KeyPressMsg, keys KeyMap) tea.Cmd
	// bindings are every key the pane answers to besides moving in a list
	// (KeyMap.listKeys): the full help lists them, so a key shows there by
	// being bound here.
	bindings(keys KeyMap) []key.Binding
	// keys are the footer's keys of the moment.
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

// clean makes text from the database safe to draw, and 7-bit in ASCII mode.
func (p *paneBase) clean(s string) string { return cleanFor(s, p.styles.ASCII) }

func cleanFor(s string, ascii bool) string {
	if ascii {
		return text.CleanASCII(s)
	}
	return text.Clean(s)
}

func (p *paneBase) bytes(n *int64) string { return text.BytesOr(n, p.styles.Glyphs.Unknown) }

// frame pads or cuts content to exactly the pane's size, so the border
// around it never wraps or stretches.
func (p *paneBase) frame(lines []string) string {
	return fitBlock(lines, p.width, p.height, p.styles.Glyphs.Ellipsis)
}

// rowLook is how a list row is drawn: the cursor's marker and the
// selection, else greyed when the figures are stale, else flag when the row
// is flagged (past retention, missing).
func (p *paneBase) rowLook(selected, flagged bool, flag lipgloss.Style) (marker string, pt paint) {
	switch {
	case selected:
		return p.styles.Glyphs.Cursor + " ", rowPaint(p.styles.Selected)
	case p.stale:
		return "  ", rowPaint(p.styles.Stale)
	case flagged:
		return "  ", rowPaint(flag)
	}
	return "  ", paint{}
}
