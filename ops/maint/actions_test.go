package maint

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pgtend/pgtend/ops/config"
	"github.com/pgtend/pgtend/ops/pg"
	"github.com/pgtend/pgtend/ops/pgtest"
)

// An action added to a registry plans, runs and is recorded under its own
// name and task, with no other edit: the history's task names come from
// the registry.
func TestRegistryActionIsRecordedUnderItsTask(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	conn := connect(t, dsn)
	exec(t, conn, `CREATE TABLE quotes (ts timestamptz NOT NULL, px numeric); INSERT INTO quotes SELECT now(), g FROM generate_series(1, 100) g`)
	reg := Default()
	reg.Actions = append(reg.Actions, Action{
		Name: "analyze_only", Heading: "ANALYZE", Task: "analyze_task",
		Planner: func(ctx context.Context, conn *pgx.Conn, policy config.Policy, table string) (*Plan, error) {
			return &Plan{Target: table, Steps: []Step{vacuumStep("VACUUM (ANALYZE) quotes", `"public"."quotes"`, `"public"."quotes"`)}}, nil
		},
	})
	reg.Scripts = append(reg.Scripts, Script{Name: "nightly", Actions: []string{"analyze_only", "vacuum"}})
	actions, err := reg.Resolve("nightly", true)
	if err != nil || len(actions) != 2 || actions[0].Name != "analyze_only" {
		t.Fatalf("resolve nightly: %v %+v", err, actions)
	}
	plan, err := actions[0].Plan(context.Background(), conn, config.Policy{}, "quotes")
	if err != nil || plan.Action != "analyze_only" || plan.Task != "analyze_task" {
		t.Fatalf("plan: %v %+v", err, plan)
	}
	res, err := Run(context.Background(), dsn, pg.Settings{}, plan, Options{Confirmed: true}, func(Event) {})
	if err != nil || res.Outcome != OutcomeOK {
		t.Fatalf("run: %v %+v", err, res)
	}
	if _, err := Record(context.Background(), conn, Entry(plan, res, nil, "db", "pgtend"), nil); err != nil {
		t.Fatal(err)
	}
	entries, err := History(context.Background(), conn, 5)
	if err != nil || len(entries) != 1 || entries[0].Task != "analyze_task" || entries[0].Action != "analyze_only" {
		t.Fatalf("history: %v %+v", err, entries)
	}
}

func TestResolveRefusesUnknownNamesWithTheKnownOnes(t *testing.T) {
	reg := Default()
	_, err := reg.Resolve("reindexx", true)
	if err == nil {
		t.Fatal("an unknown action resolved")
	}
	for _, name := range reg.Names(true) {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("%q does not name %s", err, name)
		}
	}
	if _, err := reg.Resolve("monthly", false); err == nil {
		t.Error("a script resolved where only actions are taken")
	}
	monthly, err := reg.Resolve("monthly", true)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, a := range monthly {
		names = append(names, a.Name)
	}
	if s, _ := reg.Script("monthly"); !slices.Equal(names, s.Actions) {
		t.Errorf("monthly resolves to %v, its script says %v", names, s.Actions)
	}
}

// RunState is what both writers draw: a cancelled step counts as cancelled,
// not failed, and says so in one word.
func TestRunStateInterpretsEvents(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	plan := &Plan{Steps: []Step{{Title: "a", Unit: "rows"}, {Title: "b", Unit: "rows"}, {Title: "c"}}}
	s := NewRunState(plan, t0)
	s.Apply(Event{Kind: StepStarted, Step: 0, Title: "a"}, t0)
	s.Apply(Event{Kind: Progress, Step: 0, Done: 500, Total: 1000}, t0.Add(5*time.Second))
	if rate := s.Rate(t0.Add(5 * time.Second)); rate != 100 {
		t.Errorf("rate %v, want 100 rows/s", rate)
	}
	if eta, ok := s.ETA(t0.Add(5 * time.Second)); !ok || eta != 5*time.Second {
		t.Errorf("eta %v %v, want 5s", eta, ok)
	}
	s.Apply(Event{Kind: StepFinished, Step: 0, Title: "a", Rows: 1000, Bytes: 8192}, t0.Add(10*time.Second))
	s.Apply(Event{Kind: StepStarted, Step: 1, Title: "b"}, t0.Add(10*time.Second))
	s.Apply(Event{Kind: Progress, Step: 0, Done: 1}, t0.Add(11*time.Second)) // a late poll of step 0
	if s.Done != 0 {
		t.Errorf("a late progress event moved the step in flight: %d", s.Done)
	}
	s.Apply(Event{Kind: StepCancelled, Step: 1, Title: "b", Rows: 200}, t0.Add(12*time.Second))
	c := s.Counts()
	ok, failed, cancelled := c.OK, c.Failed, c.Cancelled
	if ok != 1 || failed != 0 || cancelled != 1 || s.Rows != 1200 || s.Bytes != 8192 || s.Current != -1 {
		t.Errorf("counts %d/%d/%d, rows %d, bytes %d, current %d", ok, failed, cancelled, s.Rows, s.Bytes, s.Current)
	}
	if f, _ := s.Last(); f.Outcome != OutcomeCancelled || f.Unit != "rows" {
		t.Errorf("last step: %+v", f)
	}
}
