package main

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/pgtend/pgtend/ops/demo"
)

const shortRetention = `
[tables.option_chain_snapshots]
time_column = "timestamp"
retention = "20d"

[tables.trade_history]
permanent = true
`

func count(t *testing.T, conn *pgx.Conn, q string) int64 {
	t.Helper()
	var n int64
	if err := conn.QueryRow(context.Background(), q).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestHeadlessPlanAndRun(t *testing.T) {
	dsn, conn := seededDemo(t, demo.Native)
	cfg := writeFile(t, "pgtend.toml", shortRetention)
	rows := func() int64 { return count(t, conn, "SELECT count(*) FROM option_chain_snapshots") }
	before := rows()
	trades := count(t, conn, "SELECT count(*) FROM trade_history")

	// plan changes nothing and shows the statements.
	r := pgtend(t, nil, "plan", "retention", "--dsn", dsn, "--config", cfg)
	if r.code != 0 || !strings.Contains(r.stdout, "DETACH PARTITION") || !strings.Contains(r.stdout, "DELETES DATA") || !strings.Contains(r.stdout, "trade_history is permanent") {
		t.Fatalf("plan: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if rows() != before {
		t.Fatal("plan changed the data")
	}
	// run without --yes: refused, exit 2, nothing changed.
	r = pgtend(t, nil, "run", "retention", "--dsn", dsn, "--config", cfg)
	if r.code != 2 || rows() != before || !strings.Contains(r.stderr, "--yes") {
		t.Fatalf("run without --yes: exit %d, %d -> %d rows\n%s", r.code, before, rows(), r.stderr)
	}
	// --read-only refuses even with --yes.
	r = pgtend(t, nil, "run", "retention", "--yes", "--read-only", "--dsn", dsn, "--config", cfg)
	if r.code != 1 || rows() != before || !strings.Contains(r.stderr, "read-only") {
		t.Fatalf("run --read-only: exit %d\n%s", r.code, r.stderr)
	}
	// monthly --yes: retention, then VACUUM ANALYZE of what is left.
	r = pgtend(t, nil, "run", "monthly", "--yes", "--dsn", dsn, "--config", cfg)
	if r.code != 0 || rows() >= before || strings.Contains(r.stdout, "FAILED") || strings.Contains(r.stdout, "\x1b") {
		t.Fatalf("run monthly: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if count(t, conn, "SELECT count(*) FROM trade_history") != trades {
		t.Error("monthly touched trade_history")
	}
	if n := count(t, conn, `SELECT count(*) FROM option_chain_snapshots WHERE "timestamp" < now() - interval '21 days'`); n != 0 {
		t.Errorf("%d rows older than the retention left", n)
	}
	// The history has both runs, and the calendar counts them as done.
	r = pgtend(t, nil, "history", "--dsn", dsn, "--config", cfg)
	if r.code != 0 || !strings.Contains(r.stdout, "retention_cleanup") || !strings.Contains(r.stdout, "vacuum_analyze") {
		t.Fatalf("history: %s%s", r.stdout, r.stderr)
	}
	r = pgtend(t, nil, "report", "--json", "--dsn", dsn, "--config", cfg)
	if !strings.Contains(r.stdout, `"task": "retention_cleanup"`) || strings.Count(r.stdout, `"status": "ok"`) < 2 {
		t.Errorf("calendar after monthly:\n%s", r.stdout[strings.Index(r.stdout, `"calendar"`):])
	}
	pgtend(t, nil, "run", "reindex", "--dsn", dsn).oneClearLine(t, 2, `unknown action "reindex"`)
	pgtend(t, nil, "run", "retention", "--table", "trade_history", "--yes", "--dsn", dsn, "--config", cfg).oneClearLine(t, 1, "permanent")
}
