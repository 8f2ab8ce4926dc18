package main

import (
	"context"
	"slices"
	"strings"

	"github.com/pgtend/pgtend/ops/maint"
	"github.com/spf13/cobra"
)

// actionFlags are the registry actions' own flags (maint.Action.Flags) on
// plan and run: each registered once, whichever actions take it.
type actionFlags struct {
	reg *maint.Registry
	cmd *cobra.Command
}

// addActionFlags gives cmd every flag of the registry's actions.
func addActionFlags(cmd *cobra.Command, reg *maint.Registry) actionFlags {
	seen := map[string]bool{}
	for _, a := range reg.Actions {
		for _, f := range a.Flags {
			if seen[f.Name] {
				continue
			}
			seen[f.Name] = true
			help := f.Help + " (" + strings.Join(takers(reg, f.Name), ", ") + ")"
			if f.Value == "" {
				cmd.Flags().Bool(f.Name, false, help)
			} else {
				cmd.Flags().String(f.Name, "", help)
				_ = cmd.RegisterFlagCompletionFunc(f.Name, cobra.NoFileCompletions)
			}
		}
	}
	return actionFlags{reg: reg, cmd: cmd}
}

// takers are the actions that take flag name.
func takers(reg *maint.Registry, name string) []string {
	var out []string
	for _, a := range reg.Actions {
		if slices.ContainsFunc(a.Flags, func(f maint.Flag) bool { return f.Name == name }) {
			out = append(out, a.Name)
		}
	}
	return out
}

// context hands the flags set on the command line to the planners of
// the actions name stands for; a flag none of them takes is a usage error
// (exit 2), refused before anything connects.
func (af actionFlags) context(ctx context.Context, name string) (context.Context, error) {
	actions, err := resolveActions(af.reg, name)
	if err != nil {
		return ctx, err
	}
	set := maint.Flags{}
	for _, a := range af.reg.Actions {
		for _, f := range a.Flags {
			fl := af.cmd.Flags().Lookup(f.Name)
			if fl == nil || !fl.Changed {
				continue
			}
			if !slices.ContainsFunc(actions, func(a maint.Action) bool {
				return slices.ContainsFunc(a.Flags, func(g maint.Flag) bool { return g.Name == f.Name })
			}) {
				return ctx, usageError("--%s is a flag of %s", f.Name, strings.Join(takers(af.reg, f.Name), ", "))
			}
			if f.Value == "" && fl.Value.String() != "true" {
				continue
			}
			set[f.Name] = fl.Value.String()
		}
	}
	return maint.WithFlags(ctx, set), nil
}
