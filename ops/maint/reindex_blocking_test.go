package maint

import (
	"context"
	"strings"
	"testing"

	"github.com/pgtend/pgtend/ops/config"
	"github.com/pgtend/pgtend/ops/pg"
	"github.com/pgtend/pgtend/ops/pgtest"
)

// Plain REINDEX only on explicit request (--blocking): its steps say the
// lock they take (ACCESS EXCLUSIVE on the index, SHARE on the table) and
// are marked blocking, so the plan needs the destructive-grade
// confirmation though it deletes nothing; it rebuilds what CONCURRENTLY
// cannot (an exclusion constraint's index). Without the flag nothing is
// blocking and the exclusion index is left alone.
func TestBlockingReindexOnlyWhenAsked(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	conn := connect(t, dsn)
	bloated(t, conn, "fills", 60_000, 20)
	exec(t, conn, `CREATE TABLE slots (id int, EXCLUDE USING btree (id WITH =)); INSERT INTO slots SELECT g FROM generate_series(1, 1000) g; ANALYZE slots`)
	policy := config.Policy{Reindex: lowThreshold}

	concurrent := planReindex(t, conn, policy, "fills", nil)
	if len(concurrent.Steps) == 0 || concurrent.NeedsConfirmation() || concurrent.Blocking() {
		t.Fatalf("default plan: %d steps, needs confirmation %v", len(concurrent.Steps), concurrent.NeedsConfirmation())
	}
	blocking := planReindex(t, conn, policy, "fills", Flags{FlagBlocking: "true"})
	if len(blocking.Steps) != len(concurrent.Steps) || blocking.Destructive() || !blocking.NeedsConfirmation() {
		t.Fatalf("--blocking: %d steps (want %d), destructive %v, needs confirmation %v", len(blocking.Steps), len(concurrent.Steps), blocking.Destructive(), blocking.NeedsConfirmation())
	}
	for _, s := range blocking.Steps {
		if !s.Blocking || s.Lock != LockReindexBlocking || len(s.Statements) != 1 || !strings.HasPrefix(s.Statements[0], "REINDEX INDEX ") || strings.Contains(s.Statements[0], "CONCURRENTLY") {
			t.Errorf("step %q: blocking %v, lock %q, %q", s.Title, s.Blocking, s.Lock, s.Statements)
		}
	}
	if locks := blocking.Tables[0].Locks; len(locks) != 1 || !strings.Contains(locks[0], "ACCESS EXCLUSIVE on the index, SHARE on the table") {
		t.Errorf("the summary's locks: %q", locks)
	}
	if !strings.Contains(strings.Join(blocking.Notes, "\n"), "confirmed like a destructive one") {
		t.Errorf("the notes do not say how it is confirmed: %q", blocking.Notes)
	}

	// The exclusion constraint's index: left alone concurrently, rebuilt
	// with --blocking.
	ex := planReindex(t, conn, policy, "slots", Flags{FlagIndex: "slots_id_excl"})
	if len(ex.Steps) != 0 || !strings.Contains(strings.Join(ex.Remarks(), "\n"), "--blocking rebuilds it") {
		t.Errorf("exclusion index without --blocking: %v, %q", titles(ex), ex.Remarks())
	}
	ex = planReindex(t, conn, policy, "slots", Flags{FlagIndex: "slots_id_excl", FlagBlocking: "true"})
	if len(ex.Steps) != 1 || !ex.Steps[0].Blocking {
		t.Fatalf("exclusion index with --blocking: %v", titles(ex))
	}

	// The runs: every index valid, each with a new file.
	for _, p := range []*Plan{blocking, ex} {
		before := filenodes(t, conn, "t.relname IN ('fills', 'slots')")
		res, err := Run(context.Background(), dsn, pg.Settings{}, p, Options{Confirmed: true}, func(Event) {})
		if err != nil || res.Outcome != OutcomeOK {
			t.Fatalf("run: %v %+v", err, res)
		}
		after := filenodes(t, conn, "t.relname IN ('fills', 'slots')")
		for _, s := range p.Steps {
			for name, node := range before {
				if strings.Contains(s.Title, name+" ") && after[name] == node {
					t.Errorf("%s kept its file %d", name, node)
				}
			}
		}
	}
	if n := invalidIndexCount(t, conn); n != 0 {
		t.Errorf("%d invalid indexes after the runs", n)
	}
}
