package tui

import (
	"context"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/pgtend/pgtend/ops/maint"
	"github.com/pgtend/pgtend/theme"
)

// actionPhase is where a maintenance action stands.
type actionPhase int

const (
	phasePlanning   actionPhase = iota // Actions.Plan is running
	phasePlanFailed                    // the plan was refused: say why, offer close
	phaseReview                        // the plan is shown; y runs, or asks for the name
	phaseConfirm                       // a destructive (or blocking) plan: typing what it is for (v.shown)
	phaseRunning
	phaseFinished
)

// actionView is one maintenance action, from plan to summary. It replaces
// the pane body while open; the root routes every key and message to it.
type actionView struct {
	paneBase
	id      int // tells its messages from those of an earlier view
	action  maint.Action
	table   string // schema.name, as ops wants it
	shown   string // the name as the Tables pane shows it: what confirms
	actions Actions
	now     func() time.Time

	phase      actionPhase
	cancelPlan context.CancelFunc
	plan       *maint.Plan
	planErr    error
	planLines  []string // the plan laid out for the width, theme and folds; see planText
	expanded   bool     // each table's steps are listed, not folded into one line
	statements bool     // the steps' statements are shown (the steps are expanded)
	// stepsAt and statementAt are the plan's lines where the first steps
	// and the first statement are laid out (0: none).
	stepsAt, statementAt int
	scroll               int
	confirmed            bool            // the typed name matched: the plan that runs is confirmed (maint.Plan.Confirm)
	input                textinput.Model // what the plan is for (v.shown), typed to confirm a destructive plan
	mismatch             bool            // enter was pressed on a name that is not the table's

	run       *actionRun
	events    <-chan tea.Msg // the run's messages, in order; see startRun
	cancelRun context.CancelFunc
	asking    bool // "cancel the run? y/n" is up
	keyset    actionKeys

	// The operator's choices before the run (see actionpick.go): the
	// switches the plan was made with, the steps picked of a pickable
	// plan and the cursor among them (a step's index), where each step
	// was laid out, a switch being asked about, and why y did not run.
	flags    maint.Flags
	picked   []bool
	cursor   int
	stepLine map[int]int
	flagAsk  *maint.Flag
	notice   string
}

func newActionView(id int, action maint.Action, table, shown string, actions Actions, now func() time.Time, s theme.Styles, k KeyMap) *actionView {
	in := textinput.New()
	in.Prompt = "type " + shown + " to run: "
	in.CharLimit = 200
	v := &actionView{id: id, action: action, table: table, shown: shown, actions: actions, now: now, input: in, keyset: newActionKeys(k)}
	v.setStyles(s)
	return v
}

func (v *actionView) setStyles(s theme.Styles) {
	v.paneBase.setContext(s, false)
	v.input.SetStyles(s.Input)
	v.planLines = nil
}

func (v *actionView) SetSize(w, h int) {
	v.paneBase.SetSize(w, h)
	v.input.SetWidth(max(v.width-ansi.StringWidth(v.input.Prompt)-1, 1))
	v.planLines = nil
}

// heading names the action and its table, as the view's first line does.
func (v *actionView) heading() string {
	return v.action.Heading + " " + v.shown
}

// running says whether a run is under way: then nothing may quit or close.
func (v *actionView) running() bool { return v.phase == phaseRunning }

// askCancel puts up "cancel the run? y/n" (Esc, q or Ctrl+C while running).
func (v *actionView) askCancel() { v.asking = v.running() && !v.run.cancelling }

// actionKeys are the KeyMap's keys as the action view uses them, each
// described for its phase.
type actionKeys struct {
	close, closeDone, run, confirm, no, enterRun, back, scroll, stop, yesCancel, keepOn key.Binding
	expand, collapse, showStatements, hideStatements                                    key.Binding
	pick, pickAll                                                                       key.Binding
	km                                                                                  KeyMap
}

func newActionKeys(k KeyMap) actionKeys {
	return actionKeys{
		close: as(k.Back, "close"), closeDone: either(k.Submit, k.Back, "close"),
		run: as(k.Yes, "run"), confirm: as(k.Yes, "confirm"), no: as(k.No, "cancel"),
		enterRun: as(k.Submit, "run"), back: as(k.Back, "back"), scroll: either(k.PageUp, k.PageDown, "scroll"),
		stop: as(k.Back, "cancel the run"), yesCancel: as(k.Yes, "cancel the run"), keepOn: as(k.No, "keep running"),
		expand: as(k.Expand, "expand"), collapse: as(k.Expand, "collapse"),
		showStatements: as(k.Statements, "statements"), hideStatements: as(k.Statements, "hide statements"),
		pick: k.Pick, pickAll: k.PickAll, km: k,
	}
}

// keys are the footer's keys of the moment.
func (v *actionView) keys(k KeyMap) []key.Binding {
	a := v.keyset
	switch v.phase {
	case phasePlanning, phasePlanFailed:
		return []key.Binding{a.close}
	case phaseReview:
		switch {
		case v.flagAsk != nil:
			return []key.Binding{as(k.Yes, "plan it"), a.no}
		case v.plan == nil || len(v.plan.Steps) == 0: // a switch may still change it (--include-default, --blocking)
			return append([]key.Binding{a.close}, v.offeredFlags(k)...)
		}
		answer := a.run
		if v.plan.NeedsConfirmation() {
			answer = a.confirm
		}
		out := []key.Binding{answer, a.no}
		if v.pickable() {
			out = append(out, a.pick, a.pickAll)
		}
		out = append(out, v.offeredFlags(k)...)
		if v.foldable() { // before the scrolling keys, which a short footer drops first
			fold, stmts := a.expand, a.showStatements
			if v.expanded {
				fold = a.collapse
			}
			if v.statements {
				stmts = a.hideStatements
			}
			out = append(out, fold, stmts)
		}
		return append(out, k.Up, k.Down, k.PageDown)
	case phaseConfirm:
		return []key.Binding{a.enterRun, a.back, a.scroll}
	case phaseRunning:
		switch {
		case v.asking:
			return []key.Binding{a.yesCancel, a.keepOn}
		case v.run.cancelling:
			return nil
		}
		return []key.Binding{a.stop}
	}
	return []key.Binding{a.closeDone}
}

// update handles a key; closed says the view is done with and goes.
func (v *actionView) update(msg tea.KeyPressMsg, k KeyMap) (cmd tea.Cmd, closed bool) {
	switch v.phase {
	case phasePlanning, phasePlanFailed:
		switch {
		case key.Matches(msg, k.Back), key.Matches(msg, k.Submit) && v.phase == phasePlanFailed:
			if v.cancelPlan != nil {
				v.cancelPlan()
			}
			return nil, true
		case key.Matches(msg, k.Quit):
			return tea.Quit, false
		}
	case phaseReview:
		return v.updateReview(msg, k)
	case phaseConfirm:
		return v.updateConfirm(msg, k), false
	case phaseRunning:
		v.updateRunning(msg, k)
	case phaseFinished:
		switch {
		case key.Matches(msg, v.keyset.closeDone):
			return nil, true
		case key.Matches(msg, k.Quit):
			return tea.Quit, false
		}
	}
	return nil, false
}

func (v *actionView) updateReview(msg tea.KeyPressMsg, k KeyMap) (tea.Cmd, bool) {
	if v.flagAsk != nil {
		return v.updateFlagAsk(msg, k), false
	}
	v.notice = ""
	if cmd, ok := v.updateFlag(msg, k); ok {
		return cmd, false
	}
	empty := v.plan == nil || len(v.plan.Steps) == 0
	switch {
	case key.Matches(msg, k.No), empty && key.Matches(msg, k.Submit):
		return nil, true
	case key.Matches(msg, k.Quit):
		return tea.Quit, false
	case empty:
	case key.Matches(msg, k.Yes):
		if _, why := v.runPlan(); why != "" {
			v.notice = why
			return nil, false
		}
		if !v.plan.NeedsConfirmation() {
			return v.startRun(), false
		}
		v.phase, v.mismatch = phaseConfirm, false
		v.input.SetValue("")
		return v.input.Focus(), false
	case v.updatePick(msg, k):
	case key.Matches(msg, k.Expand) && v.foldable():
		v.expanded = !v.expanded
		v.statements = v.statements && v.expanded // folded away with their steps
		v.relayout()
	case key.Matches(msg, k.Statements) && v.foldable():
		v.statements = !v.statements
		v.expanded = v.expanded || v.statements // one key from the summary to the statements
		v.relayout()
		if v.statements && v.statementAt > 0 && (v.statementAt < v.scroll || v.statementAt >= v.scroll+v.bodyHeight()) {
			v.scroll = v.stepsAt // the statements come on screen, under their steps' heading
			v.clampScroll()
		}
	default:
		v.scrollKey(msg, k, true)
	}
	return nil, false
}

// updateConfirm feeds the name input; Enter runs only on the exact name
// shown in the Tables pane, so a slip of the finger cannot delete data.
func (v *actionView) updateConfirm(msg tea.KeyPressMsg, k KeyMap) tea.Cmd {
	switch {
	case key.Matches(msg, k.Submit):
		if v.input.Value() != v.shown {
			v.mismatch = true
			return nil
		}
		v.input.Blur()
		v.confirmed = true
		return v.startRun()
	case key.Matches(msg, k.Back):
		v.phase = phaseReview
		v.input.Blur()
		return nil
	}
	if v.scrollKey(msg, k, false) {
		return nil
	}
	v.mismatch = false
	var cmd tea.Cmd
	v.input, cmd = v.input.Update(msg)
	return cmd
}

func (v *actionView) updateRunning(msg tea.KeyPressMsg, k KeyMap) {
	if v.asking {
		switch {
		case key.Matches(msg, k.Yes):
			v.asking = false
			v.run.cancelling = true
			v.cancelRun()
		case key.Matches(msg, k.No):
			v.asking = false
		}
		return
	}
	if key.Matches(msg, k.Back) || key.Matches(msg, k.Quit) {
		v.askCancel()
	}
}
