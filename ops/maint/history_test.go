package maint

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/pgtend/pgtend/ops/pgtest"
	"github.com/pgtend/pgtend/ops/state"
)

// A role that may maintain its tables but not create the pgtend schema gets
// its runs recorded in the history file instead.
func TestHistoryFallsBackToTheFile(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	admin := connect(t, dsn)
	exec(t, admin, "CREATE ROLE table_owner LOGIN")
	conn := pgtest.ConnectAs(t, dsn, "table_owner")
	hist := state.OpenHistory(t.TempDir(), "db")
	now := time.Now()
	e := Entry(&Plan{Action: "vacuum", Task: "vacuum_analyze", Target: "x", Steps: []Step{{Statements: []string{"VACUUM (ANALYZE) x"}}}},
		Result{Outcome: OutcomeOK, Started: now, Finished: now, Rows: 3}, nil, "db", "table_owner")
	where, err := Record(context.Background(), conn, e, hist)
	if err != nil || where != hist.Path() {
		t.Fatalf("recorded in %q: %v", where, err)
	}
	entries, _ := hist.Entries()
	if len(entries) != 1 || entries[0].Task != "vacuum_analyze" || entries[0].Statements[0] != "VACUUM (ANALYZE) x" || entries[0].Rows != 3 {
		t.Errorf("file history: %+v", entries)
	}
	// Without a file to fall back on, the error says why the database refused.
	if _, err := Record(context.Background(), conn, e, nil); err == nil || !strings.Contains(err.Error(), "permission denied") {
		t.Errorf("no fallback: %v", err)
	}
	// The superuser records in pgtend.history, creating it on first use.
	if where, err := Record(context.Background(), admin, e, hist); err != nil || where != "pgtend.history" {
		t.Fatalf("admin: %q %v", where, err)
	}
	got, err := History(context.Background(), admin, 5)
	if err != nil || len(got) != 1 || got[0].Role != "table_owner" {
		t.Errorf("pgtend.history: %v %+v", err, got)
	}
}
