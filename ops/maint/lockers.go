package maint

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// lockersQuery lists the sessions that hold — or, with exclusive, hold or
// await in ACCESS EXCLUSIVE mode — a lock on rel or on any relation of its
// partition or chunk tree, or their indexes: who stands between a
// maintenance statement and its lock.
const lockersQuery = `
WITH RECURSIVE tree AS (
	SELECT to_regclass($1)::oid AS relid
	UNION ALL SELECT i.inhrelid FROM tree JOIN pg_inherits i ON i.inhparent = tree.relid
), rels AS (
	SELECT relid FROM tree UNION SELECT x.indexrelid FROM pg_index x JOIN tree ON x.indrelid = tree.relid
)
SELECT a.pid, l.granted, coalesce(a.usename, ''), coalesce(a.application_name, ''), coalesce(a.state, ''), l.mode,
       coalesce(a.xact_start, a.query_start, a.backend_start), left(regexp_replace(coalesce(a.query, ''), '\s+', ' ', 'g'), 120)
FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
WHERE l.locktype = 'relation' AND l.relation IN (SELECT relid FROM rels) AND l.pid <> $2
  AND (NOT $3 OR l.mode = 'AccessExclusiveLock') AND (l.granted OR $3)
ORDER BY l.granted DESC, a.xact_start NULLS LAST`

// lockers names the sessions of lockersQuery, each once: pid, user,
// application, state, since when, the start of its query. It reads
// pg_locks, which waits on no lock, within a short deadline of its own.
func lockers(conn *pgx.Conn, rel string, exclusive bool, exceptPID uint32) string {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	rows, err := conn.Query(ctx, lockersQuery, rel, exceptPID, exclusive)
	if err != nil {
		return "holders unknown: " + err.Error()
	}
	defer rows.Close()
	var out []string
	seen := map[int32]bool{}
	for rows.Next() {
		var pid int32
		var granted bool
		var user, app, state, mode, query string
		var since time.Time
		if rows.Scan(&pid, &granted, &user, &app, &state, &mode, &since, &query) != nil || seen[pid] {
			continue
		}
		seen[pid] = true
		how := "held"
		if !granted {
			how = "awaited"
		}
		out = append(out, fmt.Sprintf("%s by pid %d (user %s, application %q, %s since %s, %s: %s)",
			how, pid, user, app, state, since.UTC().Format("15:04:05"), mode, query))
	}
	if len(out) == 0 {
		return "no holder seen (the lock was released)"
	}
	return strings.Join(out, "; ")
}

// describeLockers names who holds or awaits an ACCESS EXCLUSIVE lock on
// the table: why the report marked it locked.
func describeLockers(conn *pgx.Conn, rel string) string {
	return lockers(conn, rel, true, 0)
}
