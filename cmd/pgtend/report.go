package main

import (
	"context"
	"io"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pgtend/pgtend/ops/pg"
	"github.com/pgtend/pgtend/ops/report"
	"github.com/pgtend/pgtend/tui"
)

func runReport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c := newFlags("pgtend report", stderr)
	asJSON := c.fs.Bool("json", false, "print JSON (stable contract: fields are added, never renamed)")
	if err := c.parse(args); err != nil {
		return err
	}
	t, err := c.resolve()
	if err != nil {
		return err
	}
	return printReport(ctx, t, *asJSON, stdout)
}

// measuringConns is how many connections share the measuring of sizes
// (see report.Collect); two match the two cores of a small database host.
const measuringConns = 2

func printReport(ctx context.Context, t target, asJSON bool, stdout io.Writer) error {
	ctx, cancel := context.WithTimeout(ctx, 2*t.policy.Connection.StatementTimeout+5*time.Second)
	defer cancel()
	sess := pg.NewSession(t.dsn, t.settings(), measuringConns)
	defer sess.Close()
	var r *report.Report
	err := sess.Do(ctx, func(conn *pgx.Conn, extra []*pgx.Conn) error {
		var err error
		r, err = report.Collect(ctx, conn, t.policy, extra...)
		return err
	})
	if err != nil {
		return err
	}
	openMemory(t).annotate(r)
	if asJSON {
		b, err := r.JSON()
		if err != nil {
			return err
		}
		_, err = stdout.Write(append(b, '\n'))
		return err
	}
	return tui.WriteReport(stdout, r)
}
