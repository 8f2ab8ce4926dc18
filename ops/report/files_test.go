package report

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/pgtend/pgtend/ops/config"
	"github.com/pgtend/pgtend/ops/pgtest"
)

func TestRelationFileNames(t *testing.T) {
	for name, want := range map[string]struct {
		base string
		main bool
	}{
		"16384":            {"16384", true},
		"16384.1":          {"16384", false},
		"16384.12":         {"16384", false},
		"16384_fsm":        {"16384", false},
		"16384_vm":         {"16384", false},
		"16384_init":       {"16384", false},
		"16384_fsm.1":      {"16384", false},
		"t3_16384":         {"t3_16384", true},
		"t3_16384_vm":      {"t3_16384", false},
		"PG_VERSION":       {"PG_VERSION", true},
		"pg_internal.init": {"pg_internal.init", true},
		"pg_filenode.map":  {"pg_filenode.map", true},
	} {
		base, main := relationFile(name)
		if base != want.base || main != want.main {
			t.Errorf("%s: %q main=%v, want %q main=%v", name, base, main, want.base, want.main)
		}
	}
}

// stableDatabaseSize is pg_database_size read twice around fn, retried
// until nothing (autovacuum, say) changed it meanwhile.
func stableDatabaseSize(t *testing.T, conn *pgx.Conn, fn func()) int64 {
	t.Helper()
	for range 5 {
		var before, after int64
		conn.QueryRow(context.Background(), "SELECT pg_database_size(current_database())").Scan(&before)
		fn()
		conn.QueryRow(context.Background(), "SELECT pg_database_size(current_database())").Scan(&after)
		if before == after {
			return before
		}
	}
	t.Fatal("the database's size kept changing")
	return 0
}

// Relations in tablespaces, and a database whose default tablespace is not
// pg_default: measured by files, sizes still equal the size functions and
// the database's size equals pg_database_size.
func TestFilesInTablespaces(t *testing.T) {
	dir := filepath.Join(pgtest.Cluster.Dir, "tablespace-files-test")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(pgtest.Cluster.Dir); err == nil { // the server's user owns the cluster's directory
		s := st.Sys().(*syscall.Stat_t)
		if err := os.Chown(dir, int(s.Uid), int(s.Gid)); err != nil {
			t.Fatal(err)
		}
	}
	admin := connect(t, pgtest.NewDatabase(t))
	exec(t, admin, "CREATE TABLESPACE files_test LOCATION "+quoteLiteral(dir))
	exec(t, admin, "CREATE DATABASE in_tablespace TABLESPACE files_test")

	for i, dsn := range []string{"", pgtest.Cluster.DSN("in_tablespace")} {
		conn := admin
		if i > 0 {
			conn = connect(t, dsn)
		}
		f, err := DetectFeatures(context.Background(), conn)
		if err != nil || !f.StatFile {
			t.Fatalf("a superuser should measure by files: %+v %v", f, err)
		}
		exec(t, conn, `
			CREATE TABLE spaced (id int PRIMARY KEY, body text) TABLESPACE files_test;
			CREATE INDEX spaced_body ON spaced (left(body, 20)) TABLESPACE pg_default;
			INSERT INTO spaced SELECT i, repeat(md5(i::text), 100 + i % 300) FROM generate_series(1, 2000) i;
			CREATE TABLE split (ts date NOT NULL, v int) PARTITION BY RANGE (ts);
			CREATE TABLE split_a PARTITION OF split FOR VALUES FROM ('2026-01-01') TO ('2026-02-01') TABLESPACE files_test;
			CREATE TABLE split_b PARTITION OF split FOR VALUES FROM ('2026-02-01') TO ('2026-03-01') TABLESPACE pg_default;
			CREATE TABLE home (v int);
			INSERT INTO split SELECT '2026-01-01'::date + i % 59, i FROM generate_series(1, 10000) i;
			INSERT INTO home SELECT generate_series(1, 3000);
			CREATE TEMP TABLE scratch (v text);`)
		exec(t, conn, "VACUUM ANALYZE")
		// relationPath builds most paths itself: always pg_relation_filepath's.
		var differ int64
		if err := conn.QueryRow(context.Background(), `WITH `+dbCTE+`
			SELECT count(*) FROM pg_class c CROSS JOIN db
			WHERE `+relationPath("c")+` IS DISTINCT FROM pg_relation_filepath(c.oid)`).Scan(&differ); err != nil || differ != 0 {
			t.Errorf("%d relations where relationPath is not pg_relation_filepath (%v)", differ, err)
		}
		var r *Report
		want := stableDatabaseSize(t, conn, func() { r = collect(t, conn, config.Policy{}) })
		if r.Server.DatabaseBytes != want {
			t.Errorf("%s: database %d bytes, pg_database_size %d", conn.Config().Database, r.Server.DatabaseBytes, want)
		}
		catalogConn = conn
		for _, name := range []string{"spaced", "split", "home"} {
			checkSizes(t, find(t, r, "public", name))
		}
		exec(t, conn, "DROP TABLE spaced, split, home")
		if conn != admin {
			conn.Close(context.Background())
		}
	}
	exec(t, admin, "DROP DATABASE in_tablespace")
	exec(t, admin, "DROP TABLESPACE files_test")
}

// A relation that gets new files between the listing and the reading of
// paths (here a TRUNCATE) is noticed, not read as empty, and read again.
func TestRelationRewrittenAfterTheListing(t *testing.T) {
	conn := connect(t, pgtest.NewDatabase(t))
	exec(t, conn, `CREATE TABLE churn (id int PRIMARY KEY, v text);
		INSERT INTO churn SELECT i, md5(i::text) FROM generate_series(1, 5000) i;`)
	ctx := context.Background()
	f, err := DetectFeatures(ctx, conn)
	if err != nil || !f.StatFile {
		t.Fatalf("features %+v %v", f, err)
	}
	files, err := readDatabaseFiles(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	exec(t, conn, "BEGIN; TRUNCATE churn; INSERT INTO churn SELECT i, md5(i::text) FROM generate_series(1, 100) i; COMMIT")
	members, err := readMembers(ctx, conn, f, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	if files.measure(members, nil) {
		t.Fatal("the truncated table's new files were not in the listing, yet measure says all settled")
	}
	for _, m := range members {
		if m.Table != nil {
			t.Errorf("member %d measured from a listing that lacks its files: %d bytes", m.Relid, *m.Table)
		}
	}
	members, _, err = measureMembers(ctx, conn, f, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	var want int64
	conn.QueryRow(ctx, "SELECT pg_total_relation_size('churn')").Scan(&want)
	if len(members) != 1 || members[0].Table == nil || members[0].total() != want {
		t.Fatalf("measured again: %+v, want %d bytes", members, want)
	}
}

func quoteLiteral(s string) string {
	return "'" + s + "'" // test paths hold no quotes
}
