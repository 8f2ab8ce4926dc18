package tui

import (
	"slices"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/pgtend/pgtend/ops/maint"
)

// KeyMap is every key the console answers to; it feeds bubbles/help.
type KeyMap struct {
	Up, Down, PageUp, PageDown, Top, Bottom key.Binding
	Enter, Back                             key.Binding
	NextPane, PrevPane                      key.Binding
	Pane1, Pane2, Pane3, Pane4              key.Binding
	Pane5                                   key.Binding // the Triage pane
	Pane6                                   key.Binding // the Health pane
	Sort, Filter, Refresh                   key.Binding
	Tick                                    key.Binding
	Cancel, Terminate                       key.Binding // the Health pane's session under the cursor
	Yes, No, Submit                         key.Binding // answers to a question, and to an input
	Skip                                    key.Binding // a checklist's step: n alone, as Esc leaves the wizard
	Expand, Statements                      key.Binding // a plan's steps under each table, and their statements
	Weekly, Monthly, Quarterly              key.Binding // the checklists (see wizard.go)
	Pick, PickAll                           key.Binding // a plan's step under the cursor, and every step (or none)
	Help, Quit                              key.Binding
	// Actions are the registry's actions with a console key: each plans
	// its action for the table under the cursor. New makes them from the
	// registry, disabled where nothing may run them.
	Actions []ActionKey
	// Flags are the registry's action flags with a console key: in a plan
	// of an action that takes one, it plans again with the flag toggled (a
	// flag with a value takes it from the step under the cursor; see
	// actionView.flagKeys).
	Flags []FlagKey
}

// FlagKey is the key of one action flag, which the actions in Of take.
type FlagKey struct {
	Flag    maint.Flag
	Of      []string // the actions that take it
	Binding key.Binding
}

// registryFlagKeys binds every action flag that has a console key, once
// whichever actions take it.
func registryFlagKeys(reg *maint.Registry) []FlagKey {
	var out []FlagKey
	for _, a := range reg.Actions {
		for _, f := range a.Flags {
			if f.Key == "" {
				continue
			}
			if i := slices.IndexFunc(out, func(k FlagKey) bool { return k.Flag.Name == f.Name }); i >= 0 {
				out[i].Of = append(out[i].Of, a.Name)
				continue
			}
			out = append(out, FlagKey{Flag: f, Of: []string{a.Name}, Binding: key.NewBinding(key.WithKeys(f.Key), key.WithHelp(f.Key, "--"+f.Name))})
		}
	}
	return out
}

// ActionKey is the key of one registry action.
type ActionKey struct {
	Action  maint.Action
	Binding key.Binding
}

// registryKeys binds every registry action that has a console key.
func registryKeys(reg *maint.Registry, enabled bool) []ActionKey {
	var out []ActionKey
	for _, a := range reg.Actions {
		if a.Key == "" {
			continue
		}
		b := key.NewBinding(key.WithKeys(a.Key), key.WithHelp(a.Key, a.Name))
		b.SetEnabled(enabled)
		out = append(out, ActionKey{Action: a, Binding: b})
	}
	return out
}

// actionBindings are the keys of the actions on a table, as the panes
// that offer them (Tables, Chunks) list them.
func (k KeyMap) actionBindings() []key.Binding { return k.scopedBindings(false) }

// databaseBindings are the keys of the actions on the whole database
// (backup), which the Disk pane offers.
func (k KeyMap) databaseBindings() []key.Binding { return k.scopedBindings(true) }

func (k KeyMap) scopedBindings(database bool) []key.Binding {
	var out []key.Binding
	for _, a := range k.Actions {
		if a.Action.Database == database {
			out = append(out, a.Binding)
		}
	}
	return out
}

// matchAction finds the action whose key was pressed.
func (k KeyMap) matchAction(msg tea.KeyPressMsg) (maint.Action, bool) {
	for _, a := range k.Actions {
		if key.Matches(msg, a.Binding) {
			return a.Action, true
		}
	}
	return maint.Action{}, false
}

// DefaultKeyMap returns the console's keys.
func DefaultKeyMap() KeyMap {
	return KeyMap{
		Up:       key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "up")),
		Down:     key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "down")),
		PageUp:   key.NewBinding(key.WithKeys("pgup", "ctrl+b"), key.WithHelp("pgup", "page up")),
		PageDown: key.NewBinding(key.WithKeys("pgdown", "ctrl+f"), key.WithHelp("pgdn", "page down")),
		Top:      key.NewBinding(key.WithKeys("g", "home"), key.WithHelp("g", "top")),
		Bottom:   key.NewBinding(key.WithKeys("G", "end"), key.WithHelp("G", "bottom")),
		Enter:    key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "chunks")),
		Back:     key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "back")),
		NextPane: key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "next pane")),
		PrevPane: key.NewBinding(key.WithKeys("shift+tab"), key.WithHelp("shift+tab", "previous pane")),
		Pane1:    key.NewBinding(key.WithKeys("1"), key.WithHelp("1", "tables")),
		Pane2:    key.NewBinding(key.WithKeys("2"), key.WithHelp("2", "chunks")),
		Pane3:    key.NewBinding(key.WithKeys("3"), key.WithHelp("3", "disk")),
		Pane4:    key.NewBinding(key.WithKeys("4"), key.WithHelp("4", "calendar")),
		Pane5:    key.NewBinding(key.WithKeys("5"), key.WithHelp("5", "triage")),
		Pane6:    key.NewBinding(key.WithKeys("6"), key.WithHelp("6", "health")),
		Sort:     key.NewBinding(key.WithKeys("s"), key.WithHelp("s", "sort")),
		Filter:   key.NewBinding(key.WithKeys("/"), key.WithHelp("/", "filter")),
		Refresh:  key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "refresh")),
		Tick:     key.NewBinding(key.WithKeys("t"), key.WithHelp("t", "tick off")),
		// Capitals: signalling a session is no key to hit by accident, and
		// the registry's actions take the small letters.
		Cancel:    key.NewBinding(key.WithKeys("C"), key.WithHelp("C", "cancel query")),
		Terminate: key.NewBinding(key.WithKeys("K"), key.WithHelp("K", "terminate session")),
		Yes:       key.NewBinding(key.WithKeys("y"), key.WithHelp("y", "yes")),
		No:        key.NewBinding(key.WithKeys("n", "esc"), key.WithHelp("n/esc", "no")),
		Skip:      key.NewBinding(key.WithKeys("n"), key.WithHelp("n", "skip")),
		Submit:    key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "submit")),
		Help:      key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "help")),
		Quit:      key.NewBinding(key.WithKeys("q", "ctrl+c"), key.WithHelp("q", "quit")),

		// The checklists, from any pane (Q: the quarterly one is rarer).
		Weekly:    key.NewBinding(key.WithKeys("w"), key.WithHelp("w", "weekly checklist")),
		Monthly:   key.NewBinding(key.WithKeys("m"), key.WithHelp("m", "monthly checklist")),
		Quarterly: key.NewBinding(key.WithKeys("Q"), key.WithHelp("Q", "quarterly checklist")),

		// The plan view's: unfold each table's steps, show their statements.
		Expand:     key.NewBinding(key.WithKeys("e"), key.WithHelp("e", "expand")),
		Statements: key.NewBinding(key.WithKeys("x"), key.WithHelp("x", "statements")),
		// A plan whose steps stand alone (REINDEX): run some of them.
		Pick:    key.NewBinding(key.WithKeys("space"), key.WithHelp("space", "pick step")),
		PickAll: key.NewBinding(key.WithKeys("a"), key.WithHelp("a", "all/none")),
	}
}

// as is b described for where it shows: the same keys, another meaning
// ("y" runs a plan, or cancels a run).
func as(b key.Binding, desc string) key.Binding {
	return key.NewBinding(key.WithKeys(b.Keys()...), key.WithHelp(b.Help().Key, desc))
}

// either matches the keys of a and of b, described as one.
func either(a, b key.Binding, desc string) key.Binding {
	return key.NewBinding(key.WithKeys(append(slices.Clone(a.Keys()), b.Keys()...)...), key.WithHelp(a.Help().Key+"/"+b.Help().Key, desc))
}

// hint is a binding as a prompt spells it: "y run".
func hint(b key.Binding) string { return b.Help().Key + " " + b.Help().Desc }
