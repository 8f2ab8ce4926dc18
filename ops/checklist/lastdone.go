package checklist

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pgtend/pgtend/ops/state"
)

// LastDone is when task last finished successfully or was ticked off, by
// pgtend.history and the history file (nil: not read); zero when never.
func LastDone(ctx context.Context, conn *pgx.Conn, file *state.History, task string) (time.Time, error) {
	var last time.Time
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT to_regclass('pgtend.history') IS NOT NULL`).Scan(&exists); err != nil {
		return last, err
	}
	if exists { // a table named in a query must exist when it is parsed
		var at *time.Time
		if err := conn.QueryRow(ctx, `SELECT max(finished_at) FROM pgtend.history WHERE task = $1 AND outcome IN ('ok', 'ticked')`, task).Scan(&at); err != nil {
			return last, err
		}
		if at != nil {
			last = *at
		}
	}
	if file != nil {
		if done, err := file.LastDone(); err == nil && done[task].After(last) {
			last = done[task]
		}
	}
	return last, nil
}
