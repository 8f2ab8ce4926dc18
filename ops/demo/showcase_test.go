package demo

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pgtend/pgtend/ops/backup"
	"github.com/pgtend/pgtend/ops/config"
	"github.com/pgtend/pgtend/ops/maint"
	"github.com/pgtend/pgtend/ops/pg"
	"github.com/pgtend/pgtend/ops/pgtest"
	"github.com/pgtend/pgtend/ops/report"
)

// seedDemo seeds what `pgtend demo` seeds, at the default scale and span,
// writes its files and returns the demo's policy. The replication slot
// belongs to the test cluster: it is dropped when the test ends, so the
// cluster does not keep WAL for the rest of the package.
func seedDemo(t *testing.T, mode Mode) (string, *pgx.Conn, *Result, *Files, config.Policy) {
	t.Helper()
	dsn := pgtest.NewDatabase(t)
	conn := connect(t, dsn)
	start := time.Now()
	res, err := Seed(context.Background(), conn, Options{Days: testDays, Now: testNow, Mode: mode, Extras: true,
		Progress: func(s string) { t.Logf("progress %6.2fs: %s", time.Since(start).Seconds(), s) }})
	t.Cleanup(func() {
		_, _ = conn.Exec(context.Background(), "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1", IdleSlot)
	})
	if err != nil {
		t.Fatalf("Seed: %v", err)
	}
	files, err := WriteFiles(context.Background(), FilesOptions{Dir: t.TempDir(), PgDump: filepath.Join(pgtest.Cluster.BinDir, "pg_dump"), DSN: dsn, Now: testNow})
	if err != nil {
		t.Fatalf("WriteFiles: %v", err)
	}
	t.Logf("seed and files took %v", time.Since(start).Round(time.Millisecond))
	return dsn, conn, res, files, files.Policy(config.Default().Policy)
}

// TestDemoShowsEveryFeature seeds the demo as `pgtend demo` does and checks
// that every pane has something true to show for each feature, and that
// each object made for the features still to come is there.
func TestDemoShowsEveryFeature(t *testing.T) {
	pgtest.EachMode(t, Native, Timescale, func(t *testing.T, mode Mode) {
		dsn, conn, res, files, policy := seedDemo(t, mode)
		logSizes(t, conn, res)
		r, err := report.Collect(context.Background(), conn, policy)
		if err != nil {
			t.Fatal(err)
		}
		checkPanes(t, r, files, mode == Timescale)
		checkExtras(t, conn, files, mode == Timescale)
		checkRetentionRuns(t, dsn, conn, policy)
	})
}

// checkPanes: the Tables, Chunks, Disk and Calendar panes each have rows,
// and each landed feature (sizes, compression, VACUUM, retention) has a
// table to act on.
func checkPanes(t *testing.T, r *report.Report, files *Files, timescale bool) {
	t.Helper()
	byName := map[string]report.Table{}
	for _, tb := range r.Tables {
		byName[tb.Name] = tb
	}
	for _, name := range append(seriesNames, "trade_history", "instruments", "open_orders") {
		tb, ok := byName[name]
		if !ok || tb.Missing || tb.TotalBytes == nil || *tb.TotalBytes == 0 {
			t.Errorf("Tables pane: %s missing or unmeasured", name)
		}
	}
	if !byName["trade_history"].Permanent || byName["instruments"].RetentionDays != nil {
		t.Errorf("trade_history permanent = %v, instruments retention = %v: want permanent and none",
			byName["trade_history"].Permanent, byName["instruments"].RetentionDays)
	}
	// VACUUM: dead tuples to remove.
	if n := byName["open_orders"].DeadTuples; n < 500 {
		t.Errorf("open_orders has %d dead tuples, want hundreds for VACUUM to show", n)
	}
	// Retention: every table with a retention has something past it.
	for _, tb := range r.Tables {
		if tb.RetentionDays != nil && (tb.ExpiredBytes == nil || *tb.ExpiredBytes == 0) {
			t.Errorf("%s: nothing past its %d-day retention", tb.Name, *tb.RetentionDays)
		}
	}
	var before, after int64
	compressed, expired := 0, 0
	for _, c := range r.Chunks {
		if c.Expired {
			expired++
		}
		if c.Table == "option_chain_snapshots" && c.Compressed && c.BeforeBytes != nil && c.AfterBytes != nil {
			compressed++
			before += *c.BeforeBytes
			after += *c.AfterBytes
		}
	}
	if expired == 0 {
		t.Error("Chunks pane: no chunk or partition past retention")
	}
	if timescale {
		ratio := float64(before) / float64(after)
		t.Logf("option_chain_snapshots: %d chunks compressed %d -> %d bytes, %.2fx", compressed, before, after, ratio)
		if compressed != testCompressedPerTable || ratio < 4 {
			t.Errorf("Chunks pane: %d option_chain_snapshots chunks compressed %.2fx, want %d at 4x or better", compressed, ratio, testCompressedPerTable)
		}
	}
	if r.Disk.BackupDir != files.BackupDir || r.Disk.BackupBytes == nil || *r.Disk.BackupBytes == 0 || r.Disk.DatabaseBytes == 0 {
		t.Errorf("Disk pane: backup dir %q (%v bytes), database %d bytes; want the demo's backup", r.Disk.BackupDir, r.Disk.BackupBytes, r.Disk.DatabaseBytes)
	}
	if len(r.Calendar) == 0 {
		t.Error("Calendar pane is empty")
	}
}

var backupName = regexp.MustCompile(`^` + regexp.QuoteMeta("t") + `\d+_\w+_\d{8}_\d{6}\.dump$`)

// checkExtras: the objects made for the features still to come.
func checkExtras(t *testing.T, conn *pgx.Conn, files *Files, timescale bool) {
	t.Helper()
	if n := queryInt(t, conn, `SELECT count(*) FROM pg_constraint WHERE contype = 'f'
		AND conrelid = 'public.trade_history'::regclass AND confrelid = 'public.instruments'::regclass`); n != 1 {
		t.Errorf("%d foreign keys from trade_history to instruments, want 1", n)
	}
	if n := queryInt(t, conn, "SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND connamespace = 'public'::regnamespace"); n != 1 {
		t.Errorf("%d foreign keys in all, want only trade_history's: no table with a retention may reference or be referenced", n)
	}
	// REINDEX: open_orders' indexes hold far more pages than its rows need.
	var pages, rows int64
	pgtest.QueryRow(t, conn, `SELECT relpages, (SELECT count(*) FROM public.open_orders) FROM pg_class
		WHERE oid = 'public.open_orders_pkey'::regclass`).Scan(&pages, &rows)
	if pages < 10*(rows/400+1) {
		t.Errorf("open_orders_pkey: %d pages for %d rows, want a bloated index (10x the ~%d it needs)", pages, rows, rows/400+1)
	}
	if timescale {
		if n := queryInt(t, conn, `SELECT count(*) FROM timescaledb_information.continuous_aggregates a
			JOIN timescaledb_information.jobs j ON j.hypertable_schema = a.view_schema AND j.hypertable_name = a.view_name
			WHERE a.view_name = $1 AND j.proc_name = 'policy_refresh_continuous_aggregate'`, dailyView); n != 1 {
			t.Errorf("%s: %d continuous aggregates with a refresh policy, want 1", dailyView, n)
		}
	} else if k := relkind(t, conn, dailyView); k != "m" {
		t.Errorf("%s relkind %q, want a materialized view", dailyView, k)
	}
	if n := queryInt(t, conn, "SELECT count(*) FROM public."+dailyView); n == 0 {
		t.Errorf("%s is empty", dailyView)
	}
	var active bool
	var held int64
	pgtest.QueryRow(t, conn, `SELECT active, pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::bigint
		FROM pg_replication_slots WHERE slot_name = $1 AND slot_type = 'physical'`, IdleSlot).Scan(&active, &held)
	if active || held <= 0 {
		t.Errorf("slot %s: active %v, holding %d bytes of WAL; want inactive and holding some", IdleSlot, active, held)
	}
	if held > 16<<20 {
		t.Errorf("slot %s holds %d bytes of WAL, want a little (the seed's own WAL is not for it)", IdleSlot, held)
	}
	t.Logf("slot %s holds %d bytes of WAL", IdleSlot, held)
	if !backupName.MatchString(filepath.Base(files.Backup)) || filepath.Dir(files.Backup) != files.BackupDir {
		t.Errorf("backup %s: want <database>_YYYYmmdd_HHMMSS.dump in %s", files.Backup, files.BackupDir)
	}
	out, err := exec.Command(filepath.Join(pgtest.Cluster.BinDir, "pg_restore"), "--list", files.Backup).CombinedOutput()
	if err != nil || !regexp.MustCompile(`TABLE DATA public trade_history`).Match(out) {
		t.Errorf("pg_restore --list %s: %v\n%.500s", files.Backup, err, out)
	}
	for _, d := range files.ArchiveDirs {
		entries, err := os.ReadDir(d)
		if err != nil || len(entries) < 3 {
			t.Errorf("%s: %d files (%v), want a few to archive", d, len(entries), err)
		}
	}
	// As the guide: models/ whole, trade_logs/ by month, last month's log
	// in last month's archive.
	pol := files.Policy(config.Policy{})
	if len(pol.Archive.Dirs) != 1 || pol.Archive.Dirs[0] != files.ArchiveDirs[0] || len(pol.Archive.MonthlyDirs) != 1 || pol.Archive.MonthlyDirs[0] != files.ArchiveDirs[1] {
		t.Errorf("the demo policy's [archive]: %+v", pol.Archive)
	}
	thisMonth := time.Date(testNow.Year(), testNow.Month(), 1, 0, 0, 0, 0, testNow.Location())
	members, _, err := backup.Scan(files.ArchiveDirs[1], thisMonth.AddDate(0, -1, 0), thisMonth)
	var logs []string
	for _, m := range members {
		if m.Type == '0' {
			logs = append(logs, filepath.Base(m.Name))
		}
	}
	want := "trades_" + thisMonth.AddDate(0, -1, 0).Format("2006-01") + ".csv"
	if err != nil || len(logs) != 1 || logs[0] != want {
		t.Errorf("last month's trade logs: %v %v, want %s", logs, err, want)
	}
}

// checkRetentionRuns: the retention cleanup of every table with a
// retention still plans and runs on the demo: the foreign key and the
// aggregate stand in nobody's way.
func checkRetentionRuns(t *testing.T, dsn string, conn *pgx.Conn, policy config.Policy) {
	t.Helper()
	plan, err := maint.PlanRetention(context.Background(), conn, policy, "", maint.RetentionOptions{})
	if err != nil {
		t.Fatalf("planning the retention cleanup: %v", err)
	}
	res, err := maint.Run(context.Background(), dsn, pg.Settings{}, plan, maint.Options{Policy: policy, Confirmed: true}, func(maint.Event) {})
	if err != nil || res.Outcome != maint.OutcomeOK {
		t.Fatalf("retention cleanup: %v %+v", err, res)
	}
	t.Logf("retention cleanup freed %d bytes", res.BytesBefore-res.BytesAfter)
}
