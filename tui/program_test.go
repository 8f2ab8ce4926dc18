package tui

import (
	"bytes"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/exp/teatest/v2"
	"github.com/pgtend/pgtend/ops/maint"
)

// TestProgram runs the console as Bubble Tea runs it: the first load goes
// through Init's command, the frame reaches the terminal, q quits.
func TestProgram(t *testing.T) {
	db := &fakeDB{}
	m, _ := newTestModel(db)
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(80, 24))
	teatest.WaitFor(t, tm.Output(), func(out []byte) bool {
		return bytes.Contains(out, []byte("option_chain_snapshots"))
	}, teatest.WithDuration(5*time.Second), teatest.WithCheckInterval(10*time.Millisecond))
	tm.Send(tea.KeyPressMsg{Code: 'q', Text: "q"})
	tm.WaitFinished(t, teatest.WithFinalTimeout(5*time.Second))
	final := tm.FinalModel(t).(*Model)
	if final.report == nil || final.width != 80 || final.height != 24 {
		t.Errorf("final model: report %v, size %dx%d", final.report != nil, final.width, final.height)
	}
}

// TestProgramRunsAction runs a maintenance action as Bubble Tea runs it:
// the plan and the run's events come through the program's own command
// goroutines, and closing the summary reloads.
func TestProgramRunsAction(t *testing.T) {
	db := &fakeDB{}
	f := newFakeActions()
	m, _ := newTestModel(db, withActions(f))
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(80, 24))
	wait := func(s string) {
		t.Helper()
		teatest.WaitFor(t, tm.Output(), func(out []byte) bool { return bytes.Contains(out, []byte(s)) },
			teatest.WithDuration(5*time.Second), teatest.WithCheckInterval(10*time.Millisecond))
	}
	wait("option_chain_snapshots")
	for _, k := range "jjv" {
		tm.Send(tea.KeyPressMsg{Code: k, Text: string(k)})
	}
	wait("Run this plan?")
	f.events <- maint.Event{Kind: maint.StepStarted, Step: 0, Title: "first chunk", Unit: "blocks"}
	f.events <- maint.Event{Kind: maint.Progress, Step: 0, Done: 1000, Total: 4000, Unit: "blocks"}
	tm.Send(tea.KeyPressMsg{Code: 'y', Text: "y"})
	wait("1,000 of 4,000 blocks")
	f.finish <- maint.Result{Outcome: maint.OutcomeOK}
	wait("enter/esc close")
	calls := func() int { db.mu.Lock(); defer db.mu.Unlock(); return db.calls }
	before := calls()
	tm.Send(tea.KeyPressMsg{Code: tea.KeyEnter})
	deadline := time.Now().Add(5 * time.Second)
	for calls() == before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if calls() == before {
		t.Error("closing the summary did not reload")
	}
	tm.Send(tea.KeyPressMsg{Code: 'q', Text: "q"})
	tm.WaitFinished(t, teatest.WithFinalTimeout(5*time.Second))
	if final := tm.FinalModel(t).(*Model); final.action != nil {
		t.Error("the action view is still open")
	}
}
