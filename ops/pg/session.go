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
	conns    []*pgx.Conn
}

// NewSession prepares a session of n connections (at least one); it
// connects on first use. Extra connections let work be shared (report
// measuring); they stay open so the server's caches stay warm.
func NewSession(dsn string, s Settings, n int) *Session {
	return &Session{dsn: dsn, settings: s, conns: make([]*pgx.Conn, max(n, 1))}
}

// Do runs fn on the session's connections (the first is the main one),
// connecting first where needed.
func (s *Session) Do(ctx context.Context, fn func(conn *pgx.Conn, extra []*pgx.Conn) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, c := range s.conns {
		if c == nil || c.IsClosed() {
			conn, err := Connect(ctx, s.dsn, s.settings)
			if err != nil {
				return err
			}
			s.conns[i] = conn
		}
	}
	err := fn(s.conns[0], s.conns[1:])
	if err != nil {
		for i, c := range s.conns {
			if c.IsClosed() || ctx.Err() != nil {
				// A cancelled query may leave a connection mid-protocol;
				// start afresh next time rather than reuse it.
				_ = c.Close(context.Background())
				s.conns[i] = nil
			}
		}
	}
	return err
}

// Close closes the connections.
func (s *Session) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, c := range s.conns {
		if c != nil {
			_ = c.Close(context.Background())
			s.conns[i] = nil
		}
	}
}
