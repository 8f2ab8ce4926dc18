package tui

import (
	"bytes"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/exp/teatest/v2"
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
