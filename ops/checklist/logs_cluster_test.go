package checklist

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pgtend/pgtend/ops/cluster"
	"github.com/pgtend/pgtend/ops/pgtest"
)

// A cluster of the test's own writes its log files (the package's cluster
// logs to its standard error): in New York's and in Tokyo's time, the
// errors since the cut-off are those since it, rotated files included,
// older files not read, and a small budget says it ran out.
func TestLogsSinceInTheServersZoneAcrossRotations(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	c, err := cluster.Start(ctx, cluster.Options{NoTimescale: true, NoCron: true, Settings: map[string]string{
		"logging_collector": "on", "log_line_prefix": "%m [%p] ", "log_rotation_age": "0", "log_rotation_size": "0",
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Destroy()
	admin := pgtest.Connect(t, c.DSN("postgres"))
	for _, zone := range []string{"America/New_York", "Asia/Tokyo"} {
		t.Run(zone, func(t *testing.T) {
			pgtest.Exec(t, admin, `ALTER SYSTEM SET log_timezone = '`+zone+`'`)
			pgtest.Exec(t, admin, `SELECT pg_reload_conf()`)
			conn := sessionWithLogZone(t, c, zone)
			old := rotate(t, conn)
			fail(t, conn, "in a file older than the cut-off")
			rotate(t, conn)
			fail(t, conn, "before the cut-off")
			since := serverNow(t, conn)
			fail(t, conn, "after the cut-off, rotated")
			rotate(t, conn)
			fail(t, conn, "after the cut-off, current")

			l, err := ReadLogs(ctx, conn, since)
			if err != nil {
				t.Fatal(err)
			}
			if !l.Readable || l.Zone != zone || l.Note != "" || l.Partial || len(l.Files) != 2 || l.Files[1] != l.File {
				t.Fatalf("%+v", l)
			}
			for _, f := range l.Files {
				if f == old {
					t.Errorf("read %s, modified before the cut-off", old)
				}
			}
			got := strings.Join(l.Lines, "\n")
			if l.Total != 2 || !strings.Contains(l.Lines[0], "after the cut-off, rotated") || !strings.Contains(l.Lines[1], "after the cut-off, current") {
				t.Errorf("since %s in %s: %d lines\n%s", since, zone, l.Total, got)
			}

			// A role with pg_monitor (which lists the log directory) and
			// pg_current_logfile() granted, but not pg_read_file: the
			// files are read on this machine, which is the server's.
			if zone == "Asia/Tokyo" {
				monitorReadsHere(t, admin, c, since, l.Total)
			}

			small, err := readLogs(ctx, conn, since, 100)
			if err != nil {
				t.Fatal(err)
			}
			if !small.Partial || small.Skipped != 1 || len(small.Files) != 1 {
				t.Errorf("a 100-byte budget: %+v", small)
			}
		})
	}
}

// sessionWithLogZone connects once the server has taken the new
// log_timezone in (pg_reload_conf only signals it).
func sessionWithLogZone(t *testing.T, c *cluster.Cluster, zone string) *pgx.Conn {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		conn := pgtest.Connect(t, c.DSN("postgres"))
		var got string
		pgtest.QueryRow(t, conn, `SHOW log_timezone`).Scan(&got)
		if got == zone {
			return conn
		}
		conn.Close(context.Background())
		if time.Now().After(deadline) {
			t.Fatalf("log_timezone still %s", got)
		}
	}
}

// rotate starts a new log file (a second apart: the file name is
// stamped to the second) and returns the one it leaves.
func rotate(t *testing.T, conn *pgx.Conn) string {
	t.Helper()
	var before string
	pgtest.QueryRow(t, conn, `SELECT pg_current_logfile()`).Scan(&before)
	time.Sleep(1100 * time.Millisecond)
	pgtest.Exec(t, conn, `SELECT pg_rotate_logfile()`)
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		var now string
		pgtest.QueryRow(t, conn, `SELECT pg_current_logfile()`).Scan(&now)
		if now != before {
			return before
		}
	}
	t.Fatal("the log did not rotate")
	return ""
}

func fail(t *testing.T, conn *pgx.Conn, what string) {
	t.Helper()
	if _, err := conn.Exec(context.Background(), `DO $$ BEGIN RAISE EXCEPTION '`+what+`'; END $$`); err == nil {
		t.Fatal("RAISE did not fail")
	}
	time.Sleep(20 * time.Millisecond)
}

func serverNow(t *testing.T, conn *pgx.Conn) time.Time {
	t.Helper()
	var now time.Time
	pgtest.QueryRow(t, conn, `SELECT clock_timestamp()`).Scan(&now)
	time.Sleep(20 * time.Millisecond)
	return now
}

func monitorReadsHere(t *testing.T, admin *pgx.Conn, c *cluster.Cluster, since time.Time, want int) {
	t.Helper()
	pgtest.Exec(t, admin, `CREATE ROLE log_monitor LOGIN IN ROLE pg_monitor; GRANT EXECUTE ON FUNCTION pg_current_logfile() TO log_monitor`)
	l, err := ReadLogs(context.Background(), pgtest.ConnectAs(t, c.DSN("postgres"), "log_monitor"), since)
	if err != nil {
		t.Fatal(err)
	}
	if !l.Readable || l.Via != "this machine's file" || len(l.Files) != 2 || l.Total != want {
		t.Errorf("pg_monitor and pg_current_logfile() without pg_read_file: %+v", l)
	}
}
