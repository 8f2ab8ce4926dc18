package tui

import (
	"context"
	"errors"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/pgtend/pgtend/ops/maint"
)

// Messages of a run, in the order the run produced them.
type (
	runEventMsg struct {
		id int
		ev maint.Event
	}
	runDoneMsg struct {
		id  int
		res maint.Result
		err error
	}
	// runIdleMsg says the run was silent for idleRepaint: the elapsed time,
	// rate and ETA are drawn again, and the listening goes on.
	runIdleMsg struct{}
)

// idleRepaint is how long a silent run (one long DELETE, drop_chunks) goes
// without its elapsed time moving on screen. A variable for tests.
var idleRepaint = time.Second

// runBuffer lets a burst of events (a progress poll, notices) wait for the
// console without holding up the run.
const runBuffer = 256

// keepLogs is how many log lines a run remembers; the view shows the last
// few that fit.
const keepLogs = 50

// actionRun is what the console knows of a run, from its events.
type actionRun struct {
	plan       *maint.Plan
	started    time.Time // by the console's clock: rates and ETA use it too
	current    int       // the step running, -1 between steps
	title      string
	stepStart  time.Time
	done       int64
	total      int64
	unit       string
	phase      string // what the step is doing, e.g. VACUUM's "scanning heap"
	finished   []finishedStep
	logs       []string
	cancelling bool // the operator cancelled; the run is winding down

	ended  time.Time
	result maint.Result
	err    error
}

type finishedStep struct {
	step     int
	title    string
	failed   bool
	stopped  bool // failed because the run was cancelled
	reason   string
	rows     int64
	duration time.Duration
	unit     string
}

// startRun runs the plan. Actions.Run goes in a goroutine of its own, as it
// lasts as long as the maintenance; its events and then its result go over
// one channel, so the result never overtakes the last events, and each
// listen (waitForEvent) delivers one message to Update.
func (v *actionView) startRun() tea.Cmd {
	ctx, cancel := context.WithCancel(context.Background())
	ch := make(chan tea.Msg, runBuffer)
	v.phase, v.cancelRun, v.events, v.asking = phaseRunning, cancel, ch, false
	v.run = &actionRun{plan: v.plan, started: v.now(), current: -1}
	id, plan, actions := v.id, v.plan, v.actions
	return func() tea.Msg {
		go func() {
			res, err := actions.Run(ctx, plan, func(ev maint.Event) { ch <- runEventMsg{id: id, ev: ev} })
			ch <- runDoneMsg{id: id, res: res, err: err}
		}()
		return waitForEvent(ch)()
	}
}

// waitForEvent listens for the run's next message, or says it is idle.
// Only one listen is out at a time: each message's handler starts the next
// until the run is done, so an idle message always belongs to the open view.
func waitForEvent(ch <-chan tea.Msg) tea.Cmd {
	return func() tea.Msg {
		idle := time.NewTimer(idleRepaint)
		defer idle.Stop()
		select {
		case msg := <-ch:
			return msg
		case <-idle.C:
			return runIdleMsg{}
		}
	}
}

// gotEvent applies one event (none when idle) and listens for the next.
func (v *actionView) gotEvent(ev *maint.Event) tea.Cmd {
	if v.phase != phaseRunning {
		return nil
	}
	if ev != nil {
		v.run.apply(*ev, v.now())
	}
	return waitForEvent(v.events)
}

// gotDone ends the run: the summary replaces the progress.
func (v *actionView) gotDone(msg runDoneMsg) {
	if v.phase != phaseRunning {
		return
	}
	v.cancelRun() // releases the context's resources; the run is over
	v.phase, v.asking = phaseFinished, false
	r := v.run
	r.ended, r.result, r.err, r.current = v.now(), msg.res, msg.err, -1
}

func (r *actionRun) apply(ev maint.Event, now time.Time) {
	switch ev.Kind {
	case maint.StepStarted:
		r.current, r.title, r.stepStart = ev.Step, ev.Title, now
		r.done, r.total, r.phase = 0, 0, ""
		r.unit = ev.Unit
		if r.unit == "" && ev.Step >= 0 && ev.Step < len(r.plan.Steps) {
			r.unit = r.plan.Steps[ev.Step].Unit
		}
	case maint.Progress:
		if ev.Step != r.current { // a late poll of a step already over
			return
		}
		r.done, r.total, r.phase = ev.Done, ev.Total, ev.Message
		if ev.Unit != "" {
			r.unit = ev.Unit
		}
	case maint.Log:
		r.logs = append(r.logs, ev.Message)
		if len(r.logs) > keepLogs {
			r.logs = r.logs[len(r.logs)-keepLogs:]
		}
	case maint.StepFinished, maint.StepFailed:
		f := finishedStep{step: ev.Step, title: ev.Title, rows: ev.Rows, duration: ev.Duration, unit: r.unit}
		if ev.Kind == maint.StepFailed {
			f.failed, f.reason = true, "failed"
			switch {
			case errors.Is(ev.Err, context.Canceled):
				f.stopped, f.reason = true, "cancelled"
			case ev.Err != nil:
				f.reason = ev.Err.Error()
			}
		}
		r.finished = append(r.finished, f)
		if ev.Step == r.current {
			r.current = -1
		}
	}
}

// rate is the step's progress per second so far, 0 before it can be told.
func (r *actionRun) rate(now time.Time) float64 {
	elapsed := now.Sub(r.stepStart).Seconds()
	if r.done <= 0 || elapsed <= 0 {
		return 0
	}
	return float64(r.done) / elapsed
}

// eta is the time left at the rate so far; ok is false when unknown.
func (r *actionRun) eta(now time.Time) (time.Duration, bool) {
	rate := r.rate(now)
	if r.total <= 0 || rate <= 0 {
		return 0, false
	}
	left := float64(max(r.total-r.done, 0)) / rate
	return time.Duration(left * float64(time.Second)), true
}

// counts sums the finished steps up: done, failed, stopped by a cancel.
func (r *actionRun) counts() (ok, failed, stopped int) {
	for _, f := range r.finished {
		switch {
		case f.stopped:
			stopped++
		case f.failed:
			failed++
		default:
			ok++
		}
	}
	return ok, failed, stopped
}
