package tui

// focus is what has the keyboard: key handling and the footer both read it,
// so what a key does and what the footer offers cannot disagree.
type focus int

const (
	focusPanes  focus = iota // the active pane, and the keys of every pane
	focusAction              // an open maintenance action, from plan to summary
	focusWizard              // an open checklist, from its first step to its summary
	focusFilter              // the Tables filter's input
	focusNote                // the calendar tick-off's note
	focusHelp                // the full help, over the panes
)

// focus is the one place the precedence is decided: an open action covers
// everything, an input takes every key, the help covers the panes.
func (m *Model) focus() focus {
	switch {
	case m.wizard != nil:
		return focusWizard
	case m.action != nil:
		return focusAction
	case m.tables.filtering:
		return focusFilter
	case m.calendar.noting:
		return focusNote
	case m.showHelp:
		return focusHelp
	}
	return focusPanes
}
