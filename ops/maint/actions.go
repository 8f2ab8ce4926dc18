package maint

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pgtend/pgtend/ops/config"
)

// PlanTimeout bounds making one plan, headless and in the console alike: a
// plan reads the catalogue and counts rows, which should never take long,
// and nobody should watch "planning" forever.
const PlanTimeout = 2 * time.Minute

// Planner makes the plan of an action for one table ("" for every table of
// the policy); it changes nothing.
type Planner func(ctx context.Context, conn *pgx.Conn, policy config.Policy, table string) (*Plan, error)

// Action is one kind of maintenance. Everything that names an action — the
// CLI's plan and run, their completions and help, the console's keys and
// help, the history's task — reads it from here.
type Action struct {
	Name        string // the CLI's word and the history's action: "vacuum"
	Heading     string // how the console heads its plan, before the table's name: "VACUUM ANALYZE"
	Help        string // one line for help screens and --help
	Task        string // the calendar task a run counts for (calendar.Tasks' ID)
	Destructive bool   // its plans may delete data: confirmed by typing the table's name, or --yes
	Key         string // the console key that plans it for the table under the cursor
	Planner     Planner
}

// Plan makes the action's plan within PlanTimeout, stamps it with the
// action's name and task (so the run and its history entry say what it
// was), and marks the steps the connected role may not do (refusing a plan
// of which it may do nothing).
func (a Action) Plan(ctx context.Context, conn *pgx.Conn, policy config.Policy, table string) (*Plan, error) {
	ctx, cancel := context.WithTimeout(ctx, PlanTimeout)
	defer cancel()
	p, err := a.Planner(ctx, conn, policy, table)
	if err != nil {
		return nil, err
	}
	p.Action, p.Task = a.Name, a.Task
	if err := markDenied(ctx, conn, p); err != nil {
		return nil, err
	}
	return p, nil
}

// Script is one of the maintenance guide's routines: actions run one after
// another, each planned right before it runs (monthly's VACUUM must not list
// the chunks its retention cleanup just dropped).
type Script struct {
	Name    string
	Help    string
	Actions []string // names of registry actions, in order
	// Report: the routine ends by printing the sizes and disk report
	// (the guide's weekly "check table sizes" and "check disk").
	Report bool
}

// Registry is every action and script pgtend knows.
type Registry struct {
	Actions []Action
	Scripts []Script
}

// Default is pgtend's registry.
func Default() *Registry {
	return &Registry{
		Actions: []Action{
			{
				Name: "vacuum", Heading: "VACUUM ANALYZE", Task: "vacuum_analyze", Key: "v",
				Help:    "VACUUM ANALYZE, chunk by chunk (partition by partition)",
				Planner: PlanVacuum,
			},
			{
				Name: "retention", Heading: "retention cleanup of", Task: "retention_cleanup", Key: "d", Destructive: true,
				Help: "remove data older than the policy's retention",
				Planner: func(ctx context.Context, conn *pgx.Conn, policy config.Policy, table string) (*Plan, error) {
					return PlanRetention(ctx, conn, policy, table, RetentionOptions{})
				},
			},
		},
		Scripts: []Script{
			{Name: "weekly", Help: "VACUUM ANALYZE of every table, then the sizes and disk report", Actions: []string{"vacuum"}, Report: true},
			{Name: "monthly", Help: "retention cleanup, then VACUUM ANALYZE", Actions: []string{"retention", "vacuum"}},
		},
	}
}

// Action finds an action by name.
func (r *Registry) Action(name string) (Action, bool) {
	i := slices.IndexFunc(r.Actions, func(a Action) bool { return a.Name == name })
	if i < 0 {
		return Action{}, false
	}
	return r.Actions[i], true
}

// Script finds a script by name.
func (r *Registry) Script(name string) (Script, bool) {
	i := slices.IndexFunc(r.Scripts, func(s Script) bool { return s.Name == name })
	if i < 0 {
		return Script{}, false
	}
	return r.Scripts[i], true
}

// Resolve turns what a command names — an action, or with scripts a script
// — into the actions to plan in order. An unknown name is refused with the
// names that exist, before anything connects.
func (r *Registry) Resolve(name string, scripts bool) ([]Action, error) {
	if a, ok := r.Action(name); ok {
		return []Action{a}, nil
	}
	if s, ok := r.Script(name); ok && scripts {
		out := make([]Action, 0, len(s.Actions))
		for _, n := range s.Actions {
			a, ok := r.Action(n)
			if !ok {
				return nil, fmt.Errorf("script %s names the unknown action %q", s.Name, n)
			}
			out = append(out, a)
		}
		return out, nil
	}
	return nil, fmt.Errorf("unknown action %q: use %s", name, strings.Join(r.Names(scripts), ", "))
}

// Names lists the actions and, with scripts, the scripts.
func (r *Registry) Names(scripts bool) []string {
	var out []string
	for _, a := range r.Actions {
		out = append(out, a.Name)
	}
	if scripts {
		for _, s := range r.Scripts {
			out = append(out, s.Name)
		}
	}
	return out
}
