package maint

import (
	"context"
	"strings"
	"testing"

	"github.com/pgtend/pgtend/ops/config"
	"github.com/pgtend/pgtend/ops/pgtest"
	"github.com/pgtend/pgtend/ops/report"
)

// An integer-time hypertable is shown with its integer ranges; its
// retention is refused, with the reason, unless it has an integer_now
// function and the policy an integer_retention — then its whole chunks
// older than integer_now() − integer_retention go.
func TestRetentionOnIntegerTime(t *testing.T) {
	pgtest.RequireTimescale(t)
	dsn := pgtest.NewDatabase(t)
	conn := connect(t, dsn)
	exec(t, conn, `CREATE EXTENSION timescaledb;
		CREATE TABLE seq_ticks (n bigint NOT NULL, v int);
		SELECT create_hypertable('seq_ticks', 'n', chunk_time_interval => 100);
		INSERT INTO seq_ticks SELECT g, 1 FROM generate_series(0, 999) g;
		CREATE FUNCTION seq_now() RETURNS bigint LANGUAGE sql STABLE AS $$ SELECT 1000::bigint $$;
		ANALYZE;`)
	ctx := context.Background()
	plan := func(p config.TablePolicy) (*Plan, error) {
		return PlanRetention(ctx, conn, config.Policy{Connection: config.DefaultConnection, Tables: []config.TablePolicy{p}}, "seq_ticks", RetentionOptions{})
	}
	if _, err := plan(config.TablePolicy{Name: "seq_ticks", IntegerRetention: 350}); err == nil || !strings.Contains(err.Error(), "has no integer_now function") {
		t.Errorf("without integer_now: %v", err)
	}
	exec(t, conn, `SELECT set_integer_now_func('seq_ticks', 'seq_now')`)
	if _, err := plan(config.TablePolicy{Name: "seq_ticks", RetentionDays: 30}); err == nil || !strings.Contains(err.Error(), "a retention in days does not apply") {
		t.Errorf("a retention in days: %v", err)
	}
	policy := config.Policy{Connection: config.DefaultConnection, Tables: []config.TablePolicy{{Name: "seq_ticks", IntegerRetention: 350}}}
	r, err := report.Collect(ctx, conn, policy)
	if err != nil {
		t.Fatal(err)
	}
	var tb report.Table
	for _, x := range r.Tables {
		if x.Name == "seq_ticks" {
			tb = x
		}
	}
	it := tb.IntegerTime
	if it == nil || it.ColumnType != "bigint" || it.IntegerNow == nil || *it.IntegerNow != "public.seq_now" || it.Now == nil || *it.Now != 1000 ||
		it.Oldest == nil || *it.Oldest != 0 || it.Cutoff == nil || *it.Cutoff != 650 {
		t.Fatalf("integer time: %+v", it)
	}
	expired := 0
	for _, c := range r.Chunks {
		if c.Table != "seq_ticks" {
			continue
		}
		if c.RangeStartInteger == nil || c.RangeEndInteger == nil || c.RangeStart != nil {
			t.Errorf("chunk %s: ranges %v %v %v", c.Chunk, c.RangeStartInteger, c.RangeEndInteger, c.RangeStart)
		}
		if c.Expired {
			expired++
		}
	}
	if expired != 6 || tb.ExpiredBytes == nil || *tb.ExpiredBytes == 0 {
		t.Errorf("%d chunks past 650, %v bytes", expired, tb.ExpiredBytes)
	}
	p, err := plan(config.TablePolicy{Name: "seq_ticks", IntegerRetention: 350})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Steps) != 1 || len(p.Steps[0].Affected) != 6 || !strings.Contains(p.Steps[0].Statements[0], "older_than => 650::bigint") ||
		!strings.Contains(p.Steps[0].Title, "older than 650 (public.seq_now() = 1000, less integer_retention 350)") {
		t.Fatalf("plan: %v %v", stepTitles(p), p.Steps)
	}
	if res, _ := runSchedulePlan(t, dsn, p, policy); res.Outcome != OutcomeOK {
		t.Fatalf("run: %s %v", res.Outcome, res.Failed)
	}
	if n, low := pgtest.Count(t, conn, `SELECT count(*) FROM show_chunks('seq_ticks')`), pgtest.Count(t, conn, `SELECT min(n) FROM seq_ticks`); n != 4 || low != 600 {
		t.Errorf("after the run: %d chunks, oldest %d; want 4 from 600", n, low)
	}
}

// An integer-time hypertable feeding a continuous aggregate that keeps its
// buckets: pgtend cannot read an integer refresh window, so it refuses
// rather than let the next refresh delete them; with a retention of the
// aggregate's own, the source is planned.
func TestIntegerRetentionWithAnAggregateThatKeepsItsBuckets(t *testing.T) {
	pgtest.RequireTimescale(t)
	conn := connect(t, pgtest.NewDatabase(t))
	exec(t, conn, `CREATE EXTENSION timescaledb;
		CREATE TABLE seq_ticks (n bigint NOT NULL, v int);
		SELECT create_hypertable('seq_ticks', 'n', chunk_time_interval => 100);
		INSERT INTO seq_ticks SELECT g, 1 FROM generate_series(0, 999) g;
		CREATE FUNCTION seq_now() RETURNS bigint LANGUAGE sql STABLE AS $$ SELECT 1000::bigint $$;
		SELECT set_integer_now_func('seq_ticks', 'seq_now');
		CREATE MATERIALIZED VIEW seq_tens WITH (timescaledb.continuous) AS
		  SELECT time_bucket(10::bigint, n) AS b, sum(v) FROM seq_ticks GROUP BY 1 WITH NO DATA;
		ANALYZE;`)
	plan := func(agg config.TablePolicy) error {
		_, err := PlanRetention(context.Background(), conn, config.Policy{Connection: config.DefaultConnection,
			Tables: []config.TablePolicy{{Name: "seq_ticks", IntegerRetention: 350}, agg}}, "seq_ticks", RetentionOptions{})
		return err
	}
	if err := plan(config.TablePolicy{Name: "seq_tens"}); err == nil || !strings.Contains(err.Error(), "feeds the continuous aggregate public.seq_tens, which keeps its buckets") {
		t.Errorf("an aggregate without a retention: %v", err)
	}
	if err := plan(config.TablePolicy{Name: "seq_tens", IntegerRetention: 100}); err != nil {
		t.Errorf("an aggregate with a retention of its own: %v", err)
	}
}
