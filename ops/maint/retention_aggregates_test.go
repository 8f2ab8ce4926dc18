package maint

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pgtend/pgtend/ops/config"
	"github.com/pgtend/pgtend/ops/pgtest"
	"github.com/pgtend/pgtend/ops/report"
)

// seedAggregate makes ticks (60 days, daily chunks) with a continuous
// aggregate ticks_hourly refreshed over the last 14 days by a policy the
// background scheduler leaves alone (its first start is a day ahead), and
// a plain materialized view. It returns the refresh job's id.
func seedAggregate(t *testing.T, conn *pgx.Conn) int64 {
	t.Helper()
	exec(t, conn, `CREATE EXTENSION timescaledb;
		CREATE TABLE ticks (ts timestamptz NOT NULL, sym text, px double precision);
		SELECT create_hypertable('ticks', 'ts', chunk_time_interval => interval '1 day');
		INSERT INTO ticks SELECT g, 's' || (extract(epoch FROM g)::bigint % 5), random()
		  FROM generate_series(now() - interval '60 days', now(), interval '5 minutes') g;
		CREATE MATERIALIZED VIEW ticks_hourly WITH (timescaledb.continuous) AS
		  SELECT time_bucket('1 hour', ts) AS bucket, sym, avg(px) AS px FROM ticks GROUP BY 1, 2 WITH NO DATA;
		CREATE MATERIALIZED VIEW ticks_by_sym AS SELECT sym, min(ts) AS first, count(*) FROM ticks GROUP BY sym;`)
	exec(t, conn, `CALL refresh_continuous_aggregate('ticks_hourly', NULL, NULL)`)
	var job int64
	pgtest.QueryRow(t, conn, `SELECT add_continuous_aggregate_policy('ticks_hourly', start_offset => interval '14 days', end_offset => interval '1 hour',
		schedule_interval => interval '1 hour', initial_start => now() + interval '1 day')`).Scan(&job)
	exec(t, conn, `ANALYZE`)
	return job
}

// A retention plan on a hypertable lists its continuous aggregates, and
// warns, with the numbers and the fix, when the cutoff is inside one's
// refresh window — not otherwise.
func TestRetentionWarnsInsideARefreshWindow(t *testing.T) {
	pgtest.RequireTimescale(t)
	conn := connect(t, pgtest.NewDatabase(t))
	seedAggregate(t, conn)
	plan := func(days int, more ...config.TablePolicy) TableSummary {
		t.Helper()
		p, err := PlanRetention(context.Background(), conn, config.Policy{Tables: append([]config.TablePolicy{{Name: "ticks", RetentionDays: days}}, more...)}, "ticks", RetentionOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Tables) != 1 || len(p.Steps) != 1 {
			t.Fatalf("%d days: plan %+v", days, p)
		}
		return p.Tables[0]
	}
	outside := plan(30)
	if len(outside.Aggregates) != 1 || outside.Aggregates[0].Aggregate != "public.ticks_hourly" || outside.Aggregates[0].InsideWindow ||
		outside.Aggregates[0].WindowStart == nil || !outside.Aggregates[0].Refreshed {
		t.Errorf("30 days: aggregates %+v", outside.Aggregates)
	}
	if f := strings.Join(outside.Findings, "\n"); strings.Contains(f, "WARNING") || !strings.Contains(f, "public.ticks_hourly aggregates public.ticks") {
		t.Errorf("30 days, outside the 14-day window: findings %q", f)
	}
	// Inside the window of an aggregate that keeps its buckets (no
	// retention of its own, or a longer one, or permanent): its next
	// refresh would delete buckets the policy keeps. Refused.
	for _, agg := range []config.TablePolicy{{Name: "ticks_hourly"}, {Name: "ticks_hourly", RetentionDays: 20}, {Name: "ticks_hourly", Permanent: true}} {
		_, err := PlanRetention(context.Background(), conn, config.Policy{Tables: []config.TablePolicy{{Name: "ticks", RetentionDays: 10}, agg}}, "ticks", RetentionOptions{})
		if err == nil || !strings.Contains(err.Error(), "is inside the refresh window of public.ticks_hourly, whose next refresh would delete its buckets") ||
			!strings.Contains(err.Error(), "refusing") {
			t.Errorf("10 days, the aggregate keeping its buckets (%+v): %v", agg, err)
		}
	}
	// An aggregate whose own retention (5 days) drops those buckets first
	// loses nothing there: a warning.
	inside := plan(10, config.TablePolicy{Name: "ticks_hourly", RetentionDays: 5})
	if len(inside.Aggregates) != 1 || !inside.Aggregates[0].InsideWindow {
		t.Errorf("10 days: aggregates %+v", inside.Aggregates)
	}
	f := strings.Join(inside.Findings, "\n")
	for _, want := range []string{"WARNING: the cutoff", "inside the refresh window of public.ticks_hourly", "start_offset 14 days", "4 days after it",
		"Fix: keep public.ticks longer than 14 days", "a start_offset shorter than 10 days"} {
		if !strings.Contains(f, want) {
			t.Errorf("10 days, inside the window: findings lack %q:\n%s", want, f)
		}
	}
	// The aggregate's own retention inside its own window: the next
	// refresh would compute the dropped buckets again.
	own := func(days int) string {
		t.Helper()
		p, err := PlanRetention(context.Background(), conn, config.Policy{Tables: []config.TablePolicy{{Name: "ticks_hourly", RetentionDays: days}}}, "ticks_hourly", RetentionOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return strings.Join(p.Tables[0].Findings, "\n")
	}
	if f := own(10); !strings.Contains(f, "WARNING: the cutoff") || !strings.Contains(f, "inside public.ticks_hourly's own refresh window") ||
		!strings.Contains(f, "a retention longer than 14 days for public.ticks_hourly, or a start_offset shorter than 10 days") {
		t.Errorf("the aggregate's 10 days inside its 14-day window: %s", f)
	}
	if f := own(20); strings.Contains(f, "WARNING") {
		t.Errorf("the aggregate's 20 days outside its 14-day window: %s", f)
	}
	// Compression is refused with what to do instead.
	for table, want := range map[string]string{"ticks_hourly": "is a continuous aggregate: pgtend does not compress its chunks", "ticks_by_sym": "is a materialized view"} {
		p, err := PlanCompress(context.Background(), conn, config.Policy{}, table)
		if err != nil || len(p.Refused) != 1 || !strings.Contains(p.Refused[0].Reason, want) || len(p.Steps) != 0 {
			t.Errorf("compress %s: %v %+v", table, err, p)
		}
	}
}

// Retention on the aggregate itself goes plan → run and drops only its
// own chunks past its cutoff: the raw hypertable keeps every chunk.
func TestRetentionOfAContinuousAggregate(t *testing.T) {
	pgtest.RequireTimescale(t)
	dsn := pgtest.NewDatabase(t)
	conn := connect(t, dsn)
	job := seedAggregate(t, conn)
	policy := config.Policy{Connection: config.DefaultConnection, Tables: []config.TablePolicy{
		{Name: "ticks_hourly", RetentionDays: 25}, {Name: "ticks_by_sym", RetentionDays: 25}}}
	count := func(sql string) int64 { return pgtest.Count(t, conn, sql) }
	raw := count(`SELECT count(*) FROM show_chunks('ticks')`)
	rawRows := count(`SELECT count(*) FROM ticks`)
	aggChunks := count(`SELECT count(*) FROM show_chunks('ticks_hourly')`)

	p, err := PlanRetention(context.Background(), conn, policy, "", RetentionOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Refused) != 1 || p.Refused[0].Table != "public.ticks_by_sym" || !strings.Contains(p.Refused[0].Reason, "is a materialized view") {
		t.Errorf("refused %+v, want the materialized view", p.Refused)
	}
	if len(p.Steps) != 1 || !strings.Contains(p.Steps[0].Statements[0], `drop_chunks('"public"."ticks_hourly"'`) || p.Tables[0].Kind != report.KindContinuousAggregate {
		t.Fatalf("plan: %v %v", stepTitles(p), p.Steps)
	}
	cutoff := p.Created.Add(-25 * 24 * time.Hour)
	planned := int64(len(p.Steps[0].Affected))
	if planned == 0 || planned >= aggChunks {
		t.Fatalf("%d of %d chunks planned", planned, aggChunks)
	}
	for _, a := range p.Steps[0].Affected {
		if a.To == nil || a.To.After(cutoff) || !strings.Contains(a.Name, "_timescaledb_internal") {
			t.Errorf("affected %s up to %v, cutoff %v", a.Name, a.To, cutoff)
		}
	}
	res, _ := runSchedulePlan(t, dsn, p, policy)
	if res.Outcome != OutcomeOK {
		t.Fatalf("run: %s %v", res.Outcome, res.Failed)
	}
	if n := count(`SELECT count(*) FROM show_chunks('ticks_hourly')`); n != aggChunks-planned {
		t.Errorf("ticks_hourly has %d chunks, want %d - %d", n, aggChunks, planned)
	}
	if n := pgtest.Count(t, conn, `SELECT count(*) FROM show_chunks('ticks_hourly', older_than => $1::timestamptz)`, cutoff); n != 0 {
		t.Errorf("%d chunks of ticks_hourly older than the cutoff remain", n)
	}
	if n, rows := count(`SELECT count(*) FROM show_chunks('ticks')`), count(`SELECT count(*) FROM ticks`); n != raw || rows != rawRows {
		t.Errorf("ticks: %d chunks and %d rows, had %d and %d", n, rows, raw, rawRows)
	}
	if n := count(`SELECT count(*) FROM ticks_hourly WHERE bucket >= now() - interval '10 days'`); n == 0 {
		t.Error("ticks_hourly lost its recent buckets")
	}

	// Its refresh, run now (CALL run_job), is its last refresh in the report.
	a, _ := Default().Action("jobs")
	jp, err := a.Plan(WithFlags(context.Background(), Flags{FlagJob: idText(job)}), conn, policy, "")
	if err != nil {
		t.Fatal(err)
	}
	if res, _ := runSchedulePlan(t, dsn, jp, policy); res.Outcome != OutcomeOK {
		t.Fatalf("run_job: %s %v", res.Outcome, res.Failed)
	}
	r, err := report.Collect(context.Background(), conn, policy)
	if err != nil {
		t.Fatal(err)
	}
	for _, tb := range r.Tables {
		if tb.Name != "ticks_hourly" {
			continue
		}
		if p := tb.Aggregate.Refresh; p == nil || p.JobID != job || p.LastRun == nil || p.LastStatus != "succeeded" || p.LastSuccess == nil {
			t.Errorf("refresh policy after its run: %+v", p)
		}
		return
	}
	t.Fatal("ticks_hourly not in the report")
}
