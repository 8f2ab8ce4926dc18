package main

import (
	"testing"

	"github.com/pgtend/pgtend/ops/pgtest"
)

// TestConsoleOpensOnTriageAndDropsASlotByItsName drives the real binary in
// tmux at 80x24 on a filesystem "full" by policy ([disk] triage_at below
// its use): the console opens on Triage by itself, the inactive slot
// holding WAL is listed with its action, Enter plans its drop, y asks for
// the slot's name, a wrong name drops nothing, the name drops it and the
// run is recorded.
func TestConsoleOpensOnTriageAndDropsASlotByItsName(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	slot := slotHoldingWAL(t, dsn)
	conn := pgtest.Connect(t, dsn)
	pgtest.Exec(t, conn, `CREATE TABLE more_wal AS SELECT md5(g::text) AS payload FROM generate_series(1, 300000) g`) // this slot holds the most
	exists := func() bool {
		return pgtest.Count(t, conn, `SELECT count(*) FROM pg_replication_slots WHERE slot_name = $1`, slot) == 1
	}
	cfg := writeFile(t, "pgtend.toml", "[disk]\ntriage_at = \"1%\"\n")
	s := startScreen(t, 80, 24, []string{"LANG=C.UTF-8", "TERM=xterm-256color", "HOME=" + t.TempDir(), "XDG_STATE_HOME=" + t.TempDir()},
		"--dsn", "'"+dsn+"'", "--config", cfg, "--refresh", "2s")
	s.waitFor("connected", "Triage ", "replication slot "+slot, "enter plan it")
	s.keys("Enter")
	s.waitFor("drop of "+slot, "pg_drop_replication_slot")
	s.keys("y")
	s.waitFor("type " + slot + " to run")
	s.keys(slot[:len(slot)-1], "Enter")
	s.waitFor("type " + slot + " to run")
	if !exists() {
		t.Fatal("a wrong name dropped the slot")
	}
	s.keys(slot[len(slot)-1:], "Enter")
	s.waitFor("drop of " + slot + ": ok")
	if exists() {
		t.Fatal("the slot is still there")
	}
	if n := pgtest.Count(t, conn, `SELECT count(*) FROM pgtend.history WHERE action = 'drop-slot' AND outcome = 'ok'`); n != 1 {
		t.Errorf("%d history entries for the drop", n)
	}
	s.keys("q")
}

// TestConsoleDropsADetachedPartitionByItsName: a partition an interrupted
// DETACH CONCURRENTLY left pending is listed on Triage with drop-detached;
// Enter plans it (the FINALIZE, then the DROP with its size), y asks for
// the table's name, and the name drops it.
func TestConsoleDropsADetachedPartitionByItsName(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	conn := pgtest.Connect(t, dsn)
	part := pgtest.PendingDetach(t, dsn, conn, "ledger", 300000) // the most bytes that come back now: listed first
	cfg := writeFile(t, "pgtend.toml", "[disk]\ntriage_at = \"1%\"\n")
	s := startScreen(t, 80, 24, []string{"LANG=C.UTF-8", "TERM=xterm-256color", "HOME=" + t.TempDir(), "XDG_STATE_HOME=" + t.TempDir()},
		"--dsn", "'"+dsn+"'", "--config", cfg, "--refresh", "2s")
	s.waitFor("connected", "Triage ", "detached partition public."+part, "drop-detached")
	s.keys("Enter")
	s.waitFor("drop of public."+part, "FINALIZE", "DROP TABLE")
	s.keys("y")
	s.waitFor("type public." + part + " to run")
	s.keys("public."+part, "Enter")
	s.waitFor("drop of public." + part + ": ok")
	if n := pgtest.Count(t, conn, `SELECT count(*) FROM pg_class WHERE relname = $1`, part); n != 0 {
		t.Fatal("the detached partition is still there")
	}
	if n := pgtest.Count(t, conn, `SELECT count(*) FROM pgtend.history WHERE action = 'drop-detached' AND outcome = 'ok'`); n != 1 {
		t.Errorf("%d history entries for the drop", n)
	}
	s.keys("q")
}
