package main

import (
	"slices"

	"github.com/pgtend/pgtend/ops/maint"
	"github.com/pgtend/pgtend/ops/state"
	"github.com/pgtend/pgtend/tui/text"
	"github.com/spf13/cobra"
)

// newHistoryCmd is `pgtend history`: the maintenance history, the
// database's and then this machine's file (tick-offs, runs the database
// refused to record), newest first.
func newHistoryCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "history",
		Short: "the maintenance history",
		Long:  "The maintenance history: pgtend.history in the database and this machine's history file (manual tick-offs, runs the database refused to record), newest first.",
		Args:  noArgs,
	}
	c := addCommon(cmd)
	limit := cmd.Flags().Int("limit", 50, "entries to show")
	_ = cmd.RegisterFlagCompletionFunc("limit", cobra.NoFileCompletions)
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		if *limit < 1 {
			return usageError("--limit %d: show at least 1 entry", *limit)
		}
		ctx := cmd.Context()
		t, conn, err := c.open(ctx)
		if err != nil {
			return err
		}
		defer closeConn(conn)
		entries, err := maint.History(ctx, conn, *limit)
		if err != nil {
			return err
		}
		if f := openMemory(t).historyFile(); f != nil {
			more, _ := f.Entries()
			entries = append(entries, more...)
		}
		// Newest first across both, then the limit.
		slices.SortStableFunc(entries, func(a, b state.Entry) int { return b.End.Compare(a.End) })
		entries = entries[:min(len(entries), *limit)]
		text.WriteHistory(cmd.OutOrStdout(), entries)
		return nil
	}
	return cmd
}
