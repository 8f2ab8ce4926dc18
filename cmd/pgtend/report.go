package main

import (
	"context"

	"github.com/jackc/pgx/v5"
	"io"

	"github.com/pgtend/pgtend/ops/report"
	"github.com/pgtend/pgtend/tui/text"
	"github.com/spf13/cobra"
)

// newReportCmd is `pgtend report`: what the console shows, for scripts.
func newReportCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "report",
		Short: "what the console shows, for scripts: aligned text, or JSON",
		Args:  noArgs,
	}
	c := addCommon(cmd)
	asJSON := cmd.Flags().Bool("json", false, "print JSON (stable contract: fields are added, never renamed)")
	prometheus := cmd.Flags().String("prometheus", "", "write the metrics to `FILE` for node_exporter's textfile collector (written whole, then renamed into place), printing nothing")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		t, err := c.resolve()
		if err != nil {
			return err
		}
		if *prometheus != "" {
			return writePrometheus(cmd.Context(), t, *prometheus)
		}
		return printReport(cmd.Context(), t, *asJSON, cmd.OutOrStdout())
	}
	return cmd
}

// readReport reads one report of the target on a connection of its own,
// annotated from this machine's history.
func readReport(ctx context.Context, t target) (r *report.Report, err error) {
	err = t.read(ctx, func(ctx context.Context, conn *pgx.Conn) error {
		r, err = report.Collect(ctx, conn, t.policy)
		return err
	})
	if err != nil {
		return nil, err
	}
	openMemory(t).annotate(r)
	return r, nil
}

func printReport(ctx context.Context, t target, asJSON bool, stdout io.Writer) error {
	r, err := readReport(ctx, t)
	if err != nil {
		return err
	}
	if asJSON {
		return writeJSON(stdout, r)
	}
	return text.WriteReport(stdout, r)
}
