package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/pgtend/pgtend/ops/maint"
	"github.com/pgtend/pgtend/ops/pg"
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
	conn, err := pg.Connect(ctx, a.t.dsn, a.t.settings())
	if err != nil {
		return nil, err
	}
	defer closeConn(conn)
	switch action {
	case "vacuum":
		return maint.PlanVacuum(ctx, conn, a.t.policy, table)
	case "retention":
		return maint.PlanRetention(ctx, conn, a.t.policy, table, maint.RetentionOptions{})
	}
	return nil, fmt.Errorf("unknown action %q", action)
}

func (a consoleActions) Run(ctx context.Context, plan *maint.Plan, emit func(maint.Event)) (maint.Result, error) {
	opts := maint.Options{LockTimeout: a.t.policy.Connection.MaintenanceLockTimeout, ReadOnly: a.readOnly, Policy: a.t.policy}
	res, runErr := maint.Run(ctx, a.t.dsn, a.t.settings(), plan, opts, emit)
	if errors.Is(runErr, maint.ErrReadOnly) {
		return res, runErr
	}
	// Record even a cancelled run; the console's context may be gone.
	conn, err := pg.Connect(context.Background(), a.t.dsn, a.t.settings())
	if err != nil {
		return res, errors.Join(runErr, fmt.Errorf("the run was not recorded: %w", err))
	}
	defer closeConn(conn)
	entry := maint.Entry(plan, res, runErr, conn.Config().Database, conn.Config().User)
	if _, err := maint.Record(context.Background(), conn, entry, a.mem.historyFile()); err != nil {
		return res, errors.Join(runErr, err)
	}
	return res, runErr
}
