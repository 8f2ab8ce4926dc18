package tui

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/pgtend/pgtend/ops/state"
)

func TestTickOffManualTaskWithNote(t *testing.T) {
	type tick struct{ task, note string }
	var got []tick
	db := &fakeDB{}
	m, _ := newTestModel(db, func(o *Options) {
		o.Tick = func(_ context.Context, task, note string) error {
			got = append(got, tick{task, note})
			return nil
		}
	})
	start(t, m, 80, 24)
	press(m, "4")
	// On an automatic task, t does nothing.
	if cmd := press(m, "t"); cmd != nil || m.calendar.noting {
		t.Fatal("t opened a note on an automatic task")
	}
	press(m, "G") // the last task is a manual one
	press(m, "t")
	if !m.calendar.noting || !strings.Contains(plain(t, m), "note:") {
		t.Fatalf("t on a manual task did not ask for a note:\n%s", plain(t, m))
	}
	typeText(m, "q1 review done")
	if m.calendar.noting == false {
		t.Fatal("typing q in the note quit the note")
	}
	cmd := press(m, "enter")
	if cmd == nil {
		t.Fatal("enter did not record")
	}
	calls := db.calls
	_, reload := m.Update(cmd())
	if len(got) != 1 || got[0] != (tick{"upgrade", "q1 review done"}) {
		t.Fatalf("recorded %+v", got)
	}
	if reload == nil {
		t.Fatal("a recorded tick-off does not reload the calendar")
	}
	m.Update(reload())
	if db.calls != calls+1 || !strings.Contains(plain(t, m), "recorded: upgrade done") {
		t.Errorf("after recording: %d loads, screen:\n%s", db.calls-calls, plain(t, m))
	}
	// Esc abandons a note without recording.
	press(m, "t")
	typeText(m, "never mind")
	if cmd := press(m, "esc"); cmd != nil || m.calendar.noting || len(got) != 1 {
		t.Errorf("esc recorded or kept the note open")
	}
}

func TestTickOffHiddenWithoutARecorder(t *testing.T) {
	m, _ := newTestModel(&fakeDB{})
	start(t, m, 80, 24)
	press(m, "4", "G", "t")
	if m.calendar.noting {
		t.Error("a note opened with nowhere to record it")
	}
}

func TestStoredSizesGiveMeasuredGrowthAtOnce(t *testing.T) {
	r := fixtureReport(0)
	tb := r.Tables[0]
	key := tb.Key()
	day := int64(24 << 20)
	history := []state.Sample{
		{At: fixtureNow.Add(-48 * time.Hour), Table: key, Bytes: *tb.TotalBytes - 2*day},
		{At: fixtureNow.Add(-24 * time.Hour), Table: key, Bytes: *tb.TotalBytes - day},
	}
	m, _ := newTestModel(&fakeDB{}, func(o *Options) { o.SizeHistory = history })
	start(t, m, 80, 24)
	perDay, measured := m.tables.growth.perDay(key, tb.ExpectedGrowthPerDay)
	if !measured || int64(perDay) != day {
		t.Errorf("growth %v/day (measured %v), want %d from the stored samples", perDay, measured, day)
	}
}
