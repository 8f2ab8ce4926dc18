package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/pgtend/pgtend/ops/cluster"
	"github.com/pgtend/pgtend/ops/demo"
	"github.com/pgtend/pgtend/ops/pg"
)

const demoDatabase = "pgtend_demo"

func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c := newFlags("pgtend demo", stderr)
	keep := c.fs.Bool("keep", false, "leave the demo cluster running when pgtend exits and print its DSN")
	native := c.fs.Bool("native", false, "use native range partitioning even when TimescaleDB is installed")
	days := c.fs.Int("days", 200, "days of data to seed")
	noConsole := c.fs.Bool("no-console", false, "print the report instead of opening the console")
	if err := c.parse(args); err != nil {
		return err
	}
	if *days < 1 || *days > 3650 {
		return usageError("--days %d: use 1 to 3650", *days)
	}
	if c.dsn != "" || c.target != "" {
		return usageError("demo makes its own database: --dsn and --target do not apply")
	}
	t, err := c.resolve()
	if err != nil {
		return err
	}

	if _, err := cluster.FindBinDir(); err != nil {
		return err
	}
	fmt.Fprintln(stderr, "starting a throwaway PostgreSQL cluster…")
	cl, err := cluster.Start(ctx, cluster.Options{Detach: *keep, NoTimescale: *native})
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "cluster in %s (unix socket only)\n", cl.Dir)
	// --keep keeps a seeded demo only: one interrupted or failed while
	// seeding is removed like any other.
	seeded := false
	defer func() {
		if *keep && seeded {
			fmt.Fprintf(stdout, "demo database left running:\n  %s\nstop it with: %s\n", cl.DSN(demoDatabase), cl.StopCommand())
			return
		}
		cl.Destroy()
	}()
	t.throwaway = !*keep
	t.dsn, err = cl.CreateDatabase(ctx, demoDatabase)
	if err != nil {
		return err
	}
	if err := seedDemo(ctx, t, *days, *native, stderr); err != nil {
		return err
	}
	seeded = true
	if *noConsole || !isTerminal(stdout) {
		return printReport(ctx, t, false, stdout)
	}
	return console(ctx, c, t)
}

func seedDemo(ctx context.Context, t target, days int, native bool, stderr io.Writer) error {
	conn, err := pg.Connect(ctx, t.dsn, pg.Settings{})
	if err != nil {
		return err
	}
	defer closeConn(conn)
	mode := demo.Auto
	if native {
		mode = demo.Native
	}
	res, err := demo.Seed(ctx, conn, demo.Options{Days: days, Mode: mode, Progress: func(s string) { fmt.Fprintln(stderr, "  "+s) }})
	if err != nil {
		return fmt.Errorf("seeding the demo database: %w", err)
	}
	kind := "native partitioned tables (TimescaleDB not installed)"
	if res.Timescale {
		kind = fmt.Sprintf("hypertables, %d chunks compressed", res.Compressed)
	}
	fmt.Fprintf(stderr, "seeded %d days into %s in %s\n", days, kind, res.Duration.Round(100*time.Millisecond))
	return nil
}
