package maint

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pgtend/pgtend/ops/config"
	"github.com/pgtend/pgtend/ops/pg"
	"github.com/pgtend/pgtend/ops/pgtest"
)

// ticks is a hypertable of 1-day chunks over the last days days, a row a
// minute for three symbols in turn, indexed on (ts) and (symbol, ts).
func ticks(t *testing.T, conn *pgx.Conn, days int) {
	t.Helper()
	pgtest.RequireTimescale(t)
	exec(t, conn, `CREATE EXTENSION IF NOT EXISTS timescaledb;
		CREATE TABLE ticks (ts timestamptz NOT NULL, symbol text NOT NULL, px float8);
		SELECT create_hypertable('ticks', 'ts', chunk_time_interval => interval '1 day');
		CREATE INDEX ticks_symbol_ts ON ticks (symbol, ts)`)
	exec(t, conn, `INSERT INTO ticks SELECT now() - g * interval '1 minute', (ARRAY['SPY', 'QQQ', 'IWM'])[g % 3 + 1], g FROM generate_series(1, $1::int * 1440) g`, days)
	exec(t, conn, "ANALYZE ticks")
}

var ticksPolicy = config.Policy{Tables: []config.TablePolicy{{Name: "ticks", TimeColumn: "ts", CompressAfterDays: 3, SegmentBy: []string{"symbol"}}}}

// dueChunks are the chunks of ticks wholly older than days days, not
// compressed, oldest first.
func dueChunks(t *testing.T, conn *pgx.Conn, days int) []string {
	t.Helper()
	rows, err := conn.Query(context.Background(), `SELECT chunk_schema || '.' || chunk_name FROM timescaledb_information.chunks
		WHERE hypertable_name = 'ticks' AND NOT is_compressed AND range_end <= now() - $1 * interval '1 day' ORDER BY range_end`, days)
	if err != nil {
		t.Fatal(err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func planCompress(t *testing.T, ctx context.Context, conn *pgx.Conn, policy config.Policy, table string) *Plan {
	t.Helper()
	plan, err := registryAction(t, "compress").Plan(ctx, conn, policy, table)
	if err != nil {
		t.Fatal(err)
	}
	if plan.Task != "compression_check" {
		t.Errorf("task %q", plan.Task)
	}
	return plan
}

// The chunks wholly older than compress_after are compressed one at a
// time, oldest first, with whichever API the installed TimescaleDB
// offers (both, on 2.18+); each step's bytes are what
// chunk_compression_stats says it saved. A missing compression policy is
// said, and added with --add-policy.
func TestCompressChunksPastCompressAfter(t *testing.T) {
	for _, api := range []string{"columnstore", "compression"} {
		t.Run(api, func(t *testing.T) {
			dsn := pgtest.NewDatabase(t)
			conn := connect(t, dsn)
			ticks(t, conn, 10)
			exec(t, conn, `ALTER TABLE ticks SET (timescaledb.compress, timescaledb.compress_segmentby = 'symbol')`)
			ctx, fn, stats := context.Background(), "convert_to_columnstore", "chunk_columnstore_stats"
			if api == "compression" {
				ctx, fn, stats = withLegacyAPI(ctx), "compress_chunk", "chunk_compression_stats"
			}
			if pgtest.Count(t, conn, `SELECT count(*) FROM pg_proc WHERE proname = $1`, fn) == 0 {
				t.Skipf("SKIPPED: this TimescaleDB has no %s", fn)
			}
			due := dueChunks(t, conn, 3)
			plan := planCompress(t, ctx, conn, ticksPolicy, "")
			if len(plan.Steps) != len(due) || len(due) < 5 {
				t.Fatalf("%d steps for %d chunks past 3 days: %v", len(plan.Steps), len(due), titles(plan))
			}
			for k, s := range plan.Steps {
				if !strings.Contains(s.Title, due[k]) || !strings.Contains(s.Title, fmt.Sprintf("chunk %d of %d", k+1, len(due))) ||
					!strings.Contains(s.Statements[0], fn) || s.Destructive || s.Denied != "" || s.EstBytes == nil {
					t.Errorf("step %d: %q %q", k, s.Title, s.Statements)
				}
			}
			remarks := strings.Join(plan.Remarks(), "\n")
			if !strings.Contains(remarks, "no compression policy") || !strings.Contains(remarks, "--add-policy") {
				t.Errorf("a missing compression policy is not reported: %s", remarks)
			}
			if !slices.Contains(plan.Offers, FlagAddPolicy) { // the console's key for it
				t.Errorf("the plan offers %q, not --add-policy", plan.Offers)
			}
			rec := &recorder{}
			res, err := Run(context.Background(), dsn, pg.Settings{}, plan, Options{Confirmed: true}, rec.emit)
			if err != nil || res.Outcome != OutcomeOK || rec.count(StepFinished) != len(due) {
				t.Fatalf("run: %v %+v", err, res)
			}
			var saved, reported int64
			for _, c := range due {
				var before, after int64
				pgtest.QueryRow(t, conn, `SELECT before_compression_total_bytes, after_compression_total_bytes FROM `+stats+`('ticks')
					WHERE chunk_schema || '.' || chunk_name = $1`, c).Scan(&before, &after)
				saved += before - after
			}
			for _, e := range rec.events {
				if e.Kind == StepFinished {
					reported += e.Bytes
				}
			}
			if saved <= 0 || reported != saved || !hasLog(rec, "→") {
				t.Errorf("steps report %d bytes saved, %s says %d", reported, stats, saved)
			}
			if left := dueChunks(t, conn, 3); len(left) != 0 {
				t.Errorf("not compressed: %v", left)
			}
			if n := pgtest.Count(t, conn, `SELECT count(*) FROM timescaledb_information.chunks WHERE hypertable_name = 'ticks' AND is_compressed`); n != int64(len(due)) {
				t.Errorf("%d chunks compressed, %d were due (a newer one was touched?)", n, len(due))
			}

			// --add-policy: TimescaleDB's policy, after the policy's 3 days.
			plan, err = registryAction(t, "compress").Plan(WithFlags(ctx, Flags{FlagAddPolicy: "true"}), conn, ticksPolicy, "ticks")
			if err != nil || len(plan.Steps) != 1 || !strings.Contains(plan.Steps[0].Statements[0], "INTERVAL '3 days'") {
				t.Fatalf("add-policy plan: %v %v", err, titles(plan))
			}
			if slices.Contains(plan.Offers, FlagAddPolicy) {
				t.Error("with --add-policy the plan still offers it")
			}
			if res, err := Run(context.Background(), dsn, pg.Settings{}, plan, Options{Confirmed: true}, func(Event) {}); err != nil || res.Outcome != OutcomeOK {
				t.Fatalf("add-policy run: %v %+v", err, res)
			}
			var after string
			pgtest.QueryRow(t, conn, `SELECT config->>'compress_after' FROM timescaledb_information.jobs WHERE proc_name = 'policy_compression' AND hypertable_name = 'ticks'`).Scan(&after)
			if after != "3 days" {
				t.Errorf("the policy compresses after %q", after)
			}
			if plan := planCompress(t, ctx, conn, ticksPolicy, "ticks"); len(plan.Steps) != 0 || strings.Contains(strings.Join(plan.Remarks(), " "), "no compression policy") {
				t.Errorf("after the run: %v %v", titles(plan), plan.Remarks())
			}
		})
	}
}

// Compression not enabled: the plan enables it from the policy's
// segment_by and order_by, a schema change shown as such, then compresses.
func TestCompressEnablesCompressionFromThePolicy(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	conn := connect(t, dsn)
	ticks(t, conn, 6)
	policy := config.Policy{Tables: []config.TablePolicy{{Name: "ticks", TimeColumn: "ts", CompressAfterDays: 2, SegmentBy: []string{"symbol"}, OrderBy: []string{"ts DESC"}}}}
	plan := planCompress(t, context.Background(), conn, policy, "ticks")
	first := plan.Steps[0]
	if !strings.Contains(first.Title, "schema change") || !strings.HasPrefix(first.Statements[0], `ALTER TABLE "public"."ticks" SET (`) ||
		!strings.Contains(first.Statements[0], `segmentby = '"symbol"'`) || !strings.Contains(first.Statements[0], `orderby = 'ts DESC'`) {
		t.Fatalf("first step: %q %q", first.Title, first.Statements)
	}
	if len(plan.Steps) != 1+len(dueChunks(t, conn, 2)) {
		t.Errorf("steps: %v", titles(plan))
	}
	if res, err := Run(context.Background(), dsn, pg.Settings{}, plan, Options{Confirmed: true}, func(Event) {}); err != nil || res.Outcome != OutcomeOK {
		t.Fatalf("run: %v %+v", err, res)
	}
	var segment string
	pgtest.QueryRow(t, conn, `SELECT attname::text FROM timescaledb_information.compression_settings WHERE hypertable_name = 'ticks' AND segmentby_column_index = 1`).Scan(&segment)
	if segment != "symbol" || len(dueChunks(t, conn, 2)) != 0 {
		t.Errorf("segment by %q, %d chunks left", segment, len(dueChunks(t, conn, 2)))
	}
	// A segment_by column the table lacks is refused at plan time.
	exec(t, conn, `CREATE TABLE bars (ts timestamptz NOT NULL, v int); SELECT create_hypertable('bars', 'ts')`)
	bad := config.Policy{Tables: []config.TablePolicy{{Name: "bars", TimeColumn: "ts", CompressAfterDays: 2, SegmentBy: []string{"exchange"}}}}
	if _, err := registryAction(t, "compress").Plan(context.Background(), conn, bad, "bars"); err == nil || !strings.Contains(err.Error(), `"exchange", which is not a column`) {
		t.Errorf("a bad segment_by: %v", err)
	}
}

// A chunk that cannot be compressed (its lock is held) fails, named; the
// run goes on with the others.
func TestCompressAChunkThatFailsIsReportedAndTheRunGoesOn(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	conn := connect(t, dsn)
	ticks(t, conn, 7)
	exec(t, conn, `ALTER TABLE ticks SET (timescaledb.compress, timescaledb.compress_segmentby = 'symbol')`)
	due := dueChunks(t, conn, 3)
	plan := planCompress(t, context.Background(), conn, ticksPolicy, "ticks")
	holder := connect(t, dsn)
	exec(t, holder, "BEGIN")
	exec(t, holder, "LOCK TABLE "+due[1]+" IN ACCESS SHARE MODE")
	defer exec(t, holder, "ROLLBACK")
	res, err := Run(context.Background(), dsn, pg.Settings{}, plan, Options{Confirmed: true, LockTimeout: 200 * time.Millisecond, LockRetries: -1}, func(Event) {})
	if err != nil || res.Outcome != OutcomeFailed || len(res.Failed) != 1 || !strings.Contains(res.Failed[0], due[1]) {
		t.Fatalf("run: %v %+v", err, res)
	}
	if left := dueChunks(t, conn, 3); len(left) != 1 || left[0] != due[1] {
		t.Errorf("left uncompressed: %v, want only %s", left, due[1])
	}
}

// Native partitions and plain tables: compression needs TimescaleDB, and
// the plan says so and does nothing.
func TestCompressNeedsTimescale(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	conn := connect(t, dsn)
	exec(t, conn, `CREATE TABLE quotes (ts timestamptz NOT NULL, v int) PARTITION BY RANGE (ts);
		CREATE TABLE quotes_all PARTITION OF quotes FOR VALUES FROM ('2000-01-01') TO ('2100-01-01');
		INSERT INTO quotes SELECT now() - g * interval '1 hour', g FROM generate_series(1, 500) g;
		CREATE TABLE fills (ts timestamptz NOT NULL)`)
	policy := config.Policy{Tables: []config.TablePolicy{{Name: "quotes", TimeColumn: "ts", CompressAfterDays: 7}, {Name: "fills", TimeColumn: "ts"}}}
	plan := planCompress(t, context.Background(), conn, policy, "")
	if len(plan.Steps) != 0 || len(plan.Refused) != 1 || !strings.Contains(plan.Refused[0].Reason, "public.quotes is a partitioned table: compression needs a TimescaleDB hypertable") {
		t.Fatalf("plan: %v, refused %+v", titles(plan), plan.Refused)
	}
	if res, err := Run(context.Background(), dsn, pg.Settings{}, plan, Options{Confirmed: true}, func(Event) {}); err != nil || res.Outcome != OutcomeOK {
		t.Errorf("an empty plan's run: %v %+v", err, res)
	}
}

// A role that does not own the hypertable may compress nothing: the plan
// is refused, saying what would allow it.
func TestCompressStepsTheRoleMayNotDoAreMarked(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	admin := connect(t, dsn)
	ticks(t, admin, 6)
	exec(t, admin, `ALTER TABLE ticks SET (timescaledb.compress); CREATE ROLE compressor LOGIN; GRANT SELECT ON ticks TO compressor`)
	mon := pgtest.ConnectAs(t, dsn, "compressor")
	_, err := registryAction(t, "compress").Plan(context.Background(), mon, ticksPolicy, "ticks")
	var d *DeniedError
	if !errors.As(err, &d) || !strings.Contains(err.Error(), "only the owner") || !strings.Contains(err.Error(), "GRANT pgtend TO compressor") {
		t.Errorf("a plan of nothing allowed: %v", err)
	}
}

// Decompressing a chunk is refused without room for its uncompressed
// size plus keep_free, with the numbers; with room, it is done.
func TestDecompressChecksTheDisk(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	conn := connect(t, dsn)
	ticks(t, conn, 5)
	exec(t, conn, `ALTER TABLE ticks SET (timescaledb.compress, timescaledb.compress_segmentby = 'symbol')`)
	chunk := dueChunks(t, conn, 2)[0]
	exec(t, conn, "SELECT compress_chunk($1::regclass)", chunk)
	decompress := registryAction(t, "decompress")
	ctx := WithFlags(context.Background(), Flags{FlagChunk: chunk})
	if _, err := decompress.Plan(context.Background(), conn, config.Policy{}, ""); err == nil || !strings.Contains(err.Error(), "--chunk") {
		t.Errorf("without --chunk: %v", err)
	}
	_, err := decompress.Plan(ctx, conn, config.Policy{Disk: config.Disk{KeepFreeBytes: 1 << 60}}, "")
	if err != nil && strings.Contains(err.Error(), "not checked") {
		t.Skip("pgtend cannot see the test cluster's disk")
	}
	if err == nil || !strings.Contains(err.Error(), "needs ~") || !strings.Contains(err.Error(), "filesystem has") || !strings.Contains(err.Error(), "refused") {
		t.Errorf("no room: %v", err)
	}
	plan, err := decompress.Plan(ctx, conn, config.Policy{}, "ticks")
	if err != nil || len(plan.Steps) != 1 || plan.Destructive() {
		t.Fatalf("plan: %v %+v", err, plan)
	}
	if res, err := Run(context.Background(), dsn, pg.Settings{}, plan, Options{Confirmed: true}, func(Event) {}); err != nil || res.Outcome != OutcomeOK {
		t.Fatalf("run: %v %+v", err, res)
	}
	if n := pgtest.Count(t, conn, `SELECT count(*) FROM timescaledb_information.chunks WHERE chunk_schema || '.' || chunk_name = $1 AND is_compressed`, chunk); n != 0 {
		t.Errorf("%s is still compressed", chunk)
	}
}

// A hypertable is rebuilt chunk by chunk, index by index, with REINDEX
// INDEX CONCURRENTLY on each chunk's own indexes, while a writer inserts:
// never REINDEX TABLE, never the hypertable's own index, never a
// compressed chunk's empty indexes (its compressed relation's indexes are
// weighed on their own), never TimescaleDB's catalog; every rebuilt index
// gets a new file and none is left invalid.
func TestReindexHypertableChunkByChunk(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	conn := connect(t, dsn)
	ticks(t, conn, 8)
	exec(t, conn, `DELETE FROM ticks WHERE (extract(epoch FROM ts)::bigint / 60) % 10 <> 0`)
	exec(t, conn, "VACUUM ANALYZE ticks")
	exec(t, conn, `ALTER TABLE ticks SET (timescaledb.compress, timescaledb.compress_segmentby = 'symbol')`)
	compressed := dueChunks(t, conn, 6)
	for _, c := range compressed {
		exec(t, conn, "SELECT compress_chunk($1::regclass)", c)
	}
	policy := config.Policy{Reindex: config.Reindex{MinBloatPercent: 30, MinBloatBytes: 1}}
	plan := planReindex(t, conn, policy, "ticks", nil)
	uncompressed := pgtest.Count(t, conn, `SELECT count(*) FROM timescaledb_information.chunks WHERE hypertable_name = 'ticks' AND NOT is_compressed`)
	if len(plan.Steps) < 2*int(uncompressed)-2 || len(plan.Tables) != 1 || plan.Tables[0].Table != "public.ticks" || plan.Tables[0].Kind != "hypertable" {
		t.Fatalf("%d steps for %d uncompressed chunks of 2 indexes: %v", len(plan.Steps), uncompressed, titles(plan))
	}
	for _, s := range plan.Steps {
		st := s.Statements[0]
		switch {
		case !strings.HasPrefix(st, `REINDEX INDEX CONCURRENTLY "_timescaledb_internal"."_hyper_`):
			t.Errorf("not a chunk's own index: %s", st)
		case strings.Contains(st, "_timescaledb_catalog"), strings.Contains(st, "REINDEX TABLE"):
			t.Errorf("never: %s", st)
		}
		for _, c := range compressed {
			if strings.Contains(st, strings.TrimPrefix(c, "_timescaledb_internal.")+"_") {
				t.Errorf("a compressed chunk's own index: %s", st)
			}
		}
	}
	if !strings.Contains(strings.Join(plan.Tables[0].Findings, "\n"), fmt.Sprintf("%d compressed chunks left out", len(compressed))) {
		t.Errorf("findings: %v", plan.Tables[0].Findings)
	}
	// The compressed chunks' relations' indexes are weighed on their own.
	ixs, err := readIndexes(context.Background(), conn, true, plan.Tables[0].oid(t, conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	var ofCompressed, emptyOwn int
	for _, x := range ixs {
		if x.compressedOf != "" && strings.HasPrefix(x.table, "compress_hyper_") {
			ofCompressed++
		}
		if x.chunkCompressed {
			emptyOwn++
		}
	}
	if ofCompressed < len(compressed) || emptyOwn != 2*len(compressed) {
		t.Errorf("%d indexes of compressed relations, %d empty own indexes of %d compressed chunks", ofCompressed, emptyOwn, len(compressed))
	}

	before := filenodes(t, conn, "n.nspname = '_timescaledb_internal'")
	w := startWriter(t, dsn, `INSERT INTO ticks VALUES (now(), 'SPY', 1)`)
	time.Sleep(150 * time.Millisecond)
	res, err := Run(context.Background(), dsn, pg.Settings{}, plan, Options{Confirmed: true}, func(Event) {})
	time.Sleep(150 * time.Millisecond)
	n, worst, errs := w.finish()
	if err != nil || res.Outcome != OutcomeOK {
		t.Fatalf("run: %v %+v", err, res)
	}
	if len(errs) > 0 {
		t.Errorf("writer errors: %v", errs)
	}
	t.Logf("%d inserts during %d chunk rebuilds, worst latency %v", n, len(plan.Steps), worst)
	after := filenodes(t, conn, "n.nspname = '_timescaledb_internal'")
	for _, s := range plan.Steps {
		name := strings.Trim(strings.TrimPrefix(s.Statements[0], `REINDEX INDEX CONCURRENTLY "_timescaledb_internal".`), `"`)
		if after[name] == 0 || after[name] == before[name] {
			t.Errorf("%s: file %d → %d", name, before[name], after[name])
		}
	}
	if n := invalidIndexCount(t, conn); n != 0 {
		t.Errorf("%d invalid indexes left", n)
	}
}

// oid is the summary's table's OID.
func (s TableSummary) oid(t *testing.T, conn *pgx.Conn) uint32 {
	t.Helper()
	var oid uint32
	pgtest.QueryRow(t, conn, "SELECT to_regclass($1)::oid", s.Table).Scan(&oid)
	return oid
}
