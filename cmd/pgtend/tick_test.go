package main

import (
	"context"
	"testing"

	"github.com/pgtend/pgtend/ops/pgtest"
)

// A tick-off goes where runs go, pgtend.history in the database — also the
// demo's throwaway one, which has no history file — and with --read-only
// only to the history file: without one, there is no tick-off at all.
func TestTickOffGoesToTheDatabasesHistory(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	conn := pgtest.Connect(t, dsn)
	demo := target{dsn: dsn, throwaway: true}
	tick := tickFunc(demo, false, openMemory(demo))
	if tick == nil {
		t.Fatal("no tick-off for the demo's database")
	}
	if err := tick(context.Background(), "retrain_models", "retrained on November's data"); err != nil {
		t.Fatal(err)
	}
	if n := pgtest.Count(t, conn, `SELECT count(*) FROM pgtend.history WHERE task = 'retrain_models' AND outcome = 'ticked' AND note = 'retrained on November''s data'`); n != 1 {
		t.Errorf("%d ticked entries in pgtend.history", n)
	}
	if tickFunc(demo, true, openMemory(demo)) != nil {
		t.Error("--read-only on a database without a history file offers a tick-off that would write the database")
	}
}
