package pg

import (
	"context"
	"sync"

	"github.com/jackc/pgx/v5"
)

// Session is one long-lived connection that reconnects on demand: after a
// failure that closed it, the next Do opens a new one. The console's
// refreshes go through it, so a restarted server or a dropped SSH tunnel is
// a "reconnecting" banner, not a dead screen.
type Session struct {
	dsn      string
	settings Settings
	mu       sync.Mutex
	conn     *pgx.Conn
}

// NewSession prepares a session; it connects on first use.
func NewSession(dsn string, s Settings) *Session { return &Session{dsn: dsn, settings: s} }

// Do runs fn on the session's connection, connecting first when needed.
func (s *Session) Do(ctx context.Context, fn func(*pgx.Conn) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn == nil || s.conn.IsClosed() {
		conn, err := Connect(ctx, s.dsn, s.settings)
		if err != nil {
			return err
		}
		s.conn = conn
	}
	err := fn(s.conn)
	if err != nil && (s.conn.IsClosed() || ctx.Err() != nil) {
		// A cancelled query may leave the connection mid-protocol; start
		// afresh next time rather than reuse it.
		_ = s.conn.Close(context.Background())
		s.conn = nil
	}
	return err
}

// Close closes the connection, if any.
func (s *Session) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn != nil {
		_ = s.conn.Close(context.Background())
		s.conn = nil
	}
}
