package main

import (
	"strings"
	"testing"

	"github.com/pgtend/pgtend/ops/pgtest"
)

// The DEFAULT partition in the real console at 80x24: d plans the
// retention of dp, which says the rows past the cutoff stay in dp_default
// and offers i; i asks first (its own confirmation), y plans again with
// the batched DELETE, and the typed name runs it: the rows past the
// cutoff are gone from dp_default, every newer row stays, the history has
// the DELETE.
func TestConsoleIncludeDefault(t *testing.T) {
	dsn, conn, cfg := defaultPartitionTable(t)
	past := pgtest.Count(t, conn, "SELECT count(*) FROM dp_default WHERE ts < now() - interval '30 days'")
	newer := pgtest.Count(t, conn, "SELECT count(*) FROM dp WHERE ts >= now() - interval '29 days'")
	if past < 100 {
		t.Fatalf("only %d rows past the cutoff in dp_default", past)
	}
	s := startScreen(t, 80, 24, []string{"LANG=C.UTF-8", "TERM=xterm-256color", "HOME=" + t.TempDir(), "XDG_STATE_HOME=" + t.TempDir()},
		"--dsn", "'"+dsn+"'", "--config", cfg, "--refresh", "60s")
	s.waitFor("connected", "dp")
	s.keys("d")
	s.waitFor("retention cleanup of dp", "i --include-default")
	s.keys("G") // the findings are below the summary at 80x24
	s.waitFor("past retention stay in", "dp_default")
	s.keys("i")
	s.waitFor("--include-default: also delete, in batches", "y plan it")
	s.keys("y")
	s.waitFor("i without --include-default", "--include-default")
	s.keys("e")
	s.keys("G") // the steps end below the summary at 80x24
	scr := s.waitFor("delete ")
	if !strings.Contains(scr, "dp_default") {
		t.Errorf("the plan with --include-default does not delete from dp_default:\n%s", scr)
	}
	if n := pgtest.Count(t, conn, "SELECT count(*) FROM dp_default WHERE ts < now() - interval '30 days'"); n != past {
		t.Fatal("planning changed data")
	}
	s.keys("y")
	s.waitFor("type dp to run:")
	s.keys("-l", "dp")
	s.keys("Enter")
	s.waitFor("retention cleanup of dp: ok")
	if n := pgtest.Count(t, conn, "SELECT count(*) FROM dp_default WHERE ts < now() - interval '30 days'"); n != 0 {
		t.Errorf("%d rows past the cutoff left in dp_default", n)
	}
	if n := pgtest.Count(t, conn, "SELECT count(*) FROM dp WHERE ts >= now() - interval '29 days'"); n != newer {
		t.Errorf("newer rows: %d before, %d after", newer, n)
	}
	if n := pgtest.Count(t, conn, `SELECT count(*) FROM pgtend.history WHERE task = 'retention_cleanup' AND outcome = 'ok' AND array_to_string(statements, ' ') LIKE '%dp_default%'`); n != 1 {
		t.Errorf("%d history entries with the DELETE from dp_default", n)
	}
	s.keys("Enter")
	s.keys("q")
}

// REINDEX candidates picked in the real console at 80x24: i plans the
// bloated table's indexes, space unfolds and leaves the first out, y runs
// the rest: the one left out keeps its file, the others get new ones, and
// the history notes what was left out.
func TestConsolePicksReindexSteps(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	conn := pgtest.Connect(t, dsn)
	pgtest.Exec(t, conn, `CREATE TABLE fills (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, ts timestamptz NOT NULL, tag text NOT NULL);
		CREATE INDEX fills_tag ON fills (tag); CREATE INDEX fills_ts ON fills (ts);
		INSERT INTO fills (ts, tag) SELECT now() - g * interval '1 second', md5(g::text) FROM generate_series(1, 60000) g;
		DELETE FROM fills WHERE id % 20 <> 0`)
	pgtest.Exec(t, conn, "VACUUM ANALYZE fills")
	cfg := writeFile(t, "pgtend.toml", "[reindex]\nmin_bloat = \"30%\"\nmin_bloat_size = \"512 kB\"\n")
	node := func(ix string) int64 {
		return pgtest.Count(t, conn, "SELECT pg_relation_filenode($1::regclass)::bigint", ix)
	}
	before := map[string]int64{}
	for _, ix := range []string{"fills_pkey", "fills_tag", "fills_ts"} {
		before[ix] = node(ix)
	}
	s := startScreen(t, 80, 24, []string{"LANG=C.UTF-8", "TERM=xterm-256color", "HOME=" + t.TempDir(), "XDG_STATE_HOME=" + t.TempDir()},
		"--dsn", "'"+dsn+"'", "--config", cfg, "--refresh", "60s")
	s.waitFor("connected", "fills")
	s.keys("i")
	s.waitFor("REINDEX fills", "space pick step")
	s.keys("Space")
	scr := s.waitFor("› [x] 1. REINDEX")
	first := ""
	for _, ix := range []string{"fills_pkey", "fills_tag", "fills_ts"} {
		for _, l := range strings.Split(scr, "\n") {
			if strings.Contains(l, "[x] 1. REINDEX public."+ix+" ") {
				first = ix
			}
		}
	}
	if first == "" {
		t.Fatalf("no first candidate named:\n%s", scr)
	}
	s.keys("Space")
	s.waitFor("› [ ] 1. REINDEX", "picked)")
	s.keys("y")
	s.waitFor("REINDEX fills: ok", "left out)")
	rebuilt := 0
	for ix, was := range before {
		switch now := node(ix); {
		case ix == first && now != was:
			t.Errorf("%s was left out, yet rebuilt (file %d → %d)", ix, was, now)
		case now != was:
			rebuilt++
		}
	}
	if rebuilt == 0 {
		t.Error("no picked index was rebuilt")
	}
	if n := pgtest.Count(t, conn, `SELECT count(*) FROM pgtend.history WHERE task = 'reindex' AND note LIKE '%steps picked; left out: REINDEX public.`+first+` %'`); n != 1 {
		t.Errorf("%d history entries noting %s left out", n, first)
	}
	s.keys("Enter")
	s.keys("q")
}
