package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pgtend/pgtend/ops/maint"
	"github.com/spf13/cobra"
)

// Everything the CLI says about actions — their names, help, completions,
// the unknown-action error, what a script runs — comes from the registry.

// actionsHelp lists the registry's actions and scripts, one a line with its
// help, for --help and the manual page.
func actionsHelp(reg *maint.Registry) string {
	w := 0
	for _, n := range reg.Names(true) {
		w = max(w, len(n))
	}
	var b strings.Builder
	b.WriteString("Actions:\n")
	for _, a := range reg.Actions {
		fmt.Fprintf(&b, "  %-*s  %s\n", w, a.Name, a.Help)
	}
	if len(reg.Scripts) > 0 {
		b.WriteString("Scripts (each action planned right before it runs):\n")
		for _, s := range reg.Scripts {
			fmt.Fprintf(&b, "  %-*s  %s\n", w, s.Name, s.Help)
		}
	}
	return strings.TrimRight(b.String(), "\n")
}

// actionArg is the Args of plan and run: exactly one action or script the
// registry knows. Anything else is a usage error (exit 2), refused before
// anything connects.
func actionArg(reg *maint.Registry) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		switch {
		case len(args) == 0:
			return usageError("%s needs an action: %s", cmd.CommandPath(), strings.Join(reg.Names(true), ", "))
		case len(args) > 1:
			return usageError("unexpected argument %q", args[1])
		}
		_, err := resolveActions(reg, args[0])
		return err
	}
}

// resolveActions gives the actions an action or script name stands for, in
// order; a name the registry does not know is a usage error.
func resolveActions(reg *maint.Registry, name string) ([]maint.Action, error) {
	actions, err := reg.Resolve(name, true)
	if err != nil && !slices.Contains(reg.Names(true), name) {
		return nil, &exitError{code: 2, err: err}
	}
	return actions, err
}

// openFor resolves what a command names into actions (an unknown name is
// refused before anything connects), then the target, and connects.
func (c *common) openFor(ctx context.Context, reg *maint.Registry, name string) ([]maint.Action, target, *pgx.Conn, error) {
	actions, err := resolveActions(reg, name)
	if err != nil {
		return nil, target{}, nil, err
	}
	t, conn, err := c.open(ctx)
	return actions, t, conn, err
}

// completeActions offers the registry's actions and scripts for the one
// positional argument of plan and run.
func completeActions(reg *maint.Registry) cobra.CompletionFunc {
	return func(_ *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		var out []cobra.Completion
		for _, a := range reg.Actions {
			if strings.HasPrefix(a.Name, toComplete) {
				out = append(out, cobra.CompletionWithDesc(a.Name, a.Help))
			}
		}
		for _, s := range reg.Scripts {
			if strings.HasPrefix(s.Name, toComplete) {
				out = append(out, cobra.CompletionWithDesc(s.Name, s.Help))
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}

// consoleActions plans and runs the console's maintenance on its own
// connection (the report's session stays free for refreshes), recording
// every run in the history.
type consoleActions struct {
	reg      *maint.Registry
	t        target
	readOnly bool
	mem      *memory
}

func (a consoleActions) Plan(ctx context.Context, action, table string) (*maint.Plan, error) {
	acts, err := a.reg.Resolve(action, false)
	if err != nil {
		return nil, err
	}
	conn, err := a.t.connect(ctx)
	if err != nil {
		return nil, err
	}
	defer closeConn(conn)
	return acts[0].Plan(ctx, conn, a.t.policy, table)
}

func (a consoleActions) Run(ctx context.Context, plan *maint.Plan, emit func(maint.Event)) (maint.Result, error) {
	// Not Options.Confirmed: a plan that needs it carries its own
	// confirmation (Plan.Confirm, the console's typed name), or ops refuses.
	res, _, runErr, recErr := runAndRecord(ctx, a.t, plan, a.t.maintOptions(a.readOnly), emit, a.mem)
	if recErr != nil {
		return res, errors.Join(runErr, recErr)
	}
	return res, runErr
}

// runAndRecord runs a plan and records it in the history, for the console
// and `pgtend run` alike. A run refused as read-only (maint.ErrReadOnly)
// ran nothing and is not recorded. It returns the result, where the run
// was recorded, the run's error and the recording's.
func runAndRecord(ctx context.Context, t target, plan *maint.Plan, opts maint.Options, emit func(maint.Event), mem *memory) (res maint.Result, where string, runErr, recErr error) {
	res, runErr = maint.Run(ctx, t.dsn, t.settings(), plan, opts, emit)
	if errors.Is(runErr, maint.ErrReadOnly) || errors.Is(runErr, maint.ErrNotConfirmed) {
		return res, "", runErr, nil // refused before anything ran
	}
	where, recErr = recordRun(ctx, t, plan, res, runErr, mem)
	return res, where, runErr, recErr
}

// recordRun writes a finished run to the history on a connection of its
// own: even a cancelled run is recorded (so not under ctx, which may be
// cancelled), but within a deadline, so a stalled server cannot hold the
// console or the command forever.
func recordRun(ctx context.Context, t target, plan *maint.Plan, res maint.Result, runErr error, mem *memory) (where string, err error) {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	conn, err := t.connect(rctx)
	if err != nil {
		return "", fmt.Errorf("the run was not recorded: %w", err)
	}
	defer closeConn(conn)
	entry := maint.Entry(plan, res, runErr, conn.Config().Database, conn.Config().User)
	return maint.Record(rctx, conn, entry, mem.historyFile())
}
