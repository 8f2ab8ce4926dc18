package report

import (
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgtend/pgtend/ops/config"
	"github.com/pgtend/pgtend/ops/pgtest"
)

// seedAggregates makes a hypertable with a continuous aggregate (compressed
// in part, with a refresh policy the background scheduler leaves alone) and
// a plain materialized view.
func seedAggregates(t *testing.T, conn *pgx.Conn) {
	t.Helper()
	exec(t, conn, `
CREATE EXTENSION timescaledb;
CREATE TABLE ticks (ts timestamptz NOT NULL, sym text, px double precision);
SELECT create_hypertable('ticks', 'ts', chunk_time_interval => interval '1 day');
INSERT INTO ticks SELECT g, 's' || (extract(epoch FROM g)::bigint % 7), random()
  FROM generate_series(now() - interval '60 days', now(), interval '2 minutes') g;
CREATE MATERIALIZED VIEW ticks_hourly WITH (timescaledb.continuous) AS
  SELECT time_bucket('1 hour', ts) AS bucket, sym, avg(px) AS px, count(*) AS n FROM ticks GROUP BY 1, 2 WITH NO DATA;`)
	// A CALL of its own: a refresh refuses to run in a transaction block.
	exec(t, conn, `CALL refresh_continuous_aggregate('ticks_hourly', NULL, NULL)`)
	exec(t, conn, `
ALTER MATERIALIZED VIEW ticks_hourly SET (timescaledb.compress = true);
SELECT compress_chunk(c) FROM show_chunks('ticks_hourly', older_than => interval '30 days') c;
SELECT add_continuous_aggregate_policy('ticks_hourly', start_offset => interval '14 days', end_offset => interval '1 hour',
  schedule_interval => interval '30 minutes', initial_start => now() + interval '1 day');
CREATE MATERIALIZED VIEW ticks_daily WITH (timescaledb.continuous) AS
  SELECT time_bucket('1 day', bucket) AS day, sym, avg(px) AS px FROM ticks_hourly GROUP BY 1, 2 WITH NO DATA;
CREATE MATERIALIZED VIEW ticks_by_sym AS SELECT sym, count(*) AS n, repeat('x', 3000) AS pad FROM ticks GROUP BY sym;
CREATE INDEX ON ticks_by_sym (sym);
ANALYZE;`)
}

func TestContinuousAggregateListed(t *testing.T) {
	pgtest.RequireTimescale(t)
	conn := connect(t, pgtest.NewDatabase(t))
	seedAggregates(t, conn)
	r := collect(t, conn, config.Policy{Tables: []config.TablePolicy{{Name: "ticks_hourly", RetentionDays: 40}}})

	a := find(t, r, "public", "ticks_hourly")
	if a.Kind == nil || *a.Kind != KindContinuousAggregate || !a.InPolicy || a.RetentionDays == nil {
		t.Fatalf("ticks_hourly: kind %v, in policy %v", a.Kind, a.InPolicy)
	}
	var mat string
	var want [4]int64
	pgtest.QueryRow(t, conn, `SELECT format('%I.%I', materialization_hypertable_schema, materialization_hypertable_name)
		FROM timescaledb_information.continuous_aggregates WHERE view_name = 'ticks_hourly'`).Scan(&mat)
	pgtest.QueryRow(t, conn, `SELECT table_bytes, index_bytes, toast_bytes, total_bytes FROM hypertable_detailed_size($1::regclass)`, mat).
		Scan(&want[0], &want[1], &want[2], &want[3])
	if a.TotalBytes == nil || [4]int64{*a.TableBytes, *a.IndexBytes, *a.ToastBytes, *a.TotalBytes} != want {
		t.Errorf("ticks_hourly sizes %v %v %v %v, hypertable_detailed_size of %s %v", a.TableBytes, a.IndexBytes, a.ToastBytes, a.TotalBytes, mat, want)
	}
	// Its chunks, under its own name, compressed or not, sized exactly.
	var n, compressed, expired int
	for _, c := range r.Chunks {
		if strings.HasPrefix(c.Table, "_materialized") {
			t.Errorf("chunk %s listed under the materialization hypertable %s", c.Chunk, c.Table)
		}
		if c.Table != "ticks_hourly" {
			continue
		}
		n++
		m := pgtest.MeasureChunk(t, conn, c.ChunkSchema, c.Chunk, true)
		if c.TotalBytes == nil || *c.TotalBytes != m.Total {
			t.Errorf("%s: %v bytes, catalog %d", c.Chunk, c.TotalBytes, m.Total)
		}
		if c.Compressed {
			compressed++
			if c.BeforeBytes == nil || c.AfterBytes == nil {
				t.Errorf("%s: compressed without before/after figures", c.Chunk)
			}
		}
		if c.Expired {
			expired++
		}
	}
	var chunks int
	pgtest.QueryRow(t, conn, `SELECT count(*) FROM show_chunks('ticks_hourly')`).Scan(&chunks)
	if n != chunks || a.Chunks != chunks || compressed == 0 || compressed == n || expired == 0 {
		t.Errorf("ticks_hourly: %d chunks listed (%d compressed, %d past 40 days), table says %d, show_chunks %d", n, compressed, expired, a.Chunks, chunks)
	}
	if a.TimeColumn == nil || *a.TimeColumn != "bucket" || a.PartitionColumn == nil || *a.PartitionColumn != "bucket" || a.Oldest == nil {
		t.Errorf("ticks_hourly time column %v, partition column %v, oldest %v", a.TimeColumn, a.PartitionColumn, a.Oldest)
	}
	if a.ExpiredBytes == nil || *a.ExpiredBytes == 0 {
		t.Errorf("ticks_hourly past retention: %v", a.ExpiredBytes)
	}
	// Its source and refresh policy.
	if a.Aggregate == nil || a.Aggregate.Source != "public.ticks" || a.Aggregate.Refresh == nil {
		t.Fatalf("ticks_hourly aggregate: %+v", a.Aggregate)
	}
	p := a.Aggregate.Refresh
	if p.StartOffset == nil || *p.StartOffset != "14 days" || p.EndOffset == nil || *p.EndOffset != "01:00:00" || p.Schedule != "00:30:00" ||
		!p.Active || p.WindowStart == nil || !p.WindowStart.Equal(r.GeneratedAt.Add(-14*24*time.Hour)) || p.WindowEnd == nil || p.JobID == 0 {
		t.Errorf("refresh policy %+v", p)
	}
	src := find(t, r, "public", "ticks")
	if len(src.AggregatedBy) != 1 || src.AggregatedBy[0] != "public.ticks_hourly" || len(r.Aggregates(src)) != 1 {
		t.Errorf("ticks aggregated by %v", src.AggregatedBy)
	}
	// An aggregate of an aggregate names it as its source.
	if d := find(t, r, "public", "ticks_daily"); d.Aggregate == nil || d.Aggregate.Source != "public.ticks_hourly" || d.Aggregate.Refresh != nil ||
		len(a.AggregatedBy) != 1 || a.AggregatedBy[0] != "public.ticks_daily" {
		t.Errorf("ticks_daily: %+v; ticks_hourly aggregated by %v", d.Aggregate, a.AggregatedBy)
	}
	// The plain materialized view, with its size.
	mv := find(t, r, "public", "ticks_by_sym")
	var mvTotal int64
	pgtest.QueryRow(t, conn, `SELECT pg_total_relation_size('ticks_by_sym')`).Scan(&mvTotal)
	if mv.Kind == nil || *mv.Kind != KindMaterializedView || mv.TotalBytes == nil || *mv.TotalBytes != mvTotal || *mv.ToastBytes == 0 || *mv.IndexBytes == 0 {
		t.Errorf("ticks_by_sym: kind %v, %v bytes (toast %v, index %v), want %d", mv.Kind, mv.TotalBytes, mv.ToastBytes, mv.IndexBytes, mvTotal)
	}
	for _, tb := range r.Tables {
		if strings.HasPrefix(tb.Schema, "_timescaledb") {
			t.Errorf("internal relation listed: %s", tb.Key())
		}
	}
	checkAccounted(t, r)
}

// checkAccounted holds the report's sums: the listed tables and the
// unlisted groups add up to the database's size exactly, and what no
// relation holds (the last group) is small and not negative.
func checkAccounted(t *testing.T, r *Report) {
	t.Helper()
	sum := r.ListedBytes()
	for _, g := range r.Unlisted {
		sum += g.Bytes
	}
	if r.ListedBytes()+r.UnlistedBytes != r.Server.DatabaseBytes || sum != r.Server.DatabaseBytes {
		t.Errorf("listed %d + unlisted %d (groups sum %d) != database %d", r.ListedBytes(), r.UnlistedBytes, sum-r.ListedBytes(), r.Server.DatabaseBytes)
	}
	for _, g := range r.Unlisted {
		if g.Group == UnlistedFiles && (g.Bytes < 0 || g.Bytes > 1<<20) {
			t.Errorf("%d bytes held by no relation (%s): a relation counted twice or missed", g.Bytes, r.MeasuredBy)
		}
	}
}

// Every byte of a database full of odd objects is accounted for, by files
// and by the size functions (a role that may not list files).
func TestEveryByteAccounted(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	conn := connect(t, dsn)
	exec(t, conn, unseededSchema)
	exec(t, conn, `
		CREATE SEQUENCE lonely_seq; SELECT nextval('lonely_seq');
		CREATE SCHEMA elsewhere; CREATE TABLE elsewhere.notes (id bigserial PRIMARY KEY, body text);
		INSERT INTO elsewhere.notes (body) SELECT repeat(md5(i::text), 100) FROM generate_series(1, 500) i;
		CREATE MATERIALIZED VIEW docs_by_hour AS SELECT date_trunc('hour', created) AS h, count(*) FROM docs GROUP BY 1;
		SELECT lo_from_bytea(0, convert_to(repeat('large object ', 20000), 'UTF8'));
		CREATE VIEW just_a_view AS SELECT 1 AS one;
		CREATE TYPE mood AS ENUM ('ok', 'sad');
		CREATE TABLE parted_empty (ts timestamptz) PARTITION BY RANGE (ts);
		CREATE SCHEMA pgtend; CREATE TABLE pgtend.history (id int, task text, outcome text, finished_at timestamptz);
		ANALYZE;`)
	// A temporary table of another session, open while the report reads.
	other := connect(t, dsn)
	exec(t, other, `CREATE TEMP TABLE scratch AS SELECT generate_series(1, 10000) AS n`)

	r := collect(t, conn, config.Policy{})
	if r.MeasuredBy != MeasuredByFiles {
		t.Fatalf("measured by %s, want files (the test runs as a superuser)", r.MeasuredBy)
	}
	checkAccounted(t, r)
	groups := map[string]UnlistedGroup{}
	for _, g := range r.Unlisted {
		groups[g.Group] = g
	}
	for _, g := range []string{UnlistedSystemCatalogs, UnlistedLargeObjects, UnlistedSequences, UnlistedPgtend, UnlistedTemporary} {
		if groups[g].Bytes <= 0 {
			t.Errorf("no bytes in group %s: %+v", g, r.Unlisted)
		}
	}
	if groups[UnlistedSequences].Relations < 3 { // lonely_seq, docs_id_seq, elsewhere.notes_id_seq
		t.Errorf("sequences: %+v", groups[UnlistedSequences])
	}
	find(t, r, "elsewhere", "notes")
	if mv := find(t, r, "public", "docs_by_hour"); mv.Kind == nil || *mv.Kind != KindMaterializedView {
		t.Errorf("docs_by_hour kind %v", mv.Kind)
	}
	for _, tb := range r.Tables {
		if tb.Name == "just_a_view" || tb.Schema == "pgtend" {
			t.Errorf("%s listed", tb.Key())
		}
	}
	exec(t, conn, `CREATE ROLE counter LOGIN`)
	r = collect(t, pgtest.ConnectAs(t, dsn, "counter"), config.Policy{})
	if r.MeasuredBy != MeasuredBySizeFunctions {
		t.Fatalf("measured by %s, want the size functions", r.MeasuredBy)
	}
	checkAccounted(t, r)
}

// The demo's objects and a continuous aggregate: every byte accounted.
func TestEveryByteAccountedWithTimescale(t *testing.T) {
	pgtest.RequireTimescale(t)
	conn := connect(t, pgtest.NewDatabase(t))
	seedAggregates(t, conn)
	r := collect(t, conn, config.Policy{})
	checkAccounted(t, r)
	for _, g := range r.Unlisted {
		if g.Group == UnlistedTimescale && g.Bytes > 0 {
			return
		}
	}
	t.Errorf("no TimescaleDB catalog group: %+v", r.Unlisted)
}
