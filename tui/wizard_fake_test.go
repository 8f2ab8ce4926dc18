package tui

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/pgtend/pgtend/ops/checklist"
	"github.com/pgtend/pgtend/ops/maint"
	"github.com/pgtend/pgtend/ops/report"
)

// fakeChecklist is ops for the wizard: plans of the whole database by
// action (retention destructive, compress and reindex with nothing to do,
// archive not configured, vacuum and backup a step each), runs that finish
// at once, a server log sheet, a disk that frees 2 GiB, and the recorded
// summary and tick-offs kept for the test to read.
type fakeChecklist struct {
	mu      sync.Mutex
	planned []string
	runs    []string // the actions run, empty plans included
	looked  []string
	ticks   []string // "task: note"
	disks   int
	summary *checklist.Summary
	logs    *checklist.Logs // the log sheet's; nil: two lines read
}

func (f *fakeChecklist) Plan(_ context.Context, action, table string) (*maint.Plan, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.planned = append(f.planned, action)
	if table != "" {
		return nil, fmt.Errorf("a checklist plans every table, not %s", table)
	}
	p := &maint.Plan{Action: action, Target: "all tables in the policy", Created: fixtureNow}
	step := func(title string, destructive bool) maint.Step {
		return maint.Step{Title: title, Target: `"public"."option_chain_snapshots"`, Statements: []string{"-- " + title},
			Lock: maint.LockShareUpdateExclusive, Destructive: destructive, Unit: "chunks", Table: "public.option_chain_snapshots"}
	}
	switch action {
	case "retention":
		p.Steps = []maint.Step{step("drop 12 chunks of public.option_chain_snapshots older than 2026-09-01 00:00", true)}
	case "vacuum":
		p.Steps = []maint.Step{step("VACUUM (ANALYZE) public.option_chain_snapshots", false)}
	case "backup":
		p.Steps = []maint.Step{step("pg_dump of trading, read back whole", false)}
	case "archive":
		return nil, fmt.Errorf("%w: the policy has no [archive]", maint.ErrNotConfigured)
	case "compress", "reindex":
		p.Notes = []string{"nothing to do"}
	default:
		return nil, fmt.Errorf("unknown action %q", action)
	}
	return p, nil
}

func (f *fakeChecklist) Run(_ context.Context, plan *maint.Plan, emit func(maint.Event)) (maint.Result, error) {
	f.mu.Lock()
	f.runs = append(f.runs, plan.Action)
	f.mu.Unlock()
	for i, s := range plan.Steps {
		emit(maint.Event{Kind: maint.StepStarted, Step: i, Title: s.Title, Unit: s.Unit})
		emit(maint.Event{Kind: maint.StepFinished, Step: i, Title: s.Title, Rows: 1000, Duration: time.Second})
	}
	return maint.Result{Outcome: maint.OutcomeOK, Rows: int64(1000 * len(plan.Steps)), Started: fixtureNow, Finished: fixtureNow.Add(time.Second),
		BytesBefore: 100 * gib, BytesAfter: 98 * gib}, nil
}

func (f *fakeChecklist) Sheet(_ context.Context, name string, since time.Time) (*checklist.Sheet, error) {
	s := &checklist.Sheet{Name: name}
	switch name {
	case maint.SheetLogs:
		if f.logs != nil {
			s.Logs = f.logs
			break
		}
		s.Logs = &checklist.Logs{File: "log/postgresql-2026-11-29.log", Readable: true, Via: "pg_read_file", Since: since, Total: 2, Lines: []string{
			"2026-11-29 04:00:00.500 UTC [13] FATAL:  password authentication failed for user \"app\"",
			"2026-11-30 05:00:00.000 UTC [14] ERROR:  canceling statement due to statement timeout",
		}}
	default:
		s.Report = fixtureReport(0)
	}
	return s, nil
}

func (f *fakeChecklist) Looked(_ context.Context, step maint.ChecklistStep, _ string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.looked = append(f.looked, step.Task)
	return nil
}

func (f *fakeChecklist) Disk(context.Context) (report.Disk, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.disks++
	total, free := 500*gib, 200*gib
	if f.disks > 1 {
		free += 2 * gib
	}
	return report.Disk{Visible: true, TotalBytes: &total, FreeBytes: &free, DatabaseBytes: 120 * gib}, nil
}

func (f *fakeChecklist) Record(_ context.Context, s *checklist.Summary) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.summary = s
	return "pgtend.history", nil
}

func (f *fakeChecklist) tick(_ context.Context, task, note string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ticks = append(f.ticks, task+": "+note)
	return nil
}

// withChecklists gives the console the fake as its actions, checklists and
// tick-off.
func withChecklists(f *fakeChecklist) func(*Options) {
	return func(o *Options) { o.Actions, o.Checklists, o.Tick = f, f, f.tick }
}

// drain runs cmd and every command its messages lead to, as the program
// would, until none is left: the wizard's reads and records, plans, and
// runs to their end.
func drain(t testing.TB, m *Model, cmd tea.Cmd) {
	t.Helper()
	queue := []tea.Cmd{cmd}
	for n := 0; len(queue) > 0; n++ {
		if n > 500 {
			t.Fatal("the commands never end")
		}
		c := queue[0]
		queue = queue[1:]
		if c == nil {
			continue
		}
		got := make(chan tea.Msg, 1)
		go func() { got <- c() }()
		var msg tea.Msg
		select {
		case msg = <-got:
		case <-time.After(5 * time.Second):
			t.Fatal("a command sent no message")
		}
		if b, ok := msg.(tea.BatchMsg); ok {
			queue = append(queue, b...)
			continue
		}
		_, next := m.Update(msg)
		queue = append(queue, next)
	}
}

// pressDrain presses keys, then drains what the last one asked for.
func pressDrain(t testing.TB, m *Model, keys ...string) {
	t.Helper()
	drain(t, m, press(m, keys...))
}

// doneInCalendar marks tasks done in the fixture's calendar (status ok).
func doneInCalendar(tasks ...string) func(*report.Report) *report.Report {
	return func(r *report.Report) *report.Report {
		for _, task := range tasks {
			last := fixtureNow.Add(-time.Hour)
			r.Calendar = append(r.Calendar, report.CalendarItem{Task: task, Title: task, Cadence: "monthly", LastRun: &last, NextDue: fixtureNow.AddDate(0, 1, 0), Status: "ok"})
		}
		return r
	}
}
