package main

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pgtend/pgtend/ops/health"
	"github.com/pgtend/pgtend/ops/maint"
	"github.com/pgtend/pgtend/ops/pg"
)

// ownPIDs are the server pids of the console's long-lived sessions: the
// Health pane marks them and ops refuses to signal them.
type ownPIDs struct {
	mu   sync.Mutex
	pids []uint32
}

// note records the pid of a session's connection (a reconnect gets a new
// one; the old one is gone and harmless to keep).
func (o *ownPIDs) note(conn *pgx.Conn) {
	pid := conn.PgConn().PID()
	o.mu.Lock()
	defer o.mu.Unlock()
	if !slices.Contains(o.pids, pid) {
		o.pids = append(o.pids, pid)
	}
}

func (o *ownPIDs) list() []uint32 {
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.Clone(o.pids)
}

// healthLoader reads the Health pane's findings on the console's health
// session.
func healthLoader(sess *pg.Session, t target, own *ownPIDs) func(context.Context) (*health.Report, error) {
	return func(ctx context.Context) (*health.Report, error) {
		var r *health.Report
		err := sess.Do(ctx, func(conn *pgx.Conn) (err error) {
			own.note(conn)
			r, err = health.Collect(ctx, conn, health.Options{Policy: t.policy, OwnPIDs: own.list()})
			return err
		})
		return r, err
	}
}

// consoleSignals plans and runs the Health pane's cancel and terminate on
// the console's health session, a connection it already holds: a server
// out of connection slots can still be helped. Every run is recorded in
// the history, as maintenance is.
type consoleSignals struct {
	sess     *pg.Session
	readOnly bool
	own      *ownPIDs
	mem      *memory
}

func (s consoleSignals) opts() maint.SignalOptions {
	return maint.SignalOptions{ReadOnly: s.readOnly, OwnPIDs: s.own.list()}
}

func (s consoleSignals) PlanSignal(ctx context.Context, sig maint.Signal, b maint.Backend) (*maint.Plan, error) {
	var p *maint.Plan
	err := s.sess.Do(ctx, func(conn *pgx.Conn) (err error) {
		p, err = maint.PlanSignal(ctx, conn, sig, b, s.opts())
		return err
	})
	return p, err
}

func (s consoleSignals) RunSignal(ctx context.Context, plan *maint.Plan, emit func(maint.Event)) (maint.Result, error) {
	var res maint.Result
	var runErr, recErr error
	err := s.sess.Do(ctx, func(conn *pgx.Conn) error {
		res, runErr = maint.RunSignal(ctx, conn, plan, s.opts(), emit)
		if errors.Is(runErr, maint.ErrReadOnly) {
			return nil // refused before anything ran: nothing to record
		}
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		entry := maint.Entry(plan, res, runErr, conn.Config().Database, conn.Config().User)
		_, recErr = maint.Record(rctx, conn, entry, s.mem.historyFile())
		return nil
	})
	return res, errors.Join(err, runErr, recErr)
}
