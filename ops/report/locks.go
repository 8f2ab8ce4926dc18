package report

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// readLocked lists relations that someone holds or awaits an ACCESS
// EXCLUSIVE lock on (a prepared transaction included), mapped from indexes,
// TOAST tables and TOAST indexes to their table.
// Measuring them would queue behind that lock (pgcenter skips them the
// same way); the session's lock_timeout is only the backstop for a lock
// taken after this read.
func readLocked(ctx context.Context, conn *pgx.Conn) (map[uint32]bool, error) {
	rows, err := conn.Query(ctx, `
		SELECT DISTINCT coalesce(ti.oid, i.indrelid, t.oid, l.relation)
		FROM pg_locks l
		LEFT JOIN pg_index i ON i.indexrelid = l.relation
		LEFT JOIN pg_class t ON t.reltoastrelid = l.relation
		LEFT JOIN pg_class ti ON ti.reltoastrelid = i.indrelid -- an index of a TOAST table
		WHERE l.locktype = 'relation' AND l.mode = 'AccessExclusiveLock'
		  AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
		  AND l.pid IS DISTINCT FROM pg_backend_pid() -- prepared transactions have no pid`)
	if err != nil {
		return nil, fmt.Errorf("reading locks: %w", err)
	}
	oids, err := pgx.CollectRows(rows, pgx.RowTo[uint32])
	if err != nil {
		return nil, fmt.Errorf("reading locks: %w", err)
	}
	locked := make(map[uint32]bool, len(oids))
	for _, o := range oids {
		locked[o] = true
	}
	return locked, nil
}

func oidList(set map[uint32]bool) []uint32 {
	out := make([]uint32, 0, len(set))
	for o := range set {
		out = append(out, o)
	}
	return out
}
