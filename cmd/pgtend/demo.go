package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/pgtend/pgtend/ops/cluster"
	"github.com/pgtend/pgtend/ops/config"
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
			"The cluster and every file below are removed on exit, unless --keep.\n\n" +
			"The demo makes these on purpose, for each pane and action to have something true to show; " +
			"none of them is a problem of yours:\n" + demoObjects(),
		Args: noArgs,
	}
	c := addCommon(cmd)
	var d demoFlags
	f := cmd.Flags()
	f.BoolVar(&d.keep, "keep", false, "leave the demo cluster running when pgtend exits and print its DSN")
	f.BoolVar(&d.native, "native", false, "use native range partitioning even when TimescaleDB is installed")
	f.IntVar(&d.days, "days", 200, "days of data to seed")
	f.Float64Var(&d.scale, "scale", 1, "row volume multiplier: 1 is 3,840 option chain rows a day (compressed about 5x), 4 four times as many")
	f.BoolVar(&d.noConsole, "no-console", false, "print the report instead of opening the console")
	_ = cmd.RegisterFlagCompletionFunc("days", cobra.NoFileCompletions)
	_ = cmd.RegisterFlagCompletionFunc("scale", cobra.NoFileCompletions)
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		return runDemo(cmd.Context(), reg, c, d, cmd.OutOrStdout(), cmd.ErrOrStderr())
	}
	return cmd
}

// demoFlags are demo's own flags.
type demoFlags struct {
	keep, native, noConsole bool
	days                    int
	scale                   float64
}

func runDemo(ctx context.Context, reg *maint.Registry, c *common, d demoFlags, stdout, stderr io.Writer) error {
	if d.days < 1 || d.days > 3650 {
		return usageError("--days %d: use 1 to 3650", d.days)
	}
	if !(d.scale >= 0.01 && d.scale <= 100) {
		return usageError("--scale %v: use 0.01 to 100", d.scale)
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
	cl, err := cluster.Start(ctx, cluster.Options{Detach: d.keep, NoTimescale: d.native, CronDatabase: demoDatabase})
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "cluster in %s (unix socket only)\n", cl.Dir)
	// --keep keeps a seeded demo only: one interrupted or failed while
	// seeding is removed like any other.
	seeded, keepConfig := false, ""
	defer func() {
		if d.keep && seeded {
			fmt.Fprintf(stdout, "demo database left running:\n  %s\nits policy (the demo's backup and archive directories): --config %s\nstop it with: %s\n",
				cl.DSN(demoDatabase), keepConfig, cl.StopCommand())
			return
		}
		cl.Destroy()
	}()
	t.throwaway = !d.keep
	t.dsn, err = cl.CreateDatabase(ctx, demoDatabase)
	if err != nil {
		return err
	}
	if err := seedDemo(ctx, t, d, stderr); err != nil {
		return err
	}
	files, err := demo.WriteFiles(ctx, demo.FilesOptions{Dir: cl.Dir, PgDump: filepath.Join(cl.BinDir, "pg_dump"), DSN: t.dsn, Now: time.Now()})
	if err != nil {
		return fmt.Errorf("writing the demo's files: %w", err)
	}
	fmt.Fprintf(stderr, "backup %s; files to archive in %s\n", files.Backup, strings.Join(files.ArchiveDirs, ", "))
	t.policy = files.Policy(t.policy)
	t.policy.Source += ", with the demo's backup and archive directories"
	if d.keep {
		if keepConfig, err = writeDemoConfig(cl.Dir, t.policy); err != nil {
			return err
		}
	}
	seeded = true
	if d.noConsole || !isTerminal(stdout) {
		return printReport(ctx, t, false, stdout)
	}
	return console(ctx, reg, c, t)
}

// demoObjects lists demo.Objects for the help, one per line.
func demoObjects() string {
	var b strings.Builder
	for _, o := range demo.Objects {
		fmt.Fprintf(&b, "  - %s: %s\n", o.Name, o.What)
	}
	return strings.TrimRight(b.String(), "\n")
}

// writeDemoConfig writes the demo's policy next to its cluster, for the
// commands run against a kept demo: its backup and archive directories are
// the demo's, not the operator's.
func writeDemoConfig(dir string, p config.Policy) (string, error) {
	path := filepath.Join(dir, "pgtend.toml")
	f, err := os.Create(path)
	if err != nil {
		return "", err
	}
	if err := p.Encode(f); err != nil {
		f.Close()
		return "", err
	}
	return path, f.Close()
}

func seedDemo(ctx context.Context, t target, d demoFlags, stderr io.Writer) error {
	conn, err := pg.Connect(ctx, t.dsn, pg.Settings{})
	if err != nil {
		return err
	}
	defer closeConn(conn)
	mode := demo.Auto
	if d.native {
		mode = demo.Native
	}
	res, err := demo.Seed(ctx, conn, demo.Options{Days: d.days, Mode: mode, Scale: d.scale, Extras: true,
		Progress: func(s string) { fmt.Fprintln(stderr, "  "+s) }})
	if err != nil {
		return fmt.Errorf("seeding the demo database: %w", err)
	}
	kind := "native partitioned tables (TimescaleDB not installed)"
	switch {
	case res.Timescale:
		kind = fmt.Sprintf("hypertables, %d chunks compressed", res.Compressed)
	case d.native:
		kind = "native partitioned tables (--native)"
	}
	fmt.Fprintf(stderr, "seeded %d days into %s in %s\n", d.days, kind, res.Duration.Round(100*time.Millisecond))
	return nil
}
