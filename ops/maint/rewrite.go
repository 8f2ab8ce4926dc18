package maint

import (
	"bufio"
	"context"
	"fmt"
	osexec "os/exec"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5"
	"github.com/pgtend/pgtend/ops/backup"
	"github.com/pgtend/pgtend/ops/config"
	"github.com/pgtend/pgtend/ops/report"
)

// Locks of the two ways to rewrite a table.
const (
	LockRepack     = LockAccessExclusive + " briefly, at the start and the end (reads and writes go on meanwhile)"
	LockVacuumFull = LockAccessExclusive + " for the whole rewrite (reads and writes wait)"
)

// RepackTool is a pg_repack client of the version of the database's
// pg_repack extension (the client refuses any other).
type RepackTool struct {
	Path, Version string
}

// FindRepack looks for pg_repack: the extension in this database and a
// client of its version on PATH or in the server's bin directories. Why
// says what is missing when there is none.
func FindRepack(ctx context.Context, conn *pgx.Conn) (tool *RepackTool, why string, err error) {
	var ext *string
	var major int
	if err := conn.QueryRow(ctx, `SELECT (SELECT extversion FROM pg_extension WHERE extname = 'pg_repack'), current_setting('server_version_num')::int / 10000`).Scan(&ext, &major); err != nil {
		return nil, "", err
	}
	if ext == nil {
		return nil, "the pg_repack extension is not installed in this database (CREATE EXTENSION pg_repack; Debian: postgresql-NN-repack)", nil
	}
	var cands []string
	if p, err := osexec.LookPath("pg_repack"); err == nil {
		cands = append(cands, p)
	}
	cands = append(cands, fmt.Sprintf("/usr/lib/postgresql/%d/bin/pg_repack", major), fmt.Sprintf("/usr/pgsql-%d/bin/pg_repack", major))
	var seen []string
	for _, c := range cands {
		out, err := osexec.CommandContext(ctx, c, "--version").Output()
		if err != nil {
			continue
		}
		v := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(string(out)), "pg_repack"))
		if v == *ext {
			return &RepackTool{Path: c, Version: v}, "", nil
		}
		seen = append(seen, c+" is "+v)
	}
	if len(seen) > 0 {
		return nil, fmt.Sprintf("no pg_repack client of the extension's version %s (%s)", *ext, strings.Join(seen, ", ")), nil
	}
	return nil, "the pg_repack client is not installed (Debian: postgresql-NN-repack)", nil
}

// WALKept is what decides how much of the WAL a rewrite writes stays on
// the data directory's disk while it runs.
type WALKept struct {
	slots     int
	archiving bool
	maxWAL    int64
}

// ReadWALKept reads it, once for any number of tables.
func ReadWALKept(ctx context.Context, conn *pgx.Conn) (WALKept, error) {
	var w WALKept
	if err := conn.QueryRow(ctx, `SELECT (SELECT count(*) FROM pg_replication_slots)::int, current_setting('archive_mode') <> 'off',
		pg_size_bytes(current_setting('max_wal_size'))`).Scan(&w.slots, &w.archiving, &w.maxWAL); err != nil {
		return w, fmt.Errorf("reading the WAL settings: %w", err)
	}
	return w, nil
}

// of is the WAL a rewrite of size bytes leaves on the disk while it runs:
// all of it when a replication slot or archive_mode may hold WAL back,
// else at most max_wal_size (checkpoints recycle the rest).
func (w WALKept) of(size int64) (int64, string) {
	switch {
	case w.slots > 0:
		return size, "all of it kept while replication slots exist"
	case w.archiving:
		return size, "all of it kept until archived"
	}
	return min(size, w.maxWAL), "up to max_wal_size before checkpoints recycle it"
}

// RewriteNeed is the free space a rewrite of t needs: a new copy of the
// table and its indexes beside the old, the WAL the rewrite writes (about
// the table's size, as much as w keeps of it), and the margin ([disk]
// keep_free). Triage offers, and the planner refuses, by this one figure.
func RewriteNeed(t report.Table, policy config.Policy, w WALKept) int64 {
	wal, _ := w.of(deref(t.TotalBytes))
	return deref(t.TotalBytes) + wal + policy.Disk.Effective().KeepFreeBytes
}

// PlanRewrite plans rewriting one plain table to return its free space to
// the filesystem: with pg_repack where the extension and its client are
// installed (ACCESS EXCLUSIVE only briefly), else VACUUM FULL (the table is
// locked for the whole rewrite). Either needs room for the new copy: a
// filesystem without the table's size plus its indexes plus [disk]
// keep_free free is refused with the numbers, as is one pgtend cannot see.
func PlanRewrite(ctx context.Context, conn *pgx.Conn, policy config.Policy, table string) (*Plan, error) {
	if table == "" {
		return nil, fmt.Errorf("name the table to rewrite: --table TABLE (pgtend triage lists the bloated ones)")
	}
	r, tables, err := inventory(ctx, conn, policy, table)
	if err != nil {
		return nil, err
	}
	t := tables[0]
	if *t.Kind != report.KindTable {
		return nil, fmt.Errorf("%s is a %s table: rewrite a plain table (its chunks and partitions are tables of their own)", t.Key(), *t.Kind)
	}
	_, free, ok := r.Disk.Space()
	if !ok {
		return nil, fmt.Errorf("a rewrite needs free space the size of %s and its indexes, and pgtend cannot see the data directory's filesystem (%s): refused", t.Key(), r.Disk.Reason)
	}
	// The copy is written where the table is: only the data directory's
	// filesystem is measured, so a table in a tablespace of its own is
	// refused rather than judged against the wrong disk.
	var tablespace string
	if err := conn.QueryRow(ctx, `SELECT coalesce((SELECT spcname::text FROM pg_tablespace WHERE oid = c.reltablespace AND c.reltablespace <> 0), '')
		FROM pg_class c WHERE c.oid = $1::regclass`, pgx.Identifier{t.Schema, t.Name}.Sanitize()).Scan(&tablespace); err != nil {
		return nil, err
	}
	if tablespace != "" {
		return nil, fmt.Errorf("%s is in tablespace %s, whose filesystem pgtend does not measure: a rewrite there is refused", t.Key(), tablespace)
	}
	// The rewrite also writes about the table's size as WAL, which stays
	// on the data directory's disk until a checkpoint recycles it — and for
	// good while a replication slot or the archiver holds it.
	kept, err := ReadWALKept(ctx, conn)
	if err != nil {
		return nil, err
	}
	wal, walWhy := kept.of(deref(t.TotalBytes))
	need := RewriteNeed(t, policy, kept)
	if free < need {
		return nil, fmt.Errorf("no room to rewrite %s: it needs %s free (the table and its indexes, %s, the WAL it writes, %s (%s), plus [disk] keep_free %s), and the filesystem has %s",
			t.Key(), bkBytes(need), bkBytes(deref(t.TotalBytes)), bkBytes(wal), walWhy, bkBytes(policy.Disk.Effective().KeepFreeBytes), bkBytes(free))
	}
	tool, why, err := FindRepack(ctx, conn)
	if err != nil {
		return nil, err
	}
	rel := pgx.Identifier{t.Schema, t.Name}.Sanitize()
	if tool != nil {
		// pg_repack needs a primary key or a unique index on NOT NULL
		// columns to swap the copy in; without one it fails: VACUUM FULL.
		var keyed bool
		if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = $1::regclass AND i.indisvalid AND i.indisunique
			AND i.indpred IS NULL AND i.indexprs IS NULL AND (i.indisprimary OR NOT EXISTS (SELECT 1 FROM pg_attribute a
			WHERE a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey) AND NOT a.attnotnull)))`, rel).Scan(&keyed); err != nil {
			return nil, err
		}
		if !keyed {
			tool, why = nil, t.Key()+" has no primary key nor unique index on NOT NULL columns, which pg_repack needs"
		}
	}
	room := roomCheck(deref(r.Disk.Path), t.Key(), need)
	p := &Plan{Target: t.Key(), Created: r.GeneratedAt, Refused: []Refusal{}}
	sum := TableSummary{Table: t.Key(), Kind: *t.Kind, TimeZone: t.Location().String(), ForeignKeys: []ForeignKey{}, Findings: []string{}, Steps: []int{0}}
	est := deref(t.TotalBytes)
	var step Step
	if tool != nil {
		sum.Locks = []string{LockRepack}
		step = Step{Title: "pg_repack " + t.Key() + ": rewrite it and its indexes, reads and writes going on", Target: rel, Table: rel,
			Statements: []string{tool.Path + " --no-kill-backend --no-superuser-check --table=" + rel + "  # connection through the environment or a 0600 passfile, never argv"},
			Lock:       LockRepack, Unit: "tables", EstBytes: &est, needs: needs(rel, NeedOwner),
			run: rewriteRun(rel, room, func(ctx context.Context, r *runner, i int) error { return r.repack(ctx, i, tool.Path, rel) })}
		p.Notes = append(p.Notes, fmt.Sprintf("pg_repack %s (%s) builds a new copy beside the old, then swaps them under a brief ACCESS EXCLUSIVE lock; "+
			"--no-kill-backend: it gives up rather than cancel a session in its way", tool.Version, tool.Path))
	} else {
		stmt := "VACUUM (FULL, ANALYZE) " + rel
		sum.Locks = []string{LockVacuumFull}
		// It blocks the application (reads too) for the whole rewrite: the
		// operator confirms it as a destructive plan (typed name, --yes).
		step = Step{Title: "VACUUM FULL " + t.Key() + ": rewrite it and its indexes; the table is locked meanwhile", Target: rel, Table: rel,
			Statements: []string{stmt}, Lock: LockVacuumFull, Unit: "tables", EstBytes: &est, needs: needs(rel, NeedMaintain), Blocking: true,
			run: rewriteRun(rel, room, func(ctx context.Context, r *runner, i int) error {
				_, err := r.conn.Exec(ctx, stmt)
				return err
			})}
		p.Notes = append(p.Notes, "VACUUM FULL, not pg_repack: "+why)
	}
	sum.Findings = append(sum.Findings, fmt.Sprintf("needs %s free while it runs, and the filesystem has %s", bkBytes(need), bkBytes(free)))
	p.Tables, p.Steps = []TableSummary{sum}, []Step{step}
	return p, nil
}

// roomCheck checks again, right before the rewrite, that the data
// directory's filesystem (path, as the report saw it) still has need
// bytes free: the disk may have filled since the plan.
func roomCheck(path, table string, need int64) func() error {
	return func() error {
		var st syscall.Statfs_t
		if err := syscall.Statfs(path, &st); err != nil {
			return fmt.Errorf("cannot check the free space of %s before rewriting %s: %w", path, table, err)
		}
		if free := int64(st.Bavail) * int64(st.Bsize); free < need {
			return fmt.Errorf("no room to rewrite %s any more: it needs %s free, and %s has %s", table, bkBytes(need), path, bkBytes(free))
		}
		return nil
	}
}

// rewriteRun runs a rewrite, once room says the disk still has space for
// it, and reports what it returned to the filesystem: the table's total
// size before less after.
func rewriteRun(rel string, room func() error, rewrite func(ctx context.Context, r *runner, i int) error) func(ctx context.Context, r *runner, i int) (int64, error) {
	size := func(ctx context.Context, r *runner) (int64, error) {
		var n int64
		err := r.conn.QueryRow(ctx, `SELECT pg_total_relation_size($1::regclass)`, rel).Scan(&n)
		return n, err
	}
	return func(ctx context.Context, r *runner, i int) (int64, error) {
		if err := room(); err != nil {
			return 0, err
		}
		before, err := size(ctx, r)
		if err != nil {
			return 0, err
		}
		if err := rewrite(ctx, r, i); err != nil {
			return 0, err
		}
		after, err := size(context.WithoutCancel(ctx), r)
		if err != nil {
			return 0, err
		}
		r.mu.Lock()
		r.freed = max(before-after, 0)
		r.mu.Unlock()
		r.emit(Event{Kind: Log, Step: i, Message: fmt.Sprintf("%s: %s → %s", rel, bkBytes(before), bkBytes(after))})
		r.emit(Event{Kind: Progress, Step: i, Done: 1, Total: 1, Unit: "tables"})
		return 0, nil
	}
}

// repack runs the pg_repack client on one table, its output passed on as
// log lines.
func (r *runner) repack(ctx context.Context, i int, path, rel string) error {
	// pg_repack's --dbname is a database name, not a connection string:
	// the connection goes in libpq's environment only.
	c := backup.ConnOf(r.conn.Config())
	args := []string{"--no-kill-backend", "--no-superuser-check", "--table=" + rel}
	cmd, done, err := c.Command(ctx, path, args...)
	if err != nil {
		return err
	}
	defer done()
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting %s: %w", filepath.Base(path), err)
	}
	var last string
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if line := strings.TrimSpace(sc.Text()); line != "" {
			last = line
			r.emit(Event{Kind: Log, Step: i, Message: "pg_repack: " + line})
		}
	}
	if err := cmd.Wait(); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("pg_repack failed (%v): %s", err, last)
	}
	return nil
}
