package health

import (
	"fmt"
	"math"
	"os"
	"syscall"
	"time"

	"github.com/pgtend/pgtend/ops/backup"
	"github.com/pgtend/pgtend/ops/config"
	"github.com/pgtend/pgtend/ops/report"
	"github.com/pgtend/pgtend/ops/state"
)

// Backups judges the policy's backup directory on this machine as the
// backups list reads it (ops/backup): the newest verified backup of
// database — its sidecar says it was read back whole and the file is
// unchanged since — against backup_max_age, backups that failed since, and
// the directory's free space against the next backup's estimated size
// (databaseBytes, 0 when unknown, feeds the estimate). No verified backup
// is critical: there is nothing known good to restore. Its fix is the
// registry's backup action.
func Backups(b config.Backup, h config.Health, database string, databaseBytes int64, now time.Time) Finding {
	return normalize(backups(b, h.Effective(), database, databaseBytes, now))
}

// fixBackup is the registry action that makes a verified backup.
const fixBackup = "backup"

func backups(b config.Backup, h config.Health, database string, databaseBytes int64, now time.Time) Finding {
	f := Finding{Check: CheckBackups, Title: "backups",
		Meaning: "Only a backup that was read back whole can be trusted to restore; one older than its interval means the last ones " +
			"failed or never ran, and a directory without room for the next backup makes it fail.",
		Action: "Read why the last backup failed (pgtend history, the backup job's log), free space in the directory or move it, " +
			"then take a backup, which pgtend verifies (b in the Disk pane, pgtend backup).",
	}
	if b.Dir == "" {
		f.Status = Unknown
		f.Summary = "the policy has no [backup] dir: pgtend cannot tell whether backups are made"
		f.Action = "Name the directory backups go to in the policy's [backup] section."
		return f
	}
	dir := b.Dir
	f.Evidence = append(f.Evidence, ev("directory", dir, "policy [backup] dir, on this machine"),
		ev("maximum age", Span(h.BackupMaxAge), "policy [health] backup_max_age"))
	if _, err := os.Stat(dir); err != nil {
		f.Status = Critical
		f.Summary = "cannot read the backup directory: " + oneLine(err.Error(), 200)
		if os.IsNotExist(err) {
			f.Summary = dir + " does not exist on this machine: no backup"
		}
		f.Items = append(f.Items, backupFix("no backup of "+database))
		return f
	}
	l, err := backup.List(dir)
	if err != nil {
		f.Status = Critical
		f.Summary = "cannot read the backup directory: " + oneLine(err.Error(), 200)
		return f
	}
	var failed []backup.Entry
	verified, unverified := 0, 0
	newest, ok := l.Newest(database)
	for _, e := range l.Entries {
		if e.Database != database {
			continue
		}
		switch {
		case e.State == backup.StateVerified && e.Checksum == backup.ChecksumRecorded:
			verified++
		case e.State == backup.StateFailed && (!ok || e.Created.After(newest.Created)):
			failed = append(failed, e)
		case e.State == backup.StateUnverified || e.Checksum == backup.ChecksumChanged:
			unverified++
		}
	}
	f.Evidence = append(f.Evidence, ev("verified backups of "+database, fmt.Sprint(verified), "pgtend's sidecars (.sha256) in "+dir))
	if unverified > 0 {
		f.Evidence = append(f.Evidence, ev("not verified", fmt.Sprintf("%d: no sidecar, or changed since verified; never counted", unverified), "pgtend backup list"))
	}
	format, err := backup.ParseFormat(b.Format)
	if err != nil {
		format = backup.Custom
	}
	need, how := backup.Estimate(l, database, databaseBytes, format)
	free, freeErr := freeBytes(dir)
	if freeErr == nil {
		f.Evidence = append(f.Evidence, ev("free space", bytesOf(free), "statfs("+dir+")"),
			ev("next backup", "about "+bytesOf(need), how))
	}
	for _, e := range failed {
		f.Items = append(f.Items, Item{Kind: KindBackup, Status: Warning, Name: e.Name,
			Text:     fmt.Sprintf("failed: %s, %s old (kept aside, never counted)", e.Name, Span(max(now.Sub(e.Created), 0))),
			Evidence: []Evidence{ev("file", e.Path, "readdir"), ev("state", e.State, "pgtend backup list")}, Fix: fixBackup})
	}
	if !ok {
		f.Status = Critical
		f.Summary = "no verified backup of " + database + " in " + dir
		f.Items = append(f.Items, backupFix("no verified backup of "+database))
		return f
	}
	age := max(now.Sub(newest.Created), 0)
	f.Evidence = append(f.Evidence, ev("newest verified", fmt.Sprintf("%s, %s, %s old", newest.Name, bytesOf(newest.Bytes), Span(age)), "pgtend backup list"))
	it := Item{Kind: KindBackup, Status: OK, Name: newest.Name,
		Text: fmt.Sprintf("newest verified: %s, %s, %s old", newest.Name, bytesOf(newest.Bytes), Span(age)),
		Evidence: []Evidence{ev("file", newest.Path, "readdir"), ev("size", bytesOf(newest.Bytes), "stat"),
			ev("made", newest.Created.UTC().Format("2006-01-02 15:04:05 UTC"), "its name"),
			ev("checksum", newest.Checksum, "its sidecar against the file")}}
	f.Summary = fmt.Sprintf("newest verified backup %s old", Span(age))
	if age > h.BackupMaxAge {
		f.Status = Warning
		f.Summary = fmt.Sprintf("no verified backup within %s: the newest is %s old", Span(h.BackupMaxAge), Span(age))
		it.Status, it.Fix = Warning, fixBackup
	}
	f.Items = append([]Item{it}, f.Items...)
	if len(failed) > 0 {
		f.Status = Worse(f.Status, Warning)
		f.Summary += fmt.Sprintf("; %s failed since", plural(len(failed), "backup"))
	}
	if freeErr == nil {
		f.Summary += fmt.Sprintf(", %s free", bytesOf(free))
		if free < need {
			f.Status = Critical
			f.Summary += fmt.Sprintf(": less than the next backup's %s, it will not fit", bytesOf(need))
		}
	}
	return f
}

// backupFix is the item that offers the backup action.
func backupFix(text string) Item {
	return Item{Kind: KindBackup, Status: Critical, Name: "backup", Text: text + ": take one now", Fix: fixBackup}
}

func freeBytes(dir string) (int64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, err
	}
	return int64(st.Bavail) * int64(st.Bsize), nil
}

// Growth is how the disk's growth per day was told, for the disk finding.
type Growth struct {
	PerDay float64 // bytes a day
	Basis  string  // "measured while pgtend ran", "expected by the policy"; "" unknown
}

// Disk judges the data directory's filesystem, as the Disk pane shows it:
// its share used and the days until it is full at the given growth.
func Disk(d report.Disk, g Growth, h config.Health) Finding {
	h = h.Effective()
	f := Finding{Check: CheckDisk, Title: "disk",
		Meaning: "When the data directory's disk fills, PostgreSQL stops: no write succeeds, not even the one that would free space.",
		Action: "Free space before it runs out: retention cleanup of the tables past their retention (d in the Tables pane), " +
			"compression, dropping replication slots nobody uses (they keep WAL); then grow the disk. The Triage pane (5, pgtend triage) ranks what frees space " +
			"with the action one key away; the Disk pane (3) has the figures.",
	}
	total, free, ok := d.Space()
	if !ok {
		f.Status = Unknown
		f.Summary = "the data directory's disk is not visible: " + d.Reason
		f.Evidence = append(f.Evidence, ev("database size", bytesOf(d.DatabaseBytes), "pg_database_size"))
		return f
	}
	used := total - free
	usedPct := pct(float64(used), float64(max(total, 1)))
	src := "statfs(" + deref(d.Path, "data directory") + ")"
	f.Evidence = append(f.Evidence, ev("used", fmt.Sprintf("%s of %s (%.0f%%)", bytesOf(used), bytesOf(total), usedPct), src),
		ev("free", bytesOf(free), src), ev("database", bytesOf(d.DatabaseBytes), "pg_database_size"))
	if d.WALBytes != nil {
		f.Evidence = append(f.Evidence, ev("WAL", bytesOf(*d.WALBytes), "pg_ls_waldir"))
	}
	switch {
	case usedPct >= float64(h.DiskUsedCritical):
		f.Status = Critical
	case usedPct >= float64(h.DiskUsedWarn):
		f.Status = Warning
	}
	days := -1.0
	if g.PerDay > 0 {
		days = math.Floor(float64(free) / g.PerDay)
	}
	switch {
	case g.Basis == "":
		f.Summary = fmt.Sprintf("%s free (%.0f%% used); growth unknown", bytesOf(free), usedPct)
		f.Evidence = append(f.Evidence, ev("growth", "unknown", "the policy expects none; measured once pgtend has run a while"))
	case days < 0:
		f.Summary = fmt.Sprintf("%s free (%.0f%% used), not growing", bytesOf(free), usedPct)
		f.Evidence = append(f.Evidence, ev("growth", "none", g.Basis))
	default:
		f.Summary = fmt.Sprintf("full in about %.0f days, %s free (%.0f%% used)", days, bytesOf(free), usedPct)
		f.Evidence = append(f.Evidence, ev("growth", bytesOf(int64(g.PerDay))+"/day", g.Basis),
			ev("full in", fmt.Sprintf("about %.0f days", days), "free / growth"))
		switch {
		case days < float64(h.DiskFullCriticalDays):
			f.Status = Critical
		case days < float64(h.DiskFullWarnDays):
			f.Status = Worse(f.Status, Warning)
		}
	}
	f.Evidence = append(f.Evidence, ev("thresholds", fmt.Sprintf("warning at %d%% used or %d days left, critical at %d%% or %d days",
		h.DiskUsedWarn, h.DiskFullWarnDays, h.DiskUsedCritical, h.DiskFullCriticalDays), "policy [health] disk_*"))
	return normalize(f)
}

// minGrowthWindow is how long sizes must have been watched before their
// change is the growth (the console's Disk pane waits as long).
const minGrowthWindow = 10 * time.Minute

// TableGrowth is each table's growth a day: between its first and its
// latest stored sample, where they are at least minGrowthWindow apart
// (the console's Disk pane waits as long).
func TableGrowth(samples []state.Sample) map[string]float64 {
	type span struct{ first, last state.Sample }
	by := map[string]*span{}
	for _, s := range samples {
		sp := by[s.Table]
		if sp == nil {
			by[s.Table] = &span{s, s}
			continue
		}
		if s.At.Before(sp.first.At) {
			sp.first = s
		}
		if s.At.After(sp.last.At) {
			sp.last = s
		}
	}
	out := map[string]float64{}
	for table, sp := range by {
		if d := sp.last.At.Sub(sp.first.At); d >= minGrowthWindow {
			out[table] = float64(sp.last.Bytes-sp.first.Bytes) / d.Hours() * 24
		}
	}
	return out
}

// GrowthOf is the growth per day headless, as the Disk pane tells it:
// measured from the sizes pgtend stored (TableGrowth), else the policy's
// expected growth (expected: each table's ExpectedGrowthPerDay).
func GrowthOf(samples []state.Sample, expected map[string]*int64) Growth {
	perTable := TableGrowth(samples)
	var g Growth
	measured, known := false, false
	for table, exp := range expected {
		if v, ok := perTable[table]; ok {
			g.PerDay += v
			measured = true
			continue
		}
		if exp != nil {
			g.PerDay += float64(*exp)
			known = true
		}
	}
	switch {
	case measured:
		g.Basis = "measured from the sizes pgtend stored"
	case known:
		g.Basis = "expected by the policy"
	}
	return g
}
