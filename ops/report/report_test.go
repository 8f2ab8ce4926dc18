package report

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pgtend/pgtend/ops/config"
	"github.com/pgtend/pgtend/ops/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// connect and exec are the shared test helpers.
var connect, exec = pgtest.Connect, pgtest.Exec

func collect(t testing.TB, conn *pgx.Conn, p config.Policy) *Report {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r, err := Collect(ctx, conn, p)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func find(t testing.TB, r *Report, schema, name string) Table {
	t.Helper()
	for _, tb := range r.Tables {
		if tb.Schema == schema && tb.Name == name {
			return tb
		}
	}
	t.Fatalf("table %s.%s not in report", schema, name)
	return Table{}
}

// checkSizes compares a table's report figures with the independent ones.
func checkSizes(t *testing.T, tb Table) {
	t.Helper()
	if tb.Kind == nil || tb.TotalBytes == nil || tb.TableBytes == nil || tb.IndexBytes == nil || tb.ToastBytes == nil {
		t.Errorf("%s: sizes missing: %+v", tb.Name, tb)
		return
	}
	want := pgtest.MeasureTable(t, catalogConn, tb.Schema, tb.Name, *tb.Kind)
	got := pgtest.Sizes{Total: *tb.TotalBytes, Table: *tb.TableBytes, Index: *tb.IndexBytes, Toast: *tb.ToastBytes}
	if got != want {
		t.Errorf("%s: report says %+v, catalog says %+v", tb.Name, got, want)
	}
	if got.Total != got.Table+got.Index+got.Toast {
		t.Errorf("%s: parts %+v do not add up to the total", tb.Name, got)
	}
}

// catalogConn is the connection checkSizes measures with (set per test).
var catalogConn *pgx.Conn

// A database nobody here seeded: odd names, TOAST, no indexes, multi-level
// and differently keyed partitioning.
const unseededSchema = `
CREATE SCHEMA "Odd Schema";
CREATE TABLE "Odd Schema"."we""ird` + "\x1b[2J" + `name" (id int);
INSERT INTO "Odd Schema"."we""ird` + "\x1b[2J" + `name" SELECT generate_series(1, 1000);
CREATE TABLE docs (id serial PRIMARY KEY, body text, created timestamptz NOT NULL DEFAULT now());
INSERT INTO docs (body, created) SELECT repeat(md5(i::text), 400), now() - i * interval '1 hour' FROM generate_series(1, 300) i;
CREATE INDEX ON docs (created);
CREATE UNLOGGED TABLE nolog (v text PRIMARY KEY);
INSERT INTO nolog SELECT md5(i::text) FROM generate_series(1, 2000) i;
CREATE TABLE events (ts timestamptz NOT NULL, kind text, payload text) PARTITION BY RANGE (ts);
CREATE TABLE bydate (d date NOT NULL, v int) PARTITION BY RANGE (d);
CREATE TABLE bynum (n bigint NOT NULL, v int) PARTITION BY RANGE (n);
CREATE TABLE bylist (k text, v int) PARTITION BY LIST (k);
CREATE TABLE bylist_a PARTITION OF bylist FOR VALUES IN ('a');
CREATE TABLE bylist_rest PARTITION OF bylist DEFAULT;
INSERT INTO bylist SELECT CASE WHEN i % 2 = 0 THEN 'a' ELSE 'z' END, i FROM generate_series(1, 5000) i;
CREATE TABLE bynum_1 PARTITION OF bynum FOR VALUES FROM (0) TO (1000);
CREATE TABLE bynum_2 PARTITION OF bynum FOR VALUES FROM (1000) TO (MAXVALUE);
INSERT INTO bynum SELECT i, i FROM generate_series(0, 2999) i;
DO $$
DECLARE d date;
BEGIN
  FOR i IN 0..29 LOOP
    d := current_date - 29 + i;
    EXECUTE format('CREATE TABLE %I PARTITION OF events FOR VALUES FROM (%L) TO (%L) PARTITION BY LIST (kind)',
                   'events_' || to_char(d, 'YYYYMMDD'), d::timestamptz, (d + 1)::timestamptz);
    EXECUTE format('CREATE TABLE %I PARTITION OF %I FOR VALUES IN (''trade'')', 'events_' || to_char(d, 'YYYYMMDD') || '_t', 'events_' || to_char(d, 'YYYYMMDD'));
    EXECUTE format('CREATE TABLE %I PARTITION OF %I DEFAULT', 'events_' || to_char(d, 'YYYYMMDD') || '_o', 'events_' || to_char(d, 'YYYYMMDD'));
    EXECUTE format('CREATE TABLE %I PARTITION OF bydate FOR VALUES FROM (%L) TO (%L)', 'bydate_' || i, d, d + 1);
  END LOOP;
END $$;
INSERT INTO events SELECT g, CASE WHEN random() < 0.5 THEN 'trade' ELSE 'quote' END, repeat('p', 100)
  FROM generate_series(current_date - 29, current_date + interval '23 hours', interval '1 minute') g;
CREATE INDEX ON events (ts);
INSERT INTO bydate SELECT current_date - (i % 30), i FROM generate_series(1, 20000) i;
ANALYZE;
`

func TestUnseededDatabaseMatchesCatalog(t *testing.T) {
	conn := connect(t, pgtest.NewDatabase(t))
	exec(t, conn, unseededSchema)
	policy := config.Policy{Tables: []config.TablePolicy{
		{Name: "events", RetentionDays: 10},
		{Name: "docs", TimeColumn: "created", RetentionDays: 5},
		{Name: "ghost_table", RetentionDays: 30},
		{Name: "nolog", Permanent: true},
	}}
	r := collect(t, conn, policy)

	catalogConn = conn
	checkSizes(t, find(t, r, "public", "docs"))
	checkSizes(t, find(t, r, "public", "nolog"))
	checkSizes(t, find(t, r, "Odd Schema", "we\"ird\x1b[2Jname"))
	for _, name := range []string{"events", "bydate", "bynum", "bylist"} {
		tb := find(t, r, "public", name)
		checkSizes(t, tb)
		if tb.Kind == nil || *tb.Kind != KindPartitioned {
			t.Errorf("%s kind = %v, want partitioned", name, tb.Kind)
		}
	}
	if docs := find(t, r, "public", "docs"); *docs.ToastBytes == 0 {
		t.Errorf("docs should have TOAST bytes (wide rows): %+v", docs)
	}

	// Policy: the missing table is listed as missing; others outside the policy have no retention.
	ghost := find(t, r, "public", "ghost_table")
	if !ghost.Missing || ghost.Kind != nil || ghost.TotalBytes != nil {
		t.Errorf("ghost_table: %+v, want missing with no sizes", ghost)
	}
	if b := find(t, r, "public", "bydate"); b.RetentionDays != nil || b.InPolicy {
		t.Errorf("bydate is outside the policy: %+v", b)
	}
	if n := find(t, r, "public", "nolog"); !n.Permanent {
		t.Errorf("nolog should be permanent")
	}

	// Time columns: detected from the partition key, or from the policy.
	ev := find(t, r, "public", "events")
	if ev.TimeColumn == nil || *ev.TimeColumn != "ts" || ev.Chunks != 60 {
		t.Errorf("events: time column %v, %d leaves; want ts, 60", ev.TimeColumn, ev.Chunks)
	}
	var oldest time.Time
	if err := conn.QueryRow(context.Background(), "SELECT min(ts) FROM events").Scan(&oldest); err != nil {
		t.Fatal(err)
	}
	if ev.Oldest == nil || !ev.Oldest.Equal(oldest) {
		t.Errorf("events oldest = %v, want %v", ev.Oldest, oldest)
	}

	// Chunks: every leaf with its exact size; range bounds of time keys parsed.
	var want int
	if err := conn.QueryRow(context.Background(), `
		SELECT count(*) FROM pg_class WHERE relispartition AND relkind = 'r'`).Scan(&want); err != nil {
		t.Fatal(err)
	}
	if len(r.Chunks) != want {
		t.Errorf("%d chunks in report, %d leaf partitions in the catalog", len(r.Chunks), want)
	}
	cutoff := r.GeneratedAt.Add(-10 * 24 * time.Hour)
	var expired, partly int64
	for _, c := range r.Chunks {
		var size int64
		if err := conn.QueryRow(context.Background(), "SELECT pg_total_relation_size($1::regclass)", qualified(c.ChunkSchema, c.Chunk)).Scan(&size); err != nil {
			t.Fatal(err)
		}
		if c.TotalBytes == nil || *c.TotalBytes != size {
			t.Errorf("chunk %s: %v bytes, catalog says %d", c.Chunk, c.TotalBytes, size)
		}
		if c.Compressed || c.BeforeBytes != nil || c.AfterBytes != nil {
			t.Errorf("partition %s has compression figures", c.Chunk)
		}
		switch c.Table {
		case "events", "bydate":
			if c.RangeStart == nil || c.RangeEnd == nil || c.RangeEnd.Sub(*c.RangeStart) != 24*time.Hour {
				t.Errorf("%s: range %v – %v, want one day", c.Chunk, c.RangeStart, c.RangeEnd)
			}
		case "bynum":
			if c.Chunk == "bynum_1" && (c.RangeStartInteger == nil || *c.RangeStartInteger != 0 || *c.RangeEndInteger != 1000) {
				t.Errorf("bynum_1 integer range: %v – %v", c.RangeStartInteger, c.RangeEndInteger)
			}
			if c.Chunk == "bynum_2" && c.RangeEndInteger != nil {
				t.Errorf("bynum_2 ends at MAXVALUE, got %v", *c.RangeEndInteger)
			}
		}
		if c.Table == "events" {
			if past := !c.RangeEnd.After(cutoff); past != c.Expired {
				t.Errorf("%s expired = %v, want %v (cutoff %v)", c.Chunk, c.Expired, past, cutoff)
			} else if past {
				expired += size
			}
			if c.PartlyExpiredBytes != nil {
				partly += *c.PartlyExpiredBytes
			}
		}
	}
	// And the estimate of the rows past the cutoff in the day straddling it.
	if ev.PartlyExpiredBytes == nil || *ev.PartlyExpiredBytes != partly {
		t.Errorf("events partly expired bytes = %v, the partitions' %d", ev.PartlyExpiredBytes, partly)
	}
	if ev.ExpiredBytes == nil || *ev.ExpiredBytes != expired+partly || expired == 0 {
		t.Errorf("events expired bytes = %v, want %d + %d (> 0)", ev.ExpiredBytes, expired, partly)
	}
	// docs: 300 hourly rows, retention 5 days: 180 of 300 rows are older.
	docs := find(t, r, "public", "docs")
	if docs.ExpiredBytes == nil || *docs.ExpiredBytes <= 0 || *docs.ExpiredBytes >= *docs.TotalBytes {
		t.Errorf("docs expired bytes = %v of %d, want a fraction", docs.ExpiredBytes, *docs.TotalBytes)
	}
}

func TestLockedTableIsSkippedNotWaitedFor(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	conn := connect(t, dsn+"&lock_timeout=3000")
	exec(t, conn, `CREATE TABLE busy (id int PRIMARY KEY); CREATE TABLE calm (id int);
		CREATE TABLE parts (ts timestamptz) PARTITION BY RANGE (ts);
		CREATE TABLE parts_1 PARTITION OF parts FOR VALUES FROM ('2026-01-01') TO ('2026-01-02');
		CREATE TABLE reidx (id int); CREATE INDEX reidx_id ON reidx (id);`)
	holder := connect(t, dsn)
	exec(t, holder, "BEGIN; LOCK TABLE busy IN ACCESS EXCLUSIVE MODE; LOCK TABLE parts_1 IN ACCESS EXCLUSIVE MODE; REINDEX INDEX reidx_id;")
	start := time.Now()
	r := collect(t, conn, config.Policy{})
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("report took %v: it waited for the lock", d)
	}
	for _, name := range []string{"busy", "parts", "reidx"} {
		if b := find(t, r, "public", name); !b.Locked || b.TotalBytes != nil {
			t.Errorf("%s: locked=%v total=%v, want locked with no size", name, b.Locked, b.TotalBytes)
		}
	}
	if c := find(t, r, "public", "calm"); c.Locked || c.TotalBytes == nil {
		t.Errorf("calm: %+v, want measured", c)
	}
	exec(t, holder, "ROLLBACK")
}

func TestDiskVisibleOnTheHostAndHiddenFromUnprivilegedRoles(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	conn := connect(t, dsn)
	r := collect(t, conn, config.Policy{})
	d := r.Disk
	if !d.Visible || d.TotalBytes == nil || d.FreeBytes == nil || *d.FreeBytes > *d.TotalBytes || d.WALBytes == nil || *d.WALBytes == 0 {
		t.Fatalf("disk on the database host: %+v (reason %q)", d, d.Reason)
	}
	if d.DatabaseBytes != r.Server.DatabaseBytes || d.DatabaseBytes == 0 {
		t.Errorf("database bytes: disk %d, server %d", d.DatabaseBytes, r.Server.DatabaseBytes)
	}
	exec(t, conn, "CREATE ROLE plain_reader LOGIN")
	rc := pgtest.ConnectAs(t, dsn, "plain_reader")
	r2 := collect(t, rc, config.Policy{})
	d2 := r2.Disk
	if d2.Visible || d2.TotalBytes != nil || d2.FreeBytes != nil || d2.WALBytes != nil || d2.Reason == "" {
		t.Errorf("unprivileged role: %+v, want nulls and a reason", d2)
	}
}

// The two ways of measuring agree to the byte: files (pg_stat_file, for
// roles allowed to call it) and the size functions (for everyone else).
func TestFileSizesEqualSizeFunctions(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	conn := connect(t, dsn)
	exec(t, conn, unseededSchema)
	exec(t, conn, "CREATE ROLE no_files LOGIN")
	super := collect(t, conn, config.Policy{})
	rc := pgtest.ConnectAs(t, dsn, "no_files")
	f, err := DetectFeatures(context.Background(), rc)
	if err != nil || f.StatFile {
		t.Fatalf("an ordinary role may call pg_stat_file? %v %v", f.StatFile, err)
	}
	plain := collect(t, rc, config.Policy{})
	if len(plain.Tables) != len(super.Tables) || len(plain.Chunks) != len(super.Chunks) {
		t.Fatalf("%d/%d tables, %d/%d chunks", len(plain.Tables), len(super.Tables), len(plain.Chunks), len(super.Chunks))
	}
	for i, a := range super.Tables {
		b := plain.Tables[i]
		if *a.TotalBytes != *b.TotalBytes || *a.TableBytes != *b.TableBytes || *a.IndexBytes != *b.IndexBytes || *a.ToastBytes != *b.ToastBytes {
			t.Errorf("%s: files %d/%d/%d/%d, functions %d/%d/%d/%d", a.Name, *a.TotalBytes, *a.TableBytes, *a.IndexBytes, *a.ToastBytes,
				*b.TotalBytes, *b.TableBytes, *b.IndexBytes, *b.ToastBytes)
		}
	}
	for i, a := range super.Chunks {
		if *a.TotalBytes != *plain.Chunks[i].TotalBytes {
			t.Errorf("%s: files %d, functions %d", a.Chunk, *a.TotalBytes, *plain.Chunks[i].TotalBytes)
		}
	}
	if super.MeasuredBy != MeasuredByFiles || plain.MeasuredBy != MeasuredBySizeFunctions {
		t.Errorf("measured by %q (superuser) and %q (plain role)", super.MeasuredBy, plain.MeasuredBy)
	}
	// Granted both functions, an ordinary role reads the files too.
	exec(t, conn, `GRANT EXECUTE ON FUNCTION pg_ls_dir(text, boolean, boolean), pg_stat_file(text, boolean) TO no_files`)
	if granted := collect(t, rc, config.Policy{}); granted.MeasuredBy != MeasuredByFiles {
		t.Errorf("granted role: measured by %q", granted.MeasuredBy)
	} else if *granted.Tables[0].TotalBytes != *super.Tables[0].TotalBytes {
		t.Errorf("granted role: %s is %d bytes, %d for the superuser", granted.Tables[0].Name, *granted.Tables[0].TotalBytes, *super.Tables[0].TotalBytes)
	}
	exec(t, conn, `REVOKE EXECUTE ON FUNCTION pg_ls_dir(text, boolean, boolean), pg_stat_file(text, boolean) FROM no_files`)
}
