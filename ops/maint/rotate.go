package maint

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pgtend/pgtend/ops/backup"
	"github.com/pgtend/pgtend/ops/config"
)

// Beyond is what the rotation rules doom today, without a new backup: the
// database's backups beyond [backup] keep_daily (and keep_days), failed
// ones older than every verified one kept, partial files of killed runs,
// and the whole-directory archives beyond [archive] keep. The rotate
// action deletes exactly these; triage counts them.
type Beyond struct {
	Dir, Dest string // the backup directory and the archives' ("" when the policy has none)
	Backups   backup.Rotation
	Archives  []backup.ArchiveEntry
}

// Bytes is what deleting them frees.
func (b Beyond) Bytes() int64 {
	n := b.Backups.Bytes()
	for _, a := range b.Archives {
		n += a.Bytes
	}
	return n
}

// Files counts them.
func (b Beyond) Files() int { return len(b.Backups.Delete) + len(b.Archives) }

// BeyondRotation lists what the rules doom now in the policy's
// directories; a directory that does not exist holds nothing.
func BeyondRotation(policy config.Policy, database string, now time.Time) (Beyond, error) {
	var b Beyond
	if d := policy.Backup.Dir; d != "" {
		dir, err := filepath.Abs(d)
		if err != nil {
			return b, err
		}
		l, err := backup.List(dir)
		if err != nil {
			return b, fmt.Errorf("reading the backup directory: %w", err)
		}
		b.Dir = dir
		b.Backups = backup.PlanRotation(l, database, backup.Rule{Keep: max(policy.Backup.KeepDaily, 1), KeepDays: policy.Backup.KeepDays}, now, false)
	}
	a := policy.Archive
	if a.Dest != "" && len(a.Dirs) > 0 {
		dest, err := filepath.Abs(a.Dest)
		if err != nil {
			return b, err
		}
		list, err := backup.ListArchives(dest)
		if err != nil {
			return b, fmt.Errorf("reading %s: %w", dest, err)
		}
		b.Dest = dest
		keep := a.KeepOrDefault()
		for _, d := range a.Dirs {
			b.Archives = append(b.Archives, backup.PlanArchiveRotation(list, filepath.Base(filepath.Clean(d)), keep)...)
		}
	}
	return b, nil
}

// PlanRotate plans deleting what BeyondRotation dooms, without making a
// backup first: the space it frees comes back at once, and the newest
// verified backup is never among it.
func PlanRotate(ctx context.Context, conn *pgx.Conn, policy config.Policy, table string) (*Plan, error) {
	if table != "" {
		return nil, fmt.Errorf("rotation is of the backup and archive directories: --table %s does not apply", table)
	}
	var database string
	if err := conn.QueryRow(ctx, `SELECT current_database()`).Scan(&database); err != nil {
		return nil, err
	}
	now := time.Now()
	b, err := BeyondRotation(policy, database, now)
	if err != nil {
		return nil, err
	}
	p := &Plan{Target: "backups of " + database, Created: now, Tables: []TableSummary{}, Refused: []Refusal{}, filesOnly: true}
	if b.Dir == "" && b.Dest == "" {
		p.Notes = append(p.Notes, "the policy has no [backup] dir and no [archive] dest: nothing to rotate")
		return p, nil
	}
	for _, l := range b.Backups.Left {
		p.Notes = append(p.Notes, fmt.Sprintf("rotation leaves %s: %s", l.Name, l.Why))
	}
	if len(b.Backups.Delete) > 0 {
		freed := b.Backups.Bytes()
		s := Step{Title: fmt.Sprintf("delete %s of %s beyond the rotation (keep the newest %d verified)", bkPlural(len(b.Backups.Delete), "backup file"), database, max(policy.Backup.KeepDaily, 1)),
			Target: b.Dir, Lock: "none (files only)", Unit: "files", EstBytes: &freed, Destructive: true}
		planned := map[string]backup.Doomed{}
		for _, d := range b.Backups.Delete {
			created, size := d.Created, d.Bytes
			s.Affected = append(s.Affected, Affected{Name: d.Name, From: &created, To: &created, Bytes: &size})
			s.Statements = append(s.Statements, fmt.Sprintf("delete %s  # %s", d.Path, d.Why))
			planned[d.Path] = d
		}
		s.run = func(ctx context.Context, r *runner, i int) (int64, error) {
			// The rules applied again: only what the plan listed and they
			// still doom goes (a newer backup that failed meanwhile, a kept
			// one changed since it verified, shift what may go).
			now, err := BeyondRotation(policy, database, time.Now())
			if err != nil {
				return 0, err
			}
			var still []backup.Doomed
			for _, d := range now.Backups.Delete {
				if _, ok := planned[d.Path]; ok {
					still = append(still, d)
					delete(planned, d.Path)
				}
			}
			for _, d := range planned {
				r.emit(Event{Kind: Log, Step: i, Message: "left " + d.Name + ": no longer beyond the rotation"})
			}
			return 0, r.removeFiles(ctx, i, len(still), func(yield func(name string, bytes int64, remove func() error) bool) {
				for _, d := range still {
					if !yield(d.Name, d.Bytes, func() error { return backup.Remove(d) }) {
						return
					}
				}
			})
		}
		p.Steps = append(p.Steps, s)
	}
	if len(b.Archives) > 0 {
		var freed int64
		s := Step{Title: fmt.Sprintf("delete %s beyond [archive] keep", bkPlural(len(b.Archives), "archive")),
			Target: b.Dest, Lock: "none (files only)", Unit: "files", Destructive: true}
		for _, a := range b.Archives {
			day, size := a.Day, a.Bytes
			freed += size
			s.Affected = append(s.Affected, Affected{Name: a.Name, From: &day, To: &day, Bytes: &size})
			s.Statements = append(s.Statements, "delete "+a.Path+"  # beyond the newest archives kept of "+a.Source)
		}
		s.EstBytes = &freed
		s.run = func(ctx context.Context, r *runner, i int) (int64, error) {
			now, err := BeyondRotation(policy, database, time.Now()) // as above
			if err != nil {
				return 0, err
			}
			planned := map[string]bool{}
			for _, a := range b.Archives {
				planned[a.Path] = true
			}
			var still []backup.ArchiveEntry
			for _, a := range now.Archives {
				if planned[a.Path] {
					still = append(still, a)
				}
			}
			if len(still) < len(planned) {
				r.emit(Event{Kind: Log, Step: i, Message: fmt.Sprintf("left %d planned archives no longer beyond [archive] keep", len(planned)-len(still))})
			}
			return 0, r.removeFiles(ctx, i, len(still), func(yield func(name string, bytes int64, remove func() error) bool) {
				for _, a := range still {
					if !yield(a.Name, a.Bytes, func() error { return backup.RemoveArchive(a) }) {
						return
					}
				}
			})
		}
		p.Steps = append(p.Steps, s)
	}
	if len(p.Steps) == 0 {
		p.Notes = append(p.Notes, "nothing beyond the rotation: every backup and archive is kept by the rules")
	}
	return p, nil
}

// removeFiles deletes planned files one by one, counting what it frees;
// one in use is left, and said so.
func (r *runner) removeFiles(ctx context.Context, i, total int, files func(yield func(name string, bytes int64, remove func() error) bool)) error {
	deleted := 0
	var failed error
	files(func(name string, bytes int64, remove func() error) bool {
		if ctx.Err() != nil {
			failed = ctx.Err()
			return false
		}
		if err := remove(); err != nil {
			if backup.IsInUse(err) {
				r.emit(Event{Kind: Log, Step: i, Message: "left " + name + ": " + err.Error()})
				return true
			}
			failed = fmt.Errorf("deleting %s: %w", name, err)
			return false
		}
		deleted++
		r.mu.Lock()
		r.freed += bytes
		r.mu.Unlock()
		r.emit(Event{Kind: Log, Step: i, Message: fmt.Sprintf("deleted %s (%s)", name, bkBytes(bytes))})
		r.emit(Event{Kind: Progress, Step: i, Done: int64(deleted), Total: int64(total), Unit: "files"})
		return true
	})
	if failed == nil && deleted == 0 {
		return skip("nothing deleted: the planned files are gone or in use")
	}
	return failed
}
