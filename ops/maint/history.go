package maint

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pgtend/pgtend/ops/state"
)

const historyDDL = `
CREATE SCHEMA IF NOT EXISTS pgtend;
CREATE TABLE IF NOT EXISTS pgtend.history (
	id           bigserial PRIMARY KEY,
	started_at   timestamptz NOT NULL,
	finished_at  timestamptz NOT NULL,
	database     text NOT NULL,
	role         text NOT NULL,
	task         text NOT NULL,
	action       text,
	target       text,
	statements   text[],
	rows         bigint,
	bytes_before bigint,
	bytes_after  bigint,
	outcome      text NOT NULL,
	error        text,
	note         text
)`

// Entry makes the history entry of a finished run.
func Entry(plan *Plan, res Result, runErr error, database, role string) state.Entry {
	e := state.Entry{
		Start: res.Started, End: res.Finished, Database: database, Role: role,
		Task: plan.Task, Action: plan.Action, Target: plan.Target,
		Rows: res.Rows, BytesBefore: res.BytesBefore, BytesAfter: res.BytesAfter, Outcome: res.Outcome,
	}
	if e.Task == "" {
		e.Task = plan.Action
	}
	for _, s := range plan.Steps {
		e.Statements = append(e.Statements, s.Statements...)
	}
	if n := len(plan.LeftOut); n > 0 { // the operator picked some steps: say which were not run
		e.Note = fmt.Sprintf("%d of %d steps picked; left out: %s", len(plan.Steps), len(plan.Steps)+n, strings.Join(plan.LeftOut[:min(n, 5)], "; "))
		if n > 5 {
			e.Note += fmt.Sprintf("; and %d more", n-5)
		}
	}
	if runErr != nil {
		e.Error = runErr.Error()
	} else if n := len(res.Failed); n > 0 {
		e.Error = strings.Join(res.Failed[:min(n, 3)], "; ")
		if n > 3 {
			e.Error += fmt.Sprintf("; and %d more failed steps", n-3)
		}
	}
	if e.End.IsZero() {
		e.End = time.Now()
	}
	if e.Start.IsZero() {
		e.Start = e.End
	}
	return e
}

// Record writes the entry to pgtend.history in the database (created on
// first use), or when the database refuses (a read-only session, no CREATE
// privilege) to the history file. It says where it went.
func Record(ctx context.Context, conn *pgx.Conn, e state.Entry, fallback *state.History) (string, error) {
	dbErr := recordInDatabase(ctx, conn, e)
	if dbErr == nil {
		return "pgtend.history", nil
	}
	if fallback == nil {
		return "", fmt.Errorf("recording the run: %w", dbErr)
	}
	if err := fallback.Append(e); err != nil {
		return "", fmt.Errorf("recording the run in the database (%v) and in %s: %w", dbErr, fallback.Path(), err)
	}
	return fallback.Path(), nil
}

func recordInDatabase(ctx context.Context, conn *pgx.Conn, e state.Entry) error {
	tx, err := conn.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(context.Background())
	var exists bool
	if err := tx.QueryRow(ctx, `SELECT to_regclass('pgtend.history') IS NOT NULL`).Scan(&exists); err != nil {
		return err
	}
	if !exists {
		if _, err := tx.Exec(ctx, historyDDL); err != nil {
			return err
		}
	}
	_, err = tx.Exec(ctx, `INSERT INTO pgtend.history
		(started_at, finished_at, database, role, task, action, target, statements, rows, bytes_before, bytes_after, outcome, error, note)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, nullif($13, ''), nullif($14, ''))`,
		e.Start, e.End, e.Database, e.Role, e.Task, e.Action, e.Target, e.Statements, e.Rows, e.BytesBefore, e.BytesAfter, e.Outcome, e.Error, e.Note)
	if err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// History reads the database's history, newest first (nil when the table
// does not exist).
func History(ctx context.Context, conn *pgx.Conn, limit int) ([]state.Entry, error) {
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT to_regclass('pgtend.history') IS NOT NULL`).Scan(&exists); err != nil || !exists {
		return nil, err
	}
	rows, err := conn.Query(ctx, `SELECT started_at, finished_at, database, role, task, coalesce(action, ''), coalesce(target, ''),
		coalesce(statements, '{}'), coalesce(rows, 0), coalesce(bytes_before, 0), coalesce(bytes_after, 0), outcome,
		coalesce(error, ''), coalesce(note, '')
		FROM pgtend.history ORDER BY finished_at DESC, id DESC LIMIT $1`, limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (state.Entry, error) {
		var e state.Entry
		err := row.Scan(&e.Start, &e.End, &e.Database, &e.Role, &e.Task, &e.Action, &e.Target, &e.Statements,
			&e.Rows, &e.BytesBefore, &e.BytesAfter, &e.Outcome, &e.Error, &e.Note)
		return e, err
	})
}
