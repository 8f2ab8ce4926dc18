package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

// newVersionCmd is `pgtend version`: "pgtend dev" unless goreleaser stamped
// the version (and the commit and date, when given).
func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "the version stamped by goreleaser (dev otherwise)",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprintln(cmd.OutOrStdout(), "pgtend", versionString())
			return err
		},
	}
}

// versionString is the version, with the commit and the build date when
// they were stamped: "1.2.0 (commit 0abc123, built 2026-01-02T03:04:05Z)".
func versionString() string {
	var parts []string
	if commit != "" {
		parts = append(parts, "commit "+commit[:min(len(commit), 7)])
	}
	if date != "" {
		parts = append(parts, "built "+date)
	}
	if len(parts) == 0 {
		return version
	}
	return version + " (" + strings.Join(parts, ", ") + ")"
}
