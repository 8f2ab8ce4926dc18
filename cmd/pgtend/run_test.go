package main

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/pgtend/pgtend/ops/demo"
	"github.com/pgtend/pgtend/ops/pgtest"
)

const shortRetention = `
[tables.option_chain_snapshots]
time_column = "timestamp"
retention = "20d"

[tables.trade_history]
permanent = true
`

var count = pgtest.Count

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
	pgtend(t, nil, "run", "repack", "--dsn", dsn).oneClearLine(t, 2, `unknown action "repack"`)
	pgtend(t, nil, "run", "retention", "--table", "trade_history", "--yes", "--dsn", dsn, "--config", cfg).oneClearLine(t, 1, "permanent")
}

// TestRunCancelledBySignal: Ctrl+C (SIGINT) stops a headless run between
// batches; the run is recorded as cancelled and exits 1.
func TestRunCancelledBySignal(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(context.Background(), `CREATE TABLE ticks (id bigserial PRIMARY KEY, ts timestamptz NOT NULL);
		INSERT INTO ticks (ts) SELECT now() - g * interval '1 minute' FROM generate_series(1, 60000) g; ANALYZE ticks`); err != nil {
		t.Fatal(err)
	}
	cfg := writeFile(t, "pgtend.toml", "[tables.ticks]\ntime_column = \"ts\"\nretention = \"10d\"\n")
	total := count(t, conn, "SELECT count(*) FROM ticks")
	cmd := exec.Command(binary, "run", "retention", "--yes", "--batch-size", "200", "--batch-pause", "50ms", "--dsn", dsn, "--config", cfg)
	cmd.Env = []string{"HOME=" + t.TempDir(), "PATH=" + os.Getenv("PATH")}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	var lines []string
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if strings.Contains(sc.Text(), " progress ") {
			cmd.Process.Signal(syscall.SIGINT)
			break
		}
	}
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	err = cmd.Wait()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Errorf("exit: %v", err)
	}
	// The step in flight and the run both say "cancelled", as the console does.
	if all := strings.Join(lines, "\n"); !strings.Contains(all, "retention: cancelled") || !strings.Contains(all, "] cancelled after") || strings.Contains(all, "FAILED") {
		t.Errorf("output does not say cancelled:\n%s", all)
	}
	var outcome string
	var rows int64
	if err := conn.QueryRow(context.Background(), "SELECT outcome, rows FROM pgtend.history").Scan(&outcome, &rows); err != nil || outcome != "cancelled" {
		t.Errorf("history: %s %v", outcome, err)
	}
	if left := count(t, conn, "SELECT count(*) FROM ticks"); rows == 0 || left+rows != total || left < total-45000 {
		t.Errorf("%d of %d rows left, history says %d deleted: not a partial run", left, total, rows)
	}
}

// TestFlagsBeforeTheAction: flags may come before or after the action;
// both orders plan the same.
func TestFlagsBeforeTheAction(t *testing.T) {
	dsn, _ := seededDemo(t, demo.Native)
	after := pgtend(t, nil, "plan", "vacuum", "--table", "ml_features", "--dsn", dsn)
	before := pgtend(t, nil, "plan", "--table", "ml_features", "--dsn", dsn, "vacuum")
	if before.code != 0 || !strings.Contains(before.stdout, "Plan: vacuum of ml_features") || !strings.Contains(before.stdout, "VACUUM") {
		t.Fatalf("plan with the flags first: exit %d\n%s%s", before.code, before.stdout, before.stderr)
	}
	if before.stdout != after.stdout {
		t.Errorf("the order of flags changed the plan:\n%s\nversus\n%s", before.stdout, after.stdout)
	}
	// --key=value and flags on both sides, for run too.
	r := pgtend(t, nil, "run", "--table=ml_features", "vacuum", "--dsn="+dsn)
	if r.code != 0 || !strings.Contains(r.stdout, "vacuum: ok") {
		t.Errorf("run with the flags around the action: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}
