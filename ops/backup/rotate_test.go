package backup

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// fakeBackup writes a backup file of db made at t; sealed gives it a
// pgtend sidecar (verified).
func fakeBackup(t *testing.T, dir, db string, at time.Time, sealed bool, suffix string) string {
	t.Helper()
	name := FileName(db, at, Custom)
	path := filepath.Join(dir, name+suffix)
	if suffix == partialExt {
		path = filepath.Join(dir, partialName(name))
	}
	if err := os.WriteFile(path, []byte("PGDMP fake "+name), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(path, at, at); err != nil {
		t.Fatal(err)
	}
	if sealed {
		if err := writeSidecar(path+SidecarExt, sidecar{title: "test", written: at.Add(time.Minute), bytes: int64(len("PGDMP fake " + name)), whole: "0000000000000000000000000000000000000000000000000000000000000000"}); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Base(path)
}

func names(ds []Doomed) []string {
	var out []string
	for _, d := range ds {
		out = append(out, d.Name)
	}
	slices.Sort(out)
	return out
}

// A mix of good, failed, partial, unverified and foreign files, of two
// databases: exactly the right ones go.
func TestRotationKeepsTheNewestVerified(t *testing.T) {
	dir := t.TempDir()
	now := time.Date(2026, 7, 5, 3, 0, 0, 0, time.Local)
	day := func(n int) time.Time { return now.AddDate(0, 0, -n) }
	good := []string{}
	for i := 1; i <= 5; i++ {
		good = append(good, fakeBackup(t, dir, "trading", day(i), true, ""))
	}
	failedOld := fakeBackup(t, dir, "trading", day(9), false, FailedExt)
	failedNew := fakeBackup(t, dir, "trading", day(0).Add(-time.Hour), false, FailedExt)
	unverified := fakeBackup(t, dir, "trading", day(30), false, "") // the demo's nightly cron dump
	killed := fakeBackup(t, dir, "trading", day(6), false, partialExt)
	other := fakeBackup(t, dir, "other_db", day(40), true, "")
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("mine"), 0o644)
	os.WriteFile(filepath.Join(dir, "trading.dump"), []byte("foreign"), 0o644)

	l, err := List(dir)
	if err != nil {
		t.Fatal(err)
	}
	if l.Other != 2 {
		t.Errorf("other files: %d", l.Other)
	}
	// Keep 2: the newest two verified stay; the failed one older than both
	// and the killed run's partial go; the unverified, the newer failed one
	// and the other database's are never touched.
	r := PlanRotation(l, "trading", Rule{Keep: 2}, now, false)
	want := []string{good[2], good[3], good[4], failedOld, killed}
	slices.Sort(want)
	if got := names(r.Delete); !slices.Equal(got, want) {
		t.Errorf("deletes %v, want %v", got, want)
	}
	left := names(r.Left)
	for _, n := range []string{unverified, failedNew} {
		if !slices.Contains(left, n) {
			t.Errorf("%s not among the left: %v", n, left)
		}
	}
	if slices.Contains(names(r.Delete), other) {
		t.Error("another database's backup rotated")
	}
	// Planned before the new backup: it takes a slot, and the newest
	// existing one still stays.
	r = PlanRotation(l, "trading", Rule{Keep: 1}, now, true)
	if got := names(r.Delete); slices.Contains(got, good[0]) == false || len(r.Kept) != 0 {
		t.Errorf("with the new one, keep 1: deletes %v, kept %v", got, r.Kept)
	}
	// Without a new one, keep 1 never deletes the newest verified.
	r = PlanRotation(l, "trading", Rule{Keep: 1}, now, false)
	if slices.Contains(names(r.Delete), good[0]) || len(r.Kept) != 1 || r.Kept[0].Name != good[0] {
		t.Errorf("keep 1 deletes %v, keeps %v", names(r.Delete), r.Kept)
	}
	// Days: younger than 4 days stay beyond the count.
	r = PlanRotation(l, "trading", Rule{Keep: 1, KeepDays: 4}, now, false)
	if got := len(r.Kept); got != 3 {
		t.Errorf("keep 1 and 4 days keeps %d: %v", got, r.Kept)
	}
	// A backup someone verifies (holds its lock) is left.
	held, err := readLock(filepath.Join(dir, good[4]))
	if err != nil {
		t.Fatal(err)
	}
	l, _ = List(dir)
	r = PlanRotation(l, "trading", Rule{Keep: 2}, now, false)
	if slices.Contains(names(r.Delete), good[4]) {
		t.Error("a backup in use is planned for deletion")
	}
	if err := Remove(Doomed{Entry: Entry{Path: filepath.Join(dir, good[4]), State: StateVerified}}); !IsInUse(err) {
		t.Errorf("Remove of a backup in use: %v", err)
	}
	held.release()
	for _, d := range PlanRotation(l, "trading", Rule{Keep: 2}, now, false).Delete {
		if err := Remove(d); err != nil {
			t.Fatal(err)
		}
	}
	l, _ = List(dir)
	if n, ok := l.Newest("trading"); !ok || n.Name != good[0] {
		t.Errorf("newest after rotation: %+v", n)
	}
	if _, err := os.Stat(filepath.Join(dir, good[2]+SidecarExt)); !os.IsNotExist(err) {
		t.Error("a deleted backup's sidecar stayed")
	}
}

// In the hour New York's clock goes back, two backups 40 minutes apart are
// named 01:30 and 01:10: the second is the newest, and a rotation keeping
// one keeps it.
func TestRotationAcrossTheClockGoingBack(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Skipf("no time zone data for America/New_York: %v", err)
	}
	defer func(l *time.Location) { time.Local = l }(time.Local)
	time.Local = ny
	dir := t.TempDir()
	first := time.Date(2026, 11, 1, 5, 30, 0, 0, time.UTC) // 01:30 EDT
	second := first.Add(40 * time.Minute)                  // 01:10 EST
	older := fakeBackup(t, dir, "db", first, true, "")
	newer := fakeBackup(t, dir, "db", second, true, "")
	if older != "db_20261101_013000.dump" || newer != "db_20261101_011000.dump" {
		t.Fatalf("names %s, %s", older, newer)
	}
	l, err := List(dir)
	if err != nil {
		t.Fatal(err)
	}
	if l.Entries[0].Name != newer || !l.Entries[0].Created.Equal(second) || !l.Entries[1].Created.Equal(first) {
		t.Fatalf("listed %s (%v), %s (%v)", l.Entries[0].Name, l.Entries[0].Created, l.Entries[1].Name, l.Entries[1].Created)
	}
	r := PlanRotation(l, "db", Rule{Keep: 1}, second.Add(time.Hour), false)
	if got := names(r.Delete); !slices.Equal(got, []string{older}) {
		t.Errorf("deletes %v, want only %s", got, older)
	}
}
