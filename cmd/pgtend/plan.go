package main

import (
	"errors"
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
		plans := []any{}
		var steps []maint.ChecklistStep
		if _, ok := reg.Script(args[0]); ok {
			if steps, err = reg.Checklist(args[0]); err != nil {
				return err
			}
		} else {
			steps = []maint.ChecklistStep{{Kind: maint.KindAction, Name: actions[0].Name, Action: actions[0]}}
		}
		planned := 0
		for _, st := range steps {
			if st.Kind != maint.KindAction {
				if !*asJSON {
					what := "then the sheet " + st.Title + ": read when the checklist runs, changing nothing"
					if st.Kind == maint.KindManual {
						what = "then by hand: " + st.Title + " (ticked off with a note in the console)"
					}
					fmt.Fprintln(stdout, what)
				}
				continue
			}
			p, err := st.Action.Plan(ctx, conn, t.policy, *table)
			switch {
			case errors.Is(err, maint.ErrNotConfigured) && len(steps) > 1:
				if !*asJSON {
					fmt.Fprintf(stdout, "%s is skipped: %s\n", st.Name, err)
				}
				continue
			case err != nil:
				return err
			}
			switch {
			case *asJSON:
				plans = append(plans, p.Contract())
				planned++
				continue
			case planned > 0:
				fmt.Fprintln(stdout, "(planned again after the step before has run)")
			}
			planned++
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
