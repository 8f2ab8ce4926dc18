package tui

import (
	"strings"

	"charm.land/bubbles/v2/key"
	"github.com/charmbracelet/x/ansi"
)

// helpGroup is one titled list of the full help.
type helpGroup struct {
	title string
	keys  []key.Binding
}

// listKeys move the cursor in every list pane.
func (k KeyMap) listKeys() []key.Binding {
	return []key.Binding{k.Up, k.Down, k.PageUp, k.PageDown, k.Top, k.Bottom}
}

// helpGroups is the full help: the keys that work everywhere, moving in a
// list, then each pane's own bindings. Disabled keys (read-only, nothing to
// record a tick-off in) are left out, and so is a pane with none.
func (m *Model) helpGroups() []helpGroup {
	k := m.keys
	// The pane keys are one line (the tab bar names each pane's number):
	// that leaves room at 80x24 for the checklists, which open from any
	// pane, in the same column — as "checks", since "quarterly checklist"
	// would push the Chunks column off the first row.
	everywhere := []key.Binding{k.paneRange(), k.NextPane, k.PrevPane,
		as(k.Weekly, "weekly checks"), as(k.Monthly, "monthly checks"), as(k.Quarterly, "quarterly checks")}
	groups := []helpGroup{
		{"Everywhere", append(everywhere, k.Refresh, k.Help, k.Quit)},
		{"Lists", k.listKeys()},
	}
	for _, p := range m.panes() {
		keys := p.bindings(k)
		if p == pane(m.calendar) {
			keys = append(keys, m.calendar.checklistBinding(k)...)
		}
		groups = append(groups, helpGroup{p.Title(), keys})
	}
	// Last: 80x24 has room for the panes' and checklists' keys, not for
	// these too.
	if m.opts.actionsEnabled() {
		groups = append(groups, helpGroup{"Plans", k.planBindings()})
	}
	out := groups[:0]
	for _, g := range groups {
		var enabled []key.Binding
		for _, b := range g.keys {
			if b.Enabled() {
				enabled = append(enabled, b)
			}
		}
		if len(enabled) > 0 {
			out = append(out, helpGroup{g.title, enabled})
		}
	}
	return out
}

// paneRange is the pane keys as one line of the help, "1-6".
func (k KeyMap) paneRange() key.Binding {
	keys := k.paneKeys()
	first, last := keys[0].Help().Key, keys[len(keys)-1].Help().Key
	return key.NewBinding(key.WithKeys(first), key.WithHelp(first+"-"+last, "go to a pane"))
}

// planBindings are the plan view's keys, as the full help lists them: the
// answers, the folds, picking steps, and each action switch with the
// actions that take it (the view offers a switch where its plan does).
func (k KeyMap) planBindings() []key.Binding {
	out := []key.Binding{as(k.Yes, "run, or confirm"), as(k.No, "cancel"), k.Expand, k.Statements, k.Pick, k.PickAll}
	for _, f := range k.Flags {
		desc := f.Binding.Help().Desc
		if f.Flag.Value != "" {
			desc += " of the step under the cursor"
		}
		out = append(out, as(f.Binding, desc+" ("+strings.Join(f.Of, ", ")+")"))
	}
	return out
}

// helpView draws the groups as columns, as many side by side as the width
// holds, in the pane's place.
func (m *Model) helpView(w, h int) string {
	const gap = 2 // 3 leaves no room at 80x24 (--ascii) for the checklists
	s := m.styles
	var lines []string
	var band [][]string // the columns of the current row of groups
	bandW := 0
	flush := func() {
		if len(band) == 0 {
			return
		}
		rows := 0
		for _, col := range band {
			rows = max(rows, len(col))
		}
		for r := range rows {
			var b strings.Builder
			for i, col := range band {
				cell := ""
				if r < len(col) {
					cell = col[r]
				}
				if i < len(band)-1 {
					cell += strings.Repeat(" ", max(colWidth(col)-ansi.StringWidth(cell), 0)+gap)
				}
				b.WriteString(cell)
			}
			lines = append(lines, b.String())
		}
		lines = append(lines, "")
		band, bandW = nil, 0
	}
	for _, g := range m.helpGroups() {
		col := m.helpColumn(g)
		cw := colWidth(col)
		if len(band) > 0 && bandW+gap+cw > w {
			flush()
		}
		if len(band) > 0 {
			bandW += gap
		}
		band, bandW = append(band, col), bandW+cw
	}
	flush()
	return fitBlock(append([]string{s.PaneTitle.Render("Keys"), ""}, lines...), w, h, s.Glyphs.Ellipsis)
}

// helpColumn is a group's title over its keys and what they do, aligned.
func (m *Model) helpColumn(g helpGroup) []string {
	s := m.styles
	keyW := 0
	for _, b := range g.keys {
		keyW = max(keyW, ansi.StringWidth(b.Help().Key))
	}
	col := []string{s.Dim.Render(g.title)}
	for _, b := range g.keys {
		k := b.Help().Key
		col = append(col, s.Help.FullKey.Render(k)+strings.Repeat(" ", keyW-ansi.StringWidth(k)+1)+s.Help.FullDesc.Render(b.Help().Desc))
	}
	return col
}

func colWidth(col []string) int {
	w := 0
	for _, c := range col {
		w = max(w, ansi.StringWidth(c))
	}
	return w
}
