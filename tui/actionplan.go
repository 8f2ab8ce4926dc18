package tui

import (
	"context"
	"errors"
	"slices"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/pgtend/pgtend/ops/maint"
)

// planMsg carries a finished Actions.Plan.
type planMsg struct {
	id   int
	plan *maint.Plan
	err  error
}

// startPlan asks ops for the plan off the Update loop, bounded by
// maint.PlanTimeout, as headless plans are; Esc while planning cancels it.
func (v *actionView) startPlan() tea.Cmd {
	ctx, cancel := context.WithTimeout(context.Background(), maint.PlanTimeout)
	v.phase, v.cancelPlan = phasePlanning, cancel
	id, action, table, actions := v.id, v.action, v.table, v.actions
	if len(v.flags) > 0 { // the switches the operator toggled, as the command line would set them
		ctx = maint.WithFlags(ctx, v.flags)
	}
	return func() tea.Msg {
		defer cancel()
		p, err := actions.Plan(ctx, action.Name, table)
		if err == nil && p == nil {
			err = errors.New("no plan came back")
		}
		return planMsg{id: id, plan: p, err: err}
	}
}

func (v *actionView) gotPlan(msg planMsg) {
	if v.phase != phasePlanning {
		return
	}
	v.cancelPlan = nil
	if msg.err != nil {
		v.phase, v.planErr = phasePlanFailed, msg.err
		return
	}
	v.phase, v.plan, v.scroll = phaseReview, msg.plan, 0
	v.resetPicks()
	v.layoutPlan()
}

// promptLines is how many lines the prompt under the plan takes: what
// prompt draws, once there is a plan to ask about.
func (v *actionView) promptLines() int {
	if v.plan == nil {
		return 2 // blank, what the keys do
	}
	return len(v.prompt())
}

// bodyHeight is the room for the scrolled plan: under the title, above the
// prompt.
func (v *actionView) bodyHeight() int { return max(v.height-1-v.promptLines(), 1) }

// scrollKey moves through a plan longer than the screen; letters says the
// letter keys (j, k, g, G) scroll too, which they must not while the name
// is being typed.
func (v *actionView) scrollKey(msg tea.KeyPressMsg, k KeyMap, letters bool) bool {
	page := v.bodyHeight()
	name := msg.String()
	matches := func(b key.Binding, keys ...string) bool {
		if letters {
			return key.Matches(msg, b)
		}
		return slices.Contains(keys, name)
	}
	switch {
	case matches(k.Up, "up"):
		v.scroll--
	case matches(k.Down, "down"):
		v.scroll++
	case matches(k.PageUp, "pgup"):
		v.scroll -= page
	case matches(k.PageDown, "pgdown"):
		v.scroll += page
	case matches(k.Top): // home and end stay the name input's
		v.scroll = 0
	case matches(k.Bottom):
		v.scroll = len(v.planText())
	default:
		return false
	}
	v.clampScroll()
	return true
}

func (v *actionView) clampScroll() {
	v.scroll = min(max(v.scroll, 0), max(len(v.planText())-v.bodyHeight(), 0))
}
