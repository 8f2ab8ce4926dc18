package main

import (
	"context"
	"encoding/json"
	"io"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pgtend/pgtend/ops/health"
	"github.com/pgtend/pgtend/ops/maint"
	"github.com/pgtend/pgtend/ops/report"
	"github.com/pgtend/pgtend/tui/text"
	"github.com/spf13/cobra"
)

// newDoctorCmd is `pgtend doctor`: the Health pane's findings, headless,
// with an exit status a monitor can alert on.
func newDoctorCmd(reg *maint.Registry) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "doctor",
		Short: "what is wrong with the database and what fixes it; exit 0 all well, 1 a warning, 2 critical",
		Long: "Answers the maintenance guide's troubleshooting table: connections (used against max_connections, " +
			"idle in transaction, the oldest transaction and query), locks (blocking chains), what holds the xmin " +
			"horizon back (sessions, prepared transactions, replication slots, standbys), dead tuples past " +
			"autovacuum's own threshold, autovacuum's workers, transaction ID wraparound, chunks not compressing, " +
			"backups (the policy's [backup] dir on this machine) and the disk (days until full). Each finding has " +
			"its evidence, every figure with its source, what it means and what fixes it. Thresholds are the " +
			"policy's [health] section. A finding this role cannot see (no pg_read_all_stats or pg_monitor) is " +
			"unknown, never all well.\n\n" +
			"Exit status: 0 all well, 1 a warning or a finding this role cannot see, 2 a critical finding or no " +
			"connection (a database nobody can reach is critical).",
		Example: "pgtend doctor\npgtend doctor --json | jq '.findings[] | select(.status != \"ok\")'",
		Args:    noArgs,
	}
	c := addCommon(cmd)
	asJSON := cmd.Flags().Bool("json", false, "print JSON (stable contract: fields are added, never renamed)")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		t, err := c.resolve()
		if err != nil {
			return err
		}
		r, err := readHealth(cmd.Context(), t)
		if err != nil {
			return &exitError{code: 2, err: err}
		}
		out := cmd.OutOrStdout()
		if *asJSON {
			err = writeJSON(out, r)
		} else {
			err = text.WriteDoctor(out, r, text.DoctorFixes{Actions: reg.Names(false)})
		}
		if err != nil {
			return err
		}
		if code := health.ExitCode(r.Status); code != 0 {
			return &exitError{code: code} // said already, on stdout
		}
		return nil
	}
	return cmd
}

// readHealth reads the findings on a connection of its own, then the disk
// as the Disk pane tells it (the catalog's estimated sizes suffice: the
// free space is the filesystem's, the growth the stored sizes' or the
// policy's).
func readHealth(ctx context.Context, t target) (r *health.Report, err error) {
	err = t.read(ctx, func(ctx context.Context, conn *pgx.Conn) error {
		if r, err = health.Collect(ctx, conn, health.Options{Policy: t.policy}); err == nil {
			r.Set(diskFinding(ctx, conn, t))
		}
		return err
	})
	return r, err
}

func diskFinding(ctx context.Context, conn *pgx.Conn, t target) health.Finding {
	rep, err := report.Estimate(ctx, conn, t.policy)
	if err != nil {
		return health.Finding{Check: health.CheckDisk, Title: "disk", Status: health.Unknown,
			Summary: "cannot read the disk figures: " + err.Error()}
	}
	expected, _ := rep.ExpectedGrowth()
	return health.Disk(rep.Disk, health.GrowthOf(openMemory(t).loadSizes(time.Now()), expected), t.policy.Health)
}

// writeJSON prints v as indented JSON: the commands' --json.
func writeJSON(w io.Writer, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}
