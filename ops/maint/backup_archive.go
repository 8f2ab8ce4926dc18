package maint

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pgtend/pgtend/ops/backup"
	"github.com/pgtend/pgtend/ops/config"
)

// ArchiveOptions tune an archive plan; the registry uses the zero value.
type ArchiveOptions struct {
	Now func() time.Time // the day and month archived; nil = time.Now
}

func planArchiveWithFlags(ctx context.Context, conn *pgx.Conn, policy config.Policy, table string) (*Plan, error) {
	return PlanArchive(ctx, conn, policy, table, ArchiveOptions{})
}

// PlanArchive plans the policy's archives into [archive] dest: each of
// dirs whole (<name>_backup_YYYYMMDD.tar.gz, then the whole archives
// beyond [archive] keep go, never the newest), and last month's files of
// each of monthly_dirs (<name>_archive_YYYYMM.tar.gz, never rotated). An
// archive made already is not made again; a missing or empty directory is
// reported, never archived as an empty file.
func PlanArchive(ctx context.Context, _ *pgx.Conn, policy config.Policy, table string, o ArchiveOptions) (*Plan, error) {
	if table != "" {
		return nil, fmt.Errorf("archives are of directories: --table %s does not apply", table)
	}
	a := policy.Archive
	if a.Dest == "" || len(a.Dirs)+len(a.MonthlyDirs) == 0 {
		return nil, notConfigured("the policy has no [archive]: add dirs (archived whole) or monthly_dirs (last month's files) and dest")
	}
	now := time.Now()
	if o.Now != nil {
		now = o.Now()
	}
	dest, err := filepath.Abs(a.Dest)
	if err != nil {
		return nil, err
	}
	list, err := backup.ListArchives(dest)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", dest, err)
	}
	keep := a.KeepOrDefault()
	p := &Plan{Target: "[archive] directories into " + dest, Created: now, Tables: []TableSummary{}, Refused: []Refusal{}, filesOnly: true}
	thisMonth := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, now.Location())
	lastMonth := thisMonth.AddDate(0, -1, 0)
	type job struct {
		dir, kind string
		from, to  time.Time
		day       time.Time
	}
	var jobs []job
	already := 0
	for _, d := range a.Dirs {
		jobs = append(jobs, job{dir: d, kind: backup.ArchiveWhole, day: now})
	}
	for _, d := range a.MonthlyDirs {
		jobs = append(jobs, job{dir: d, kind: backup.ArchiveMonthly, from: lastMonth, to: thisMonth, day: lastMonth})
	}
	for _, j := range jobs {
		src, err := filepath.Abs(j.dir)
		if err != nil {
			return nil, err
		}
		base := filepath.Base(filepath.Clean(src))
		name := backup.ArchiveName(base, j.kind, j.day)
		if done := archived(list, name); done != nil {
			already++
			p.Notes = append(p.Notes, fmt.Sprintf("%s: %s is made already (%s)", j.dir, name, bkBytes(done.Bytes)))
			continue
		}
		members, bytes, err := backup.Scan(src, j.from, j.to)
		if err != nil {
			p.Refused = append(p.Refused, Refusal{Table: j.dir, Reason: fmt.Sprintf("%s: %v", j.dir, err)})
			continue
		}
		files := 0
		for _, m := range members {
			if m.Type == '0' {
				files++
			}
		}
		what := "whole"
		if j.kind == backup.ArchiveMonthly {
			what = "files of " + j.from.Format("2006-01")
		}
		est := bytes
		s := Step{
			Title:  fmt.Sprintf("archive %s (%s: %s, %s) into %s, read back entry by entry", j.dir, what, bkPlural(files, "file"), bkBytes(bytes), filepath.Join(dest, name)),
			Target: src, Lock: "none (files only)", Unit: "bytes", EstBytes: &est,
			Statements: []string{
				fmt.Sprintf("tar (symbolic links stored as links) | gzip > %s  # in pgtend", filepath.Join(dest, "."+name+".partial")),
				"read it back: every entry's name, type, size and SHA-256, gzip's CRC; rename → " + name + " and write " + name + backup.SidecarExt,
			},
		}
		var doomed []backup.ArchiveEntry
		if j.kind == backup.ArchiveWhole {
			doomed = wholeBeyond(list, base, keep)
			for _, e := range doomed {
				day, size := e.Day, e.Bytes
				s.Affected = append(s.Affected, Affected{Name: e.Name, From: &day, To: &day, Bytes: &size})
				s.Statements = append(s.Statements, fmt.Sprintf("delete %s  # beyond the newest %d archives of %s, once the new one verified", e.Path, keep, j.dir))
			}
		}
		s.run = archiveRun(src, dest, name, j.from, j.to, doomed)
		p.Steps = append(p.Steps, s)
	}
	if len(p.Steps) == 0 && already == 0 {
		var why []string
		for _, r := range p.Refused {
			why = append(why, r.Reason)
		}
		return nil, fmt.Errorf("nothing to archive: %s", strings.Join(why, "; "))
	}
	if len(a.MonthlyDirs) > 0 {
		p.Notes = append(p.Notes, "monthly archives are never rotated: each may be the only copy of its month")
	}
	return p, nil
}

func archived(list []backup.ArchiveEntry, name string) *backup.ArchiveEntry {
	for i, e := range list {
		if e.Name == name && e.Verified {
			return &list[i]
		}
	}
	return nil
}

// wholeBeyond are the verified whole archives of base that a new one
// pushes beyond the newest keep.
func wholeBeyond(list []backup.ArchiveEntry, base string, keep int) []backup.ArchiveEntry {
	var out []backup.ArchiveEntry
	n := 1 // the new one
	for _, e := range list {
		if e.Source != base || e.Kind != backup.ArchiveWhole || !e.Verified {
			continue
		}
		if n++; n > keep && !e.InUse {
			out = append(out, e)
		}
	}
	return out
}

func archiveRun(src, dest, name string, from, to time.Time, doomed []backup.ArchiveEntry) func(ctx context.Context, r *runner, i int) (int64, error) {
	return func(ctx context.Context, r *runner, i int) (int64, error) {
		members, _, err := backup.Scan(src, from, to) // what is there now
		if err != nil {
			return 0, err
		}
		made, err := backup.MakeArchive(ctx, members, dest, name, func(done, total int64) {
			r.emit(Event{Kind: Progress, Step: i, Done: done, Total: total, Unit: "bytes", Message: "archiving"})
		})
		if err != nil {
			return 0, err
		}
		r.emit(Event{Kind: Log, Step: i, Message: fmt.Sprintf("verified %s: %s of %s in %s, SHA-256 %s", made.Path, bkPlural(made.Files, "file"), bkBytes(made.Source), bkBytes(made.Bytes), shortSum(made.SHA256))})
		for _, e := range doomed {
			if err := backup.RemoveArchive(e); err != nil {
				if backup.IsInUse(err) {
					r.emit(Event{Kind: Log, Step: i, Message: "left " + e.Name + ": " + err.Error()})
					continue
				}
				return 0, fmt.Errorf("deleting %s: %w", e.Path, err)
			}
			r.mu.Lock()
			r.freed += e.Bytes
			r.mu.Unlock()
			r.emit(Event{Kind: Log, Step: i, Message: fmt.Sprintf("deleted %s (%s)", e.Name, bkBytes(e.Bytes))})
		}
		return 0, nil
	}
}
