package maint

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/pgtend/pgtend/ops/config"
	"github.com/pgtend/pgtend/ops/pg"
)

// The operator picks some REINDEX candidates: the run rebuilds only
// those (the others keep their files), the picked plan's summary counts
// only them, and the history entry has only their statements and names
// the ones left out. A plan whose steps depend on one another (retention)
// runs whole or not at all.
func TestPickedReindexStepsRunAlone(t *testing.T) {
	dsn, conn := fkDatabase(t, "plain")
	bloated(t, conn, "fills", 60_000, 20)
	plan := planReindex(t, conn, config.Policy{Reindex: lowThreshold}, "fills", nil)
	if len(plan.Steps) < 2 || !plan.Pickable {
		t.Fatalf("want 2 pickable candidates: %v (pickable %v)", titles(plan), plan.Pickable)
	}
	for _, bad := range [][]int{nil, {-1}, {len(plan.Steps)}, {0, 0}} {
		if _, err := plan.Only(bad); err == nil {
			t.Errorf("Only(%v) accepted", bad)
		}
	}
	var every []int
	for i := range plan.Steps {
		every = append([]int{i}, every...) // any order
	}
	if all, err := plan.Only(every); err != nil || all != plan {
		t.Errorf("every step picked: %v, the same plan %v", err, all == plan)
	}
	picked, err := plan.Only([]int{1})
	if err != nil {
		t.Fatal(err)
	}
	if len(picked.Steps) != 1 || picked.Steps[0].Title != plan.Steps[1].Title || len(picked.Tables) != 1 ||
		!slices0(picked.Tables[0].Steps) || *picked.Tables[0].Goes.Bytes != *plan.Steps[1].EstBytes || len(picked.LeftOut) != len(plan.Steps)-1 {
		t.Fatalf("picked plan: %v %+v left out %v", titles(picked), picked.Tables, picked.LeftOut)
	}
	if len(plan.Steps) < 2 || len(plan.LeftOut) != 0 || len(plan.Tables[0].Steps) != len(plan.Steps) {
		t.Fatal("Only changed the plan it was called on")
	}
	// Each step names its index for --index (the console's key for the
	// step under its cursor): planned so, that step alone.
	for _, s := range plan.Steps {
		alone := planReindex(t, conn, config.Policy{Reindex: lowThreshold}, "fills", s.Alone)
		if len(s.Alone) != 1 || len(alone.Steps) != 1 || alone.Steps[0].Statements[0] != s.Statements[0] {
			t.Errorf("%s: Alone %v plans %v", s.Title, s.Alone, titles(alone))
		}
	}
	index := func(s Step) string { return strings.TrimPrefix(s.Statements[0], "REINDEX INDEX CONCURRENTLY ") }
	before := filenodes(t, conn, "t.relname = 'fills'")
	res, err := Run(context.Background(), dsn, pg.Settings{}, picked, Options{Confirmed: true}, func(Event) {})
	if err != nil || res.Outcome != OutcomeOK {
		t.Fatalf("run: %v %+v", err, res)
	}
	after := filenodes(t, conn, "t.relname = 'fills'")
	for name, node := range before {
		rebuilt := after[name] != node
		if want := strings.Contains(index(picked.Steps[0]), name); rebuilt != want {
			t.Errorf("%s: rebuilt %v, want %v (picked %s)", name, rebuilt, want, index(picked.Steps[0]))
		}
	}
	e := Entry(picked, res, nil, "db", "role")
	if len(e.Statements) != 1 || e.Statements[0] != picked.Steps[0].Statements[0] || !strings.Contains(e.Note, fmt.Sprintf("1 of %d steps picked; left out: %s", len(plan.Steps), plan.Steps[0].Title)) {
		t.Errorf("history entry: %q, note %q", e.Statements, e.Note)
	}

	exec(t, conn, feedDDL("orders", "plain", 0))
	ret, err := planOf(t, conn, config.Policy{Tables: []config.TablePolicy{{Name: "orders", TimeColumn: "ts", RetentionDays: 10}}}, "orders")
	if err != nil || len(ret.Steps) < 2 || ret.Pickable {
		t.Fatalf("retention plan: %v %v pickable %v", err, titles(ret), ret.Pickable)
	}
	if _, err := ret.Only([]int{1}); err == nil || !strings.Contains(err.Error(), "depend on one another") {
		t.Errorf("a retention step picked alone: %v", err)
	}
}

func slices0(s []int) bool { return len(s) == 1 && s[0] == 0 }
