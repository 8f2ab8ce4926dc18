package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/pgtend/pgtend/ops/maint"
)

// consoleActions plans and runs the console's maintenance on its own
// connection (the report's session stays free for refreshes), recording
// every run in the history.
type consoleActions struct {
	t        target
	readOnly bool
	mem      *memory
}

func (a consoleActions) Plan(ctx context.Context, action, table string) (*maint.Plan, error) {
	makers, err := planners(action)
	if err != nil {
		return nil, err
	}
	conn, err := a.t.connect(ctx)
	if err != nil {
		return nil, err
	}
	defer closeConn(conn)
	return makers[0](ctx, conn, a.t, table)
}

func (a consoleActions) Run(ctx context.Context, plan *maint.Plan, emit func(maint.Event)) (maint.Result, error) {
	opts := a.t.maintOptions(a.readOnly)
	res, runErr := maint.Run(ctx, a.t.dsn, a.t.settings(), plan, opts, emit)
	if errors.Is(runErr, maint.ErrReadOnly) {
		return res, runErr
	}
	if _, err := recordRun(ctx, a.t, plan, res, runErr, a.mem); err != nil {
		return res, errors.Join(runErr, err)
	}
	return res, runErr
}

// recordRun writes a finished run to the history on a connection of its
// own: even a cancelled run is recorded (so not under ctx, which may be
// cancelled), but within a deadline, so a stalled server cannot hold the
// console or the command forever.
func recordRun(ctx context.Context, t target, plan *maint.Plan, res maint.Result, runErr error, mem *memory) (where string, err error) {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	conn, err := t.connect(rctx)
	if err != nil {
		return "", fmt.Errorf("the run was not recorded: %w", err)
	}
	defer closeConn(conn)
	entry := maint.Entry(plan, res, runErr, conn.Config().Database, conn.Config().User)
	return maint.Record(rctx, conn, entry, mem.historyFile())
}
