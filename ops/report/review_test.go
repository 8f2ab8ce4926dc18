package report

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/pgtend/pgtend/ops/config"
	"github.com/pgtend/pgtend/ops/pgtest"
)

// Cases found in review: infinite partition bounds, a policy time column
// that is not the partition key, a policy naming one table twice, a lock
// on a TOAST index.
func TestReportEdgeCases(t *testing.T) {
	conn := connect(t, pgtest.NewDatabase(t))
	exec(t, conn, `
		CREATE TABLE inf (ts timestamptz NOT NULL, created timestamptz NOT NULL, note text) PARTITION BY RANGE (ts);
		CREATE TABLE inf_old PARTITION OF inf FOR VALUES FROM ('-infinity') TO ('2026-01-01');
		CREATE TABLE inf_new PARTITION OF inf FOR VALUES FROM ('2026-01-01') TO ('infinity');
		INSERT INTO inf VALUES ('2025-06-01', now() - interval '1 day', 'x'), ('2026-06-01', now() - interval '40 days', 'y');
		CREATE SCHEMA app;
		CREATE TABLE app.trades (id int);
		CREATE TABLE noparts (ts timestamptz NOT NULL) PARTITION BY RANGE (ts);
		CREATE TABLE noleaves (ts timestamptz NOT NULL, k int) PARTITION BY RANGE (ts);
		CREATE TABLE noleaves_1 PARTITION OF noleaves FOR VALUES FROM ('2026-01-01') TO ('2026-02-01') PARTITION BY LIST (k);`)
	policy := config.Policy{Tables: []config.TablePolicy{{Name: "inf", TimeColumn: "created", RetentionDays: 10}}}
	r := collect(t, conn, policy)
	// Partitioned tables with no leaf partition yet: listed, empty.
	for _, name := range []string{"noparts", "noleaves"} {
		if e := find(t, r, "public", name); e.Locked || e.TotalBytes == nil || *e.TotalBytes != 0 {
			t.Errorf("%s: locked %v, total %v; want listed with 0 bytes", name, e.Locked, e.TotalBytes)
		}
	}
	tb := find(t, r, "public", "inf")
	// Ordered by created, not ts: the oldest is the row in the newer partition.
	var want time.Time
	pgtest.QueryRow(t, conn, "SELECT min(created) FROM inf").Scan(&want)
	if tb.Oldest == nil || !tb.Oldest.Equal(want) {
		t.Errorf("oldest %v, want min(created) %v", tb.Oldest, want)
	}
	for _, c := range r.Chunks {
		if c.Table == "inf" && (c.Expired || (c.Chunk == "inf_old" && c.RangeStart != nil) || (c.Chunk == "inf_new" && c.RangeEnd != nil)) {
			t.Errorf("%s: range %v–%v expired %v", c.Chunk, c.RangeStart, c.RangeEnd, c.Expired)
		}
	}
	// One table named twice through search_path: refused, not silently merged.
	exec(t, conn, "SET search_path = app, public")
	_, err := Collect(context.Background(), conn, config.Policy{Tables: []config.TablePolicy{{Name: "trades", Permanent: true}, {Name: "app.trades", RetentionDays: 5}}})
	if err == nil || !strings.Contains(err.Error(), "names one table twice") {
		t.Errorf("duplicate policy entries: %v", err)
	}
	exec(t, conn, "RESET search_path")
	// A REINDEX of the TOAST index holds ACCESS EXCLUSIVE on it: the table is locked, the report not stuck.
	var toastIndex string
	conn.QueryRow(context.Background(), `SELECT i.indexrelid::regclass::text FROM pg_class c JOIN pg_index i ON i.indrelid = c.reltoastrelid
		WHERE c.oid = 'inf_new'::regclass`).Scan(&toastIndex)
	holder := connect(t, pgtest.Cluster.DSN(conn.Config().Database))
	exec(t, holder, "BEGIN; REINDEX INDEX "+toastIndex)
	start := time.Now()
	r = collect(t, conn, policy)
	if time.Since(start) > 5*time.Second || !find(t, r, "public", "inf").Locked {
		t.Errorf("TOAST index lock: %v, locked=%v", time.Since(start), find(t, r, "public", "inf").Locked)
	}
	exec(t, holder, "ROLLBACK")
}
