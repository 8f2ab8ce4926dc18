package maint

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pgtend/pgtend/ops/backup"
	"github.com/pgtend/pgtend/ops/config"
	"github.com/pgtend/pgtend/ops/demo"
	"github.com/pgtend/pgtend/ops/pg"
	"github.com/pgtend/pgtend/ops/pgtest"
)

func backupPolicy(dir string, keep int) config.Policy {
	p := retentionPolicy
	p.Backup = config.Backup{Dir: dir, KeepDaily: keep}
	return p
}

// ageBackup renames a verified backup (and its sidecar) as if it were made
// days ago.
func ageBackup(t *testing.T, path string, days int) string {
	t.Helper()
	n, ok := backup.ParseName(filepath.Base(path))
	if !ok {
		t.Fatalf("not a backup name: %s", path)
	}
	old := filepath.Join(filepath.Dir(path), backup.FileName(n.Database, n.Time.AddDate(0, 0, -days), n.Format))
	for _, ext := range []string{"", backup.SidecarExt} {
		if err := os.Rename(path+ext, old+ext); err != nil {
			t.Fatal(err)
		}
	}
	return old
}

func verifiedIn(t *testing.T, dir string) []string {
	t.Helper()
	l, err := backup.List(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range l.Entries {
		if e.State == backup.StateVerified {
			out = append(out, e.Name)
		}
	}
	return out
}

func runBackup(t *testing.T, dsn string, p *Plan, opts Options) (Result, *recorder) {
	t.Helper()
	rec := &recorder{}
	res, err := Run(context.Background(), dsn, pg.Settings{}, p, opts, rec.emit)
	if err != nil {
		t.Fatal(err)
	}
	return res, rec
}

// The registry's backup: planned with its estimate and room, run with
// progress, verified, recorded for the calendar's "verify the backup";
// then rotation keeps the newest verified ones.
func TestBackupRunsVerifiesAndRotates(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	conn := connect(t, dsn)
	if _, err := demo.Seed(context.Background(), conn, demo.Options{Days: 10, Mode: demo.Native}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	policy := backupPolicy(dir, 2)
	a, ok := Default().Action("backup")
	if !ok || a.Task != "verify_backup" || !a.Database || a.Key != "b" {
		t.Fatalf("registry: %+v", a)
	}
	if w, _ := Default().Script("weekly"); !slices.Contains(w.Actions, "backup") {
		t.Errorf("weekly does not back up: %v", w.Actions)
	}
	p, err := a.Plan(context.Background(), conn, policy, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Steps) != 1 || p.Destructive() || p.Task != "verify_backup" || p.Steps[0].EstBytes == nil {
		t.Fatalf("plan %+v", p)
	}
	res, rec := runBackup(t, dsn, p, Options{Confirmed: true, Policy: policy})
	if res.Outcome != OutcomeOK || rec.count(Progress) == 0 {
		t.Fatalf("outcome %s, %d progress events: %+v", res.Outcome, rec.count(Progress), res)
	}
	first := verifiedIn(t, dir)
	if len(first) != 1 {
		t.Fatalf("verified backups: %v", first)
	}
	// Two older verified ones: keep 2 with the new one deletes the older two.
	older := []string{ageBackup(t, filepath.Join(dir, first[0]), 3)}
	time.Sleep(1100 * time.Millisecond) // another second, another name
	res, _ = runBackup(t, dsn, mustPlan(t, a, conn, policy), Options{Confirmed: true, Policy: policy})
	if res.Outcome != OutcomeOK {
		t.Fatalf("second backup: %+v", res)
	}
	older = append(older, ageBackup(t, filepath.Join(dir, verifiedIn(t, dir)[0]), 1))
	p = mustPlan(t, a, conn, policy)
	if len(p.Steps) != 2 || len(p.Steps[1].Affected) != 1 || p.Steps[1].Affected[0].Name != filepath.Base(older[0]) {
		t.Fatalf("the rotation should delete exactly %s: %+v", older[0], p.Steps)
	}
	time.Sleep(1100 * time.Millisecond)
	res, rec = runBackup(t, dsn, p, Options{Confirmed: true, Policy: policy})
	if res.Outcome != OutcomeOK {
		t.Fatalf("third backup: %+v", res)
	}
	got := verifiedIn(t, dir)
	if len(got) != 2 || slices.Contains(got, filepath.Base(older[0])) || !slices.Contains(got, filepath.Base(older[1])) {
		t.Errorf("after rotation: %v", got)
	}
	if rec.count(StepFinished) != 2 {
		t.Errorf("steps finished: %d", rec.count(StepFinished))
	}
}

func mustPlan(t *testing.T, a Action, conn *pgx.Conn, policy config.Policy) *Plan {
	t.Helper()
	p, err := a.Plan(context.Background(), conn, policy, "")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// When the new backup fails, rotation deletes nothing: the old ones are
// all the operator has.
func TestRotationDeletesNothingWhenTheNewBackupFails(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	conn := connect(t, dsn)
	exec(t, conn, "CREATE TABLE t AS SELECT generate_series(1, 1000) i")
	dir := t.TempDir()
	policy := backupPolicy(dir, 1)
	a, _ := Default().Action("backup")
	res, _ := runBackup(t, dsn, mustPlan(t, a, conn, policy), Options{Confirmed: true, Policy: policy})
	if res.Outcome != OutcomeOK {
		t.Fatal(res)
	}
	old := ageBackup(t, filepath.Join(dir, verifiedIn(t, dir)[0]), 2)
	p := mustPlan(t, a, conn, policy)
	if len(p.Steps) != 2 {
		t.Fatalf("keep 1 with a new one should plan to delete %s: %+v", old, p.Steps)
	}
	holder := connect(t, dsn)
	exec(t, holder, "BEGIN; LOCK TABLE t IN ACCESS EXCLUSIVE MODE")
	res, rec := runBackup(t, dsn, p, Options{Confirmed: true, Policy: policy, LockTimeout: 300 * time.Millisecond})
	exec(t, holder, "ROLLBACK")
	if res.Outcome != OutcomeFailed || rec.count(StepFailed) != 1 || rec.count(StepSkipped) != 1 {
		t.Fatalf("outcome %s: %+v", res.Outcome, res)
	}
	if !strings.Contains(strings.Join(res.Skipped, " "), "deletes nothing") {
		t.Errorf("skipped: %v", res.Skipped)
	}
	if got := verifiedIn(t, dir); len(got) != 1 || got[0] != filepath.Base(old) {
		t.Errorf("after a failed backup: %v", got)
	}
	l, _ := backup.List(dir)
	if len(l.Entries) != 2 || l.Entries[0].State != backup.StateFailed {
		t.Errorf("the failed dump is not kept aside: %+v", l.Entries)
	}
}

// A backup cancelled midway kills pg_dump, leaves no partial file and is
// recorded cancelled.
func TestBackupCancelledIsRecordedCancelled(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	conn := connect(t, dsn)
	exec(t, conn, `CREATE TABLE big AS SELECT i, md5(i::text) || md5((i+1)::text) AS v FROM generate_series(1, 1500000) i`)
	dir := t.TempDir()
	policy := backupPolicy(dir, 3)
	a, _ := Default().Action("backup")
	p := mustPlan(t, a, conn, policy)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	res, err := Run(ctx, dsn, pg.Settings{}, p, Options{Confirmed: true, Policy: policy}, func(e Event) {
		if e.Kind == Progress && e.Done > 0 {
			cancel()
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Outcome != OutcomeCancelled {
		t.Fatalf("outcome %s", res.Outcome)
	}
	if des, _ := os.ReadDir(dir); len(des) != 0 {
		t.Errorf("left behind: %v", des)
	}
	e := Entry(p, res, nil, "db", "role")
	if _, err := Record(context.Background(), conn, e, nil); err != nil {
		t.Fatal(err)
	}
	var outcome, task string
	pgtest.QueryRow(t, conn, "SELECT outcome, task FROM pgtend.history ORDER BY id DESC LIMIT 1").Scan(&outcome, &task)
	if outcome != OutcomeCancelled || task != "verify_backup" {
		t.Errorf("recorded %s %s", task, outcome)
	}
}

// A role that may not read every table: the plan says which, before
// anything runs.
func TestBackupRefusesARoleThatCannotReadEverything(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	conn := connect(t, dsn)
	exec(t, conn, `CREATE TABLE open_t (i int); CREATE TABLE secret_t (i int); CREATE SEQUENCE secret_seq;
		DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'bk_reader') THEN CREATE ROLE bk_reader LOGIN; END IF; END $$;
		GRANT SELECT ON open_t TO bk_reader`)
	reader := pgtest.ConnectAs(t, dsn, "bk_reader")
	a, _ := Default().Action("backup")
	_, err := a.Plan(context.Background(), reader, backupPolicy(t.TempDir(), 3), "")
	if !IsDenied(err) || !strings.Contains(err.Error(), "secret_t") || !strings.Contains(err.Error(), "secret_seq") || strings.Contains(err.Error(), "open_t") {
		t.Fatalf("err = %v", err)
	}
}

// No room: refused with both numbers.
func TestBackupRefusedWithoutRoom(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	conn := connect(t, dsn)
	_, err := PlanBackup(context.Background(), conn, backupPolicy(t.TempDir(), 3), "", BackupOptions{FreeSpace: func(string) (int64, error) { return 1000, nil }})
	if err == nil || !strings.Contains(err.Error(), "no room") || !strings.Contains(err.Error(), "1000 B free") || !strings.Contains(err.Error(), "needs about") {
		t.Fatalf("err = %v", err)
	}
	_, err = PlanBackup(context.Background(), conn, config.Policy{}, "", BackupOptions{})
	if err == nil || !strings.Contains(err.Error(), "[backup]") {
		t.Errorf("no [backup]: %v", err)
	}
}

func TestArchivePlanRunsOnceAndSaysWhatIsMissing(t *testing.T) {
	root := t.TempDir()
	models, logs := filepath.Join(root, "models"), filepath.Join(root, "trade_logs")
	os.MkdirAll(models, 0o755)
	os.MkdirAll(logs, 0o755)
	os.WriteFile(filepath.Join(models, "m.onnx"), []byte("weights"), 0o644)
	now := time.Date(2026, 7, 5, 3, 0, 0, 0, time.Local)
	june := filepath.Join(logs, "trades_2026-06.csv")
	os.WriteFile(june, []byte("a,b\n"), 0o644)
	jt := time.Date(2026, 6, 30, 23, 0, 0, 0, time.Local)
	os.Chtimes(june, jt, jt)
	policy := config.Policy{Archive: config.Archive{Dirs: []string{models, filepath.Join(root, "nope")}, MonthlyDirs: []string{logs}, Dest: filepath.Join(root, "archive")}}
	dsn := pgtest.NewDatabase(t)
	conn := connect(t, dsn)
	p, err := PlanArchive(context.Background(), conn, policy, "", ArchiveOptions{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Steps) != 2 || len(p.Refused) != 1 || !strings.Contains(p.Refused[0].Reason, "does not exist") {
		t.Fatalf("plan: %d steps, refused %+v", len(p.Steps), p.Refused)
	}
	p.Action, p.Task = "archive", "archive_trade_logs"
	res, _ := runBackup(t, dsn, p, Options{Confirmed: true})
	if res.Outcome != OutcomeOK {
		t.Fatalf("%+v", res)
	}
	list, _ := backup.ListArchives(policy.Archive.Dest)
	var made []string
	for _, e := range list {
		if e.Verified {
			made = append(made, e.Name)
		}
	}
	slices.Sort(made)
	if !slices.Equal(made, []string{"models_backup_20260705.tar.gz", "trade_logs_archive_202606.tar.gz"}) {
		t.Errorf("archives %v", made)
	}
	p, err = PlanArchive(context.Background(), conn, policy, "", ArchiveOptions{Now: func() time.Time { return now }})
	if err != nil || len(p.Steps) != 0 || !strings.Contains(strings.Join(p.Notes, " "), "made already") {
		t.Errorf("a second plan: %v %+v", err, p)
	}
	policy.Archive.Dirs, policy.Archive.MonthlyDirs = []string{filepath.Join(root, "nope")}, nil
	if _, err := PlanArchive(context.Background(), conn, policy, "", ArchiveOptions{}); err == nil || !strings.Contains(err.Error(), "nothing to archive") {
		t.Errorf("only a missing directory: %v", err)
	}
}

// A read-only session (default_transaction_read_only, as on a standby)
// may be backed up: pg_dump only reads. A plan that changes the database
// is still refused there.
func TestBackupOnAReadOnlySession(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	conn := connect(t, dsn)
	pgtest.Exec(t, conn, `CREATE TABLE ro_rows (id int); INSERT INTO ro_rows SELECT generate_series(1, 100)`)
	var db string
	pgtest.QueryRow(t, conn, "SELECT current_database()").Scan(&db)
	pgtest.Exec(t, conn, "ALTER DATABASE "+pgx.Identifier{db}.Sanitize()+" SET default_transaction_read_only = on")
	t.Cleanup(func() {
		c := connect(t, dsn)
		pgtest.Exec(t, c, "SET default_transaction_read_only = off")
		pgtest.Exec(t, c, "ALTER DATABASE "+pgx.Identifier{db}.Sanitize()+" RESET default_transaction_read_only")
	})
	ro := connect(t, dsn)
	dir := t.TempDir()
	policy := backupPolicy(dir, 2)
	a, _ := Default().Action("backup")
	p := mustPlan(t, a, ro, policy)
	res, _ := runBackup(t, dsn, p, Options{Confirmed: true, Policy: policy})
	if res.Outcome != OutcomeOK || len(verifiedIn(t, dir)) != 1 {
		t.Fatalf("backup of a read-only session: %+v", res)
	}
	v, _ := Default().Action("vacuum")
	vp := mustPlan(t, v, ro, policy)
	if _, err := Run(context.Background(), dsn, pg.Settings{}, vp, Options{Confirmed: true, Policy: policy}, func(Event) {}); !errors.Is(err, ErrReadOnly) {
		t.Errorf("vacuum on a read-only session: %v", err)
	}
}

// A rotation planned, then the backup it keeps changes before it runs: the
// run applies the rules again, and the older backup, the only good one
// now, stays.
func TestRotateRunAppliesTheRulesAgain(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	conn := connect(t, dsn)
	pgtest.Exec(t, conn, "CREATE TABLE t (i int); INSERT INTO t SELECT generate_series(1, 100)")
	dir := t.TempDir()
	policy := backupPolicy(dir, 5)
	a, _ := Default().Action("backup")
	for i := range 2 {
		p, err := a.Plan(context.Background(), conn, policy, "")
		if err != nil {
			t.Fatal(err)
		}
		if res, _ := runBackup(t, dsn, p, Options{Confirmed: true, Policy: policy}); res.Outcome != OutcomeOK {
			t.Fatalf("backup: %+v", res)
		}
		if i == 0 {
			ageBackup(t, filepath.Join(dir, verifiedIn(t, dir)[0]), 1) // the next one gets a name of its own
		}
	}
	made := verifiedIn(t, dir) // newest first
	if len(made) != 2 {
		t.Fatalf("verified: %v", made)
	}
	policy.Backup.KeepDaily = 1
	p, err := PlanRotate(context.Background(), conn, policy, "")
	if err != nil || len(p.Steps) != 1 || len(p.Steps[0].Affected) != 1 || p.Steps[0].Affected[0].Name != made[1] {
		t.Fatalf("plan deleting %s: %+v %v", made[1], p, err)
	}
	f, _ := os.OpenFile(filepath.Join(dir, made[0]), os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString("changed")
	f.Close()
	res, rec := runBackup(t, dsn, p, Options{Confirmed: true, Policy: policy})
	if _, err := os.Stat(filepath.Join(dir, made[1])); err != nil || res.Outcome != OutcomeSkipped {
		t.Errorf("the only good backup left: %v; outcome %s, log %v", err, res.Outcome, rec)
	}
}
