package triage

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/pgtend/pgtend/ops/maint"
	"github.com/pgtend/pgtend/ops/report"
)

// detached lists tables that left a partition set without being dropped:
// those pg_partman detached and kept (the report's DetachedTables), and
// partitions whose DETACH CONCURRENTLY was interrupted (pg_inherits'
// inhdetachpending), still attached in name, read by nobody.
func detached(ctx context.Context, conn *pgx.Conn, r *report.Report) ([]Option, error) {
	var out []Option
	for _, d := range r.DetachedTables {
		rel := pgx.Identifier{d.Schema, d.Name}.Sanitize()
		out = append(out, Option{Kind: KindDetachedPartition, Schema: ptr(d.Schema), Table: ptr(d.Name), Object: d.ParentSchema + "." + d.Parent,
			Bytes: derefOr(d.TotalBytes), Frees: FreesNow, Locks: maint.LockAccessExclusive + " on the table, briefly (DROP TABLE)",
			Detail: "detached by pg_partman (retention_keep_table) from " + d.ParentSchema + "." + d.Parent + " and kept: DROP TABLE " + rel + " once nothing needs it (confirmed by its name)",
			Basis:  "measured: the table's size (" + r.MeasuredBy + ")", Run: dropDetached(d.Schema, d.Name)})
	}
	rows, err := conn.Query(ctx, `
		SELECT n.nspname::text, c.relname::text, pn.nspname::text, p.relname::text, pg_total_relation_size(c.oid)
		FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_namespace n ON n.oid = c.relnamespace
		JOIN pg_class p ON p.oid = i.inhparent JOIN pg_namespace pn ON pn.oid = p.relnamespace
		WHERE i.inhdetachpending`)
	if err != nil {
		return nil, fmt.Errorf("reading interrupted detaches: %w", err)
	}
	for rows.Next() {
		var s, t, ps, pt string
		var bytes int64
		if err := rows.Scan(&s, &t, &ps, &pt, &bytes); err != nil {
			rows.Close()
			return nil, err
		}
		parent, rel := pgx.Identifier{ps, pt}.Sanitize(), pgx.Identifier{s, t}.Sanitize()
		out = append(out, Option{Kind: KindDetachedPartition, Schema: ptr(s), Table: ptr(t), Object: ps + "." + pt, Bytes: bytes, Frees: FreesNow,
			Locks:  maint.LockShareUpdateExclusive + " on the parent (FINALIZE), then " + maint.LockAccessExclusive + " on the partition (DROP)",
			Detail: "an interrupted DETACH PARTITION CONCURRENTLY left it half detached: ALTER TABLE " + parent + " DETACH PARTITION " + rel + " FINALIZE, then DROP TABLE " + rel + " if its rows are past keeping (confirmed by its name)",
			Basis:  "measured: pg_total_relation_size", Run: dropDetached(s, t)})
	}
	rows.Close()
	return out, rows.Err()
}

// dropDetached is the action that drops a detached table, confirmed by
// its name.
func dropDetached(schema, name string) *Run {
	return &Run{Action: "drop-detached", Table: schema + "." + name}
}

// leftoverRe names the invalid copies REINDEX CONCURRENTLY leaves when it
// fails or is cancelled: <index>_ccnew, <index>_ccold, numbered.
var leftoverRe = regexp.MustCompile(`_cc(new|old)[0-9]*$`)

// invalidIndexes lists the invalid indexes (indisvalid false): leftovers
// of failed rebuilds, which reindex drops, and failed CREATE INDEX
// CONCURRENTLY builds, which it rebuilds. Both are maintained on every
// write and used by no query.
func invalidIndexes(ctx context.Context, conn *pgx.Conn) ([]Option, error) {
	rows, err := conn.Query(ctx, `
		SELECT n.nspname::text, c.relname::text, tn.nspname::text, t.relname::text, pg_relation_size(c.oid)
		FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace
		JOIN pg_class t ON t.oid = i.indrelid JOIN pg_namespace tn ON tn.oid = t.relnamespace
		WHERE NOT i.indisvalid ORDER BY 5 DESC`)
	if err != nil {
		return nil, fmt.Errorf("reading invalid indexes: %w", err)
	}
	var out []Option
	for rows.Next() {
		var s, ix, ts, t string
		var bytes int64
		if err := rows.Scan(&s, &ix, &ts, &t, &bytes); err != nil {
			rows.Close()
			return nil, err
		}
		o := Option{Kind: KindInvalidIndex, Schema: ptr(ts), Table: ptr(t), Object: s + "." + ix, Bytes: bytes,
			Locks: maint.LockReindexConcurrently, Run: &Run{Action: "reindex", Flags: maint.Flags{maint.FlagIndex: regName(s, ix)}},
			Basis: "measured: pg_relation_size"}
		if leftoverRe.MatchString(ix) {
			o.Frees = FreesNow
			o.Detail = "an invalid copy a failed or cancelled REINDEX CONCURRENTLY left: DROP INDEX CONCURRENTLY returns it whole"
		} else {
			o.Frees, o.NeedsFreeBytes, o.Estimate = FreesNeedsFreeSpace, bytes, true
			o.Detail = "invalid (a failed CREATE INDEX CONCURRENTLY?): reindex rebuilds it, which first needs room for the new copy and returns only its bloat; DROP INDEX CONCURRENTLY " +
				pgx.Identifier{s, ix}.Sanitize() + " returns it whole if nothing needs it"
		}
		out = append(out, o)
	}
	rows.Close()
	return out, rows.Err()
}

// repackLeftovers lists the work tables a pg_repack that died left in
// schema repack (table_<oid>, log_<oid>); while a pg_repack is running
// (maint.RepackRunning) they are shown blocked, since they may be its own.
func repackLeftovers(ctx context.Context, conn *pgx.Conn) ([]Option, error) {
	running, err := maint.RepackRunning(ctx, conn)
	if err != nil {
		return nil, err
	}
	rows, err := conn.Query(ctx, `
		SELECT c.relname::text, pg_total_relation_size(c.oid)
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = 'repack' AND c.relkind = 'r' AND c.relname ~ '^(table|log)_[0-9]+$'`)
	if err != nil {
		return nil, fmt.Errorf("reading pg_repack's work tables: %w", err)
	}
	var out []Option
	for rows.Next() {
		var name string
		var bytes int64
		if err := rows.Scan(&name, &bytes); err != nil {
			rows.Close()
			return nil, err
		}
		o := Option{Kind: KindRepackLeftover, Schema: ptr("repack"), Table: ptr(name), Object: "repack." + name, Bytes: bytes, Frees: FreesNow,
			Locks: maint.LockAccessExclusive + " on the work table (DROP)",
			Detail: "a work table of a pg_repack that did not finish: dropping it (confirmed by its name; a log table with the trigger that feeds it) returns it whole; " +
				"pg_repack's own clean-up is DROP EXTENSION pg_repack CASCADE; CREATE EXTENSION pg_repack",
			Basis: "measured: pg_total_relation_size"}
		if running != "" {
			o.Blocked = running + ": this may be its work table"
		} else {
			o.Run = &Run{Action: "drop-repack-leftover", Table: "repack." + name}
		}
		out = append(out, o)
	}
	rows.Close()
	return out, rows.Err()
}

// files lists the temporary files of running queries (pg_ls_tmpdir) and
// the server's own logs kept inside the data directory (pg_ls_logdir, the
// file being written excepted); each needs pg_monitor or a superuser, and
// a role without it gets a note saying so.
func files(ctx context.Context, conn *pgx.Conn) ([]Option, []string, error) {
	var tmpOK, logOK bool
	var collector, logDir string
	if err := conn.QueryRow(ctx, `SELECT has_function_privilege('pg_catalog.pg_ls_tmpdir()', 'EXECUTE'), has_function_privilege('pg_catalog.pg_ls_logdir()', 'EXECUTE'),
		current_setting('logging_collector'), current_setting('log_directory')`).Scan(&tmpOK, &logOK, &collector, &logDir); err != nil {
		return nil, nil, err
	}
	var out []Option
	var notes []string
	if !tmpOK {
		notes = append(notes, "temporary files are not counted: pg_ls_tmpdir needs the pg_monitor role (GRANT pg_monitor TO …) or a superuser")
	} else {
		var n, bytes int64
		if err := conn.QueryRow(ctx, `SELECT count(*), coalesce(sum(size), 0)::bigint FROM pg_ls_tmpdir()`).Scan(&n, &bytes); err != nil {
			return nil, nil, fmt.Errorf("listing temporary files: %w", err)
		}
		if n > 0 {
			out = append(out, Option{Kind: KindTempFiles, Object: "base/pgsql_tmp", Bytes: bytes, Frees: FreesNow, Locks: "none",
				Detail: fmt.Sprintf("%d temporary %s of sorts and hashes too big for work_mem: removed when their queries end; cancelling a runaway query (Health pane) frees them", n, plural(int(n), "file")),
				Basis:  "measured: pg_ls_tmpdir"})
		}
	}
	if collector != "on" || len(logDir) > 0 && logDir[0] == '/' {
		return out, notes, nil // the logs are elsewhere (stderr, syslog, journald, or an absolute directory)
	}
	if !logOK {
		return out, append(notes, "the server's log files in the data directory are not counted: pg_ls_logdir needs pg_monitor or a superuser"), nil
	}
	var n, bytes int64
	if err := conn.QueryRow(ctx, `SELECT count(*), coalesce(sum(size), 0)::bigint FROM pg_ls_logdir()
		WHERE name NOT IN (SELECT regexp_replace(coalesce(pg_current_logfile(f), ''), '^.*/', '') FROM unnest(ARRAY['stderr', 'csvlog']) f)`).Scan(&n, &bytes); err != nil {
		return nil, nil, fmt.Errorf("listing the server's log files: %w", err)
	}
	if n > 0 {
		out = append(out, Option{Kind: KindServerLogs, Object: logDir, Bytes: bytes, Frees: FreesNow, Locks: "none",
			Detail: fmt.Sprintf("%d old server log %s in the data directory (%s): delete the old ones, or let log_truncate_on_rotation and log_rotation_age recycle them", n, plural(int(n), "file"), logDir),
			Basis:  "measured: pg_ls_logdir, the file being written excepted"})
	}
	return out, notes, nil
}

// derefOr is *p, or T's zero value for nil.
func derefOr[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// regName names a relation as to_regclass reads it (--index is resolved
// so): schema.name as it is when both are plain lower-case identifiers,
// quoted otherwise, so that a name with capitals or dots is this relation
// and no other.
func regName(schema, name string) string {
	plain := func(s string) bool {
		return s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyz0123456789_") == "" && (s[0] < '0' || s[0] > '9')
	}
	if plain(schema) && plain(name) {
		return schema + "." + name
	}
	return pgx.Identifier{schema, name}.Sanitize()
}
