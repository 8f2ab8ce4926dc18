package triage

import (
	"context"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pgtend/pgtend/ops/config"
	"github.com/pgtend/pgtend/ops/maint"
	"github.com/pgtend/pgtend/ops/pg"
	"github.com/pgtend/pgtend/ops/pgtest"
)

// TestMain puts the throwaway cluster on a filesystem of its own (a
// directory on /dev/shm, which nothing else on this machine writes), so the
// statfs before and after an action measures that action alone, not the
// other builds and tests running beside it.
func TestMain(m *testing.M) {
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		if dir, err := os.MkdirTemp("/dev/shm", "pgtend-triage-test-"); err == nil {
			os.Chmod(dir, 0o777)
			os.Setenv("TMPDIR", dir)
			code := pgtest.Main(m)
			os.RemoveAll(dir)
			os.Exit(code)
		}
	}
	fmt.Fprintln(os.Stderr, "triage tests: WARNING: no /dev/shm; the statfs comparisons share the filesystem with everything else")
	os.Exit(pgtest.Main(m))
}

func setup(t *testing.T) (string, *pgx.Conn) {
	t.Helper()
	dsn := pgtest.NewDatabase(t)
	conn := pgtest.Connect(t, dsn)
	// WAL kept small and checkpointed around each measurement: what the
	// filesystem gains is then the action's, give or take a segment.
	pgtest.Exec(t, conn, `ALTER SYSTEM SET max_wal_size = '64MB'`)
	pgtest.Exec(t, conn, `ALTER SYSTEM SET min_wal_size = '32MB'`)
	pgtest.Exec(t, conn, `SELECT pg_reload_conf()`)
	return dsn, conn
}

func collect(t *testing.T, conn *pgx.Conn, policy config.Policy) *Triage {
	t.Helper()
	tr, err := Collect(context.Background(), conn, policy, Inputs{})
	if err != nil {
		t.Fatalf("triage: %v", err)
	}
	return tr
}

func find(tr *Triage, kind string, table string) *Option {
	for i, o := range tr.Options {
		if o.Kind == kind && (table == "" || o.Table != nil && *o.Table == table) {
			return &tr.Options[i]
		}
	}
	return nil
}

// fsFree is the free bytes of the filesystem holding dir, and the bytes
// pg_wal holds: the WAL an action writes is recycled, not returned, so the
// comparison counts it apart.
func fsFree(t *testing.T, conn *pgx.Conn) (free, wal int64) {
	t.Helper()
	pgtest.Exec(t, conn, `CHECKPOINT`)
	dir := filepath.Join(pgtest.Cluster.Dir, "data")
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	pgtest.QueryRow(t, conn, `SELECT coalesce(sum(size), 0)::bigint FROM pg_ls_waldir()`).Scan(&wal)
	return int64(st.Bavail) * int64(st.Bsize), wal
}

// runOption plans the option's registry action and runs it, as the
// console's Enter and `pgtend run` do.
func runOption(t *testing.T, dsn string, conn *pgx.Conn, policy config.Policy, o *Option) maint.Result {
	t.Helper()
	if o.Run == nil {
		t.Fatalf("%s %s: no action", o.Kind, o.Object)
	}
	a, ok := maint.Default().Action(o.Run.Action)
	if !ok {
		t.Fatalf("no registry action %q", o.Run.Action)
	}
	ctx := maint.WithFlags(context.Background(), o.Run.Flags)
	p, err := a.Plan(ctx, conn, policy, o.Run.Table)
	if err != nil {
		t.Fatalf("plan %s: %v", o.Run.Command(), err)
	}
	res, err := maint.Run(context.Background(), dsn, pg.Settings{}, p, maint.Options{Policy: policy, Confirmed: true}, func(maint.Event) {})
	if err != nil || res.Outcome != maint.OutcomeOK {
		t.Fatalf("run %s: %v %+v", o.Run.Command(), err, res)
	}
	return res
}

// ranWithin runs the option's action and checks the filesystem's gain
// (the WAL the action wrote counted back in) against its prediction.
func ranWithin(t *testing.T, dsn string, conn *pgx.Conn, policy config.Policy, o *Option, what string) {
	t.Helper()
	before, walBefore := fsFree(t, conn)
	runOption(t, dsn, conn, policy, o)
	after, walAfter := fsFree(t, conn)
	predicted := o.Bytes
	gain := after - before
	adjusted := gain + (walAfter - walBefore)
	t.Logf("%s: predicted %d, statfs gained %d, pg_wal grew %d: %d", what, predicted, gain, walAfter-walBefore, adjusted)
	if predicted <= 0 || math.Abs(float64(adjusted-predicted)) > 0.1*float64(predicted) {
		t.Errorf("%s: predicted %d bytes, the filesystem gained %d (%d with the WAL written counted back): more than 10%% apart", what, predicted, gain, adjusted)
	}
}

const fill = `INSERT INTO %s SELECT now() - (g * interval '1 minute'), md5(g::text) || md5((g * 7)::text) || md5((g * 13)::text) FROM generate_series(1, %d) g`

func TestExpiredChunksFreeWhatTriageSays(t *testing.T) {
	pgtest.RequireTimescale(t)
	dsn, conn := setup(t)
	pgtest.Exec(t, conn, `CREATE EXTENSION IF NOT EXISTS timescaledb`)
	pgtest.Exec(t, conn, `CREATE TABLE ticks (ts timestamptz NOT NULL, payload text); SELECT create_hypertable('ticks', 'ts', chunk_time_interval => interval '1 day')`)
	pgtest.Exec(t, conn, fmt.Sprintf(fill, "ticks", 60*1440))
	policy := config.Policy{Tables: []config.TablePolicy{{Name: "ticks", TimeColumn: "ts", RetentionDays: 20}}}
	tr := collect(t, conn, policy)
	if rows := find(tr, KindExpiredRows, "ticks"); rows != nil {
		t.Errorf("the straddling chunk's rows offered to a DELETE no action does: %+v", rows)
	}
	o := find(tr, KindExpiredChunks, "ticks")
	if o == nil || o.Frees != FreesNow || o.Estimate || o.Action == nil || *o.Action != "pgtend run retention --table public.ticks" {
		t.Fatalf("expired chunks: %+v", o)
	}
	ranWithin(t, dsn, conn, policy, o, "drop_chunks")
}

func TestExpiredPartitionsFreeWhatTriageSays(t *testing.T) {
	dsn, conn := setup(t)
	pgtest.Exec(t, conn, `CREATE TABLE bars (ts timestamptz NOT NULL, payload text) PARTITION BY RANGE (ts)`)
	today := time.Now().UTC().Truncate(24 * time.Hour).Add(24 * time.Hour)
	for d := 0; d < 60; d += 10 {
		pgtest.Exec(t, conn, fmt.Sprintf(`CREATE TABLE bars_%d PARTITION OF bars FOR VALUES FROM ('%s') TO ('%s')`, d,
			today.AddDate(0, 0, -d-10).Format(time.RFC3339), today.AddDate(0, 0, -d).Format(time.RFC3339)))
	}
	pgtest.Exec(t, conn, fmt.Sprintf(fill, "bars", 59*1440))
	// Older than every partition: the DEFAULT partition's rows, which only
	// a batched DELETE (--include-default) removes.
	pgtest.Exec(t, conn, `CREATE TABLE bars_default PARTITION OF bars DEFAULT`)
	pgtest.Exec(t, conn, `INSERT INTO bars SELECT now() - interval '90 days' - g * interval '1 minute', md5(g::text) FROM generate_series(1, 20000) g`)
	pgtest.Exec(t, conn, `ANALYZE bars`)
	policy := config.Policy{Tables: []config.TablePolicy{{Name: "bars", TimeColumn: "ts", RetentionDays: 25}}}
	tr := collect(t, conn, policy)
	if rows := find(tr, KindExpiredRows, "bars"); rows == nil || rows.Frees != FreesReuseOnly || rows.Action == nil ||
		*rows.Action != "pgtend run retention --table public.bars --include-default" {
		t.Errorf("the DEFAULT partition's expired rows: %+v", rows)
	}
	o := find(tr, KindExpiredPartitions, "bars")
	if o == nil || o.Frees != FreesNow || o.Run == nil || o.Run.Action != "retention" {
		t.Fatalf("expired partitions: %+v", o)
	}
	ranWithin(t, dsn, conn, policy, o, "detach and drop")
}

func TestCompressionFreesWhatTriageSays(t *testing.T) {
	pgtest.RequireTimescale(t)
	dsn, conn := setup(t)
	pgtest.Exec(t, conn, `CREATE EXTENSION IF NOT EXISTS timescaledb`)
	pgtest.Exec(t, conn, `CREATE TABLE quotes (ts timestamptz NOT NULL, sym text, price float8); SELECT create_hypertable('quotes', 'ts', chunk_time_interval => interval '1 day')`)
	pgtest.Exec(t, conn, `INSERT INTO quotes SELECT now() - g * interval '1 second', (ARRAY['SPY','QQQ','IWM'])[g % 3 + 1], 100 + (g % 1000) / 10.0 FROM generate_series(1, 14 * 86400, 2) g`)
	pgtest.Exec(t, conn, `ALTER TABLE quotes SET (timescaledb.compress, timescaledb.compress_segmentby = 'sym')`)
	// One old chunk compressed already: the ratio triage predicts with.
	pgtest.Exec(t, conn, `SELECT compress_chunk(format('%I.%I', chunk_schema, chunk_name)::regclass) FROM timescaledb_information.chunks
		WHERE hypertable_name = 'quotes' ORDER BY range_start OFFSET 1 LIMIT 1`) // a whole day's, not the oldest, partial one
	policy := config.Policy{Tables: []config.TablePolicy{{Name: "quotes", TimeColumn: "ts", CompressAfterDays: 3, SegmentBy: []string{"sym"}}}}
	tr := collect(t, conn, policy)
	o := find(tr, KindCompress, "quotes")
	if o == nil || o.Frees != FreesNow || !o.Estimate || o.NeedsFreeBytes <= 0 || o.Run == nil || o.Run.Action != "compress" {
		t.Fatalf("compression: %+v", o)
	}
	// Per chunk: each uncompressed chunk past compress_after, largest
	// first, with what it frees and the room it needs; together the
	// option's figures.
	due := pgtest.Count(t, conn, `SELECT count(*) FROM timescaledb_information.chunks WHERE hypertable_name = 'quotes' AND NOT is_compressed AND range_end <= now() - interval '3 days'`)
	var sum, room int64
	for i, p := range o.Parts {
		var size int64
		pgtest.QueryRow(t, conn, `SELECT pg_total_relation_size($1::regclass)`, p.Name).Scan(&size)
		if p.Size != size || p.Bytes <= 0 || p.Bytes >= p.Size || p.NeedsFreeBytes <= 0 || i > 0 && p.Size > o.Parts[i-1].Size {
			t.Errorf("chunk %s (%d bytes): %+v", p.Name, size, p)
		}
		sum, room = sum+p.Bytes, max(room, p.NeedsFreeBytes)
	}
	if int64(len(o.Parts)) != due || math.Abs(float64(sum-o.Bytes)) > float64(len(o.Parts)) || room != o.NeedsFreeBytes {
		t.Errorf("%d chunks listed of %d due; they free %d (the option %d), need at most %d (the option %d)", len(o.Parts), due, sum, o.Bytes, room, o.NeedsFreeBytes)
	}
	ranWithin(t, dsn, conn, policy, o, "compression")
}

func TestBackupsBeyondRotationFreeWhatTriageSays(t *testing.T) {
	dsn, conn := setup(t)
	pgtest.Exec(t, conn, `CREATE TABLE blobs (id int, payload text)`)
	pgtest.Exec(t, conn, `INSERT INTO blobs SELECT g, string_agg(md5((g * 1000 + i)::text), '') FROM generate_series(1, 4000) g, generate_series(1, 60) i GROUP BY g`)
	dir := filepath.Join(os.Getenv("TMPDIR"), "backups-"+t.Name())
	policy := config.Policy{Backup: config.Backup{Dir: dir, KeepDaily: 4}}
	backupAction, _ := maint.Default().Action("backup")
	for i := 0; i < 3; i++ {
		p, err := backupAction.Plan(context.Background(), conn, policy, "")
		if err != nil {
			t.Fatal(err)
		}
		if res, err := maint.Run(context.Background(), dsn, pg.Settings{}, p, maint.Options{Policy: policy, Confirmed: true}, func(maint.Event) {}); err != nil || res.Outcome != maint.OutcomeOK {
			t.Fatalf("backup %d: %v %+v", i, err, res)
		}
		time.Sleep(1100 * time.Millisecond) // backups are named by the second
	}
	policy.Backup.KeepDaily = 1
	tr := collect(t, conn, policy)
	o := find(tr, KindBackups, "")
	if o == nil || o.Frees != FreesNow || o.Estimate || o.Action == nil || *o.Action != "pgtend run rotate" {
		t.Fatalf("backups: %+v", o)
	}
	ranWithin(t, dsn, conn, policy, o, "rotation")
	if find(collect(t, conn, policy), KindBackups, "") != nil {
		t.Error("backups still beyond the rotation after it ran")
	}
}

// VACUUM and a plain table's retention are reuse only, and say so: the
// filesystem does not gain.
func TestReuseOnlyOptionsGainTheFilesystemNothing(t *testing.T) {
	dsn, conn := setup(t)
	pgtest.Exec(t, conn, `CREATE TABLE events (ts timestamptz NOT NULL, payload text) WITH (autovacuum_enabled = false)`)
	pgtest.Exec(t, conn, fmt.Sprintf(fill, "events", 200000))
	pgtest.Exec(t, conn, `DELETE FROM events WHERE extract(minute FROM ts)::int % 2 = 0`) // every other row: VACUUM truncates nothing
	pgtest.Exec(t, conn, `ANALYZE events`)
	pgtest.Exec(t, conn, `SELECT pg_stat_force_next_flush()`) // n_dead_tup now, not within the second
	policy := config.Policy{Tables: []config.TablePolicy{{Name: "events", TimeColumn: "ts", RetentionDays: 60}}}
	tr := collect(t, conn, policy)
	rows := find(tr, KindExpiredRows, "events")
	if rows == nil || rows.Frees != FreesReuseOnly || !rows.Estimate {
		t.Errorf("expired rows of a plain table: %+v", rows)
	}
	var vac *Option
	for i, o := range tr.Options {
		if o.Kind == KindBloat && o.Run != nil && o.Run.Action == "vacuum" {
			vac = &tr.Options[i]
		}
	}
	if vac == nil || vac.Frees != FreesReuseOnly || !vac.Estimate || vac.Bytes <= 0 {
		t.Fatalf("VACUUM option: %+v in %+v", vac, tr.Options)
	}
	before, wb := fsFree(t, conn)
	runOption(t, dsn, conn, policy, vac)
	after, wa := fsFree(t, conn)
	t.Logf("VACUUM: predicted reusable %d, statfs gained %d, pg_wal grew %d", vac.Bytes, after-before, wa-wb)
	if gain := after - before + (wa - wb); gain > vac.Bytes/10 {
		t.Errorf("VACUUM gave the filesystem %d bytes: reuse only was wrong", gain)
	}
}

func TestInactiveSlotHoldingWALIsFoundAndDropped(t *testing.T) {
	dsn, conn := setup(t)
	name := fmt.Sprintf("lost_replica_%d", time.Now().UnixNano()%100000)
	pgtest.Exec(t, conn, `SELECT pg_create_physical_replication_slot($1, true)`, name)
	t.Cleanup(func() {
		c := pgtest.Connect(t, dsn)
		c.Exec(context.Background(), `SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1`, name)
	})
	pgtest.Exec(t, conn, `CREATE TABLE w (payload text)`)
	pgtest.Exec(t, conn, `INSERT INTO w SELECT md5(g::text) FROM generate_series(1, 300000) g`)
	pgtest.Exec(t, conn, `SELECT pg_switch_wal()`)
	tr := collect(t, conn, config.Policy{})
	var o *Option
	for i := range tr.Options {
		if tr.Options[i].Kind == KindReplicationSlot && tr.Options[i].Object == name {
			o = &tr.Options[i]
		}
	}
	if o == nil || o.Bytes < 16<<20 || o.Frees != FreesCheckpoint || o.Run == nil || o.Run.Confirm != name ||
		*o.Action != "pgtend run drop-slot --slot "+name {
		t.Fatalf("slot: %+v", o)
	}
	a, _ := maint.Default().Action("drop-slot")
	p, err := a.Plan(maint.WithFlags(context.Background(), o.Run.Flags), conn, config.Policy{}, "")
	if err != nil {
		t.Fatal(err)
	}
	if !p.Destructive() || !a.Destructive {
		t.Fatal("dropping a slot is not destructive: it would run without the typed confirmation")
	}
	if n := pgtest.Count(t, conn, `SELECT count(*) FROM pg_replication_slots WHERE slot_name = $1`, name); n != 1 {
		t.Fatal("planning dropped the slot")
	}
	runOption(t, dsn, conn, config.Policy{}, o)
	if n := pgtest.Count(t, conn, `SELECT count(*) FROM pg_replication_slots WHERE slot_name = $1`, name); n != 0 {
		t.Fatal("the slot is still there")
	}
	if _, err := a.Plan(maint.WithFlags(context.Background(), maint.Flags{maint.FlagSlot: name}), conn, config.Policy{}, ""); err == nil {
		t.Error("a plan for a slot that is gone")
	}
}

// A detached partition (an interrupted DETACH CONCURRENTLY), invalid
// indexes (a failed CREATE INDEX CONCURRENTLY, a REINDEX leftover) and the
// temporary file of an open cursor are each found.
func TestHiddenSpaceIsFound(t *testing.T) {
	dsn, conn := setup(t)
	pgtest.Exec(t, conn, `CREATE TABLE p (ts timestamptz NOT NULL, v int) PARTITION BY RANGE (ts)`)
	pgtest.Exec(t, conn, `CREATE TABLE p_old PARTITION OF p FOR VALUES FROM ('2020-01-01') TO ('2021-01-01')`)
	pgtest.Exec(t, conn, `INSERT INTO p SELECT '2020-01-01'::timestamptz + g * interval '1 minute', g FROM generate_series(1, 50000) g`)
	// Another session's snapshot makes DETACH CONCURRENTLY wait in its
	// second phase; cancelled there, it leaves the partition pending.
	holder := pgtest.Connect(t, dsn)
	pgtest.Exec(t, holder, `BEGIN ISOLATION LEVEL REPEATABLE READ`)
	pgtest.Exec(t, holder, `SELECT count(*) FROM p`)
	pgtest.Exec(t, conn, `SET statement_timeout = '1s'`)
	if _, err := conn.Exec(context.Background(), `ALTER TABLE p DETACH PARTITION p_old CONCURRENTLY`); err == nil {
		t.Fatal("DETACH CONCURRENTLY did not wait")
	}
	pgtest.Exec(t, conn, `RESET statement_timeout`)
	pgtest.Exec(t, holder, `ROLLBACK`)

	pgtest.Exec(t, conn, `CREATE TABLE dup (k int)`)
	pgtest.Exec(t, conn, `INSERT INTO dup SELECT g % 1000 FROM generate_series(1, 100000) g`)
	if _, err := conn.Exec(context.Background(), `CREATE UNIQUE INDEX CONCURRENTLY dup_k ON dup (k)`); err == nil {
		t.Fatal("a unique index on duplicates")
	}
	if _, err := conn.Exec(context.Background(), `CREATE UNIQUE INDEX CONCURRENTLY dup_k_ccnew ON dup (k)`); err == nil {
		t.Fatal("a unique index on duplicates")
	}

	cursor := pgtest.Connect(t, dsn)
	pgtest.Exec(t, cursor, `SET work_mem = '64kB'`)
	pgtest.Exec(t, cursor, `BEGIN`)
	pgtest.Exec(t, cursor, `DECLARE c CURSOR FOR SELECT g FROM generate_series(1, 500000) g ORDER BY g DESC`)
	pgtest.Exec(t, cursor, `FETCH 1 FROM c`)

	tr := collect(t, conn, config.Policy{})
	if o := find(tr, KindDetachedPartition, "p_old"); o == nil || o.Bytes <= 0 || o.Object != "public.p" {
		t.Errorf("detached partition: %+v", o)
	}
	var failed, leftover *Option
	for i, o := range tr.Options {
		switch {
		case o.Kind == KindInvalidIndex && o.Object == "public.dup_k":
			failed = &tr.Options[i]
		case o.Kind == KindInvalidIndex && o.Object == "public.dup_k_ccnew":
			leftover = &tr.Options[i]
		}
	}
	if leftover == nil || leftover.Frees != FreesNow || leftover.Action == nil || *leftover.Action != "pgtend run reindex --index public.dup_k_ccnew" {
		t.Errorf("leftover index: %+v", leftover)
	}
	if failed == nil || failed.Frees != FreesNeedsFreeSpace {
		t.Errorf("invalid index: %+v", failed)
	}
	if o := find(tr, KindTempFiles, ""); o == nil || o.Bytes <= 0 || o.Frees != FreesNow {
		t.Errorf("temp files: %+v (notes %q)", o, tr.Notes)
	}
	pgtest.Exec(t, cursor, `COMMIT`)
}

// With pg_repack installed, a bloated table is offered a rewrite that
// frees disk at once — measured — and shown blocked, with the numbers,
// when the free space would not cover it.
func TestBloatedTableIsOfferedARewrite(t *testing.T) {
	dsn, conn := setup(t)
	if _, err := conn.Exec(context.Background(), `CREATE EXTENSION pg_repack`); err != nil {
		t.Skipf("SKIPPED: pg_repack is not installed on this machine (postgresql-NN-repack): %v", err)
	}
	if tool, why, err := maint.FindRepack(context.Background(), conn); err != nil || tool == nil {
		t.Skipf("SKIPPED: no pg_repack client: %s %v", why, err)
	}
	measured := false
	if _, err := conn.Exec(context.Background(), `CREATE SCHEMA tools; CREATE EXTENSION pgstattuple SCHEMA tools`); err == nil {
		measured = true // the figures come from pgstattuple_approx
	} else {
		t.Logf("pgstattuple is not installed (%v): the figures are the statistics' estimate", err)
	}
	pgtest.Exec(t, conn, `CREATE TABLE fat (id int PRIMARY KEY, payload text) WITH (autovacuum_enabled = false)`)
	pgtest.Exec(t, conn, `INSERT INTO fat SELECT g, md5(g::text) || md5((g * 3)::text) FROM generate_series(1, 400000) g`)
	pgtest.Exec(t, conn, `DELETE FROM fat WHERE id % 4 <> 0`)
	pgtest.Exec(t, conn, `VACUUM ANALYZE fat`)
	pgtest.Exec(t, conn, `SELECT pg_stat_force_next_flush()`)
	tr := collect(t, conn, config.Policy{})
	var o *Option
	for i := range tr.Options {
		if tr.Options[i].Kind == KindBloat && tr.Options[i].Run != nil && tr.Options[i].Run.Action == "rewrite" {
			o = &tr.Options[i]
		}
	}
	if o == nil || o.Frees != FreesNow || o.Object != "rewrite (pg_repack)" || !o.Estimate || o.NeedsFreeBytes <= 0 {
		t.Fatalf("rewrite: %+v in %+v", o, tr.Options)
	}
	if measured && !strings.Contains(o.Basis, "pgstattuple_approx") {
		t.Errorf("pgstattuple installed, the figure is %q", o.Basis)
	}
	var sizeBefore int64
	pgtest.QueryRow(t, conn, `SELECT pg_total_relation_size('fat')`).Scan(&sizeBefore)
	before, wb := fsFree(t, conn)
	res := runOption(t, dsn, conn, config.Policy{}, o)
	after, wa := fsFree(t, conn)
	t.Logf("pg_repack: predicted %d, statfs gained %d, pg_wal grew %d; run %+v", o.Bytes, after-before, wa-wb, res)
	if gain := after - before + (wa - wb); gain < o.Bytes/2 {
		t.Errorf("the rewrite gained the filesystem %d bytes, predicted %d", gain, o.Bytes)
	}

	// Bloated again, and a margin larger than the disk: blocked.
	pgtest.Exec(t, conn, `DELETE FROM fat WHERE id % 8 <> 0`)
	pgtest.Exec(t, conn, `INSERT INTO fat SELECT g, md5(g::text) || md5((g * 3)::text) FROM generate_series(400001, 800000) g`)
	pgtest.Exec(t, conn, `DELETE FROM fat WHERE id > 400000 AND id % 4 <> 0`)
	pgtest.Exec(t, conn, `VACUUM ANALYZE fat`)
	tight := config.Policy{Disk: config.Disk{KeepFreeBytes: 1 << 60}}
	tr = collect(t, conn, tight)
	o = nil
	for i := range tr.Options {
		if tr.Options[i].Kind == KindBloat && tr.Options[i].Object == "rewrite (pg_repack)" {
			o = &tr.Options[i]
		}
	}
	if o == nil || o.Frees != FreesNeedsFreeSpace || o.Action != nil || o.Blocked == "" || o.NeedsFreeBytes < 1<<60 {
		t.Fatalf("blocked rewrite: %+v", o)
	}
	t.Log(o.Blocked)
	a, _ := maint.Default().Action("rewrite")
	if _, err := a.Plan(context.Background(), conn, tight, "public.fat"); err == nil {
		t.Error("the rewrite plan ran without room: ops must refuse it too")
	}
}

// An active slot — pg_receivewal streaming from it — is listed with what
// it holds, but offered no action, and its drop is refused in ops.
func TestActiveSlotIsNeverDropped(t *testing.T) {
	_, conn := setup(t)
	bin := filepath.Join(pgtest.Cluster.BinDir, "pg_receivewal")
	if _, err := os.Stat(bin); err != nil {
		t.Skipf("SKIPPED: no pg_receivewal in %s to hold a slot active: %v", pgtest.Cluster.BinDir, err)
	}
	name := fmt.Sprintf("live_replica_%d", time.Now().UnixNano()%100000)
	pgtest.Exec(t, conn, `SELECT pg_create_physical_replication_slot($1, true)`, name)
	ctx, cancel := context.WithCancel(context.Background())
	dir := t.TempDir()
	os.Chmod(dir, 0o777)
	recv := exec.CommandContext(ctx, bin, "-D", dir, "--slot", name, "-h", pgtest.Cluster.SocketDir(), "-p", fmt.Sprint(pgtest.Cluster.Port), "-U", pgtest.Cluster.Superuser, "-n")
	if err := recv.Start(); err != nil {
		t.Skipf("SKIPPED: pg_receivewal does not start: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		recv.Wait()
		c := pgtest.Connect(t, pgtest.NewDatabase(t))
		c.Exec(context.Background(), `SELECT pg_drop_replication_slot($1)`, name)
	})
	deadline := time.Now().Add(10 * time.Second)
	for pgtest.Count(t, conn, `SELECT count(*) FROM pg_replication_slots WHERE slot_name = $1 AND active`, name) == 0 {
		if time.Now().After(deadline) {
			t.Skip("SKIPPED: pg_receivewal did not make the slot active within 10 s (replication connections refused?)")
		}
		time.Sleep(100 * time.Millisecond)
	}
	// Listed or not (an active slot may hold no WAL), it is offered no drop;
	// and its drop, asked for by name, is refused.
	tr := collect(t, conn, config.Policy{})
	for _, o := range tr.Options {
		if o.Kind == KindReplicationSlot && o.Object == name && (o.Run != nil || o.Action != nil) {
			t.Errorf("an active slot is offered a drop: %+v", o)
		}
	}
	a, _ := maint.Default().Action("drop-slot")
	if _, err := a.Plan(maint.WithFlags(context.Background(), maint.Flags{maint.FlagSlot: name}), conn, config.Policy{}, ""); err == nil || !strings.Contains(err.Error(), "active") {
		t.Errorf("the plan of an active slot's drop: %v", err)
	}
}
