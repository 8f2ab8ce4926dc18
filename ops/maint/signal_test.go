package maint

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pgtend/pgtend/ops/pgtest"
)

// victim opens a session as application app and leaves it idle in a
// transaction, holding a row lock.
func victim(t *testing.T, dsn, app string) (*pgx.Conn, Backend) {
	t.Helper()
	c := pgtest.ConnectAs(t, dsn+"&application_name="+app, "")
	var start time.Time
	pgtest.QueryRow(t, c, "SELECT backend_start FROM pg_stat_activity WHERE pid = pg_backend_pid()").Scan(&start)
	pgtest.Exec(t, c, "BEGIN; SELECT 1")
	return c, Backend{PID: int32(c.PgConn().PID()), Start: start}
}

func alive(t *testing.T, conn *pgx.Conn, pid int32) bool {
	t.Helper()
	return pgtest.Count(t, conn, "SELECT count(*) FROM pg_stat_activity WHERE pid = $1", pid) == 1
}

// Terminating an idle-in-transaction session: the plan names it and
// changes nothing; only the run ends it.
func TestTerminateIdleInTransaction(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	conn := pgtest.Connect(t, dsn)
	v, b := victim(t, dsn, "billing-worker")
	p, err := PlanSignal(context.Background(), conn, SignalTerminate, b, SignalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Steps) != 1 || p.Steps[0].Statements[0] != "SELECT pg_terminate_backend("+pidText(b.PID)+", 5000)" || p.Destructive() {
		t.Fatalf("plan steps %+v", p.Steps)
	}
	notes := strings.Join(p.Notes, "\n")
	for _, want := range []string{"pid " + pidText(b.PID), "user pgtend", `application "billing-worker"`, "client [local]",
		"state: idle in transaction for", "transaction started", "query: BEGIN; SELECT 1", "rolls back"} {
		if !strings.Contains(notes, want) {
			t.Errorf("the plan's notes do not say %q:\n%s", want, notes)
		}
	}
	if !alive(t, conn, b.PID) {
		t.Fatal("planning terminated the session")
	}
	var rec recorder
	res, err := RunSignal(context.Background(), conn, p, SignalOptions{}, rec.emit)
	if err != nil || res.Outcome != OutcomeOK || res.Rows != 0 || rec.count(StepFinished) != 1 {
		t.Fatalf("run: %+v, %v", res, err)
	}
	if alive(t, conn, b.PID) {
		t.Fatal("the session is still there")
	}
	if _, err := v.Exec(context.Background(), "SELECT 1"); err == nil {
		t.Error("the terminated session still answers")
	}
	// Run again: the session is gone, nothing to do.
	res, _ = RunSignal(context.Background(), conn, p, SignalOptions{}, func(Event) {})
	if res.Outcome != OutcomeSkipped || !strings.Contains(strings.Join(res.Skipped, ""), "has ended already") {
		t.Errorf("terminating an ended session: %+v", res)
	}
}

func pidText(n int32) string { return strconv.Itoa(int(n)) }

// Cancelling a running query stops it; the session stays. A session that
// runs no query has nothing to cancel.
func TestCancelARunningQuery(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	conn := pgtest.Connect(t, dsn)
	runner := pgtest.ConnectAs(t, dsn+"&application_name=etl", "")
	done := make(chan error, 1)
	go func() {
		_, err := runner.Exec(context.Background(), "SELECT pg_sleep(30)")
		done <- err
	}()
	pid := int32(runner.PgConn().PID())
	deadline := time.Now().Add(10 * time.Second)
	for pgtest.Count(t, conn, "SELECT count(*) FROM pg_stat_activity WHERE pid = $1 AND state = 'active'", pid) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the query never started")
		}
		time.Sleep(50 * time.Millisecond)
	}
	p, err := PlanSignal(context.Background(), conn, SignalCancel, Backend{PID: pid}, SignalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res, err := RunSignal(context.Background(), conn, p, SignalOptions{}, func(Event) {}); err != nil || res.Outcome != OutcomeOK {
		t.Fatalf("cancel: %+v %v", res, err)
	}
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "canceling statement due to user request") {
			t.Errorf("the query ended with %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the query was not cancelled")
	}
	if !alive(t, conn, pid) {
		t.Error("cancel ended the session")
	}
	if _, err := PlanSignal(context.Background(), conn, SignalCancel, Backend{PID: pid}, SignalOptions{}); err == nil || !strings.Contains(err.Error(), "nothing to cancel") {
		t.Errorf("cancelling an idle session: %v", err)
	}
}

// Refusals, in ops whoever asks: --read-only, pgtend's own sessions, a
// pid that is another session now, roles that may not signal.
func TestSignalRefusals(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	conn := pgtest.Connect(t, dsn)
	_, b := victim(t, dsn, "psql")
	ctx := context.Background()

	_, err := PlanSignal(ctx, conn, SignalTerminate, b, SignalOptions{ReadOnly: true})
	if !errors.Is(err, ErrReadOnly) {
		t.Errorf("--read-only plan: %v", err)
	}
	p, err := PlanSignal(ctx, conn, SignalTerminate, b, SignalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res, err := RunSignal(ctx, conn, p, SignalOptions{ReadOnly: true}, func(Event) {}); !errors.Is(err, ErrReadOnly) || res.Outcome != OutcomeFailed {
		t.Errorf("--read-only run: %+v %v", res, err)
	}
	if !alive(t, conn, b.PID) {
		t.Fatal("a refused run terminated the session")
	}
	// pgtend's own: the planning session, one named as pgtend's, one
	// whose application_name is pgtend.
	self := Backend{PID: int32(conn.PgConn().PID())}
	if _, err := PlanSignal(ctx, conn, SignalTerminate, self, SignalOptions{}); !errors.Is(err, ErrOwnSession) {
		t.Errorf("own session: %v", err)
	}
	if _, err := PlanSignal(ctx, conn, SignalTerminate, b, SignalOptions{OwnPIDs: []uint32{uint32(b.PID)}}); !errors.Is(err, ErrOwnSession) {
		t.Errorf("a pid pgtend names its own: %v", err)
	}
	_, mine := victim(t, dsn, "pgtend")
	if _, err := PlanSignal(ctx, conn, SignalTerminate, mine, SignalOptions{}); !errors.Is(err, ErrOwnSession) {
		t.Errorf("application_name pgtend: %v", err)
	}
	// A plan made, then the pid named as pgtend's: the run refuses.
	if res, _ := RunSignal(ctx, conn, p, SignalOptions{OwnPIDs: []uint32{uint32(b.PID)}}, func(Event) {}); res.Outcome != OutcomeFailed || !alive(t, conn, b.PID) {
		t.Errorf("run on a pid pgtend names its own: %+v", res)
	}
	// The pid is another session than the one chosen.
	if _, err := PlanSignal(ctx, conn, SignalTerminate, Backend{PID: b.PID, Start: b.Start.Add(-time.Hour)}, SignalOptions{}); err == nil || !strings.Contains(err.Error(), "another session now") {
		t.Errorf("a reused pid: %v", err)
	}
	// Background processes.
	var checkpointer int32
	pgtest.QueryRow(t, conn, "SELECT pid FROM pg_stat_activity WHERE backend_type = 'checkpointer'").Scan(&checkpointer)
	if _, err := PlanSignal(ctx, conn, SignalTerminate, Backend{PID: checkpointer}, SignalOptions{}); err == nil || !strings.Contains(err.Error(), "client sessions only") {
		t.Errorf("the checkpointer: %v", err)
	}

	// Roles: one may not signal another's session until granted
	// pg_signal_backend, and never a superuser's.
	pgtest.Exec(t, conn, `DROP ROLE IF EXISTS sig_ops; DROP ROLE IF EXISTS sig_app;
		CREATE ROLE sig_ops LOGIN; CREATE ROLE sig_app LOGIN`)
	// Without pg_read_all_stats, sig_ops may not see who sig_app's
	// sessions are: refused before any question of signalling.
	hidden := pgtest.ConnectAs(t, dsn, "sig_app")
	pgtest.Exec(t, hidden, "SELECT 1")
	blind := pgtest.ConnectAs(t, dsn, "sig_ops")
	if _, err := PlanSignal(ctx, blind, SignalTerminate, Backend{PID: int32(hidden.PgConn().PID())}, SignalOptions{}); err == nil ||
		!strings.Contains(err.Error(), "GRANT pg_read_all_stats TO sig_ops") {
		t.Errorf("a session sig_ops may not see: %v", err)
	}
	pgtest.Exec(t, conn, "GRANT pg_read_all_stats TO sig_ops")
	t.Cleanup(func() {
		c := pgtest.Connect(t, dsn)
		pgtest.Exec(t, c, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename IN ('sig_ops', 'sig_app')")
		pgtest.Exec(t, c, "DROP ROLE IF EXISTS sig_ops; DROP ROLE IF EXISTS sig_app")
	})
	app := pgtest.ConnectAs(t, dsn, "sig_app")
	pgtest.Exec(t, app, "BEGIN; SELECT 1")
	ops := pgtest.ConnectAs(t, dsn, "sig_ops")
	ab := Backend{PID: int32(app.PgConn().PID())}
	_, err = PlanSignal(ctx, ops, SignalTerminate, ab, SignalOptions{})
	if !IsDenied(err) || !strings.Contains(err.Error(), "GRANT pg_signal_backend TO sig_ops") {
		t.Errorf("sig_ops on sig_app: %v", err)
	}
	if _, err := PlanSignal(ctx, ops, SignalTerminate, b, SignalOptions{}); !IsDenied(err) || !strings.Contains(err.Error(), "only a superuser") {
		t.Errorf("sig_ops on a superuser's session: %v", err)
	}
	pgtest.Exec(t, conn, "GRANT pg_signal_backend TO sig_ops")
	p, err = PlanSignal(ctx, ops, SignalTerminate, ab, SignalOptions{})
	if err != nil {
		t.Fatalf("with pg_signal_backend: %v", err)
	}
	if res, err := RunSignal(ctx, ops, p, SignalOptions{}, func(Event) {}); err != nil || res.Outcome != OutcomeOK || alive(t, conn, ab.PID) {
		t.Errorf("sig_ops terminating sig_app: %+v %v", res, err)
	}
}
