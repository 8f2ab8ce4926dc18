package tui

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/pgtend/pgtend/ops/maint"
)

// The plan view's choices before a run: which steps of a plan whose steps
// stand alone (REINDEX candidates) run, and the action's switches
// (--measure, --blocking, --include-default), each a key that plans again
// with the switch toggled. What may be picked and which switches matter
// are the plan's to say (Plan.Pickable, Plan.Offers); the run gets the
// picked steps through Plan.Only, which ops checks.

// pickable says the operator may run some of the plan's steps.
func (v *actionView) pickable() bool {
	return v.plan != nil && v.plan.Pickable && len(v.plan.Steps) > 1
}

// resetPicks picks every step of a new plan, the cursor on the first one
// listed.
func (v *actionView) resetPicks() {
	v.picked, v.cursor, v.notice = nil, 0, ""
	if v.plan == nil {
		return
	}
	v.picked = make([]bool, len(v.plan.Steps))
	for i := range v.picked {
		v.picked[i] = true
	}
	if order := v.listedOrder(); len(order) > 0 {
		v.cursor = order[0]
	}
}

// pickedSteps are the indexes of the picked steps, in the plan's order.
func (v *actionView) pickedSteps() []int {
	var out []int
	for i, p := range v.picked {
		if p {
			out = append(out, i)
		}
	}
	return out
}

// isPicked says whether step i runs: every step does unless the plan is
// pickable and the operator left it out.
func (v *actionView) isPicked(i int) bool {
	return !v.pickable() || i >= len(v.picked) || v.picked[i]
}

// listedOrder is the steps in the order the plan view lists them: each
// table's, then those of no summary.
func (v *actionView) listedOrder() []int {
	p := v.plan
	listed := make([]bool, len(p.Steps))
	var out []int
	for _, t := range p.Tables {
		for _, i := range t.Steps {
			if i >= 0 && i < len(p.Steps) && !listed[i] {
				out, listed[i] = append(out, i), true
			}
		}
	}
	for i := range p.Steps {
		if !listed[i] {
			out = append(out, i)
		}
	}
	return out
}

// moveCursor moves the step cursor by delta through the listed steps and
// scrolls it into view; moved is false at either end, where the key
// scrolls instead (to the notes under the last step).
func (v *actionView) moveCursor(delta int) (moved bool) {
	order := v.listedOrder()
	at := max(slices.Index(order, v.cursor), 0)
	to := min(max(at+delta, 0), len(order)-1)
	if to == at {
		return false
	}
	v.cursor = order[to]
	v.relayout()
	v.showCursor()
	return true
}

// showCursor scrolls so the step under the cursor is on screen.
func (v *actionView) showCursor() {
	line, ok := v.stepLine[v.cursor]
	if !ok {
		return
	}
	switch h := v.bodyHeight(); {
	case line < v.scroll:
		v.scroll = line
	case line >= v.scroll+h:
		v.scroll = line - h + 1
	}
	v.clampScroll()
}

// updatePick handles the picking keys; handled says the key was one.
func (v *actionView) updatePick(msg tea.KeyPressMsg, k KeyMap) (handled bool) {
	if !v.pickable() {
		return false
	}
	switch {
	case key.Matches(msg, k.Pick):
		if !v.expanded { // the steps come on screen first, the cursor on the first
			v.expanded = true
			v.relayout()
			v.showCursor()
			return true
		}
		v.picked[v.cursor] = !v.picked[v.cursor]
	case key.Matches(msg, k.PickAll):
		all := !slices.Contains(v.picked, false)
		for i := range v.picked {
			v.picked[i] = !all
		}
	case v.expanded && key.Matches(msg, k.Up):
		return v.moveCursor(-1)
	case v.expanded && key.Matches(msg, k.Down):
		return v.moveCursor(1)
	default:
		return false
	}
	v.relayout()
	return true
}

// pickCount is "2 of 5 picked" when some steps are left out, else "".
func (v *actionView) pickCount(steps []int) string {
	if !v.pickable() {
		return ""
	}
	n := 0
	for _, i := range steps {
		if v.isPicked(i) {
			n++
		}
	}
	if n == len(steps) {
		return ""
	}
	return fmt.Sprintf("%d of %d picked", n, len(steps))
}

// runPlan is the plan to run: the picked steps only (maint.Plan.Only), or
// why none can run.
func (v *actionView) runPlan() (*maint.Plan, string) {
	if !v.pickable() || !slices.Contains(v.picked, false) {
		return v.plan, ""
	}
	if !slices.Contains(v.picked, true) {
		k := v.keyset.km
		return nil, "no step picked: " + hint(as(k.Pick, "picks the step under the cursor")) + ", " + hint(as(k.PickAll, "picks all"))
	}
	p, err := v.plan.Only(v.pickedSteps())
	if err != nil {
		return nil, err.Error()
	}
	return p, ""
}

// offeredFlags are the action's flags the plan offers (or has set), each
// with its key described for what pressing it does.
func (v *actionView) offeredFlags(k KeyMap) []key.Binding {
	var out []key.Binding
	for _, fk := range v.flagKeys(k) {
		desc := "--" + fk.Flag.Name
		switch {
		case v.flags[fk.Flag.Name] != "":
			desc = "without --" + fk.Flag.Name
		case fk.Flag.Value != "":
			desc += " this one" // the step under the cursor's
		}
		out = append(out, as(fk.Binding, desc))
	}
	return out
}

// flagKeys are the flag keys of the action that are set, or that the
// plan offers: a switch it lists in Offers, a flag with a value that the
// step under the cursor names (Step.Alone), once the steps are listed.
func (v *actionView) flagKeys(k KeyMap) []FlagKey {
	if v.plan == nil {
		return nil
	}
	var switches, valued []FlagKey // the switches first: a short footer keeps them
	for _, fk := range k.Flags {
		name := fk.Flag.Name
		switch {
		case !slices.Contains(fk.Of, v.action.Name):
		case fk.Flag.Value == "" && (v.flags[name] != "" || slices.Contains(v.plan.Offers, name)):
			switches = append(switches, fk)
		case fk.Flag.Value != "" && (v.flags[name] != "" || v.cursorValue(name) != ""):
			valued = append(valued, fk)
		}
	}
	return append(switches, valued...)
}

// cursorValue is the value the step under the cursor gives flag name
// (Step.Alone), "" when the steps are not listed or it gives none.
func (v *actionView) cursorValue(name string) string {
	if !v.pickable() || !v.expanded || v.cursor >= len(v.plan.Steps) {
		return ""
	}
	return v.plan.Steps[v.cursor].Alone[name]
}

// updateFlag toggles the switch whose key was pressed and plans again.
// Switching on an option of a destructive action (--include-default, which
// deletes more) first asks, with what the option does: its own
// confirmation, before the plan's.
func (v *actionView) updateFlag(msg tea.KeyPressMsg, k KeyMap) (tea.Cmd, bool) {
	for _, fk := range v.flagKeys(k) {
		if !key.Matches(msg, fk.Binding) {
			continue
		}
		if v.flags[fk.Flag.Name] == "" && v.action.Destructive {
			f := fk.Flag
			v.flagAsk = &f
			return nil, true
		}
		return v.toggleFlag(fk.Flag.Name, v.cursorValue(fk.Flag.Name)), true
	}
	return nil, false
}

// updateFlagAsk answers "also …?": yes plans again with the switch on.
func (v *actionView) updateFlagAsk(msg tea.KeyPressMsg, k KeyMap) tea.Cmd {
	f := v.flagAsk
	switch {
	case key.Matches(msg, k.Yes):
		v.flagAsk = nil
		return v.toggleFlag(f.Name, v.cursorValue(f.Name))
	case key.Matches(msg, k.No):
		v.flagAsk = nil
	}
	return nil
}

// toggleFlag plans again with the flag flipped: off when set, else on
// (value "", a switch: "true").
func (v *actionView) toggleFlag(name, value string) tea.Cmd {
	flags := maint.Flags{}
	for n, val := range v.flags {
		flags[n] = val
	}
	switch {
	case flags[name] != "":
		delete(flags, name)
	case value != "":
		flags[name] = value
	default:
		flags[name] = "true"
	}
	v.flags = flags
	v.expanded, v.statements, v.scroll = false, false, 0
	return v.startPlan()
}

// flagsText is the flags set, as the command line spells them:
// "--blocking --index public.t_pkey --measure" (quotes off, as the plan's
// lists of chunks show names).
func (v *actionView) flagsText() string {
	var names []string
	for n, val := range v.flags {
		if val != "true" {
			n += " " + v.clean(strings.ReplaceAll(val, `"`, ""))
		}
		names = append(names, "--"+n)
	}
	sort.Strings(names)
	return strings.Join(names, " ")
}

// flagQuestion is "Also …? y/n", wrapped to the width.
func (v *actionView) flagQuestion() []string {
	s := v.styles
	lines := []string{""}
	lines = append(lines, v.wrap(s.Due, "--"+v.flagAsk.Name+": "+v.flagAsk.Help+"?", "", "")...)
	return append(lines, s.Dim.Render(hint(as(v.keyset.km.Yes, "plan it"))+s.Glyphs.Sep+hint(v.keyset.no)))
}
