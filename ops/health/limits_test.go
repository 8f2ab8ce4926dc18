package health

import (
	"strings"
	"testing"

	"github.com/pgtend/pgtend/ops/config"
	"github.com/pgtend/pgtend/ops/pgtest"
)

// A role's own connection limit is flagged long before max_connections:
// two of its three slots is 67%, past a 60% warning; three of three is
// critical.
func TestRoleConnectionLimit(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	conn := pgtest.Connect(t, dsn)
	pgtest.Exec(t, conn, `DROP ROLE IF EXISTS "pool ""app"""; CREATE ROLE "pool ""app""" LOGIN CONNECTION LIMIT 3`)
	t.Cleanup(func() {
		c := pgtest.Connect(t, dsn)
		pgtest.Exec(t, c, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'pool "app"'`)
	})
	h := config.DefaultHealth
	h.ConnectionsWarn, h.ConnectionsCritical = 60, 100
	if f := finding(t, collect(t, dsn, h), CheckConnections); f.Status != OK {
		t.Fatalf("no session of the role:\n%s", dump(f))
	}
	for range 2 {
		c := pgtest.ConnectAs(t, dsn, `pool "app"`)
		pgtest.Exec(t, c, "SELECT 1")
	}
	f := finding(t, collect(t, dsn, h), CheckConnections)
	want := `role pool "app": 2 of its 3 connections in use (67%)`
	if f.Status != Warning || !strings.Contains(f.Summary, want) {
		t.Fatalf("two of three:\n%s", dump(f))
	}
	found := false
	for _, it := range f.Items {
		if it.Kind == KindRole && it.Name == `pool "app"` && it.Text == want {
			found = true
		}
	}
	if !found {
		t.Errorf("no role item:\n%s", dump(f))
	}
	pgtest.ConnectAs(t, dsn, `pool "app"`)
	if f := finding(t, collect(t, dsn, h), CheckConnections); f.Status != Critical {
		t.Errorf("three of three: %s\n%s", f.Status, dump(f))
	}
}

// A physical slot reserving WAL, nobody reading it, without xmin: it holds
// back no horizon, only disk — flagged with the WAL it keeps.
func TestInactiveSlotKeepingOnlyWAL(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	conn := pgtest.Connect(t, dsn)
	const slot = "wal_only_slot"
	physicalSlot(t, dsn, conn, slot)
	pgtest.Exec(t, conn, `CREATE TABLE filler AS SELECT g, repeat('x', 500) AS pad FROM generate_series(1, 20000) g`)
	f := finding(t, collect(t, dsn, config.Health{}), CheckSlotWAL)
	var it *Item
	for i := range f.Items {
		if f.Items[i].Name == slot {
			it = &f.Items[i]
		}
	}
	if f.Status != Warning || it == nil || it.Status != Warning || !strings.HasPrefix(it.Text, "slot wal_only_slot (physical, inactive) keeps ") {
		t.Fatalf("inactive slot:\n%s", dump(f))
	}
	if !strings.Contains(f.Summary, "1 inactive slot nobody reads keeps") || strings.Contains(it.Text, "keeps 0 B") {
		t.Errorf("summary %q, item %q", f.Summary, it.Text)
	}
	// It holds no xmin: the horizon finding does not name it.
	if x := finding(t, collect(t, dsn, config.Health{}), CheckXminHorizon); strings.Contains(dump(x), slot) {
		t.Errorf("named in the xmin horizon:\n%s", dump(x))
	}
}
