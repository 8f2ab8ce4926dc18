package main

import (
	"fmt"

	"github.com/pgtend/pgtend/ops/maint"
	"github.com/pgtend/pgtend/tui/text"
	"github.com/spf13/cobra"
)

// newPlanCmd is `pgtend plan ACTION`: what an action or script would do,
// changing nothing.
func newPlanCmd(reg *maint.Registry) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "plan ACTION",
		Short: "what an action would do — statements, locks, rows and bytes — changing nothing",
		Long: "Shows what an action would do — the exact statements, the tables, chunks, rows and bytes " +
			"affected, the locks taken, whether it destroys data — and changes nothing. A script shows " +
			"the plan of each of its actions.\n\n" + actionsHelp(reg),
		Args:              actionArg(reg),
		ValidArgsFunction: completeActions(reg),
	}
	c := addCommon(cmd)
	table := addTable(cmd, c)
	flags := addActionFlags(cmd, reg)
	asJSON := cmd.Flags().Bool("json", false, "print the plan as JSON (a script: an array of its plans); a stable contract")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		ctx, err := flags.context(cmd.Context(), args[0])
		if err != nil {
			return err
		}
		stdout := cmd.OutOrStdout()
		actions, t, conn, err := c.openFor(ctx, reg, args[0])
		if err != nil {
			return err
		}
		defer closeConn(conn)
		var plans []any
		for i, a := range actions {
			p, err := a.Plan(ctx, conn, t.policy, *table)
			if err != nil {
				return err
			}
			switch {
			case *asJSON:
				plans = append(plans, p.Contract())
				continue
			case i > 0:
				fmt.Fprintln(stdout, "(planned again after the step before has run)")
			}
			text.WritePlan(stdout, p)
		}
		if !*asJSON {
			return nil
		}
		var out any = plans
		if _, isScript := reg.Script(args[0]); !isScript {
			out = plans[0]
		}
		return writeJSON(stdout, out)
	}
	return cmd
}
