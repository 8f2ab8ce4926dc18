package tui

import (
	"context"
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

// actionRun is what the console knows of a run: the run's state as ops
// interprets its events, and what only the console knows.
type actionRun struct {
	*maint.RunState
	cancelling bool // the operator cancelled; the run is winding down

	ended  time.Time
	result maint.Result
	err    error
}

// startRun runs the plan. Actions.Run goes in a goroutine of its own, as it
// lasts as long as the maintenance; its events and then its result go over
// one channel, so the result never overtakes the last events, and each
// listen (waitForEvent) delivers one message to Update.
func (v *actionView) startRun() tea.Cmd {
	plan, why := v.runPlan() // the picked steps only: from here on, the plan is what runs
	if why != "" {
		v.phase, v.notice = phaseReview, why
		return nil
	}
	if plan != v.plan {
		v.plan = plan
		v.resetPicks()
	}
	if v.confirmed {
		v.plan.Confirm() // what ops checks before anything runs
	}
	ctx, cancel := context.WithCancel(context.Background())
	ch := make(chan tea.Msg, runBuffer)
	v.phase, v.cancelRun, v.events, v.asking = phaseRunning, cancel, ch, false
	v.run = &actionRun{RunState: maint.NewRunState(v.plan, v.now())}
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
		v.run.Apply(*ev, v.now())
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
	r.ended, r.result, r.err, r.Current = v.now(), msg.res, msg.err, -1
}
