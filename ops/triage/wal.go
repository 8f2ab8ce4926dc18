package triage

import (
	"context"
	"fmt"
	"time"

	"github.com/dustin/go-humanize"
	"github.com/jackc/pgx/v5"
	"github.com/pgtend/pgtend/ops/maint"
)

// slots lists the replication slots holding WAL back. An inactive one may
// be dropped (drop-slot, confirmed by its name); an active one is shown
// with what it holds and why it stays.
func slots(ctx context.Context, conn *pgx.Conn) ([]Option, error) {
	ss, err := maint.ReadSlots(ctx, conn)
	if err != nil {
		return nil, err
	}
	var out []Option
	for _, s := range ss {
		if s.RetainedBytes == nil || *s.RetainedBytes <= 0 {
			continue
		}
		o := Option{Kind: KindReplicationSlot, Object: s.Name, Bytes: *s.RetainedBytes, Frees: FreesCheckpoint, Estimate: true,
			Locks: "none",
			Basis: "measured: pg_wal_lsn_diff(current WAL position, restart_lsn); what the checkpoint removes is that less what min_wal_size and wal_keep_size keep"}
		status := ""
		if s.WALStatus != "" {
			status = ", wal_status " + s.WALStatus
		}
		if s.SafeWALSize != nil {
			status += ", safe_wal_size " + humanize.IBytes(uint64(max(*s.SafeWALSize, 0)))
		}
		if s.Active {
			o.Detail = fmt.Sprintf("%s slot, active%s: something reads it (a replica, a logical consumer) and lags behind; it is never dropped from here — catch the reader up, or stop it first", s.Type, status)
		} else {
			o.Detail = fmt.Sprintf("%s slot, inactive%s: nothing reads it, and it keeps every WAL segment since its reader stopped; dropping it (typing its name) lets the next checkpoint remove them", s.Type, status)
			o.Run = &Run{Action: "drop-slot", Flags: maint.Flags{maint.FlagSlot: s.Name}, Confirm: s.Name}
		}
		out = append(out, o)
	}
	return out, nil
}

// walState is what explains the size of pg_wal: the settings and the
// archiver.
type walState struct {
	maxWAL, minWAL, keepWAL, segment int64
	archiveMode, archiveCommand      string
	failed, archived                 int64
	lastFailedWAL                    *string
	lastFailed, lastArchived         *time.Time
	readyAllowed                     bool
}

// archiver explains the WAL settings (notes) and, when archive_command is
// failing, lists the WAL waiting to be archived: PostgreSQL removes no
// segment before it is archived, so pg_wal grows until the command works.
func archiver(ctx context.Context, conn *pgx.Conn, walBytes *int64) ([]Option, []string, error) {
	var w walState
	err := conn.QueryRow(ctx, `
		SELECT pg_size_bytes(current_setting('max_wal_size')), pg_size_bytes(current_setting('min_wal_size')),
		       pg_size_bytes(current_setting('wal_keep_size')), pg_size_bytes(current_setting('wal_segment_size')),
		       current_setting('archive_mode'), current_setting('archive_command'),
		       a.failed_count, a.archived_count, a.last_failed_wal, a.last_failed_time, a.last_archived_time,
		       has_function_privilege('pg_catalog.pg_ls_archive_statusdir()', 'EXECUTE')
		FROM pg_stat_archiver a`).Scan(&w.maxWAL, &w.minWAL, &w.keepWAL, &w.segment, &w.archiveMode, &w.archiveCommand,
		&w.failed, &w.archived, &w.lastFailedWAL, &w.lastFailed, &w.lastArchived, &w.readyAllowed)
	if err != nil {
		return nil, nil, fmt.Errorf("reading the WAL settings and pg_stat_archiver: %w", err)
	}
	held := "pg_wal's size is not visible to this role (pg_ls_waldir needs pg_monitor)"
	if walBytes != nil {
		held = "pg_wal holds " + humanize.IBytes(uint64(*walBytes))
	}
	notes := []string{fmt.Sprintf("%s. max_wal_size (%s) is a soft limit between checkpoints, not a cap: replication slots, wal_keep_size (%s) and a failing archive_command keep more; min_wal_size (%s) is kept for reuse, never given back.",
		held, humanize.IBytes(uint64(w.maxWAL)), humanize.IBytes(uint64(w.keepWAL)), humanize.IBytes(uint64(w.minWAL)))}
	failing := w.archiveMode != "off" && w.failed > 0 && w.lastFailed != nil && (w.lastArchived == nil || w.lastFailed.After(*w.lastArchived))
	if !failing {
		return nil, notes, nil
	}
	var ready int64
	estimate := true
	basis := "the segments waiting cannot be counted: pg_ls_archive_statusdir needs pg_monitor"
	if w.readyAllowed {
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_ls_archive_statusdir() WHERE name LIKE '%.ready'`).Scan(&ready); err != nil {
			return nil, nil, fmt.Errorf("counting the WAL waiting to be archived: %w", err)
		}
		basis = fmt.Sprintf("measured: %d segments of %s waiting (.ready in pg_wal/archive_status)", ready, humanize.IBytes(uint64(w.segment)))
		estimate = false
	}
	last := "?"
	if w.lastFailedWAL != nil {
		last = *w.lastFailedWAL
	}
	o := Option{Kind: KindArchiver, Object: "archive_command", Bytes: ready * w.segment, Frees: FreesCheckpoint, Estimate: estimate, Locks: "none",
		Detail: fmt.Sprintf("archive_command fails (%d failures, last on %s at %s): PostgreSQL keeps every WAL segment until it is archived. Fix the command (the server log says why); the next checkpoint then removes them",
			w.failed, last, w.lastFailed.UTC().Format("2006-01-02 15:04 UTC")),
		Basis: basis}
	return []Option{o}, notes, nil
}
