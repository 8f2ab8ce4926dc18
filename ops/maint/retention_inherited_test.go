package maint

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pgtend/pgtend/ops/config"
	"github.com/pgtend/pgtend/ops/pg"
	"github.com/pgtend/pgtend/ops/pgtest"
	"github.com/pgtend/pgtend/ops/report"
)

// Tests of the rows past the cutoff that no whole partition or chunk
// removal takes: DEFAULT partitions, partitions and chunks straddling the
// cutoff, legacy inheritance trees.

// summaryOf is the plan's summary of table (schema.name).
func summaryOf(t *testing.T, p *Plan, table string) TableSummary {
	t.Helper()
	for _, s := range p.Tables {
		if s.Table == table {
			return s
		}
	}
	t.Fatalf("no summary of %s in the plan: %+v", table, p.Tables)
	return TableSummary{}
}

// fingerprint is how many rows of rel (and its children, unless only) lie
// at or after cutoff, and the sum of their ids: the same after a run means
// no newer row was touched.
func fingerprint(t *testing.T, conn *pgx.Conn, rel string, cutoff time.Time) [2]int64 {
	t.Helper()
	var out [2]int64
	pgtest.QueryRow(t, conn, fmt.Sprintf("SELECT count(*), coalesce(sum(id), 0) FROM %s WHERE ts >= $1", rel), cutoff).Scan(&out[0], &out[1])
	return out
}

// dpTable makes the table: dp_old (MINVALUE to 60 days ago),
// dp_recent (20 days ago to tomorrow) and a DEFAULT partition holding the
// rows in between, one row every 6 hours over 70 days; audit references
// two of the DEFAULT's old rows (RESTRICT).
func dpTable(t *testing.T, conn *pgx.Conn) {
	t.Helper()
	exec(t, conn, `CREATE TABLE dp (id int NOT NULL, ts timestamptz NOT NULL, v text, PRIMARY KEY (id, ts)) PARTITION BY RANGE (ts);
		DO $$ BEGIN
		  EXECUTE format('CREATE TABLE dp_old PARTITION OF dp FOR VALUES FROM (MINVALUE) TO (%L)', date_trunc('day', now()) - interval '60 days');
		  EXECUTE format('CREATE TABLE dp_recent PARTITION OF dp FOR VALUES FROM (%L) TO (%L)', date_trunc('day', now()) - interval '20 days', date_trunc('day', now()) + interval '1 day');
		END $$;
		CREATE TABLE dp_default PARTITION OF dp DEFAULT;
		INSERT INTO dp SELECT g, now() - g * interval '6 hours', md5(g::text) FROM generate_series(0, 280) g;
		CREATE TABLE audit (dp_id int, dp_ts timestamptz, FOREIGN KEY (dp_id, dp_ts) REFERENCES dp ON DELETE RESTRICT);
		INSERT INTO audit SELECT id, ts FROM dp_default WHERE ts < now() - interval '45 days' ORDER BY ts LIMIT 2;
		ANALYZE dp`)
}

// The case: with a 30-day retention dp_old goes; the rows past
// the cutoff in the DEFAULT partition are counted, shown and left by
// default; --include-default deletes exactly them (less the two audit
// references) and keeps every newer row.
func TestDefaultPartitionRowsPastRetention(t *testing.T) {
	dsn, conn := fkDatabase(t, "plain")
	dpTable(t, conn)
	policy := config.Policy{Tables: []config.TablePolicy{{Name: "dp", TimeColumn: "ts", RetentionDays: 30}}}
	plan, err := planOf(t, conn, policy, "dp")
	if err != nil {
		t.Fatal(err)
	}
	cutoff := plan.Created.Add(-30 * 24 * time.Hour)
	inDefault := count(t, conn, fmt.Sprintf("SELECT count(*) FROM dp_default WHERE ts < '%s'", cutoff.Format(time.RFC3339Nano)))
	if inDefault < 100 {
		t.Fatalf("only %d rows past the cutoff in dp_default: the test's data is wrong", inDefault)
	}
	s := summaryOf(t, plan, "public.dp")
	want := fmt.Sprintf("%d rows past retention stay in public.dp_default", inDefault)
	if f := strings.Join(s.Findings, "\n"); !strings.Contains(f, want) || !strings.Contains(f, "--include-default") {
		t.Errorf("findings do not say %q and how to delete them:\n%s", want, f)
	}
	if s.Stays.RowsPastCutoff == nil || *s.Stays.RowsPastCutoff != inDefault || s.Stays.BytesPastCutoff == nil || *s.Stays.BytesPastCutoff <= 0 {
		t.Errorf("stays: %d rows past the cutoff wanted, got %+v", inDefault, s.Stays)
	}
	for _, st := range plan.Steps {
		if st.Unit == "rows" {
			t.Errorf("a DELETE without --include-default: %s", st.Title)
		}
	}
	if len(plan.Steps) != 1 || !strings.Contains(plan.Steps[0].Title, "dp_old") {
		t.Fatalf("want dp_old dropped, and only that: %+v", plan.Steps)
	}
	if !slices.Equal(plan.Offers, []string{FlagIncludeDefault}) { // what the console offers as a key
		t.Errorf("offers %q, want include-default", plan.Offers)
	}
	before := fingerprint(t, conn, "dp", cutoff)
	if res := runPlan(t, dsn, plan, policy); res.Outcome != OutcomeOK {
		t.Fatalf("run: %+v", res)
	}
	if after := fingerprint(t, conn, "dp", cutoff); after != before {
		t.Errorf("rows newer than the cutoff: %v before, %v after", before, after)
	}
	if n := count(t, conn, fmt.Sprintf("SELECT count(*) FROM dp_default WHERE ts < '%s'", cutoff.Format(time.RFC3339Nano))); n != inDefault {
		t.Errorf("dp_default: %d rows past the cutoff, had %d: touched without --include-default", n, inDefault)
	}

	// --include-default, as the command line sets it.
	ctx := WithFlags(context.Background(), Flags{FlagIncludeDefault: "true"})
	plan, err = registryAction(t, "retention").Plan(ctx, conn, policy, "dp")
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Offers) != 0 {
		t.Errorf("with --include-default the plan still offers %q", plan.Offers)
	}
	cutoff = plan.Created.Add(-30 * 24 * time.Hour)
	inDefault = count(t, conn, fmt.Sprintf("SELECT count(*) FROM dp_default WHERE ts < '%s'", cutoff.Format(time.RFC3339Nano)))
	s = summaryOf(t, plan, "public.dp")
	if s.Goes.RowsPastCutoff == nil || *s.Goes.RowsPastCutoff != inDefault || s.Stays.RowsPastCutoff != nil {
		t.Errorf("goes %+v, stays %+v: want the %d rows of dp_default going", s.Goes, s.Stays, inDefault)
	}
	f := strings.Join(s.Findings, "\n")
	if !strings.Contains(f, "does not return it to the filesystem") || !strings.Contains(f, "2 rows of public.audit reference stay") {
		t.Errorf("findings do not say the space is reuse-only and what audit holds:\n%s", f)
	}
	var del *Step
	for i, st := range plan.Steps {
		if st.Unit == "rows" {
			del = &plan.Steps[i]
		}
	}
	if del == nil || del.Target != `"public"."dp_default"` || *del.EstRows != inDefault || !del.Destructive ||
		!strings.Contains(strings.Join(del.Statements, " "), `FROM ONLY "public"."dp_default"`) {
		t.Fatalf("the DEFAULT partition's batched DELETE: %+v", del)
	}
	before = fingerprint(t, conn, "dp", cutoff)
	res, err := Run(context.Background(), dsn, pgSettings(), plan, Options{Confirmed: true, Policy: policy, BatchSize: 25}, func(Event) {})
	if err != nil || res.Outcome != OutcomeOK || res.Rows != inDefault-2 {
		t.Fatalf("run: %v %+v (want %d rows)", err, res, inDefault-2)
	}
	if n := count(t, conn, fmt.Sprintf("SELECT count(*) FROM dp WHERE ts < '%s'", cutoff.Format(time.RFC3339Nano))); n != 2 {
		t.Errorf("%d rows past the cutoff left, want the 2 audit references", n)
	}
	if after := fingerprint(t, conn, "dp", cutoff); after != before {
		t.Errorf("rows newer than the cutoff: %v before, %v after", before, after)
	}
}

// A partition straddling the cutoff stays whole; its rows past the cutoff
// are counted and the plan says when it goes.
func TestStraddlingPartitionIsReportedAndKept(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	conn := connect(t, dsn)
	dailyFeed(t, conn, -10, 1, "current_date - 10, current_date + interval '12 hours'")
	policy := config.Policy{Tables: []config.TablePolicy{{Name: "feed", TimeColumn: "ts", RetentionDays: 5}}}
	// The cutoff at noon: half of its day's partition is past it.
	cutoff := time.Now().UTC().Truncate(24 * time.Hour).Add(-5*24*time.Hour + 12*time.Hour)
	plan, err := PlanRetention(context.Background(), conn, policy, "feed", RetentionOptions{Cutoff: &cutoff})
	if err != nil {
		t.Fatal(err)
	}
	straddler := fmt.Sprintf("feed_%d", 100-5)
	var past int64
	pgtest.QueryRow(t, conn, fmt.Sprintf("SELECT count(*) FROM %s WHERE ts < $1", straddler), cutoff).Scan(&past)
	if past != 12 {
		t.Fatalf("%s has %d rows past the cutoff, the test wants 12", straddler, past)
	}
	s := summaryOf(t, plan, "public.feed")
	f := strings.Join(s.Findings, "\n")
	if !strings.Contains(f, fmt.Sprintf("12 rows past retention stay in public.%s, which straddles the cutoff", straddler)) || !strings.Contains(f, "goes whole at the first run after") {
		t.Errorf("findings:\n%s", f)
	}
	if s.Stays.RowsPastCutoff == nil || *s.Stays.RowsPastCutoff != 12 {
		t.Errorf("stays %+v: want 12 rows past the cutoff", s.Stays)
	}
	for _, st := range plan.Steps {
		if strings.Contains(st.Target, straddler) {
			t.Errorf("a step on the straddling partition: %s", st.Title)
		}
	}
	if res := runPlan(t, dsn, plan, policy); res.Outcome != OutcomeOK {
		t.Fatalf("run: %+v", res)
	}
	if n := count(t, conn, "SELECT count(*) FROM "+straddler); n != 24 {
		t.Errorf("%s has %d rows after the run, had 24", straddler, n)
	}
}

// A hypertable's chunk straddling the cutoff: its rows past it are
// counted and said to stay; the chunk is left whole.
func TestStraddlingChunkIsReported(t *testing.T) {
	pgtest.RequireTimescale(t)
	dsn := pgtest.NewDatabase(t)
	conn := connect(t, dsn)
	exec(t, conn, `CREATE EXTENSION timescaledb;
		CREATE TABLE m (time timestamptz NOT NULL, v int);
		SELECT create_hypertable('m', 'time', chunk_time_interval => interval '1 day');
		INSERT INTO m SELECT g, 1 FROM generate_series(date_trunc('day', now()) - interval '20 days', now(), interval '1 hour') g;
		ALTER TABLE m SET (timescaledb.compress);
		SELECT compress_chunk(c) FROM show_chunks('m', older_than => interval '8 days') c`)
	cutoff := time.Now().UTC().Truncate(24 * time.Hour).Add(-10*24*time.Hour + 6*time.Hour)
	policy := config.Policy{Tables: []config.TablePolicy{{Name: "m", TimeColumn: "time", RetentionDays: 10}}}
	plan, err := PlanRetention(context.Background(), conn, policy, "m", RetentionOptions{Cutoff: &cutoff})
	if err != nil {
		t.Fatal(err)
	}
	s := summaryOf(t, plan, "public.m")
	f := strings.Join(s.Findings, "\n")
	if !strings.Contains(f, "6 rows past retention stay in chunk") || !strings.Contains(f, "straddles the cutoff") {
		t.Errorf("findings:\n%s", f)
	}
	if s.Stays.RowsPastCutoff == nil || *s.Stays.RowsPastCutoff != 6 {
		t.Errorf("stays %+v: want 6 rows past the cutoff", s.Stays)
	}
	if res := runPlan(t, dsn, plan, policy); res.Outcome != OutcomeOK {
		t.Fatalf("run: %+v", res)
	}
	if n := pgtest.Count(t, conn, "SELECT count(*) FROM m WHERE time < $1", cutoff); n != 6 {
		t.Errorf("%d rows past the cutoff after the run, want the straddling chunk's 6", n)
	}
}

// inheritedTree makes a legacy inheritance parent, ticks (id, ts, pad),
// with rows of its own and children, one row an hour:
//   - ticks_y1, ticks_y2: CHECK constraints that put them wholly past a
//     30-day cutoff (one with BETWEEN): dropped;
//   - ticks_viewed: the same, but a view depends on it: batched;
//   - ticks_nochk: as old, no CHECK: never dropped (no proof), batched;
//   - ticks_nulls: wholly old by its CHECK, but it holds a row without a
//     time (the column is nullable): batched, that row kept;
//   - ticks_mid: a CHECK range straddling the cutoff: batched;
//   - ticks_new: a CHECK range wholly newer: untouched;
//   - refs (RESTRICT) references two old rows of ticks_mid.
func inheritedTree(t *testing.T, conn *pgx.Conn) {
	t.Helper()
	exec(t, conn, `CREATE TABLE ticks (id int NOT NULL, ts timestamptz, pad text); -- nullable: see ticks_nulls
		DO $$
		DECLARE d timestamptz := date_trunc('day', now());
		BEGIN
		  EXECUTE format('CREATE TABLE ticks_y1 (CHECK (ts >= %L AND ts < %L)) INHERITS (ticks)', d - interval '60 days', d - interval '50 days');
		  EXECUTE format('CREATE TABLE ticks_y2 (CHECK (ts BETWEEN %L AND %L)) INHERITS (ticks)', d - interval '50 days', d - interval '45 days');
		  EXECUTE format('CREATE TABLE ticks_viewed (CHECK (%L > ts)) INHERITS (ticks)', d - interval '40 days');
		  EXECUTE format('CREATE TABLE ticks_mid (CHECK (ts >= %L AND ts < %L)) INHERITS (ticks)', d - interval '40 days', d - interval '20 days');
		  EXECUTE format('CREATE TABLE ticks_new (CHECK (ts >= %L)) INHERITS (ticks)', d - interval '20 days');
		END $$;
		CREATE TABLE ticks_nochk () INHERITS (ticks);
		DO $$ BEGIN EXECUTE format('CREATE TABLE ticks_nulls (CHECK (ts < %L)) INHERITS (ticks)', date_trunc('day', now()) - interval '40 days'); END $$;
		CREATE VIEW old_ticks AS SELECT * FROM ticks_viewed;
		DO $$
		DECLARE d timestamptz := date_trunc('day', now());
		BEGIN
		  INSERT INTO ticks_y1 SELECT g, d - interval '60 days' + g * interval '1 hour', repeat('y', 100) FROM generate_series(0, 239) g;
		  INSERT INTO ticks_y2 SELECT 1000 + g, d - interval '50 days' + g * interval '1 hour', repeat('y', 100) FROM generate_series(0, 120) g;
		  INSERT INTO ticks_viewed SELECT 2000 + g, d - interval '45 days' + g * interval '1 hour', 'v' FROM generate_series(0, 119) g;
		  INSERT INTO ticks_nochk SELECT 3000 + g, d - interval '45 days' + g * interval '1 hour', 'n' FROM generate_series(0, 119) g;
		  INSERT INTO ticks_nulls SELECT 4000 + g, d - interval '45 days' + g * interval '1 hour', 'z' FROM generate_series(0, 119) g;
		  INSERT INTO ticks_nulls VALUES (4999, NULL, 'no time');
		  INSERT INTO ticks_mid SELECT 5000 + g, d - interval '40 days' + g * interval '1 hour', 'm' FROM generate_series(0, 479) g;
		  INSERT INTO ticks_new SELECT 6000 + g, d - interval '20 days' + g * interval '1 hour', 'w' FROM generate_series(0, 490) g;
		  INSERT INTO ticks SELECT 7000 + g, d - interval '40 days' + g * interval '2 hours', 'p' FROM generate_series(0, 479) g;
		END $$;
		CREATE UNIQUE INDEX ON ticks_mid (id, ts);
		CREATE TABLE refs (tick_id int, tick_ts timestamptz, FOREIGN KEY (tick_id, tick_ts) REFERENCES ticks_mid (id, ts) ON DELETE RESTRICT);
		INSERT INTO refs SELECT id, ts FROM ticks_mid ORDER BY ts LIMIT 2;
		CREATE INDEX ON ticks (ts); CREATE INDEX ON ticks_y1 (ts); CREATE INDEX ON ticks_mid (ts);
		ANALYZE`)
}

// An inheritance parent is counted with its children (sizes exact), and
// its retention drops the children proven wholly past the cutoff and
// deletes, child by child, the older rows of the others and its own: no
// row newer than the cutoff is touched, none older stays but those a
// reference or a missing time holds.
func TestInheritedRetention(t *testing.T) {
	dsn, conn := fkDatabase(t, "plain")
	inheritedTree(t, conn)
	policy := config.Policy{Tables: []config.TablePolicy{{Name: "ticks", TimeColumn: "ts", RetentionDays: 30}}}

	r, err := report.Collect(context.Background(), conn, policy)
	if err != nil {
		t.Fatal(err)
	}
	var tb *report.Table
	for i := range r.Tables {
		if r.Tables[i].Name == "ticks" {
			tb = &r.Tables[i]
		}
		if strings.HasPrefix(r.Tables[i].Name, "ticks_") {
			t.Errorf("child %s reported as a table of its own", r.Tables[i].Name)
		}
	}
	if tb == nil || tb.Kind == nil || *tb.Kind != report.KindInherited || tb.TotalBytes == nil || tb.Chunks != 7 {
		t.Fatalf("ticks in the report: %+v", tb)
	}
	if want := pgtest.MeasureTable(t, conn, "public", "ticks", report.KindInherited); *tb.TotalBytes != want.Total || *tb.IndexBytes != want.Index {
		t.Errorf("ticks: report %d bytes (%d of indexes), catalog %+v", *tb.TotalBytes, *tb.IndexBytes, want)
	}

	plan, err := planOf(t, conn, policy, "ticks")
	if err != nil {
		t.Fatal(err)
	}
	cutoff := plan.Created.Add(-30 * 24 * time.Hour)
	dropped, deleted := map[string]bool{}, map[string]bool{}
	for _, st := range plan.Steps {
		switch {
		case strings.HasPrefix(st.Title, "drop inheritance child"):
			dropped[st.Target] = true
		case st.Unit == "rows":
			deleted[st.Target] = true
			if !strings.Contains(strings.Join(st.Statements, " "), "FROM ONLY "+st.Target) {
				t.Errorf("%s: not FROM ONLY the relation: %v", st.Title, st.Statements)
			}
		}
	}
	q := func(n string) string { return `"public"."` + n + `"` }
	for _, n := range []string{"ticks_y1", "ticks_y2"} {
		if !dropped[q(n)] {
			t.Errorf("%s (wholly past the cutoff by its CHECK) is not dropped", n)
		}
	}
	for _, n := range []string{"ticks", "ticks_viewed", "ticks_nochk", "ticks_nulls", "ticks_mid"} {
		if !deleted[q(n)] || dropped[q(n)] {
			t.Errorf("%s: deleted in batches %v, dropped %v; want batches only", n, deleted[q(n)], dropped[q(n)])
		}
	}
	if dropped[q("ticks_new")] || deleted[q("ticks_new")] {
		t.Error("ticks_new (wholly newer) is touched")
	}
	f := strings.Join(summaryOf(t, plan, "public.ticks").Findings, "\n")
	for _, want := range []string{"public.ticks_viewed is wholly past the cutoff", "view old_ticks", "2 rows of public.refs reference stay", "does not return it to the filesystem",
		"public.ticks_nochk holds only rows past the cutoff, but no CHECK constraint on ts proves it", "public.ticks_nulls's CHECK constraints put it past the cutoff, but it holds rows without a time"} {
		if !strings.Contains(f, want) {
			t.Errorf("findings lack %q:\n%s", want, f)
		}
	}

	before := fingerprint(t, conn, "ticks", cutoff)
	res, err := Run(context.Background(), dsn, pgSettings(), plan, Options{Confirmed: true, Policy: policy, BatchSize: 50}, func(Event) {})
	if err != nil || res.Outcome != OutcomeOK {
		t.Fatalf("run: %v %+v", err, res)
	}
	if after := fingerprint(t, conn, "ticks", cutoff); after != before {
		t.Errorf("rows newer than the cutoff: %v before, %v after", before, after)
	}
	var exist []string
	pgtest.QueryRow(t, conn, `SELECT array_agg(c.relname::text ORDER BY c.relname) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'ticks'::regclass`).Scan(&exist)
	if strings.Join(exist, " ") != "ticks_mid ticks_new ticks_nochk ticks_nulls ticks_viewed" {
		t.Errorf("children after the run: %v", exist)
	}
	// Left past the cutoff: the two rows refs references.
	if n := pgtest.Count(t, conn, "SELECT count(*) FROM ticks WHERE ts < $1", cutoff); n != 2 {
		t.Errorf("%d rows older than the cutoff left, want refs' 2", n)
	}
	if n := count(t, conn, "SELECT count(*) FROM ticks_nulls WHERE ts IS NULL"); n != 1 {
		t.Errorf("the row without a time: %d left", n)
	}
}

// The run proves a child's range again under its lock: a CHECK dropped
// since the plan stops the drop (nothing dropped); a child someone made
// another table's child meanwhile is left alone.
func TestInheritedChildDropIsProvedAgain(t *testing.T) {
	dsn, conn := fkDatabase(t, "plain")
	inheritedTree(t, conn)
	policy := config.Policy{Tables: []config.TablePolicy{{Name: "ticks", TimeColumn: "ts", RetentionDays: 30}}}
	plan, err := planOf(t, conn, policy, "ticks")
	if err != nil {
		t.Fatal(err)
	}
	exec(t, conn, `ALTER TABLE ticks_y1 DROP CONSTRAINT ticks_y1_ts_check; INSERT INTO ticks_y1 VALUES (9999, now(), 'new')`)
	exec(t, conn, `ALTER TABLE ticks_y2 NO INHERIT ticks; CREATE TABLE other (id int NOT NULL, ts timestamptz, pad text); ALTER TABLE ticks_y2 INHERIT other`)
	res, err := Run(context.Background(), dsn, pgSettings(), plan, Options{Confirmed: true, Policy: policy}, func(Event) {})
	if err != nil || res.Outcome != OutcomeFailed {
		t.Fatalf("run: %v %+v", err, res)
	}
	if !strings.Contains(strings.Join(res.Failed, "\n"), "can no longer be proven wholly older than the cutoff") {
		t.Errorf("failed: %v", res.Failed)
	}
	if !strings.Contains(strings.Join(res.Skipped, "\n"), "is no longer a child of public.ticks") {
		t.Errorf("skipped: %v", res.Skipped)
	}
	if n := count(t, conn, "SELECT count(*) FROM ticks_y1 WHERE id = 9999") + count(t, conn, "SELECT count(*) FROM ticks_y2"); n != 1+121 {
		t.Errorf("ticks_y1's new row and ticks_y2's rows: %d of %d left", n, 1+121)
	}
}

// An inheritance tree of timestamp (without time zone) columns in a
// database west of UTC: children are proven and cut in the table's zone,
// so every row inside the local window stays and none older is left.
func TestInheritedRetentionInLocalTime(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	admin := connect(t, dsn)
	var db string
	pgtest.QueryRow(t, admin, "SELECT current_database()").Scan(&db)
	exec(t, admin, fmt.Sprintf(`ALTER DATABASE %s SET timezone = 'America/New_York'`, pgx.Identifier{db}.Sanitize()))
	app := connect(t, dsn)
	exec(t, app, `CREATE TABLE lt (id int NOT NULL, ts timestamp NOT NULL);
		DO $$
		DECLARE d timestamp := date_trunc('day', localtimestamp);
		BEGIN
		  EXECUTE format('CREATE TABLE lt_old (CHECK (ts < %L)) INHERITS (lt)', d - interval '10 days');
		  EXECUTE format('CREATE TABLE lt_new (CHECK (ts >= %L)) INHERITS (lt)', d - interval '10 days');
		  INSERT INTO lt_old SELECT g, d - interval '20 days' + g * interval '1 hour' FROM generate_series(0, 239) g;
		  INSERT INTO lt_new SELECT 1000 + g, d - interval '10 days' + g * interval '1 hour' FROM generate_series(0, 239) g;
		END $$`)
	policy := config.Policy{Tables: []config.TablePolicy{{Name: "lt", TimeColumn: "ts", RetentionDays: 5}}}
	conn, err := pg.Connect(context.Background(), dsn, pg.Settings{}) // pgtend's session: in UTC, the database's zone noted
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	plan, err := PlanRetention(context.Background(), conn, policy, "lt", RetentionOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cutoff := plan.Created.Add(-5 * 24 * time.Hour)
	inside := func() int64 {
		return pgtest.Count(t, app, "SELECT count(*) FROM lt WHERE ts >= ($1::timestamptz AT TIME ZONE current_setting('TimeZone'))", cutoff)
	}
	want := inside()
	var droppedOld bool
	for _, st := range plan.Steps {
		droppedOld = droppedOld || st.Target == `"public"."lt_old"` && strings.HasPrefix(st.Title, "drop")
	}
	if !droppedOld {
		t.Errorf("lt_old (wholly past in local time) is not dropped: %+v", plan.Steps)
	}
	if res := runPlan(t, dsn, plan, policy); res.Outcome != OutcomeOK {
		t.Fatalf("run: %+v", res)
	}
	if got := inside(); got != want {
		t.Errorf("%d rows inside the local window before, %d after", want, got)
	}
	if n := pgtest.Count(t, app, "SELECT count(*) FROM lt WHERE ts < ($1::timestamptz AT TIME ZONE current_setting('TimeZone'))", cutoff); n != 0 {
		t.Errorf("%d rows older than the local cutoff left", n)
	}
}

func pgSettings() pg.Settings { return pg.Settings{} }
