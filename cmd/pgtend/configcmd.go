package main

import (
	"fmt"

	"github.com/pgtend/pgtend/ops/config"
	"github.com/pgtend/pgtend/tui/text"
	"github.com/spf13/cobra"
)

// newConfigCmd is `pgtend config show` and `pgtend config check FILE`.
func newConfigCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "the policy: show the effective one, check a file",
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usageError("unknown config subcommand %q: use show or check FILE", args[0])
			}
			return nil
		},
		RunE: func(*cobra.Command, []string) error {
			return usageError("config needs a subcommand: show or check FILE")
		},
		ValidArgsFunction: cobra.NoFileCompletions,
	}
	cmd.AddCommand(newConfigShowCmd(), newConfigCheckCmd())
	return cmd
}

func newConfigShowCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "show",
		Short: "the effective policy, as TOML that config check accepts",
		Args:  noArgs,
	}
	c := addCommon(cmd)
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		t, err := c.resolve()
		if err != nil {
			return err
		}
		return t.policy.Encode(cmd.OutOrStdout())
	}
	return cmd
}

func newConfigCheckCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "check FILE",
		Short: "validate a policy file",
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageError("usage: pgtend config check FILE")
			}
			return nil
		},
		ValidArgsFunction: func(_ *cobra.Command, args []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
			if len(args) > 0 {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			return tomlFiles(nil, nil, "")
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := config.LoadFile(args[0])
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: ok (%s, %s)\n", args[0], text.Plural(len(cfg.Policy.Tables), "table"), text.Plural(len(cfg.Targets), "target"))
			return nil
		},
	}
}
