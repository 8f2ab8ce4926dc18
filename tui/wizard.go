package tui

import (
	"context"
	"errors"
	"slices"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"github.com/pgtend/pgtend/ops/checklist"
	"github.com/pgtend/pgtend/ops/maint"
	"github.com/pgtend/pgtend/ops/report"
	"github.com/pgtend/pgtend/ops/state"
	"github.com/pgtend/pgtend/theme"
	"github.com/pgtend/pgtend/tui/text"
)

// Checklists is what the console's checklist wizard needs from ops besides
// the actions (Options.Actions) and the tick-off (Options.Tick).
type Checklists interface {
	// Sheet reads an informational step; since is when the server log's
	// errors count from (the last weekly review, zero when none).
	Sheet(ctx context.Context, name string, since time.Time) (*checklist.Sheet, error)
	// Looked records that a sheet was looked at: its task is done.
	Looked(ctx context.Context, step maint.ChecklistStep, script string) error
	// Disk measures the data directory's filesystem (before the first
	// step and after the last).
	Disk(ctx context.Context) (report.Disk, error)
	// Record stores the walk's summary in the history and says where.
	Record(ctx context.Context, s *checklist.Summary) (string, error)
}

// wizardTimeout bounds each of the wizard's own reads and writes (a
// sheet, the disk, a record); the actions have their own.
const wizardTimeout = checklist.SheetTimeout

// wizardPhase is where the wizard stands in its current step.
type wizardPhase int

const (
	wizOpening        wizardPhase = iota // measuring the disk before the first step
	wizAction                            // the step's action view (plan, confirm, run, summary) is up
	wizRecordingEmpty                    // an empty plan is run, so the history says it was done
	wizSheetLoading
	wizSheet      // the sheet is shown: y looked at, n skip
	wizSheetError // it could not be read: n skip
	wizLooking    // recording that it was looked at
	wizManual     // a person's task: t tick off, n skip
	wizNoting     // typing the tick-off's note
	wizTicking    // recording the tick-off
	wizFinishing  // measuring the disk after the last step, recording the summary
	wizSummary
)

// Messages of the wizard's commands.
type (
	wizardDiskMsg struct {
		id    int
		disk  report.Disk
		after bool
	}
	wizardSheetMsg struct {
		id    int
		sheet *checklist.Sheet
		err   error
	}
	// wizardDoneMsg ends the current step with its result (a sheet looked
	// at, a tick-off recorded, an empty plan recorded).
	wizardDoneMsg struct {
		id     int
		result checklist.StepResult
	}
	wizardRecordedMsg struct {
		id    int
		where string
		err   error
	}
)

// wizardView walks a checklist — weekly, monthly, quarterly — one step at
// a time: an action's plan shown in the action view, confirmed (as
// destructively as ever) or skipped, its run streamed; a sheet read and
// looked at; a manual task ticked off with a note. It starts at the first
// step not done in its period, and ends on the summary, recorded in the
// history. It covers the panes while open; the root routes to it.
type wizardView struct {
	paneBase
	id     int
	script string
	steps  []maint.ChecklistStep
	// results of the steps walked; a step without one is still to come
	// (Outcome "").
	results []checklist.StepResult
	at      int // the current step; len(steps) once finished
	phase   wizardPhase

	act        *actionView // the current action step's
	sheetLines []string
	sheetErr   error
	scroll     int
	input      textinput.Model // the tick-off's note
	tickErr    error

	sum       *checklist.Summary
	recorded  string
	recordErr error
	ranAny    bool // something ran or was recorded: closing reloads the panes

	shown     string // what confirms a destructive plan: "database NAME"
	logsSince time.Time
	actions   Actions
	lists     Checklists
	tick      func(ctx context.Context, task, note string) error
	now       func() time.Time
	km        KeyMap
	nextID    func() int // a new action view's id, from the root's sequence
}

// wizardKeys are the wizard's own keys, described for where they show.
type wizardKeys struct {
	looked, skip, tick, leave, record, cancelNote, scroll, closeSummary key.Binding
}

func (w *wizardView) keyset() wizardKeys {
	k := w.km
	return wizardKeys{
		looked: as(k.Yes, "looked at"), skip: k.Skip, tick: as(k.Tick, "tick off"),
		leave: as(k.Back, "leave (resumes here)"), record: as(k.Submit, "record"), cancelNote: as(k.Back, "cancel"),
		scroll: either(k.PageUp, k.PageDown, "scroll"), closeSummary: either(k.Submit, k.Back, "close"),
	}
}

// newWizard opens the checklist of script at the first step not done in
// its period (by the calendar's status), or at startTask's step when that
// one is not done.
func newWizard(id int, script string, steps []maint.ChecklistStep, items []report.CalendarItem, startTask string, m *Model) *wizardView {
	in := textinput.New()
	in.Prompt = "note: "
	in.Placeholder = "what was done (optional)"
	in.CharLimit = 500
	w := &wizardView{id: id, script: script, steps: steps, results: make([]checklist.StepResult, len(steps)), input: in,
		actions: m.opts.Actions, lists: m.opts.Checklists, tick: m.opts.Tick, now: m.opts.Now, km: m.keys,
		shown: "database " + m.clean(m.report.Server.Database)}
	w.nextID = func() int { m.actionSeq++; return m.actionSeq }
	// The log sheet shows what came since its task was last done.
	logs := slices.IndexFunc(steps, func(st maint.ChecklistStep) bool { return st.Name == maint.SheetLogs })
	for _, c := range items {
		if logs >= 0 && c.Task == steps[logs].Task && c.LastRun != nil {
			w.logsSince = *c.LastRun
		}
	}
	done := checklist.DoneEarlier(steps, items)
	for i := range steps {
		if done[i] {
			w.results[i] = checklist.StepResult{Step: steps[i], Outcome: checklist.OutcomeEarlier}
		}
	}
	w.at = len(steps)
	for i := range steps { // the first step not done…
		if !done[i] {
			w.at = i
			break
		}
	}
	for i := range steps { // …or the task's, opened from the Calendar, when it is not done
		if startTask != "" && steps[i].Task == startTask && !done[i] {
			w.at = i
			break
		}
	}
	w.sum = &checklist.Summary{Script: script, Started: w.now()}
	w.setStyles(m.styles)
	return w
}

func (w *wizardView) setStyles(s theme.Styles) {
	w.paneBase.setContext(s, false)
	w.input.SetStyles(s.Input)
	if w.act != nil {
		w.act.setStyles(s)
	}
}

// header is the wizard's two lines above the step: its title, and the
// steps as marks.
const wizardHeader = 2

func (w *wizardView) SetSize(width, height int) {
	w.paneBase.SetSize(width, height)
	if w.act != nil {
		w.act.SetSize(width, max(height-wizardHeader, 1))
	}
	w.input.SetWidth(max(width-len(w.input.Prompt)-1, 1))
}

// running says a run is under way in the current step: nothing may close
// the wizard then, and Ctrl+C asks to cancel the run first.
func (w *wizardView) running() bool { return w.phase == wizAction && w.act != nil && w.act.running() }

// start measures the disk, then opens the first step.
func (w *wizardView) start() tea.Cmd {
	if w.at >= len(w.steps) { // every step done this period: nothing to walk, nothing to record
		w.phase = wizSummary
		w.recorded = "nothing recorded: every step was done earlier in this period"
		return nil
	}
	w.phase = wizOpening
	return w.measure(false)
}

func (w *wizardView) measure(after bool) tea.Cmd {
	id, lists := w.id, w.lists
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), wizardTimeout)
		defer cancel()
		d, _ := lists.Disk(ctx) // unseen, the summary says the database's size instead
		return wizardDiskMsg{id: id, disk: d, after: after}
	}
}

// open starts the current step.
func (w *wizardView) open() tea.Cmd {
	w.act, w.sheetLines, w.sheetErr, w.scroll, w.tickErr = nil, nil, nil, 0, nil
	for w.at < len(w.steps) && w.results[w.at].Outcome == checklist.OutcomeEarlier {
		w.at++
	}
	if w.at >= len(w.steps) {
		return w.finish()
	}
	st := w.steps[w.at]
	switch st.Kind {
	case maint.KindSheet:
		w.phase = wizSheetLoading
		id, lists, name, since := w.id, w.lists, st.Name, w.logsSince
		return func() tea.Msg {
			ctx, cancel := context.WithTimeout(context.Background(), wizardTimeout)
			defer cancel()
			s, err := lists.Sheet(ctx, name, since)
			return wizardSheetMsg{id: id, sheet: s, err: err}
		}
	case maint.KindManual:
		w.phase = wizManual
		return nil
	}
	w.phase = wizAction
	w.act = newActionView(w.nextID(), st.Action, "", w.shown, w.actions, w.now, w.styles, w.km)
	w.act.keyset.no = w.km.Skip
	w.act.keyset.close = as(w.km.Submit, "next step") // a refused or empty plan: Esc leaves the wizard
	w.act.keyset.closeDone = either(w.km.Submit, w.km.Back, "next step")
	w.act.SetSize(w.width, max(w.height-wizardHeader, 1))
	return w.act.startPlan()
}

// done ends the current step with r and opens the next.
func (w *wizardView) done(r checklist.StepResult) tea.Cmd {
	if w.at >= len(w.steps) {
		return nil
	}
	r.Step = w.steps[w.at]
	w.results[w.at] = r
	w.sum.Steps = append(w.sum.Steps, r)
	if r.Outcome == maint.OutcomeCancelled { // the operator stopped: the rest waits for the next walk
		w.at = len(w.steps)
		return w.finish()
	}
	w.at++
	return w.open()
}

// finish measures the disk after the last step, then records the summary.
func (w *wizardView) finish() tea.Cmd {
	w.act = nil
	w.phase = wizFinishing
	return w.measure(true)
}

func (w *wizardView) record() tea.Cmd {
	w.sum.Finished = w.now()
	id, lists, sum := w.id, w.lists, w.sum
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), wizardTimeout)
		defer cancel()
		where, err := lists.Record(ctx, sum)
		return wizardRecordedMsg{id: id, where: where, err: err}
	}
}

// gotMsg applies one of the wizard's own messages.
func (w *wizardView) gotMsg(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case wizardDiskMsg:
		if msg.id != w.id {
			return nil
		}
		if !msg.after && w.phase == wizOpening {
			w.sum.DiskBefore = msg.disk
			return w.open()
		}
		if msg.after && w.phase == wizFinishing {
			w.sum.DiskAfter = msg.disk
			return w.record()
		}
	case wizardSheetMsg:
		if msg.id != w.id || w.phase != wizSheetLoading {
			return nil
		}
		if msg.err != nil {
			w.phase, w.sheetErr = wizSheetError, msg.err
			return nil
		}
		w.phase, w.sheetLines = wizSheet, text.SheetLines(msg.sheet)
	case wizardDoneMsg:
		if msg.id != w.id || (w.phase != wizLooking && w.phase != wizTicking && w.phase != wizRecordingEmpty) {
			return nil
		}
		if msg.result.Outcome == maint.OutcomeFailed && w.phase == wizTicking { // say so, offer the note again
			w.phase, w.tickErr = wizManual, errors.New(msg.result.Reason)
			return nil
		}
		w.ranAny = true
		return w.done(msg.result)
	case wizardRecordedMsg:
		if msg.id != w.id || w.phase != wizFinishing {
			return nil
		}
		w.phase, w.recorded, w.recordErr, w.ranAny = wizSummary, msg.where, msg.err, true
	}
	return nil
}

// update handles a key; closed says the wizard is done with.
func (w *wizardView) update(msg tea.KeyPressMsg) (cmd tea.Cmd, closed bool) {
	k, a := w.km, w.keyset()
	switch w.phase {
	case wizAction:
		return w.actionKey(msg)
	case wizSheet, wizSheetError:
		switch {
		case key.Matches(msg, a.looked) && w.phase == wizSheet:
			w.phase = wizLooking
			id, lists, st, script := w.id, w.lists, w.steps[w.at], w.script
			return func() tea.Msg {
				ctx, cancel := context.WithTimeout(context.Background(), wizardTimeout)
				defer cancel()
				if err := lists.Looked(ctx, st, script); err != nil {
					return wizardDoneMsg{id: id, result: checklist.StepResult{Outcome: maint.OutcomeFailed, Reason: "not recorded: " + err.Error()}}
				}
				return wizardDoneMsg{id: id, result: checklist.StepResult{Outcome: maint.OutcomeOK}}
			}, false
		case key.Matches(msg, a.skip):
			reason := "skipped by the operator"
			if w.sheetErr != nil {
				reason = "cannot read: " + text.OneLine(w.sheetErr.Error())
			}
			return w.done(checklist.StepResult{Outcome: checklist.OutcomeDeclined, Reason: reason}), false
		case key.Matches(msg, a.leave):
			return nil, true
		case key.Matches(msg, k.Quit):
			return tea.Quit, false
		default:
			w.scrollKey(msg)
		}
	case wizManual:
		switch {
		case key.Matches(msg, a.tick) && w.tick != nil:
			w.phase, w.tickErr = wizNoting, nil
			w.input.SetValue("")
			return w.input.Focus(), false
		case key.Matches(msg, a.skip):
			return w.done(checklist.StepResult{Outcome: checklist.OutcomeDeclined, Reason: "left to do by hand"}), false
		case key.Matches(msg, a.leave):
			return nil, true
		case key.Matches(msg, k.Quit):
			return tea.Quit, false
		}
	case wizNoting:
		switch {
		case key.Matches(msg, a.record):
			w.input.Blur()
			w.phase = wizTicking
			id, tick, task, note := w.id, w.tick, w.steps[w.at].Task, w.input.Value()
			return func() tea.Msg {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				if err := tick(ctx, task, note); err != nil {
					return wizardDoneMsg{id: id, result: checklist.StepResult{Outcome: maint.OutcomeFailed, Reason: "could not record: " + err.Error()}}
				}
				return wizardDoneMsg{id: id, result: checklist.StepResult{Outcome: state.OutcomeTicked, Reason: note}}
			}, false
		case key.Matches(msg, a.cancelNote):
			w.input.Blur()
			w.phase = wizManual
			return nil, false
		}
		var c tea.Cmd
		w.input, c = w.input.Update(msg)
		return c, false
	case wizSummary:
		switch {
		case key.Matches(msg, a.closeSummary):
			return nil, true
		case key.Matches(msg, k.Quit):
			return tea.Quit, false
		default:
			w.scrollKey(msg)
		}
	default: // waiting for a read or a record: only leaving, or quitting
		switch {
		case key.Matches(msg, a.leave) && w.phase != wizFinishing:
			return nil, true
		case key.Matches(msg, k.Quit):
			return tea.Quit, false
		}
	}
	return nil, false
}

// actionKey hands a key to the step's action view. Esc before the run
// leaves the wizard (n skips the step); when the view closes, what became
// of the step is read from where it stood.
func (w *wizardView) actionKey(msg tea.KeyPressMsg) (tea.Cmd, bool) {
	v := w.act
	before := v.phase == phasePlanning || v.phase == phasePlanFailed || v.phase == phaseReview
	if before && key.Matches(msg, w.km.Back) {
		if v.cancelPlan != nil {
			v.cancelPlan()
		}
		return nil, true
	}
	cmd, closed := v.update(msg, w.km)
	if !closed {
		return cmd, false
	}
	switch {
	case v.phase == phaseFinished:
		w.ranAny = true
		return w.done(checklist.FromRun(w.steps[w.at], v.run.result, v.run.err)), false
	case v.phase == phasePlanFailed:
		return w.done(checklist.FromPlanErr(w.steps[w.at], v.planErr)), false
	case v.phase == phaseReview && v.plan != nil && len(v.plan.Steps) == 0:
		return w.recordEmpty(v.plan), false
	}
	return w.done(checklist.StepResult{Outcome: checklist.OutcomeDeclined, Reason: "skipped by the operator"}), false
}

// recordEmpty runs a plan of no steps — nothing needed doing — so the
// history records the task as done, as a headless run does.
func (w *wizardView) recordEmpty(p *maint.Plan) tea.Cmd {
	w.phase = wizRecordingEmpty
	id, actions := w.id, w.actions
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), wizardTimeout)
		defer cancel()
		res, err := actions.Run(ctx, p, func(maint.Event) {})
		r := checklist.FromRun(maint.ChecklistStep{}, res, err)
		if r.Outcome == maint.OutcomeOK {
			r.Reason = "nothing to do"
		}
		return wizardDoneMsg{id: id, result: r}
	}
}

// scrollKey moves through a sheet or the summary.
func (w *wizardView) scrollKey(msg tea.KeyPressMsg) {
	k, page := w.km, w.bodyHeight()
	switch {
	case key.Matches(msg, k.Up):
		w.scroll--
	case key.Matches(msg, k.Down):
		w.scroll++
	case key.Matches(msg, k.PageUp):
		w.scroll -= page
	case key.Matches(msg, k.PageDown):
		w.scroll += page
	case key.Matches(msg, k.Top):
		w.scroll = 0
	case key.Matches(msg, k.Bottom):
		w.scroll = len(w.bodyLines())
	}
	w.scroll = min(max(w.scroll, 0), max(len(w.bodyLines())-w.bodyHeight(), 0))
}
