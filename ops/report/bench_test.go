package report

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pgtend/pgtend/ops/config"
	"github.com/pgtend/pgtend/ops/pgtest"
)

// The scale: 200 tables and 5,000 chunks. 25 chunked tables with 200
// daily chunks each, 175 plain tables; a policy over 6 of them.
const (
	benchChunked = 25
	benchPlain   = 175
	benchDays    = 200
)

var benchPolicy = config.Policy{Tables: []config.TablePolicy{
	{Name: "c01", RetentionDays: 90}, {Name: "c02", RetentionDays: 120}, {Name: "c03", RetentionDays: 60},
	{Name: "p001", RetentionDays: 30, TimeColumn: "ts"}, {Name: "p002", Permanent: true}, {Name: "missing_one", RetentionDays: 9},
}}

// benchCollect reports: "warm", the console's refresh on its long-lived
// connection; "estimate-cold", the console's first frame; "cold", `pgtend
// report` on a new connection as a superuser (sizes from the files); and
// "cold-size-functions", the same as a role that may not list files (the
// server opens every relation, building its relation cache for each).
func benchCollect(b *testing.B, setup string) {
	dsn := pgtest.NewDatabase(b)
	conn := connect(b, dsn)
	ctx := context.Background()
	start := time.Now()
	setup = strings.NewReplacer("{plain}", strconv.Itoa(benchPlain), "{chunked}", strconv.Itoa(benchChunked),
		"{last}", strconv.Itoa(benchDays-1)).Replace(setup)
	if _, err := conn.Exec(ctx, setup); err != nil {
		b.Fatal(err)
	}
	r := collect(b, conn, benchPolicy)
	b.Logf("set up %d tables, %d chunks in %v", len(r.Tables), len(r.Chunks), time.Since(start).Round(time.Second))
	if len(r.Tables) < benchChunked+benchPlain || len(r.Chunks) < benchChunked*benchDays {
		b.Fatalf("set-up made %d tables, %d chunks", len(r.Tables), len(r.Chunks))
	}
	b.Run("warm", func(b *testing.B) {
		for b.Loop() {
			if _, err := Collect(ctx, conn, benchPolicy); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("estimate-cold", func(b *testing.B) {
		for b.Loop() {
			c, err := pgx.Connect(ctx, dsn)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := Estimate(ctx, c, benchPolicy); err != nil {
				b.Fatal(err)
			}
			c.Close(ctx)
		}
	})
	coldAs := func(user, measuredBy string) func(b *testing.B) {
		return func(b *testing.B) {
			cfg, err := pgx.ParseConfig(dsn)
			if err != nil {
				b.Fatal(err)
			}
			if user != "" {
				cfg.User = user
			}
			for b.Loop() {
				c, err := pgx.ConnectConfig(ctx, cfg)
				if err != nil {
					b.Fatal(err)
				}
				r, err := Collect(ctx, c, benchPolicy)
				if err != nil {
					b.Fatal(err)
				}
				if r.MeasuredBy != measuredBy {
					b.Fatalf("measured by %s, want %s", r.MeasuredBy, measuredBy)
				}
				c.Close(ctx)
			}
		}
	}
	b.Run("cold", coldAs("", MeasuredByFiles))
	// A role that may not list files: the size functions.
	if _, err := conn.Exec(ctx, `DO $$ BEGIN CREATE ROLE bench_reader LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$`); err != nil {
		b.Fatal(err)
	}
	b.Run("cold-size-functions", coldAs("bench_reader", MeasuredBySizeFunctions))
}

const benchPlainTables = `
DO $$ BEGIN
  FOR i IN 1..{plain} LOOP
    EXECUTE format('CREATE TABLE %I (id bigserial PRIMARY KEY, ts timestamptz NOT NULL DEFAULT now(), v text)', 'p' || lpad(i::text, 3, '0'));
    EXECUTE format('INSERT INTO %I (ts, v) SELECT now() - g * interval ''1 hour'', md5(g::text) FROM generate_series(1, 50) g', 'p' || lpad(i::text, 3, '0'));
  END LOOP;
END $$;`

// BenchmarkCollectPartitioned: `go test ./ops/report -run XXX -bench Collect`.
func BenchmarkCollectPartitioned(b *testing.B) {
	benchCollect(b, benchPlainTables+`
DO $$ BEGIN
  FOR t IN 1..{chunked} LOOP
    EXECUTE format('CREATE TABLE %I (ts timestamptz NOT NULL, v double precision) PARTITION BY RANGE (ts)', 'c' || lpad(t::text, 2, '0'));
    FOR d IN 0..{last} LOOP
      EXECUTE format('CREATE TABLE %I PARTITION OF %I FOR VALUES FROM (%L) TO (%L)',
        'c' || lpad(t::text, 2, '0') || '_' || d, 'c' || lpad(t::text, 2, '0'),
        (current_date - {last} + d)::timestamptz, (current_date - {last} + d + 1)::timestamptz);
    END LOOP;
    EXECUTE format('CREATE INDEX ON %I (ts)', 'c' || lpad(t::text, 2, '0'));
    EXECUTE format('INSERT INTO %I SELECT g, random() FROM generate_series(current_date - {last}, current_date, interval ''6 hours'') g', 'c' || lpad(t::text, 2, '0'));
  END LOOP;
END $$;
ANALYZE;`)
}

func BenchmarkCollectHypertables(b *testing.B) {
	pgtest.RequireTimescale(b)
	benchCollect(b, benchPlainTables+`
CREATE EXTENSION timescaledb;
DO $$ BEGIN
  FOR t IN 1..{chunked} LOOP
    EXECUTE format('CREATE TABLE %I (ts timestamptz NOT NULL, k text, v double precision)', 'c' || lpad(t::text, 2, '0'));
    PERFORM create_hypertable(format('%I', 'c' || lpad(t::text, 2, '0')), 'ts', chunk_time_interval => interval '1 day');
    EXECUTE format('INSERT INTO %I SELECT g, ''k'', random() FROM generate_series(current_date - {last}, current_date + interval ''23 hours'', interval ''6 hours'') g', 'c' || lpad(t::text, 2, '0'));
    EXECUTE format('ALTER TABLE %I SET (timescaledb.compress, timescaledb.compress_segmentby = ''k'')', 'c' || lpad(t::text, 2, '0'));
    PERFORM compress_chunk(c) FROM show_chunks(format('%I', 'c' || lpad(t::text, 2, '0'))::regclass, older_than => now() - interval '180 days') c;
  END LOOP;
END $$;
ANALYZE;`)
}
