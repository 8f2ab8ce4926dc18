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
	locked, err := setOf[uint32](rows, err)
	if err != nil {
		return nil, fmt.Errorf("reading locks: %w", err)
	}
	return locked, nil
}

// setOf collects a one-column query's values into a set.
func setOf[T comparable](rows pgx.Rows, err error) (map[T]bool, error) {
	if err != nil {
		return nil, err
	}
	values, err := pgx.CollectRows(rows, pgx.RowTo[T])
	if err != nil {
		return nil, err
	}
	set := make(map[T]bool, len(values))
	for _, v := range values {
		set[v] = true
	}
	return set, nil
}

func oidList(set map[uint32]bool) []uint32 {
	out := make([]uint32, 0, len(set))
	for o := range set {
		out = append(out, o)
	}
	return out
}
