package pgtest

import (
	"context"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5"
)

// PendingDetach makes parent a partitioned table whose partition
// <parent>_old, holding rows rows, an interrupted DETACH PARTITION
// CONCURRENTLY left pending: another session's snapshot makes the detach
// wait in its second phase, where a statement timeout cancels it. It
// returns the partition's name.
func PendingDetach(t testing.TB, dsn string, conn *pgx.Conn, parent string, rows int) string {
	t.Helper()
	part := parent + "_old"
	Exec(t, conn, fmt.Sprintf(`CREATE TABLE %s (ts timestamptz NOT NULL, v int, payload text) PARTITION BY RANGE (ts)`, parent))
	Exec(t, conn, fmt.Sprintf(`CREATE TABLE %s PARTITION OF %s FOR VALUES FROM ('2020-01-01') TO ('2021-01-01')`, part, parent))
	Exec(t, conn, fmt.Sprintf(`INSERT INTO %s SELECT '2020-01-01'::timestamptz + g * interval '1 second', g, md5(g::text) || md5((g * 7)::text) FROM generate_series(1, %d) g`, parent, rows))
	holder := Connect(t, dsn)
	Exec(t, holder, `BEGIN ISOLATION LEVEL REPEATABLE READ`)
	Exec(t, holder, `SELECT count(*) FROM `+parent)
	Exec(t, conn, `SET statement_timeout = '1s'`)
	if _, err := conn.Exec(context.Background(), fmt.Sprintf(`ALTER TABLE %s DETACH PARTITION %s CONCURRENTLY`, parent, part)); err == nil {
		t.Fatal("DETACH CONCURRENTLY did not wait")
	}
	Exec(t, conn, `RESET statement_timeout`)
	Exec(t, holder, `ROLLBACK`)
	return part
}
