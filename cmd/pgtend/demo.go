package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/pgtend/pgtend/ops/cluster"
	"github.com/pgtend/pgtend/ops/demo"
	"github.com/pgtend/pgtend/ops/maint"
	"github.com/pgtend/pgtend/ops/pg"
	"github.com/spf13/cobra"
)

const demoDatabase = "pgtend_demo"

// newDemoCmd is `pgtend demo`: a throwaway cluster seeded with the
// trading system's tables, then the console (the report without a
// terminal).
func newDemoCmd(reg *maint.Registry) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "a throwaway cluster seeded with the trading system's six tables, then the console",
		Long: "Starts a throwaway PostgreSQL cluster in a temporary directory (unix socket only), seeds it " +
			"with the trading system's six tables (hypertables when TimescaleDB is installed, native range " +
			"partitions otherwise), then opens the console; without a terminal it prints the report. " +
			"The cluster is removed on exit, unless --keep.",
		Args: noArgs,
	}
	c := addCommon(cmd)
	var d demoFlags
	f := cmd.Flags()
	f.BoolVar(&d.keep, "keep", false, "leave the demo cluster running when pgtend exits and print its DSN")
	f.BoolVar(&d.native, "native", false, "use native range partitioning even when TimescaleDB is installed")
	f.IntVar(&d.days, "days", 200, "days of data to seed")
	f.BoolVar(&d.noConsole, "no-console", false, "print the report instead of opening the console")
	_ = cmd.RegisterFlagCompletionFunc("days", cobra.NoFileCompletions)
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		return runDemo(cmd.Context(), reg, c, d, cmd.OutOrStdout(), cmd.ErrOrStderr())
	}
	return cmd
}

// demoFlags are demo's own flags.
type demoFlags struct {
	keep, native, noConsole bool
	days                    int
}

func runDemo(ctx context.Context, reg *maint.Registry, c *common, d demoFlags, stdout, stderr io.Writer) error {
	if d.days < 1 || d.days > 3650 {
		return usageError("--days %d: use 1 to 3650", d.days)
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
	cl, err := cluster.Start(ctx, cluster.Options{Detach: d.keep, NoTimescale: d.native})
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "cluster in %s (unix socket only)\n", cl.Dir)
	// --keep keeps a seeded demo only: one interrupted or failed while
	// seeding is removed like any other.
	seeded := false
	defer func() {
		if d.keep && seeded {
			fmt.Fprintf(stdout, "demo database left running:\n  %s\nstop it with: %s\n", cl.DSN(demoDatabase), cl.StopCommand())
			return
		}
		cl.Destroy()
	}()
	t.throwaway = !d.keep
	t.dsn, err = cl.CreateDatabase(ctx, demoDatabase)
	if err != nil {
		return err
	}
	if err := seedDemo(ctx, t, d.days, d.native, stderr); err != nil {
		return err
	}
	seeded = true
	if d.noConsole || !isTerminal(stdout) {
		return printReport(ctx, t, false, stdout)
	}
	return console(ctx, reg, c, t)
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
