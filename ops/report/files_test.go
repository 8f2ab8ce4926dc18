package report

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/pgtend/pgtend/ops/config"
	"github.com/pgtend/pgtend/ops/pgtest"
)

func TestRelationFileNames(t *testing.T) {
	for name, want := range map[string]string{
		"16384":            "16384",
		"16384.1":          "16384",
		"16384.12":         "16384",
		"16384_fsm":        "16384",
		"16384_vm":         "16384",
		"16384_init":       "16384",
		"16384_fsm.1":      "16384",
		"t3_16384":         "t3_16384",
		"t3_16384_vm":      "t3_16384",
		"PG_VERSION":       "PG_VERSION",
		"pg_internal.init": "pg_internal.init",
		"pg_filenode.map":  "pg_filenode.map",
	} {
		if got := relationFile(name); got != want {
			t.Errorf("%s belongs to %q, want %q", name, got, want)
		}
	}
}

// stableDatabaseSize is pg_database_size read twice around fn, retried
// until nothing (autovacuum, say) changed it meanwhile.
func stableDatabaseSize(t *testing.T, conn *pgx.Conn, fn func()) int64 {
	t.Helper()
	for range 5 {
		var before, after int64
		pgtest.QueryRow(t, conn, "SELECT pg_database_size(current_database())").Scan(&before)
		fn()
		pgtest.QueryRow(t, conn, "SELECT pg_database_size(current_database())").Scan(&after)
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
	// What a pg_upgrade within one major version (a beta to its release)
	// leaves: another version directory, with files of a database of the
	// same OID, which pg_database_size does not count.
	var major int
	pgtest.QueryRow(t, admin, "SELECT current_setting('server_version_num')::int / 10000").Scan(&major)
	staleVersion := "PG_" + strconv.Itoa(major) + "_199901011"
	for _, db := range []string{admin.Config().Database, "in_tablespace"} {
		var oid uint32
		pgtest.QueryRow(t, admin, "SELECT oid FROM pg_database WHERE datname = $1", db).Scan(&oid)
		stale := filepath.Join(dir, staleVersion, strconv.FormatUint(uint64(oid), 10))
		if err := os.MkdirAll(stale, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(stale, "16999"), make([]byte, 1<<20), 0o600); err != nil {
			t.Fatal(err)
		}
	}

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
	os.RemoveAll(filepath.Join(dir, staleVersion))
	exec(t, admin, "DROP TABLESPACE files_test")
}

// readAround makes measureMembers' three reads by hand — relation paths,
// the listing, the members — running between(), if any, after the first
// and after() after the listing; it returns the members and whether
// measure trusted the listing for all of them.
func readAround(t *testing.T, conn *pgx.Conn, between, after func()) (Features, []member, bool) {
	t.Helper()
	ctx := context.Background()
	f, err := DetectFeatures(ctx, conn)
	if err != nil || !f.StatFile {
		t.Fatalf("features %+v %v", f, err)
	}
	before, err := readRelationPaths(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	if between != nil {
		between()
	}
	files, err := readDatabaseFiles(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	if after != nil {
		after()
	}
	members, err := readMembers(ctx, conn, f, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	return f, members, files.measure(members, nil, before)
}

// A relation that gets new files after the listing (here a TRUNCATE) is
// noticed, not read as empty, and read again.
func TestRelationRewrittenAfterTheListing(t *testing.T) {
	conn := connect(t, pgtest.NewDatabase(t))
	exec(t, conn, `CREATE TABLE churn (id int PRIMARY KEY, v text);
		INSERT INTO churn SELECT i, md5(i::text) FROM generate_series(1, 5000) i;`)
	f, members, settled := readAround(t, conn, nil, func() {
		exec(t, conn, "BEGIN; TRUNCATE churn; INSERT INTO churn SELECT i, md5(i::text) FROM generate_series(1, 100) i; COMMIT")
	})
	checkRemeasured(t, conn, f, members, settled)
}

// A rewrite whose new files exist before the listing but which commits
// after it: the listing holds the new files half-written. Their paths were
// not the relation's before the listing, so they are not trusted.
func TestRewriteCommittedDuringTheListing(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	conn, other := connect(t, dsn), connect(t, dsn)
	exec(t, conn, `CREATE TABLE churn (id int PRIMARY KEY, v text);
		INSERT INTO churn SELECT i, md5(i::text) FROM generate_series(1, 50000) i;`)
	f, members, settled := readAround(t, conn,
		func() {
			exec(t, other, "BEGIN; TRUNCATE churn; INSERT INTO churn SELECT i, md5(i::text) FROM generate_series(1, 100) i")
		},
		func() {
			exec(t, other, "INSERT INTO churn SELECT i, md5(i::text) FROM generate_series(101, 60000) i; COMMIT")
		})
	checkRemeasured(t, conn, f, members, settled)
}

// checkRemeasured: measured against a listing taken while churn changed,
// churn is unsettled and has no sizes; measured again, it has the right
// ones.
func checkRemeasured(t *testing.T, conn *pgx.Conn, f Features, members []member, settled bool) {
	t.Helper()
	if settled {
		t.Error("churn changed files around the listing, yet measure says all settled")
	}
	for _, m := range listedOnly(members) {
		if m.Table != nil {
			t.Errorf("member %d measured from a listing taken while it changed: %d bytes", m.Relid, m.total())
		}
	}
	ctx := context.Background()
	members, _, err := measureMembers(ctx, conn, f, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	members = listedOnly(members)
	var want int64
	pgtest.QueryRow(t, conn, "SELECT pg_total_relation_size('churn')").Scan(&want)
	if len(members) != 1 || members[0].Table == nil || members[0].total() != want {
		t.Fatalf("measured again: %+v, want %d bytes", members, want)
	}
}

// Collect itself: a TRUNCATE landing between the listing and the members
// makes the first read unsettled; the second is exact, and the table is
// not shown as locked.
func TestCollectReadsAgainAfterAChange(t *testing.T) {
	conn := connect(t, pgtest.NewDatabase(t))
	exec(t, conn, `CREATE TABLE churn (id int PRIMARY KEY, v text);
		INSERT INTO churn SELECT i, md5(i::text) FROM generate_series(1, 5000) i;`)
	reads := 0
	afterListing = func() {
		if reads++; reads == 1 {
			exec(t, conn, "BEGIN; TRUNCATE churn; INSERT INTO churn SELECT i, md5(i::text) FROM generate_series(1, 100) i; COMMIT")
		}
	}
	defer func() { afterListing = nil }()
	r := collect(t, conn, config.Policy{})
	if reads != 2 {
		t.Errorf("%d reads, want 2 (the first unsettled by the TRUNCATE)", reads)
	}
	catalogConn = conn
	checkSizes(t, find(t, r, "public", "churn"))
}

// Tables and partitions created between the first read and the listing
// are not read from a listing that may lack them: the read is unsettled,
// and measured again they are counted in full.
func TestRelationsCreatedDuringTheReportAreReadAgain(t *testing.T) {
	conn := connect(t, pgtest.NewDatabase(t))
	exec(t, conn, `CREATE TABLE old (id int PRIMARY KEY);
		CREATE TABLE split (ts date NOT NULL, v text) PARTITION BY RANGE (ts);
		CREATE TABLE split_1 PARTITION OF split FOR VALUES FROM ('2026-01-01') TO ('2026-02-01');`)
	_, _, settled := readAround(t, conn, func() {
		exec(t, conn, `CREATE TABLE fresh (id int PRIMARY KEY);
			CREATE TABLE split_2 PARTITION OF split FOR VALUES FROM ('2026-02-01') TO ('2026-03-01');
			INSERT INTO split SELECT '2026-02-01'::date + i % 27, md5(i::text) FROM generate_series(1, 20000) i;`)
	}, nil)
	if settled {
		t.Error("new relations, yet measure says all settled")
	}
	r := collect(t, conn, config.Policy{})
	catalogConn = conn
	for _, name := range []string{"old", "fresh", "split"} {
		checkSizes(t, find(t, r, "public", name))
	}
}

// listedOnly are the members of listed tables (not the unlisted
// relations measured with them).
func listedOnly(members []member) []member {
	var out []member
	for _, m := range members {
		if m.Group == nil {
			out = append(out, m)
		}
	}
	return out
}

func quoteLiteral(s string) string {
	return "'" + s + "'" // test paths hold no quotes
}
