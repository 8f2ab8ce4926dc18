package health

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pgtend/pgtend/ops/backup"
	"github.com/pgtend/pgtend/ops/config"
	"github.com/pgtend/pgtend/ops/pg"
	"github.com/pgtend/pgtend/ops/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// fast are thresholds a test reaches in a second.
func fast() config.Health {
	h := config.DefaultHealth
	h.IdleInTransactionWarn, h.IdleInTransactionCritical = 500*time.Millisecond, time.Hour
	h.LongTransactionWarn, h.LongTransactionCritical = 500*time.Millisecond, time.Hour
	h.LockWaitWarn, h.LockWaitCritical = 500*time.Millisecond, time.Hour
	return h
}

// collect reads a report as pgtend does: on a session of its own, with
// pgtend's application_name and timeouts.
func collect(t *testing.T, dsn string, h config.Health) *Report {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pg.Connect(ctx, dsn, pg.Settings{StatementTimeout: 10 * time.Second, LockTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	r, err := Collect(ctx, conn, Options{Policy: config.Policy{Health: h}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := json.Marshal(r); err != nil {
		t.Fatal(err)
	}
	return r
}

func finding(t *testing.T, r *Report, check string) Finding {
	t.Helper()
	f, ok := r.Finding(check)
	if !ok {
		t.Fatalf("no %s finding", check)
	}
	return f
}

// itemOf is the finding's item about pid, nil when none.
func itemOf(f Finding, pid uint32) *Item {
	for i, it := range f.Items {
		if it.Session != nil && it.Session.PID == int32(pid) {
			return &f.Items[i]
		}
	}
	return nil
}

// session opens a session as application app.
func session(t *testing.T, dsn, app string) *pgx.Conn {
	t.Helper()
	return pgtest.ConnectAs(t, dsn+"&application_name="+app, "")
}

func dump(f Finding) string {
	b, _ := json.MarshalIndent(f, "", "  ")
	return string(b)
}

// An idle-in-transaction session is found with how long it has been idle,
// offered for termination; pgtend's own sessions never are.
func TestIdleInTransactionFound(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	victim := session(t, dsn, "billing-worker")
	pgtest.Exec(t, victim, "BEGIN; SELECT 1")
	own := session(t, dsn, "pgtend")
	pgtest.Exec(t, own, "BEGIN; SELECT 1")
	time.Sleep(time.Second)
	r := collect(t, dsn, fast())
	f := finding(t, r, CheckIdleInTransaction)
	it := itemOf(f, victim.PgConn().PID())
	if f.Status != Warning || it == nil {
		t.Fatalf("idle in transaction:\n%s", dump(f))
	}
	if it.Fix != FixTerminate || it.Session.Application != "billing-worker" || !strings.Contains(it.Text, "idle 1s") {
		t.Errorf("item %+v", *it)
	}
	if o := itemOf(f, own.PgConn().PID()); o == nil || o.Fix != "" || o.NoFix != "one of pgtend's own sessions" || !o.Session.Own {
		t.Errorf("pgtend's own session: %+v", o)
	}
	if !strings.Contains(f.Summary, "2 sessions") {
		t.Errorf("summary %q", f.Summary)
	}
	// The default threshold (5m) is not reached: all well.
	if f := finding(t, collect(t, dsn, config.Health{}), CheckIdleInTransaction); f.Status != OK {
		t.Errorf("under the default threshold: %s", f.Status)
	}
}

// Connections near max_connections: the test cluster has 60, 3 reserved
// for superusers; 51 sessions are 89% of the 57 usable.
func TestConnectionsNearTheLimit(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	r := collect(t, dsn, config.Health{})
	if f := finding(t, r, CheckConnections); f.Status != OK {
		t.Fatalf("idle cluster:\n%s", dump(f))
	}
	for i := range 50 {
		c := session(t, dsn, fmt.Sprintf("pool-%d", i%2))
		if i == 0 {
			pgtest.Exec(t, c, "SELECT 1")
		}
	}
	f := finding(t, collect(t, dsn, config.Health{}), CheckConnections)
	if f.Status != Warning || !strings.HasPrefix(f.Summary, "51 of 57 usable slots in use (89%)") {
		t.Fatalf("50 sessions more:\n%s", dump(f))
	}
	var byApp string
	for _, e := range f.Evidence {
		if e.Label == "by application" {
			byApp = e.Value
		}
	}
	if byApp != "pool-0 25, pool-1 25, pgtend 1" {
		t.Errorf("by application: %q", byApp)
	}
	if len(f.Items) != 10 || f.Items[0].Fix != FixTerminate || f.Items[0].Session.State != "idle" {
		t.Errorf("the idle sessions to end: %d items, first %+v", len(f.Items), f.Items[0])
	}
	h := config.DefaultHealth
	h.ConnectionsCritical = 85
	if f := finding(t, collect(t, dsn, h), CheckConnections); f.Status != Critical {
		t.Errorf("past connections_critical 85%%: %s", f.Status)
	}
}

// A table with autovacuum off and dead tuples past its own threshold (its
// reloptions, not the server's settings).
func TestDeadTuplesPastThresholdWithAutovacuumOff(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	conn := pgtest.Connect(t, dsn)
	pgtest.Exec(t, conn, `CREATE TABLE orders (id int PRIMARY KEY, note text)
		WITH (autovacuum_enabled = false, autovacuum_vacuum_threshold = 10, autovacuum_vacuum_scale_factor = 0);
		INSERT INTO orders SELECT i, 'x' FROM generate_series(1, 1000) i;
		ANALYZE orders;
		DELETE FROM orders WHERE id <= 30;
		CREATE TABLE quiet (id int);
		INSERT INTO quiet VALUES (1);
		DELETE FROM quiet;`)
	var f Finding
	deadline := time.Now().Add(20 * time.Second)
	for { // the deleting session's counts reach the statistics within a second or so
		f = finding(t, collect(t, dsn, config.Health{}), CheckDeadTuples)
		if len(f.Items) > 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if f.Status != Warning || len(f.Items) != 1 {
		t.Fatalf("dead tuples:\n%s", dump(f))
	}
	it := f.Items[0]
	if it.Name != "public.orders" || it.Fix != "vacuum" || it.Table != "public.orders" || it.Status != Warning ||
		it.Text != "public.orders: 30 dead tuples > threshold 10 (300%); autovacuum off for it" {
		t.Errorf("item %+v", it)
	}
	var src string
	for _, e := range it.Evidence {
		if e.Label == "threshold" {
			src = e.Source
		}
	}
	if !strings.Contains(src, "reloptions") {
		t.Errorf("threshold's source %q", src)
	}
	// quiet's one dead tuple is far below the server's 50 + 20%.
	if strings.Contains(dump(f), "quiet") {
		t.Error("quiet is flagged")
	}
}

// A long transaction holds the xmin horizon back: it is named, with how
// many XIDs and how long; a long query is offered a cancel.
func TestLongTransactionHoldsBackXmin(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	conn := pgtest.Connect(t, dsn)
	holder := session(t, dsn, "report-job")
	pgtest.Exec(t, holder, "BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT count(*) FROM pg_class")
	for range 5 { // transactions after its snapshot
		pgtest.Exec(t, conn, "SELECT txid_current()")
	}
	runner := session(t, dsn, "etl")
	done := make(chan error, 1)
	go func() {
		_, err := runner.Exec(context.Background(), "SELECT pg_sleep(3)")
		done <- err
	}()
	time.Sleep(1500 * time.Millisecond)
	r := collect(t, dsn, fast())
	x := finding(t, r, CheckXminHorizon)
	if x.Status != Warning || len(x.Items) == 0 || x.Items[0].Session == nil || x.Items[0].Session.PID != int32(holder.PgConn().PID()) {
		t.Fatalf("xmin horizon:\n%s", dump(x))
	}
	if want := fmt.Sprintf("pid %d (pgtend, report-job) holds it", holder.PgConn().PID()); !strings.HasPrefix(x.Items[0].Text, want) ||
		!strings.Contains(x.Summary, fmt.Sprintf("pid %d (pgtend, report-job)", holder.PgConn().PID())) {
		t.Errorf("holder %q, summary %q; want %q", x.Items[0].Text, x.Summary, want)
	}
	if age := *x.Items[0].Session.XminAge; age < 5 {
		t.Errorf("xmin age %d, want at least the 5 transactions since", age)
	}
	l := finding(t, r, CheckLongTransactions)
	it := itemOf(l, runner.PgConn().PID())
	if l.Status != Warning || it == nil || it.Fix != FixCancel || !strings.Contains(it.Text, "pg_sleep(3)") {
		t.Errorf("long transactions:\n%s", dump(l))
	}
	if !strings.Contains(l.Summary, fmt.Sprintf("oldest transaction 1s, pid %d", holder.PgConn().PID())) {
		t.Errorf("oldest transaction: %q", l.Summary)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// A blocking chain: the holder of a lock, and who waits behind it, since
// when, for which relation.
func TestBlockingChain(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	conn := pgtest.Connect(t, dsn)
	pgtest.Exec(t, conn, "CREATE TABLE ledger (id int)")
	holder := session(t, dsn, "migration")
	pgtest.Exec(t, holder, "BEGIN; LOCK TABLE ledger IN ACCESS EXCLUSIVE MODE")
	waiter := session(t, dsn, "dashboard")
	done := make(chan error, 1)
	go func() {
		_, err := waiter.Exec(context.Background(), "SELECT count(*) FROM ledger")
		done <- err
	}()
	time.Sleep(time.Second)
	f := finding(t, collect(t, dsn, fast()), CheckLocks)
	if f.Status != Warning || len(f.Items) != 2 {
		t.Fatalf("locks:\n%s", dump(f))
	}
	head, wait := f.Items[0], f.Items[1]
	hp, wp := holder.PgConn().PID(), waiter.PgConn().PID()
	if head.Session.PID != int32(hp) || head.Fix != FixTerminate || !strings.HasPrefix(head.Text, fmt.Sprintf("pid %d (pgtend, migration) blocks 1 session; it is idle in transaction", hp)) {
		t.Errorf("head %+v", head)
	}
	if want := fmt.Sprintf("  pid %d (pgtend, dashboard) waits 1s for AccessShareLock on ledger, blocked by pid %d", wp, hp); wait.Text != want || wait.Fix != FixCancel {
		t.Errorf("waiter %q (fix %s), want %q", wait.Text, wait.Fix, want)
	}
	if f.Summary != "1 session blocked by 1 session" {
		t.Errorf("summary %q", f.Summary)
	}
	pgtest.Exec(t, holder, "COMMIT")
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// A role without pg_read_all_stats sees other roles' sessions only as
// counts: the findings that need their state say so.
func TestHiddenSessionsAreUnknownNotWell(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	conn := pgtest.Connect(t, dsn)
	pgtest.Exec(t, conn, `DROP ROLE IF EXISTS health_watcher; CREATE ROLE health_watcher LOGIN`)
	t.Cleanup(func() { pgtest.Exec(t, pgtest.Connect(t, dsn), "DROP ROLE IF EXISTS health_watcher") })
	other := session(t, dsn, "billing")
	pgtest.Exec(t, other, "BEGIN; SELECT 1")
	u := strings.Replace(dsn, "pgtend@", "health_watcher@", 1)
	r := collect(t, u, fast())
	if r.SeesAllSessions {
		t.Fatal("health_watcher sees all sessions")
	}
	f := finding(t, r, CheckIdleInTransaction)
	if f.Status != Unknown || !strings.Contains(dump(f), "GRANT pg_read_all_stats TO health_watcher") {
		t.Errorf("idle in transaction for health_watcher:\n%s", dump(f))
	}
	if r.Status == OK {
		t.Error("the report is all well")
	}
	pgtest.Exec(t, conn, "GRANT pg_monitor TO health_watcher")
	time.Sleep(time.Second)
	r = collect(t, u, fast())
	if f := finding(t, r, CheckIdleInTransaction); !r.SeesAllSessions || f.Status != Warning {
		t.Errorf("with pg_monitor: sees all %v, %s", r.SeesAllSessions, dump(f))
	}
}

// writeBackup makes a backup file of trading named for its time, verified
// (with the sidecar pgtend writes after reading it back) or not.
func writeBackup(t *testing.T, dir string, made time.Time, body string, verified bool) string {
	t.Helper()
	name := backup.FileName("trading", made, backup.Custom)
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	if verified {
		sum := sha256.Sum256([]byte(body))
		sc := fmt.Sprintf("# pgtend backup\n# pgtend: written=%s bytes=%d\n%x  %s\n", time.Now().UTC().Add(time.Second).Format(time.RFC3339), len(body), sum, name)
		if err := os.WriteFile(path+backup.SidecarExt, []byte(sc), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return path
}

func TestBackupsFromTheVerifiedList(t *testing.T) {
	now := time.Now()
	h := config.Health{}
	judge := func(dir string) Finding {
		return Backups(config.Backup{Dir: dir, KeepDaily: 1}, h, "trading", 1<<20, now)
	}
	offersBackup := func(f Finding) bool {
		return slices.ContainsFunc(f.Items, func(it Item) bool { return it.Fix == "backup" })
	}
	if f := Backups(config.Backup{}, h, "trading", 0, now); f.Status != Unknown {
		t.Errorf("no [backup]: %s", f.Status)
	}
	dir := t.TempDir()
	if f := judge(dir + "/none"); f.Status != Critical || !strings.Contains(f.Summary, "does not exist") || !offersBackup(f) {
		t.Errorf("missing directory: %+v", f)
	}
	if f := judge(dir); f.Status != Critical || f.Summary != "no verified backup of trading in "+dir || !offersBackup(f) {
		t.Errorf("empty directory: %+v", f)
	}
	// A dump nobody verified, and another database's verified one, count
	// for nothing.
	writeBackup(t, dir, now.Add(-time.Hour), "unverified", false)
	other := backup.FileName("other", now.Add(-time.Hour), backup.Custom)
	if err := os.WriteFile(filepath.Join(dir, other), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if f := judge(dir); f.Status != Critical || !strings.HasPrefix(f.Summary, "no verified backup of trading") || !strings.Contains(dump(f), "not verified") {
		t.Errorf("only unverified: %+v", f)
	}
	writeBackup(t, dir, now.Add(-50*time.Hour), "old good dump", true)
	f := judge(dir)
	if f.Status != Warning || !strings.HasPrefix(f.Summary, "no verified backup within 26h: the newest is 2d2h old") || !offersBackup(f) {
		t.Errorf("old verified backup: %+v", f)
	}
	fresh := writeBackup(t, dir, now.Add(-2*time.Hour), "fresh good dump", true)
	if f := judge(dir); f.Status != OK || offersBackup(f) || !strings.Contains(dump(f), "about 15 B") {
		t.Errorf("fresh verified backup (the next one estimated from it): %+v", dump(f))
	}
	// Changed after it was verified: no longer counted.
	if err := os.WriteFile(fresh, []byte("fresh good dump, then changed"), 0o600); err != nil {
		t.Fatal(err)
	}
	if f := judge(dir); f.Status != Warning || !strings.Contains(f.Summary, "2d2h old") {
		t.Errorf("changed since verified: %+v", f)
	}
	// A failure after the newest verified one is said.
	failed := backup.FileName("trading", now.Add(-time.Minute), backup.Custom) + backup.FailedExt
	if err := os.WriteFile(filepath.Join(dir, failed), []byte("cut"), 0o600); err != nil {
		t.Fatal(err)
	}
	if f := judge(dir); !strings.Contains(f.Summary, "1 backup failed since") || !strings.Contains(dump(f), "failed: "+failed) {
		t.Errorf("a failed backup: %+v", dump(f))
	}
}

// A hypertable with compression on and nothing compressing it; then with
// pgtend's compress_after, the chunks past it that are not compressed.
func TestChunksNotCompressing(t *testing.T) {
	pgtest.RequireTimescale(t)
	dsn := pgtest.NewDatabase(t)
	conn := pgtest.Connect(t, dsn)
	pgtest.Exec(t, conn, `CREATE EXTENSION IF NOT EXISTS timescaledb;
		CREATE TABLE ticks (ts timestamptz NOT NULL, v float8);
		SELECT create_hypertable('ticks', 'ts', chunk_time_interval => interval '1 day');
		ALTER TABLE ticks SET (timescaledb.compress);
		INSERT INTO ticks SELECT now() - i * interval '1 hour', i FROM generate_series(1, 24 * 20) i;`)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	read := func(p config.Policy) Finding {
		t.Helper()
		c, err := pg.Connect(ctx, dsn, pg.Settings{})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close(context.Background())
		r, err := Collect(ctx, c, Options{Policy: p})
		if err != nil {
			t.Fatal(err)
		}
		return finding(t, r, CheckCompression)
	}
	f := read(config.Policy{})
	if f.Status != Warning || len(f.Items) != 1 || !strings.HasPrefix(f.Items[0].Text, "public.ticks: compression enabled but no policy compresses its chunks (") ||
		f.Items[0].Fix != "compress" || f.Items[0].Table != "public.ticks" {
		t.Fatalf("no policy:\n%s", dump(f))
	}
	f = read(config.Policy{Tables: []config.TablePolicy{{Name: "ticks", TimeColumn: "ts", CompressAfterDays: 7}}})
	it := f.Items[0]
	if f.Status != Warning || !strings.Contains(it.Text, "chunks past compress_after still uncompressed") || !strings.Contains(dump(f), "pgtend (compress_after 7d in the policy)") {
		t.Fatalf("pgtend's compress_after:\n%s", dump(f))
	}
	pgtest.Exec(t, conn, `SELECT compress_chunk(c) FROM show_chunks('ticks', older_than => now() - interval '7 days') c`)
	if f := read(config.Policy{Tables: []config.TablePolicy{{Name: "ticks", TimeColumn: "ts", CompressAfterDays: 7}}}); f.Status != OK {
		t.Errorf("compressed:\n%s", dump(f))
	}
}
