package checklist

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pgtend/pgtend/ops/config"
	"github.com/pgtend/pgtend/ops/maint"
	"github.com/pgtend/pgtend/ops/pgtest"
	"github.com/pgtend/pgtend/ops/report"
	"github.com/pgtend/pgtend/ops/state"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

func TestErrorLinesSince(t *testing.T) {
	log := strings.Join([]string{
		"2026-11-20 03:00:00.123 UTC [11] ERROR:  relation \"gone\" does not exist",
		"2026-11-29 03:00:00.123 UTC [12] LOG:  checkpoint starting: time",
		"2026-11-29 04:00:00.500 UTC [13] FATAL:  password authentication failed for user \"app\"",
		"2026-11-29 04:00:00 UTC [13] DETAIL:  Connection matched pg_hba.conf line 99",
		"no stamp PANIC:  could not write to file",
		"2026-11-30 05:00:00.000 UTC [14] ERROR:  canceling statement due to statement timeout",
	}, "\n")
	since := time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC)
	utc := LogClock{Loc: time.UTC}
	lines, n := ErrorLines(log, since, utc)
	if n != 3 || len(lines) != 3 || !strings.Contains(lines[0], "FATAL") || !strings.Contains(lines[1], "PANIC") {
		t.Errorf("since %s: %d %q", since, n, lines)
	}
	if _, n := ErrorLines(log, time.Time{}, utc); n != 4 {
		t.Errorf("the whole file: %d error lines, want 4", n)
	}
}

// The throwaway cluster logs to its standard error: no log file to read,
// which the sheet says, and a role not granted pg_current_logfile() is
// told so.
func TestLogsSayWhyNotReadable(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	conn := pgtest.Connect(t, dsn)
	ctx := context.Background()
	l, err := ReadLogs(ctx, conn, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if l.Readable || l.Denied || !strings.Contains(l.Reason, "logging_collector is off") {
		t.Errorf("superuser, no collector: %+v", l)
	}
	role := "checklist_reader_" + strings.ReplaceAll(filepath.Base(t.TempDir()), "-", "")
	pgtest.Exec(t, conn, `CREATE ROLE `+role+` LOGIN`)
	t.Cleanup(func() { _, _ = conn.Exec(context.Background(), `DROP ROLE IF EXISTS `+role) })
	l, err = ReadLogs(ctx, pgtest.ConnectAs(t, dsn, role), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if l.Readable || !l.Denied || !strings.Contains(l.Reason, "pg_current_logfile()") {
		t.Errorf("plain role: %+v", l)
	}
}

func TestAuditFindsWhatItLooksFor(t *testing.T) {
	conn := pgtest.Connect(t, pgtest.NewDatabase(t))
	pgtest.Exec(t, conn, `CREATE TABLE big (id int, v text);
		INSERT INTO big SELECT g, repeat('x', 100) FROM generate_series(1, 20000) g;
		CREATE INDEX big_v ON big (v); CREATE INDEX big_v_again ON big (v);
		CREATE TABLE small (id int PRIMARY KEY); INSERT INTO small VALUES (1);
		ANALYZE big; ANALYZE small`)
	pgtest.Exec(t, conn, `SELECT pg_stat_force_next_flush()`)
	a, err := ReadAudit(context.Background(), conn)
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Largest) == 0 || a.Largest[0].Table != "public.big" || a.Largest[0].Rows != 20000 {
		t.Errorf("largest: %+v", a.Largest)
	}
	if len(a.Duplicates) != 1 || a.Duplicates[0].Table != "public.big" || len(a.Duplicates[0].Indexes) != 2 || a.Duplicates[0].Bytes <= 0 {
		t.Errorf("duplicates: %+v", a.Duplicates)
	}
	unused := map[string]bool{}
	for _, i := range a.Unused {
		unused[i.Index] = true
	}
	if !unused["public.big_v"] || unused["public.small_pkey"] {
		t.Errorf("unused (a primary key is never listed): %+v", a.Unused)
	}
	if len(a.NeverVacuum) == 0 || a.XID.FreezeMaxAge <= 0 || a.XID.Database <= 0 || len(a.XID.Oldest) == 0 {
		t.Errorf("vacuum and XID age: %+v %+v", a.NeverVacuum, a.XID)
	}
	pgtest.Exec(t, conn, `VACUUM big`)
	pgtest.Exec(t, conn, `SELECT pg_stat_force_next_flush()`)
	if a, _ = ReadAudit(context.Background(), conn); len(a.NeverVacuum) != 1 || a.NeverVacuum[0].Table != "public.small" {
		t.Errorf("after VACUUM big: %+v", a.NeverVacuum)
	}
}

func TestColdListsOldBackupsAndArchives(t *testing.T) {
	dir, dest := t.TempDir(), t.TempDir()
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	for _, name := range []string{"db_20260801_030000.dump", "db_20261130_030000.dump"} {
		if err := os.WriteFile(filepath.Join(dir, name), make([]byte, 1000), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{"trade_logs_archive_202608.tar.gz", "trade_logs_archive_202611.tar.gz"} {
		if err := os.WriteFile(filepath.Join(dest, name), make([]byte, 500), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	c, err := ListCold(config.Policy{Backup: config.Backup{Dir: dir}, Archive: config.Archive{Dest: dest}}, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Backups) != 1 || !strings.Contains(c.Backups[0].Name, "20260801") || len(c.Archives) != 1 || c.Bytes != 1500 || c.Kept != 2 || c.AfterDays != 30 {
		t.Errorf("%+v", c)
	}
	// [backup] cold_after moves the line: half a year keeps all four, a
	// day lists the November ones too (the November archive's month ended
	// half a day ago: kept).
	for _, tc := range []struct{ days, backups, archives, kept int }{{180, 0, 0, 4}, {1, 2, 1, 1}} {
		c, err := ListCold(config.Policy{Backup: config.Backup{Dir: dir, ColdAfterDays: tc.days}, Archive: config.Archive{Dest: dest}}, now)
		if err != nil {
			t.Fatal(err)
		}
		if len(c.Backups) != tc.backups || len(c.Archives) != tc.archives || c.Kept != tc.kept || c.AfterDays != tc.days {
			t.Errorf("cold_after %dd: %+v", tc.days, c)
		}
	}
	s, err := Read(context.Background(), nil, maint.SheetColdBackups, Inputs{Policy: config.Policy{Backup: config.Backup{Dir: dir, ColdAfterDays: 180}}, Now: now})
	if err != nil || s.Cold == nil || s.Cold.AfterDays != 180 || len(s.Cold.Backups) != 0 {
		t.Errorf("the quarterly sheet: %+v %v", s, err)
	}
}

func TestRetentionReviewAndForecast(t *testing.T) {
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	days := func(n int) *int { return &n }
	at := func(d int) *time.Time { x := now.AddDate(0, 0, -d); return &x }
	size := func(n int64) *int64 { return &n }
	free, total := int64(100<<30), int64(200<<30)
	r := &report.Report{Disk: report.Disk{Visible: true, TotalBytes: &total, FreeBytes: &free}, Tables: []report.Table{
		{Schema: "public", Name: "ticks", InPolicy: true, RetentionDays: days(30), Oldest: at(45), TotalBytes: size(10 << 30)},
		{Schema: "public", Name: "fills", InPolicy: true, RetentionDays: days(90), Oldest: at(60), TotalBytes: size(1 << 30), ExpectedGrowthPerDay: size(1 << 30)},
		{Schema: "public", Name: "notes", Oldest: at(400), TotalBytes: size(1 << 20)},
	}}
	samples := []state.Sample{
		{At: now.Add(-48 * time.Hour), Table: "public.ticks", Bytes: 8 << 30},
		{At: now, Table: "public.ticks", Bytes: 10 << 30},
	}
	rv := ReviewRetention(r, samples, now)
	verdicts := map[string]string{}
	for _, row := range rv.Rows {
		verdicts[row.Table] = row.Verdict
	}
	if verdicts["public.ticks"] != RetentionOver || verdicts["public.fills"] != RetentionWithin || verdicts["public.notes"] != RetentionNone {
		t.Errorf("verdicts %v", verdicts)
	}
	if len(rv.NoPolicy) != 1 || rv.NoPolicy[0] != "public.notes" || !rv.Rows[0].Growth.Measured {
		t.Errorf("%+v", rv)
	}
	c := Forecast(r, samples)
	// ticks: 1 GiB/day measured, fills: 1 GiB/day expected: 100 GiB in 50 days.
	if c.DaysToFull != 50 || c.Measured != 1 || c.Expected != 1 || c.UnknownCount != 1 || c.Growers[0].Table != "public.ticks" {
		t.Errorf("%+v", c)
	}
}

// Registry.Checklist: monthly's steps in order, its manual task last; and
// DoneEarlier reads the calendar's status.
func TestChecklistStepsAndResume(t *testing.T) {
	steps, err := maint.Default().Checklist("monthly")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range steps {
		names = append(names, s.Name)
	}
	if got := strings.Join(names, ","); got != "retention,compress,archive,vacuum,reindex,retrain_models" {
		t.Errorf("monthly: %s", got)
	}
	if steps[len(steps)-1].Kind != maint.KindManual {
		t.Errorf("%+v", steps[len(steps)-1])
	}
	done := DoneEarlier(steps, []report.CalendarItem{{Task: "retention_cleanup", Status: "ok"}, {Task: "compression_check", Status: "due"}})
	if !done[0] || done[1] {
		t.Errorf("done %v", done)
	}
	q, err := maint.Default().Checklist("quarterly")
	if err != nil || len(q) != 4 || q[0].Kind != maint.KindSheet || q[0].Task != "review_retention" {
		t.Errorf("quarterly %+v %v", q, err)
	}
}
