package main

import (
	"bytes"
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pgtend/pgtend/ops/pg"
	"github.com/pgtend/pgtend/ops/report"
	"github.com/pgtend/pgtend/ops/state"
	"github.com/pgtend/pgtend/ops/triage"
	"github.com/pgtend/pgtend/tui/text"
	"github.com/spf13/cobra"
)

// newTriageCmd is `pgtend triage`: when the disk fills, what frees space,
// ranked, with the command that does each.
func newTriageCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "triage",
		Short: "what frees disk space, ranked: bytes, when they come back, locks, and the pgtend run that does it",
		Long: "Lists every way to free space on the data directory's filesystem, the biggest that returns soonest first: " +
			"expired chunks, partitions and rows, compression, backups beyond rotation, replication slots holding WAL, a failing archive_command, " +
			"detached partitions, invalid indexes, pg_repack leftovers, temporary files, server logs, and bloat. Each says how many bytes it frees " +
			"(~ an estimate), when they return (now, at the next checkpoint, only for reuse inside PostgreSQL, or after a rewrite that first needs room), " +
			"what it locks, and the `pgtend run …` that does it. It changes nothing.",
		Args: noArgs,
	}
	c := addCommon(cmd)
	asJSON := cmd.Flags().Bool("json", false, `print JSON: {"filesystem", "days_until_full", "options": [...]} (stable contract)`)
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		t, err := c.resolve()
		if err != nil {
			return err
		}
		_, tr, err := readTriage(cmd.Context(), t)
		if err != nil {
			return err
		}
		if *asJSON {
			return writeJSON(cmd.OutOrStdout(), tr)
		}
		return text.WriteTriage(cmd.OutOrStdout(), tr)
	}
	return cmd
}

// readTriage reads the report and the triage built on it, on one
// connection, the report annotated from this machine's history and the
// forecast from its size history.
func readTriage(ctx context.Context, t target) (r *report.Report, tr *triage.Triage, err error) {
	mem := openMemory(t)
	err = t.read(ctx, func(ctx context.Context, conn *pgx.Conn) error {
		if r, err = report.Collect(ctx, conn, t.policy); err != nil {
			return err
		}
		mem.annotate(r)
		tr, err = triage.Collect(ctx, conn, t.policy, triage.Inputs{Report: r, Samples: mem.loadSizes(time.Now())})
		return err
	})
	return r, tr, err
}

// writePrometheus writes the report's and the triage's metrics to path
// for node_exporter's textfile collector, atomically.
func writePrometheus(ctx context.Context, t target, path string) error {
	r, tr, err := readTriage(ctx, t)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	if err := text.WritePrometheus(&b, r, tr); err != nil {
		return err
	}
	return state.WriteFileAtomic(path, b.Bytes(), 0o644)
}

// triageLoader is the Triage pane's loader: on the console's session, from
// the report it just read, with this machine's size history.
func triageLoader(sess *pg.Session, t target, mem *memory) func(context.Context, *report.Report) (*triage.Triage, error) {
	return func(ctx context.Context, r *report.Report) (tr *triage.Triage, err error) {
		err = sess.Do(ctx, func(conn *pgx.Conn) error {
			tr, err = triage.Collect(ctx, conn, t.policy, triage.Inputs{Report: r, Samples: mem.loadSizes(time.Now())})
			return err
		})
		return tr, err
	}
}
