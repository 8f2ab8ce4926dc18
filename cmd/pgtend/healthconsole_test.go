package main

import (
	"fmt"
	"testing"
	"time"

	"github.com/pgtend/pgtend/ops/pgtest"
)

// TestConsoleHealthTerminatesAfterConfirmation drives the real binary in
// tmux at 80x24: the Health pane (6) finds an idle-in-transaction session;
// K shows who it is and asks; n leaves it alone; K and y end it, the run
// is recorded, and the finding goes.
func TestConsoleHealthTerminatesAfterConfirmation(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	conn := pgtest.Connect(t, dsn)
	victim := pgtest.ConnectAs(t, dsn+"&application_name=invoice-worker", "")
	pgtest.Exec(t, victim, "BEGIN; SELECT 1")
	pid := victim.PgConn().PID()
	alive := func() bool {
		return count(t, conn, "SELECT count(*) FROM pg_stat_activity WHERE pid = $1", pid) == 1
	}
	time.Sleep(1200 * time.Millisecond)
	s := startScreen(t, 80, 24, []string{"LANG=C.UTF-8", "TERM=xterm-256color", "HOME=" + t.TempDir(), "XDG_STATE_HOME=" + t.TempDir()},
		"--dsn", "'"+dsn+"'", "--config", healthPolicy(t, dsn, ""), "--refresh", "2s")
	s.waitFor("connected")
	s.keys("6")
	who := fmt.Sprintf("pid %d (pgtend, invoice-worker)", pid)
	s.waitFor("WARNING  idle in transaction", who, "K terminate session")
	s.keys("K")
	s.waitFor("terminate session "+who, fmt.Sprintf("SELECT pg_terminate_backend(%d, 5000)", pid), `application "invoice-worker"`, "Run this plan?")
	if !alive() {
		t.Fatal("showing the plan terminated the session")
	}
	s.keys("n")
	time.Sleep(500 * time.Millisecond)
	s.waitFor("WARNING  idle in transaction")
	if !alive() {
		t.Fatal("n terminated the session")
	}
	s.keys("K")
	s.waitFor("Run this plan?")
	s.keys("y")
	s.waitFor("terminate session " + who + ": ok")
	if alive() {
		t.Fatal("the session is still there")
	}
	if n := count(t, conn, `SELECT count(*) FROM pgtend.history WHERE action = 'terminate' AND outcome = 'ok'`); n != 1 {
		t.Errorf("%d history entries for the terminate", n)
	}
	s.keys("Enter")
	s.waitFor("no session is idle in a transaction")
	s.keys("q")
}
