package maint

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/dustin/go-humanize"
	"github.com/jackc/pgx/v5"
	"github.com/pgtend/pgtend/ops/backup"
	"github.com/pgtend/pgtend/ops/config"
)

// BackupOptions tune a backup plan; the registry's planner uses the zero
// value (everything from the policy's [backup]).
type BackupOptions struct {
	Dir    string // "" = the policy's [backup] dir
	Format string // "" = the policy's, else custom
	Jobs   int    // directory format: pg_dump -j; plain: compressing goroutines; 0 = the policy's, else backup.DefaultJobs
	// BinDirs are where pg_dump and pg_restore are looked for; nil = next
	// to the server's binaries, /usr/lib/postgresql/<major>/bin, PATH.
	BinDirs []string
	// FreeSpace measures the backup filesystem's free bytes (tests
	// simulate a full disk); nil = statfs.
	FreeSpace func(dir string) (int64, error)
}

// backupFacts is what a backup plan reads of the server.
type backupFacts struct {
	database, role, version string
	versionNum              int
	databaseBytes           int64
	timescale               *string
	standby                 bool
}

// PlanBackup plans a dump of the connected database by the server's own
// pg_dump into the policy's backup directory, read back whole before it is
// named, then the rotation of the backups it makes old. It refuses, when
// the plan is made, a client older than the server, a role that may not
// read every table (naming them), and a filesystem without room for the
// estimated dump (both numbers).
func PlanBackup(ctx context.Context, conn *pgx.Conn, policy config.Policy, table string, o BackupOptions) (*Plan, error) {
	if table != "" {
		return nil, fmt.Errorf("a backup is of the whole database: --table %s does not apply", table)
	}
	dir := cmpOr(o.Dir, policy.Backup.Dir)
	if dir == "" {
		return nil, errors.New("the policy has no [backup] dir: add [backup] dir = \"/var/backups/pgtend\" and keep_daily = 7, or give --dir")
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	format, err := backup.ParseFormat(cmpOr(o.Format, policy.Backup.Format))
	if err != nil {
		return nil, err
	}
	jobs := o.Jobs
	if jobs <= 0 {
		jobs = max(policy.Backup.Jobs, 0)
	}
	if jobs <= 0 {
		jobs = backup.DefaultJobs
	}
	var f backupFacts
	if err := conn.QueryRow(ctx, `SELECT current_database(), current_user, current_setting('server_version'),
		current_setting('server_version_num')::int, pg_database_size(current_database()),
		(SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'), pg_is_in_recovery()`).
		Scan(&f.database, &f.role, &f.version, &f.versionNum, &f.databaseBytes, &f.timescale, &f.standby); err != nil {
		return nil, fmt.Errorf("reading the server's facts: %w", err)
	}
	tools, err := backup.FindTools(ctx, f.versionNum, f.version, o.BinDirs...)
	if err != nil {
		return nil, err
	}
	if err := refuseUnreadable(ctx, conn, f.role); err != nil {
		return nil, err
	}
	listing, err := backup.List(dir)
	if err != nil {
		return nil, fmt.Errorf("reading the backup directory: %w", err)
	}
	estimate, how := backup.Estimate(listing, f.database, f.databaseBytes, format)
	free, where, err := roomIn(dir, o.FreeSpace)
	if err != nil {
		return nil, err
	}
	need := estimate + estimate/10
	if free < need {
		return nil, fmt.Errorf("no room for the backup: it needs about %s (%s, plus 10%%), and %s has %s free",
			bkBytes(need), how, where, bkBytes(free))
	}

	now := time.Now()
	name := backup.FileName(f.database, now, format)
	pattern := f.database + "_<YYYYmmdd_HHMMSS>." + format.Ext()
	partial := filepath.Join(dir, "."+pattern+".partial")
	dump := "pg_dump --format=" + string(format) + " --verbose --lock-wait-timeout=<maintenance lock timeout>"
	switch format {
	case backup.Directory:
		dump += fmt.Sprintf(" --jobs=%d --file=%s; then gzip its toc.dat (pg_restore reads toc.dat.gz)", jobs, partial)
	case backup.Custom:
		dump += " --file=" + partial
	default:
		dump += fmt.Sprintf(" | gzip on %d goroutines (in pgtend, 4 MiB members; pg_dump's own exit status checked) > %s", jobs, partial)
	}
	verify := "pg_restore --file=/dev/null " + partial + ", and the SHA-256 of every byte"
	if format == backup.Plain {
		verify = fmt.Sprintf("read %s whole through gzip, %d members at a time (each one's CRC and length, like gzip -t), check it ends with \"-- PostgreSQL database dump complete\", and the SHA-256 of every byte", partial, jobs)
	}
	target := pgx.Identifier{f.database}.Sanitize()
	// pg_dump only reads: a standby, or a read-only session, may be backed up.
	p := &Plan{Target: "database " + f.database, Created: now, Tables: []TableSummary{}, Refused: []Refusal{}, filesOnly: true}
	if f.standby {
		p.Notes = append(p.Notes, "a standby: pg_dump reads it like any session, but a long dump may be cancelled by a conflict with recovery "+
			"(max_standby_streaming_delay; hot_standby_feedback on avoids it); the history goes to this machine's state file")
	}
	state := &backupState{}
	p.Steps = append(p.Steps, Step{
		Title:  fmt.Sprintf("pg_dump %s (%s format) into %s, verified by a full read", f.database, format, dir),
		Target: target, Lock: "ACCESS SHARE (every table, while pg_dump runs)", Unit: "bytes", EstBytes: &estimate,
		Statements: []string{
			dump + "  # connection and password through the environment or a 0600 passfile, never argv",
			verify,
			"rename → " + filepath.Join(dir, pattern) + " and write " + pattern + backup.SidecarExt,
		},
		run: dumpRun(dir, format, jobs, tools, f, state),
	})
	p.Notes = append(p.Notes,
		fmt.Sprintf("estimated size %s: %s; %s has %s free", bkBytes(estimate), how, where, bkBytes(free)),
		fmt.Sprintf("%s (PostgreSQL %s) for a server of PostgreSQL %s, from %s", tools.PgDump, tools.Version, f.version, tools.Dir),
		"a backup that fails pg_dump or its verification is kept aside as "+name+backup.FailedExt+" and never counted; one cancelled is removed")
	if tools.Note != "" {
		p.Notes = append(p.Notes, tools.Note)
	}
	if f.timescale != nil {
		p.Notes = append(p.Notes, fmt.Sprintf("TimescaleDB %s: the dump restores into a database with the same extension version, between SELECT timescaledb_pre_restore() and SELECT timescaledb_post_restore() (pgtend backup verify does so); pg_dump's NOTICE \"hypertable data are in the chunks\" is harmless: the chunks are dumped", *f.timescale))
	}

	rule := backup.Rule{Keep: max(policy.Backup.KeepDaily, 1), KeepDays: policy.Backup.KeepDays}
	rot := backup.PlanRotation(listing, f.database, rule, now, true)
	keepText := fmt.Sprintf("keep the newest %d verified", rule.Keep)
	if rule.KeepDays > 0 {
		keepText += fmt.Sprintf(" and those younger than %d days", rule.KeepDays)
	}
	for _, l := range rot.Left {
		p.Notes = append(p.Notes, fmt.Sprintf("rotation leaves %s: %s", l.Name, l.Why))
	}
	if len(rot.Delete) == 0 {
		p.Notes = append(p.Notes, fmt.Sprintf("rotation (%s): nothing to delete, %d verified backups of %s kept besides the new one", keepText, len(rot.Kept), f.database))
		return p, nil
	}
	freed := rot.Bytes()
	s := Step{
		Title:  fmt.Sprintf("rotate the backups of %s: delete %s (%s), only once the new one verified", f.database, bkPlural(len(rot.Delete), "file"), keepText),
		Target: dir, Lock: "none (files only)", Unit: "files", EstBytes: &freed,
	}
	planned := map[string]bool{}
	for _, d := range rot.Delete {
		created := d.Created
		size := d.Bytes
		s.Affected = append(s.Affected, Affected{Name: d.Name, From: &created, To: &created, Bytes: &size})
		s.Statements = append(s.Statements, fmt.Sprintf("delete %s  # %s", d.Path, d.Why))
		planned[d.Path] = true
	}
	s.run = rotateRun(dir, f.database, rule, planned, state)
	p.Steps = append(p.Steps, s)
	return p, nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// backupState carries the dump's outcome to the rotation after it.
type backupState struct {
	mu   sync.Mutex
	made *backup.Made
}

func (s *backupState) set(m *backup.Made) { s.mu.Lock(); s.made = m; s.mu.Unlock() }

func (s *backupState) get() *backup.Made { s.mu.Lock(); defer s.mu.Unlock(); return s.made }

// roomIn is the free space where dir is (or will be made): the nearest
// directory that exists, which must be writable.
func roomIn(dir string, measure func(string) (int64, error)) (int64, string, error) {
	at := dir
	for {
		fi, err := os.Stat(at)
		if err == nil {
			if !fi.IsDir() {
				return 0, "", fmt.Errorf("%s is not a directory", at)
			}
			break
		}
		parent := filepath.Dir(at)
		if parent == at {
			return 0, "", fmt.Errorf("no directory of %s exists", dir)
		}
		at = parent
	}
	if err := syscall.Access(at, 2 /* W_OK */); err != nil {
		what := at
		if at != dir {
			what += " (to create " + dir + " in)"
		}
		return 0, "", fmt.Errorf("cannot write the backup directory %s: %v", what, err)
	}
	if measure == nil {
		measure = func(p string) (int64, error) {
			var st syscall.Statfs_t
			if err := syscall.Statfs(p, &st); err != nil {
				return 0, err
			}
			return int64(st.Bavail) * int64(st.Bsize), nil
		}
	}
	free, err := measure(at)
	if err != nil {
		return 0, "", fmt.Errorf("measuring the free space of %s: %w", at, err)
	}
	return free, at, nil
}

// unreadableQuery lists what pg_dump reads and this role may not: the
// tables, partitioned tables and sequences of every schema (and the
// extensions' configuration tables, which pg_dump dumps too).
const unreadableQuery = `
SELECT format('%I.%I', n.nspname, c.relname), count(*) OVER ()
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'S')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_toast%' AND n.nspname NOT LIKE 'pg\_temp%'
  AND (NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
       OR c.oid IN (SELECT unnest(extconfig) FROM pg_extension))
  AND NOT (has_schema_privilege(n.oid, 'USAGE') AND has_table_privilege(c.oid, 'SELECT'))
ORDER BY 1`

// refuseUnreadable foresees a dump that would fail: pg_dump needs SELECT
// on everything it dumps and stops at the first table it may not read.
// Every such table is named.
func refuseUnreadable(ctx context.Context, conn *pgx.Conn, role string) error {
	rows, err := conn.Query(ctx, unreadableQuery)
	if err != nil {
		return fmt.Errorf("checking what %s may read: %w", role, err)
	}
	var names []string
	var total int
	for rows.Next() {
		var n string
		if err := rows.Scan(&n, &total); err != nil {
			rows.Close()
			return err
		}
		if len(names) < 10 {
			names = append(names, n)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil || total == 0 {
		return err
	}
	list := strings.Join(names, ", ")
	if total > len(names) {
		list += fmt.Sprintf(" and %d more", total-len(names))
	}
	return &DeniedError{Role: role, Reasons: []string{fmt.Sprintf(
		"pg_dump would fail: %s may not read %s (%s); GRANT SELECT ON them (and USAGE on their schemas) TO %s, GRANT pg_read_all_data TO %s, or run as their owner",
		role, bkPlural(total, "table"), list, role, role)}}
}

// dumpRun is the dump step: pg_dump, the full read, the sidecar, with
// progress from pg_dump's output and pg_stat_progress_copy.
func dumpRun(dir string, format backup.Format, jobs int, tools backup.Tools, f backupFacts, state *backupState) func(ctx context.Context, r *runner, i int) (int64, error) {
	return func(ctx context.Context, r *runner, i int) (int64, error) {
		state.set(nil)
		app := fmt.Sprintf("pgtend backup %d", r.pid)
		meta := map[string]string{"server": f.version}
		if f.timescale != nil {
			meta["timescaledb"] = *f.timescale
		}
		var dbBytes int64
		if err := r.conn.QueryRow(ctx, "SELECT pg_database_size(current_database())").Scan(&dbBytes); err != nil {
			return 0, err
		}
		copying := r.pollCopy(ctx, app)
		defer copying.stop()
		var estimate int64
		if s := r.plan.Steps[i].EstBytes; s != nil {
			estimate = *s
		}
		made, err := backup.Make(ctx, backup.Options{
			Tools: tools, Conn: backup.ConnOf(r.conn.Config()), Dir: dir, Format: format, Jobs: jobs,
			AppName: app, LockWait: r.opts.LockTimeout, DatabaseBytes: dbBytes, Meta: meta,
			Progress: func(p backup.Progress) {
				switch p.Phase {
				case backup.PhaseDumping:
					msg := "dumping"
					if c := copying.text(); c != "" {
						msg += " " + c
					} else if p.Table != "" {
						msg += " " + p.Table
					}
					r.emit(Event{Kind: Progress, Step: i, Done: p.Bytes, Total: max(estimate, p.Bytes), Unit: "bytes", Message: msg})
				case backup.PhaseVerifying:
					copying.stop()
					r.emit(Event{Kind: Progress, Step: i, Done: p.Bytes, Total: p.Total, Unit: "bytes", Message: "verifying: reading the whole dump"})
				}
			},
			Log: func(s string) { r.emit(Event{Kind: Log, Step: i, Message: s}) },
		})
		if err != nil {
			return 0, err
		}
		state.set(&made)
		r.emit(Event{Kind: Log, Step: i, Message: fmt.Sprintf("verified %s: %s, SHA-256 %s, in %s", made.Path, bkBytes(made.Bytes), shortSum(made.SHA256), made.Took.Round(time.Millisecond))})
		return 0, nil
	}
}

func shortSum(s string) string {
	if len(s) > 16 {
		return s[:16] + "…"
	}
	if s == "" {
		return "per file in the sidecar"
	}
	return s
}

// copyPoll follows pg_stat_progress_copy of pg_dump's sessions from the
// watch connection.
type copyPoll struct {
	mu   sync.Mutex
	last string
	stop func()
}

func (c *copyPoll) text() string { c.mu.Lock(); defer c.mu.Unlock(); return c.last }

func (r *runner) pollCopy(ctx context.Context, app string) *copyPoll {
	c := &copyPoll{}
	c.stop = r.poll(ctx, 500*time.Millisecond, func(ctx context.Context) {
		rows, err := r.watch.Query(ctx, `SELECT coalesce(p.relid::regclass::text, 'a query'), p.bytes_processed,
				coalesce(pg_table_size(nullif(p.relid, 0)), 0)
				FROM pg_stat_progress_copy p JOIN pg_stat_activity a ON a.pid = p.pid
				WHERE a.application_name = $1 ORDER BY p.bytes_processed DESC`, app)
		if err != nil {
			return
		}
		var parts []string
		for rows.Next() {
			var rel string
			var done, size int64
			if rows.Scan(&rel, &done, &size) != nil {
				continue
			}
			s := rel + ": " + bkBytes(done)
			if size > 0 {
				s += " of " + bkBytes(size)
			}
			parts = append(parts, s+" copied")
		}
		rows.Close()
		msg := ""
		if len(parts) > 0 {
			msg = parts[0]
			if len(parts) > 1 {
				msg += fmt.Sprintf(" (and %d more tables at once)", len(parts)-1)
			}
		}
		c.mu.Lock()
		c.last = msg
		c.mu.Unlock()
	})
	return c
}

// rotateRun deletes, once the new backup verified, the planned files that
// the rule still dooms with the new backup counted; nothing when it did
// not verify.
func rotateRun(dir, database string, rule backup.Rule, planned map[string]bool, state *backupState) func(ctx context.Context, r *runner, i int) (int64, error) {
	return func(ctx context.Context, r *runner, i int) (int64, error) {
		made := state.get()
		if made == nil {
			return 0, skip("the new backup did not verify: rotation deletes nothing without a newer verified backup")
		}
		l, err := backup.List(dir)
		if err != nil {
			return 0, err
		}
		if n, ok := l.Newest(database); !ok || n.Path != made.Path {
			return 0, skip("the new backup " + made.Name + " is not the newest verified one in " + dir + " now: nothing deleted")
		}
		rot := backup.PlanRotation(l, database, rule, time.Now(), false)
		deleted, total := 0, len(planned)
		for _, d := range rot.Delete {
			if ctx.Err() != nil {
				return 0, ctx.Err()
			}
			if !planned[d.Path] {
				r.emit(Event{Kind: Log, Step: i, Message: "left " + d.Name + ": not in the plan (the next plan lists it)"})
				continue
			}
			if d.Path == made.Path {
				continue // never the new one
			}
			if err := backup.Remove(d); err != nil {
				if backup.IsInUse(err) {
					r.emit(Event{Kind: Log, Step: i, Message: "left " + d.Name + ": " + err.Error()})
					continue
				}
				return 0, fmt.Errorf("deleting %s: %w", d.Path, err)
			}
			deleted++
			r.mu.Lock()
			r.freed += d.Bytes
			r.mu.Unlock()
			r.emit(Event{Kind: Log, Step: i, Message: fmt.Sprintf("deleted %s (%s): %s", d.Name, bkBytes(d.Bytes), d.Why)})
			r.emit(Event{Kind: Progress, Step: i, Done: int64(deleted), Total: int64(total), Unit: "files"})
		}
		if deleted == 0 {
			return 0, skip("nothing deleted: the planned files are gone, in use, or no longer beyond the rule")
		}
		return 0, nil
	}
}

func bkBytes(n int64) string { return humanize.IBytes(uint64(max(n, 0))) }

func bkPlural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return humanize.Comma(int64(n)) + " " + noun + "s"
}

// BackupFlags are the backup action's options on the command line; they
// override the policy's [backup] for one run.
var BackupFlags = []Flag{
	{Name: "dir", Value: "DIR", Help: "the backup directory (default: the policy's [backup] dir)"},
	{Name: "format", Value: "FORMAT", Help: "custom (pg_dump -Fc, the default), plain (.sql.gz) or directory (-Fd -j N)"},
	{Name: "jobs", Value: "N", Help: "parallel pg_dump jobs of the directory format, gzip's compressing and verifying goroutines of plain SQL (default 2)"},
}

// planBackupWithFlags is the registry's planner: the policy, overridden
// by the flags set on the command line.
func planBackupWithFlags(ctx context.Context, conn *pgx.Conn, policy config.Policy, table string) (*Plan, error) {
	f := FlagsOf(ctx)
	o := BackupOptions{Dir: f["dir"], Format: f["format"]}
	if j := f["jobs"]; j != "" {
		n, err := strconv.Atoi(j)
		if err != nil || n < 1 || n > 64 {
			return nil, fmt.Errorf("--jobs %s: use 1 to 64", j)
		}
		o.Jobs = n
	}
	return PlanBackup(ctx, conn, policy, table, o)
}
