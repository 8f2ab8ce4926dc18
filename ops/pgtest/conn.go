package pgtest

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Connect opens a connection closed when the test ends.
func Connect(t testing.TB, dsn string) *pgx.Conn {
	t.Helper()
	return ConnectAs(t, dsn, "")
}

// Exec runs a statement (or several, without args) or fails the test.
func Exec(t testing.TB, conn *pgx.Conn, sql string, args ...any) {
	t.Helper()
	if _, err := conn.Exec(context.Background(), sql, args...); err != nil {
		t.Fatalf("%v\n%s", err, sql)
	}
}

// Count runs a query returning one number.
func Count(t testing.TB, conn *pgx.Conn, sql string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := conn.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatalf("%v\n%s", err, sql)
	}
	return n
}

// ConnectAs opens a connection to dsn as another role ("": the DSN's),
// closed when the test ends.
func ConnectAs(t testing.TB, dsn, user string) *pgx.Conn {
	t.Helper()
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	if user != "" {
		cfg.User = user
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// Row is one row of a test's query; Scan fails the test on any error, so
// a failed query can never leave zeros that pass a comparison.
type Row struct {
	t   testing.TB
	row pgx.Row
	sql string
}

// QueryRow runs a query expected to return one row.
func QueryRow(t testing.TB, conn *pgx.Conn, sql string, args ...any) Row {
	t.Helper()
	return Row{t: t, row: conn.QueryRow(context.Background(), sql, args...), sql: sql}
}

// Scan reads the row into dest or fails the test.
func (r Row) Scan(dest ...any) {
	r.t.Helper()
	if err := r.row.Scan(dest...); err != nil {
		r.t.Fatalf("%v\n%s", err, r.sql)
	}
}
