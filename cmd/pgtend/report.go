package main

import (
	"context"
	"github.com/pgtend/pgtend/tui/text"
	"io"

	"github.com/pgtend/pgtend/ops/report"
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

func printReport(ctx context.Context, t target, asJSON bool, stdout io.Writer) error {
	ctx, cancel := context.WithTimeout(ctx, t.reportTimeout())
	defer cancel()
	conn, err := t.connect(ctx)
	if err != nil {
		return err
	}
	defer closeConn(conn)
	r, err := report.Collect(ctx, conn, t.policy)
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
	return text.WriteReport(stdout, r)
}
