package maint

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pgtend/pgtend/ops/config"
	"github.com/pgtend/pgtend/ops/demo"
	"github.com/pgtend/pgtend/ops/pg"
	"github.com/pgtend/pgtend/ops/pgtest"
	"github.com/pgtend/pgtend/ops/state"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// connect and exec are the shared test helpers.
var connect, exec = pgtest.Connect, pgtest.Exec

// perDay counts rows per UTC day of a table's time column.
func perDay(t *testing.T, conn *pgx.Conn, table, col string) map[string]int64 {
	t.Helper()
	rows, err := conn.Query(context.Background(), "SELECT to_char("+col+" AT TIME ZONE 'UTC', 'YYYY-MM-DD'), count(*) FROM "+table+" GROUP BY 1")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int64{}
	for rows.Next() {
		var d string
		var n int64
		if err := rows.Scan(&d, &n); err != nil {
			t.Fatal(err)
		}
		out[d] = n
	}
	return out
}

type recorder struct {
	mu     sync.Mutex
	events []Event
}

func (r *recorder) emit(e Event) { r.mu.Lock(); r.events = append(r.events, e); r.mu.Unlock() }

func (r *recorder) count(k EventKind) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, e := range r.events {
		if e.Kind == k {
			n++
		}
	}
	return n
}

var retentionPolicy = config.Policy{Tables: []config.TablePolicy{
	{Name: "option_chain_snapshots", TimeColumn: "timestamp", RetentionDays: 20},
	{Name: "multi_resolution_bars", TimeColumn: "bar_time", RetentionDays: 30},
	{Name: "trade_history", Permanent: true},
	{Name: "events", TimeColumn: "ts", RetentionDays: 20},
}}

// checkRetention compares per-day counts: days wholly before the cutoff day
// are gone (or, for a plain table, every row before the cutoff), the rest
// intact.
func checkRetention(t *testing.T, before, after map[string]int64, cutoff time.Time, exactRows bool) {
	t.Helper()
	cutDay := cutoff.UTC().Format("2006-01-02")
	for day, n := range before {
		switch {
		case day < cutDay:
			if after[day] != 0 {
				t.Errorf("%s: %d rows left of %d (older than the cutoff %s)", day, after[day], n, cutoff)
			}
		case day > cutDay:
			if after[day] != n {
				t.Errorf("%s: %d rows, had %d (newer than the cutoff)", day, after[day], n)
			}
		case !exactRows: // the cutoff's own day lives in a chunk that is not wholly old
			if after[day] != n {
				t.Errorf("%s (cutoff day): %d rows, had %d", day, after[day], n)
			}
		}
	}
}

func TestRetentionOnChunkedTables(t *testing.T) {
	pgtest.EachMode(t, demo.Native, demo.Timescale, func(t *testing.T, mode demo.Mode) {
		dsn := pgtest.NewDatabase(t)
		conn := connect(t, dsn)
		if _, err := demo.Seed(context.Background(), conn, demo.Options{Days: 40, Mode: mode}); err != nil {
			t.Fatal(err)
		}
		before := perDay(t, conn, "option_chain_snapshots", `"timestamp"`)
		barsBefore := perDay(t, conn, "multi_resolution_bars", "bar_time")
		var trades int64
		pgtest.QueryRow(t, conn, "SELECT count(*) FROM trade_history").Scan(&trades)

		plan, err := PlanRetention(context.Background(), conn, retentionPolicy, "", RetentionOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if !plan.Destructive() || len(plan.Steps) == 0 {
			t.Fatalf("plan: %+v", plan)
		}
		perTable := map[string]int{}
		for _, s := range plan.Steps {
			perTable[s.Table]++
		}
		seen := map[string]int{}
		for _, s := range plan.Steps {
			seen[s.Table]++
			if s.Unit == "partitions" && !strings.HasSuffix(s.Title, fmt.Sprintf("(%d of %d)", seen[s.Table], perTable[s.Table])) {
				t.Errorf("step titled %q, want (%d of %d)", s.Title, seen[s.Table], perTable[s.Table])
			}
			if s.Table == `"public"."trade_history"` {
				t.Fatalf("plan touches the permanent table: %s", s.Title)
			}
			if s.EstBytes == nil || *s.EstBytes <= 0 || len(s.Statements) == 0 || s.Lock == "" || len(s.Affected) == 0 {
				t.Errorf("step %q lacks bytes, statements, lock or the chunks it removes", s.Title)
			}
			var sum int64
			for _, a := range s.Affected {
				if a.Bytes == nil || a.To == nil || !a.To.Before(plan.Created) {
					t.Errorf("step %q: affected %+v", s.Title, a)
				} else {
					sum += *a.Bytes
				}
			}
			if sum != *s.EstBytes {
				t.Errorf("step %q: affected chunks add up to %d bytes, the step says %d", s.Title, sum, *s.EstBytes)
			}
		}
		rec := &recorder{}
		res, err := Run(context.Background(), dsn, pg.Settings{}, plan, Options{Confirmed: true, Policy: retentionPolicy}, rec.emit)
		if err != nil || res.Outcome != OutcomeOK {
			t.Fatalf("run: %v %+v", err, res)
		}
		if rec.count(StepFinished) != len(plan.Steps) {
			t.Errorf("%d steps finished of %d", rec.count(StepFinished), len(plan.Steps))
		}
		for _, e := range rec.events {
			if e.Kind == StepFinished && e.Bytes != *plan.Steps[e.Step].EstBytes {
				t.Errorf("step %d finished with %d bytes, planned %d", e.Step, e.Bytes, *plan.Steps[e.Step].EstBytes)
			}
		}
		checkRetention(t, before, perDay(t, conn, "option_chain_snapshots", `"timestamp"`), plan.Created.Add(-20*24*time.Hour), false)
		checkRetention(t, barsBefore, perDay(t, conn, "multi_resolution_bars", "bar_time"), plan.Created.Add(-30*24*time.Hour), false)
		var tradesAfter int64
		pgtest.QueryRow(t, conn, "SELECT count(*) FROM trade_history").Scan(&tradesAfter)
		if tradesAfter != trades {
			t.Errorf("trade_history: %d rows, had %d", tradesAfter, trades)
		}
		if mode == demo.Timescale && res.BytesAfter >= res.BytesBefore {
			t.Errorf("dropping chunks returned no space: %d -> %d bytes", res.BytesBefore, res.BytesAfter)
		}
	})
}

func plainEvents(t *testing.T, conn *pgx.Conn, days int) {
	t.Helper()
	exec(t, conn, `CREATE TABLE events (id bigserial PRIMARY KEY, ts timestamptz NOT NULL, payload text);
		CREATE INDEX ON events (ts)`)
	exec(t, conn, `INSERT INTO events (ts, payload)
		SELECT now() - ($1 * interval '1 day') + g * interval '1 minute', md5(g::text)
		FROM generate_series(1, $1 * 1440 - 10) g`, days)
	exec(t, conn, "ANALYZE events")
}

func TestRetentionOnAPlainTableInBatches(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	conn := connect(t, dsn)
	plainEvents(t, conn, 30)
	before := perDay(t, conn, "events", "ts")
	plan, err := PlanRetention(context.Background(), conn, retentionPolicy, "events", RetentionOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Steps) != 2 || plan.Steps[0].EstRows == nil || plan.Steps[1].Destructive {
		t.Fatalf("want a batched DELETE then VACUUM ANALYZE: %+v", plan.Steps)
	}
	if !strings.Contains(strings.Join(plan.Remarks(), " "), "does not return it to the filesystem") {
		t.Errorf("the plan does not say DELETE keeps the disk space: %v", plan.Remarks())
	}
	cutoff := plan.Created.Add(-20 * 24 * time.Hour)
	var want int64
	pgtest.QueryRow(t, conn, "SELECT count(*) FROM events WHERE ts < $1", cutoff).Scan(&want)
	if *plan.Steps[0].EstRows != want {
		t.Errorf("plan says %d rows, %d are older", *plan.Steps[0].EstRows, want)
	}
	rec := &recorder{}
	res, err := Run(context.Background(), dsn, pg.Settings{}, plan, Options{Confirmed: true, Policy: retentionPolicy, BatchSize: 2000}, rec.emit)
	if err != nil || res.Outcome != OutcomeOK || res.Rows != want {
		t.Fatalf("run: %v %+v (want %d rows)", err, res, want)
	}
	if rec.count(Progress) < int(want/2000) {
		t.Errorf("%d progress events for %d batches", rec.count(Progress), want/2000)
	}
	after := perDay(t, conn, "events", "ts")
	var older int64
	pgtest.QueryRow(t, conn, "SELECT count(*) FROM events WHERE ts < $1", cutoff).Scan(&older)
	if older != 0 {
		t.Errorf("%d rows older than the cutoff left", older)
	}
	checkRetention(t, before, after, cutoff, true)
}

func TestRetentionRefusals(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	conn := connect(t, dsn)
	plainEvents(t, conn, 10)
	exec(t, conn, `CREATE TABLE trade_history (id int, executed_at timestamptz); INSERT INTO trade_history VALUES (1, now() - interval '400 days'), (2, now())`)
	exec(t, conn, `CREATE TABLE notime (id int); INSERT INTO notime VALUES (1)`)
	policy := config.Policy{Tables: []config.TablePolicy{
		{Name: "trade_history", Permanent: true},
		{Name: "events", TimeColumn: "ts", RetentionDays: 1},
		{Name: "notime", RetentionDays: 5},
	}}
	ctx := context.Background()
	for _, c := range []struct {
		table string
		o     RetentionOptions
		want  string
	}{
		{"trade_history", RetentionOptions{}, "permanent"},
		{"notime", RetentionOptions{}, "no time column"},
		{"events", RetentionOptions{Cutoff: ptr(time.Now().Add(time.Hour))}, "in the future"},
		{"events", RetentionOptions{Cutoff: ptr(time.Now().Add(-time.Minute))}, "refusing to delete everything"},
		{"nosuch", RetentionOptions{}, `no table "nosuch"`},
	} {
		_, err := PlanRetention(ctx, conn, policy, c.table, c.o)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err %v, want %q", c.table, err, c.want)
		}
	}
	// The whole policy: the permanent table is skipped with a note.
	plan, err := PlanRetention(ctx, conn, policy, "", RetentionOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(plan.Remarks(), "\n"), "trade_history is permanent") {
		t.Errorf("notes: %v", plan.Remarks())
	}
	// A plan that reaches a permanent table anyway is refused by Run itself.
	forged := &Plan{Action: "retention", Steps: []Step{{Title: "DELETE FROM trade_history", Destructive: true, Table: "public.trade_history",
		run: func(context.Context, *runner, int) (int64, error) { t.Fatal("ran"); return 0, nil }}}}
	if res, err := Run(ctx, dsn, pg.Settings{}, forged, Options{Confirmed: true, Policy: policy}, func(Event) {}); err == nil || !strings.Contains(err.Error(), "permanent") || res.Outcome != OutcomeFailed {
		t.Errorf("forged plan on a permanent table: %v, outcome %q", err, res.Outcome)
	}
	// The policy's name resolves as the report resolves it (search_path),
	// not by comparing text: "trade_history" is app.trade_history here.
	exec(t, conn, `CREATE SCHEMA app; CREATE TABLE app.trade_history (id int); DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET search_path = app', current_database()); END $$`)
	forged.Steps[0].Table = `"app"."trade_history"`
	if _, err := Run(ctx, dsn, pg.Settings{}, forged, Options{Confirmed: true, Policy: policy}, func(Event) {}); err == nil || !strings.Contains(err.Error(), "permanent") {
		t.Errorf("forged plan on the permanent table through search_path: %v", err)
	}
	if n := pgtest.Count(t, conn, "SELECT count(*) FROM trade_history"); n != 2 {
		t.Errorf("trade_history has %d rows", n)
	}
}

func ptr[T any](v T) *T { return &v }

// eventsRetention is a fresh database with 30 days of plain events and the
// plan removing what is past the policy's 20 days.
func eventsRetention(t *testing.T) (string, *pgx.Conn, *Plan) {
	t.Helper()
	dsn := pgtest.NewDatabase(t)
	conn := connect(t, dsn)
	plainEvents(t, conn, 30)
	plan, err := registryAction(t, "retention").Plan(context.Background(), conn, retentionPolicy, "events")
	if err != nil {
		t.Fatal(err)
	}
	return dsn, conn, plan
}

func TestReadOnlyRefusesEveryWrite(t *testing.T) {
	dsn, conn, plan := eventsRetention(t)
	var before int64
	pgtest.QueryRow(t, conn, "SELECT count(*) FROM events").Scan(&before)
	if _, err := Run(context.Background(), dsn, pg.Settings{}, plan, Options{Confirmed: true, ReadOnly: true, Policy: retentionPolicy}, func(Event) {}); !errors.Is(err, ErrReadOnly) {
		t.Errorf("--read-only: %v", err)
	}
	exec(t, conn, "CREATE ROLE reader LOGIN; GRANT ALL ON events TO reader; ALTER ROLE reader SET default_transaction_read_only = on")
	cfg, _ := pgx.ParseConfig(dsn)
	roDSN := strings.Replace(dsn, "pgtend@", "reader@", 1)
	if cfg.User != "pgtend" || roDSN == dsn {
		t.Fatalf("cannot derive the reader's DSN from %s", dsn)
	}
	if _, err := Run(context.Background(), roDSN, pg.Settings{}, plan, Options{Confirmed: true, Policy: retentionPolicy}, func(Event) {}); !errors.Is(err, ErrReadOnly) {
		t.Errorf("read-only role: %v", err)
	}
	var after int64
	pgtest.QueryRow(t, conn, "SELECT count(*) FROM events").Scan(&after)
	if after != before {
		t.Errorf("read-only runs deleted %d rows", before-after)
	}
}

func TestCancelMidDeleteIsConsistentAndResumable(t *testing.T) {
	dsn, conn, plan := eventsRetention(t)
	cutoff := plan.Created.Add(-20 * 24 * time.Hour)
	var oldBefore, newBefore int64
	pgtest.QueryRow(t, conn, "SELECT count(*) FILTER (WHERE ts < $1), count(*) FILTER (WHERE ts >= $1) FROM events", cutoff).Scan(&oldBefore, &newBefore)
	ctx, cancel := context.WithCancel(context.Background())
	rec := &recorder{}
	emit := func(e Event) {
		rec.emit(e)
		if e.Kind == Progress && e.Done >= 1000 {
			cancel()
		}
	}
	res, err := Run(ctx, dsn, pg.Settings{}, plan, Options{Confirmed: true, Policy: retentionPolicy, BatchSize: 500, BatchPause: 10 * time.Millisecond}, emit)
	if err != nil || res.Outcome != OutcomeCancelled {
		t.Fatalf("cancelled run: %v %+v", err, res)
	}
	var oldLeft, newLeft int64
	pgtest.QueryRow(t, conn, "SELECT count(*) FILTER (WHERE ts < $1), count(*) FILTER (WHERE ts >= $1) FROM events", cutoff).Scan(&oldLeft, &newLeft)
	if newLeft != newBefore || (oldBefore-oldLeft)%500 != 0 || oldLeft == 0 || oldLeft == oldBefore {
		t.Errorf("after cancel: %d of %d old rows left (whole batches of 500?), %d of %d new", oldLeft, oldBefore, newLeft, newBefore)
	}
	if res.Rows != oldBefore-oldLeft {
		t.Errorf("result says %d rows, %d went", res.Rows, oldBefore-oldLeft)
	}
	// The history says cancelled.
	hist := state.OpenHistory(t.TempDir(), "x")
	where, err := Record(context.Background(), conn, Entry(plan, res, nil, "db", "pgtend"), hist)
	if err != nil || where != "pgtend.history" {
		t.Fatalf("record: %v %s", err, where)
	}
	entries, err := History(context.Background(), conn, 10)
	if err != nil || len(entries) != 1 || entries[0].Outcome != OutcomeCancelled || entries[0].Rows != res.Rows || entries[0].Task != "retention_cleanup" {
		t.Fatalf("history: %v %+v", err, entries)
	}
	// Running again finishes the job.
	plan2, err := PlanRetention(context.Background(), conn, retentionPolicy, "events", RetentionOptions{Cutoff: &cutoff})
	if err != nil {
		t.Fatal(err)
	}
	res2, err := Run(context.Background(), dsn, pg.Settings{}, plan2, Options{Confirmed: true, Policy: retentionPolicy}, func(Event) {})
	if err != nil || res2.Outcome != OutcomeOK || res2.Rows != oldLeft {
		t.Fatalf("second run: %v %+v (want %d rows)", err, res2, oldLeft)
	}
}

func TestLockHolderIsNamedWithinTheTimeout(t *testing.T) {
	dsn, _, plan := eventsRetention(t)
	holder := connect(t, dsn)
	exec(t, holder, "SET application_name = 'nightly-etl'")
	exec(t, holder, "BEGIN; LOCK TABLE events IN ACCESS EXCLUSIVE MODE")
	start := time.Now()
	rec := &recorder{}
	res, err := Run(context.Background(), dsn, pg.Settings{}, plan, Options{Confirmed: true, Policy: retentionPolicy, LockTimeout: 300 * time.Millisecond, LockRetries: -1}, rec.emit)
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v with a 300 ms lock timeout", d)
	}
	if res.Outcome != OutcomeFailed || len(res.Failed) == 0 || !strings.Contains(res.Failed[0], "nightly-etl") || !strings.Contains(res.Failed[0], "AccessExclusiveLock") {
		t.Errorf("result %+v does not name the holder", res)
	}
	exec(t, holder, "ROLLBACK")
}

func TestVacuumChunkByChunk(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	conn := connect(t, dsn)
	if _, err := demo.Seed(context.Background(), conn, demo.Options{Days: 10, Mode: demo.Native}); err != nil {
		t.Fatal(err)
	}
	policy := config.Default().Policy
	plan, err := PlanVacuum(context.Background(), conn, policy, "option_chain_snapshots")
	if err != nil {
		t.Fatal(err)
	}
	if plan.Destructive() || len(plan.Steps) < 10 || !strings.Contains(plan.Steps[0].Title, "chunk 1 of") {
		t.Fatalf("plan: %d steps, first %q", len(plan.Steps), plan.Steps[0].Title)
	}
	rec := &recorder{}
	res, err := Run(context.Background(), dsn, pg.Settings{}, plan, Options{Confirmed: true, Policy: policy}, rec.emit)
	if err != nil || res.Outcome != OutcomeOK || rec.count(StepFinished) != len(plan.Steps) {
		t.Fatalf("vacuum: %v %+v", err, res)
	}
	var vacuumed int
	pgtest.QueryRow(t, conn, `SELECT count(*) FROM pg_stat_user_tables WHERE relname LIKE 'option_chain_snapshots_p%' AND last_vacuum IS NOT NULL`).Scan(&vacuumed)
	if vacuumed != len(plan.Steps) {
		t.Errorf("%d partitions vacuumed, plan had %d steps", vacuumed, len(plan.Steps))
	}
}

// registryAction is the default registry's action: plans made through it
// carry their action and task, as the commands' do.
func registryAction(t *testing.T, name string) Action {
	t.Helper()
	a, ok := Default().Action(name)
	if !ok {
		t.Fatalf("no action %q in the registry", name)
	}
	return a
}
