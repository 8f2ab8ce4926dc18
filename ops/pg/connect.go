// Package pg opens connections to the database pgtend looks after, the way
// every PostgreSQL tool does (URL or key=value DSN, DATABASE_URL, the libpq
// environment, ~/.pgpass, pg_service.conf), and turns connection failures into
// one readable line without the password.
package pg

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Settings are the session settings pgtend applies to every connection, so a
// catalog read can never hang behind an ACCESS EXCLUSIVE lock.
type Settings struct {
	StatementTimeout time.Duration
	LockTimeout      time.Duration
}

// ChooseDSN picks the connection string: the --dsn flag, else DATABASE_URL,
// else "" which makes pgx read the libpq environment (PGHOST, PGSERVICE...).
func ChooseDSN(flag string) string {
	if flag != "" {
		return flag
	}
	return os.Getenv("DATABASE_URL")
}

// ParseConfig parses a DSN into a pgx config with pgtend's application_name
// and timeouts. Errors never contain the password.
func ParseConfig(dsn string, s Settings) (*pgx.ConnConfig, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, &DSNError{reason: parseReason(err)}
	}
	rp := cfg.RuntimeParams
	if rp["application_name"] == "" {
		rp["application_name"] = "pgtend"
	}
	// The session runs in UTC, like every time pgtend prints; but first it
	// notes the zone a session of this role in this database starts in
	// (ALTER DATABASE/ROLE ... SET timezone, else the server's TimeZone, or
	// the DSN's own options): that is what the application's timestamp
	// (without time zone) and date values mean. See DatabaseTimeZone.
	cfg.AfterConnect = func(ctx context.Context, pc *pgconn.PgConn) error {
		return pc.Exec(ctx, noteZoneThenUTC).Close()
	}
	if s.StatementTimeout > 0 {
		rp["statement_timeout"] = strconv.FormatInt(s.StatementTimeout.Milliseconds(), 10)
	}
	if s.LockTimeout > 0 {
		rp["lock_timeout"] = strconv.FormatInt(s.LockTimeout.Milliseconds(), 10)
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = 10 * time.Second
	}
	return cfg, nil
}

// DatabaseTimeZone is the custom setting in which every pgtend session
// keeps the time zone it started in, before it switched to UTC:
// current_setting('pgtend.database_time_zone').
const DatabaseTimeZone = "pgtend.database_time_zone"

const noteZoneThenUTC = "SELECT set_config('" + DatabaseTimeZone + "', current_setting('TimeZone'), false), set_config('TimeZone', 'UTC', false)"

// Connect opens one connection.
func Connect(ctx context.Context, dsn string, s Settings) (*pgx.Conn, error) {
	cfg, err := ParseConfig(dsn, s)
	if err != nil {
		return nil, err
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, describeConnectError(cfg, err)
	}
	return conn, nil
}

// DSNError is a connection string pgx cannot parse.
type DSNError struct{ reason string }

func (e *DSNError) Error() string { return "invalid connection string: " + e.reason }

// parseReason keeps pgx's reason but drops its echo of the (redacted, yet
// still user-supplied) connection string.
func parseReason(err error) string {
	msg := err.Error()
	if i := strings.Index(msg, "`: "); i >= 0 && strings.HasPrefix(msg, "cannot parse `") {
		msg = msg[i+3:]
	}
	return msg
}

// ConnectError says where pgtend tried to connect and why it failed.
type ConnectError struct {
	Host, User, Database string
	Port                 uint16
	Reason               string
	Err                  error
}

func (e *ConnectError) Error() string {
	return fmt.Sprintf("cannot connect to host=%s port=%d user=%s database=%s: %s", e.Host, e.Port, e.User, e.Database, e.Reason)
}

func (e *ConnectError) Unwrap() error { return e.Err }

func describeConnectError(cfg *pgx.ConnConfig, err error) error {
	ce := &ConnectError{Host: cfg.Host, Port: cfg.Port, User: cfg.User, Database: cfg.Database, Err: err}
	var pgErr *pgconn.PgError
	var netErr *net.OpError
	var dnsErr *net.DNSError
	switch {
	case errors.As(err, &pgErr):
		ce.Reason = pgErr.Message
		if pgErr.Code != "" {
			ce.Reason += " (SQLSTATE " + pgErr.Code + ")"
		}
	case errors.Is(err, context.DeadlineExceeded):
		ce.Reason = "timed out"
	case errors.As(err, &dnsErr):
		ce.Reason = dnsErr.Error()
	case errors.As(err, &netErr):
		ce.Reason = netErr.Err.Error()
		if errors.Is(netErr.Err, os.ErrNotExist) || strings.Contains(ce.Reason, "no such file") {
			ce.Reason = "no server is listening on that socket (is PostgreSQL running? " + netErr.Err.Error() + ")"
		}
	default:
		ce.Reason = innermost(err).Error()
	}
	if cfg.Password != "" {
		ce.Reason = strings.ReplaceAll(ce.Reason, cfg.Password, "xxxxx")
	}
	ce.Reason = oneLine(ce.Reason)
	return ce
}

// oneLine joins the distinct lines of a reason: pgx tries each address and
// sslmode=prefer's two attempts, and joins their errors with newlines.
func oneLine(s string) string {
	var lines []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" && !slices.Contains(lines, l) {
			lines = append(lines, l)
		}
	}
	return strings.Join(lines, "; ")
}

func innermost(err error) error {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return err
		}
		err = next
	}
}
