package pg

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pgtend/pgtend/ops/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

func TestSessionSettings(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	conn, err := Connect(context.Background(), dsn, Settings{StatementTimeout: 30 * time.Second, LockTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var app, st, lt, tz string
	pgtest.QueryRow(t, conn, "SELECT current_setting('application_name'), current_setting('statement_timeout'), current_setting('lock_timeout'), current_setting('TimeZone')").Scan(&app, &st, &lt, &tz)
	if app != "pgtend" || st != "30s" || lt != "2s" || tz != "UTC" {
		t.Errorf("application_name %q, statement_timeout %q, lock_timeout %q, TimeZone %q", app, st, lt, tz)
	}
	// An application_name the operator set is kept.
	c2, err := Connect(context.Background(), dsn+"&application_name=ops-cron", Settings{})
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close(context.Background())
	pgtest.QueryRow(t, c2, "SELECT current_setting('application_name')").Scan(&app)
	if app != "ops-cron" {
		t.Errorf("application_name %q, want the DSN's", app)
	}
}

func TestChooseDSN(t *testing.T) {
	t.Setenv("DATABASE_URL", "postgres://from-env/db")
	if ChooseDSN("host=flag") != "host=flag" || ChooseDSN("") != "postgres://from-env/db" {
		t.Error("--dsn must win over DATABASE_URL, which must win over nothing")
	}
}

func TestParseErrorsHideThePassword(t *testing.T) {
	_, err := ParseConfig("host=/tmp port=nope password=s3cret", Settings{})
	var de *DSNError
	if !errors.As(err, &de) || strings.Contains(err.Error(), "s3cret") || !strings.Contains(err.Error(), "invalid connection string") {
		t.Errorf("err %v", err)
	}
}

// A session whose backend was terminated (a server restart, a DBA's
// pg_terminate_backend) fails once, then reconnects by itself.
func TestSessionReconnects(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	s := NewSession(dsn, Settings{})
	defer s.Close()
	var pid int32
	ask := func() error {
		return s.Do(context.Background(), func(conn *pgx.Conn) error {
			return conn.QueryRow(context.Background(), "SELECT pg_backend_pid()").Scan(&pid)
		})
	}
	if err := ask(); err != nil {
		t.Fatal(err)
	}
	first := pid
	admin, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(context.Background())
	if _, err := admin.Exec(context.Background(), "SELECT pg_terminate_backend($1)", first); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	if err := ask(); err == nil {
		t.Fatal("a query on a terminated backend succeeded")
	}
	if err := ask(); err != nil || pid == first {
		t.Fatalf("no reconnect: %v (pid %d, was %d)", err, pid, first)
	}
}

// A session runs in UTC but remembers the zone it would have started in:
// the database's, a role's in that database, or the DSN's own.
func TestSessionNotesTheDatabaseTimeZone(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	admin := pgtest.Connect(t, dsn)
	var db string
	pgtest.QueryRow(t, admin, "SELECT current_database()").Scan(&db)
	zones := func(dsn string) (session, noted string) {
		t.Helper()
		conn, err := Connect(context.Background(), dsn, Settings{})
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(context.Background())
		pgtest.QueryRow(t, conn, "SELECT current_setting('TimeZone'), current_setting('"+DatabaseTimeZone+"')").Scan(&session, &noted)
		return session, noted
	}
	pgtest.Exec(t, admin, `ALTER DATABASE "`+db+`" SET timezone = 'America/New_York'`)
	if s, n := zones(dsn); s != "UTC" || n != "America/New_York" {
		t.Errorf("database zone: session %q, noted %q", s, n)
	}
	pgtest.Exec(t, admin, `CREATE ROLE tz_role LOGIN; ALTER ROLE tz_role IN DATABASE "`+db+`" SET timezone = 'Asia/Kolkata'`)
	if s, n := zones(strings.Replace(dsn, "pgtend@", "tz_role@", 1)); s != "UTC" || n != "Asia/Kolkata" {
		t.Errorf("role zone: session %q, noted %q", s, n)
	}
	if s, n := zones(dsn + "&timezone=Europe/Berlin"); s != "UTC" || n != "Europe/Berlin" {
		t.Errorf("DSN zone: session %q, noted %q", s, n)
	}
}
