package main

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/pgtend/pgtend/ops/config"
	"github.com/pgtend/pgtend/ops/maint"
	"github.com/pgtend/pgtend/ops/pgtest"
)

// An action's own flags (maint.Action.Flags) are flags of plan and run,
// reach its planner (maint.FlagsOf), show in --help with the actions that
// take them, and are a usage error (exit 2, before connecting) on an
// action that does not take them.
func TestActionFlagsReachTheirPlanner(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	t.Setenv("XDG_STATE_HOME", t.TempDir())
	var got []maint.Flags
	reg := &maint.Registry{Actions: []maint.Action{
		{
			Name: "flagged", Heading: "FLAGGED", Help: "an action with flags", Task: "flagged_task",
			Flags: []maint.Flag{{Name: "thing", Value: "THING", Help: "the thing to do it to"}, {Name: "hard", Help: "do it hard"}},
			Planner: func(ctx context.Context, _ *pgx.Conn, _ config.Policy, table string) (*maint.Plan, error) {
				got = append(got, maint.FlagsOf(ctx))
				return &maint.Plan{Target: "x"}, nil
			},
		},
		{Name: "plain", Heading: "PLAIN", Help: "an action without", Task: "plain_task",
			Planner: func(context.Context, *pgx.Conn, config.Policy, string) (*maint.Plan, error) {
				return &maint.Plan{Target: "y"}, nil
			}},
	}}
	out, _, code := inProcess(t, reg, "plan", "--help")
	if code != 0 || !strings.Contains(out, "--thing") || !strings.Contains(strings.ToLower(out), "the thing to do it to (flagged)") || !strings.Contains(out, "--hard") {
		t.Errorf("plan --help: exit %d\n%s", code, out)
	}
	_, errOut, code := inProcess(t, reg, "plan", "plain", "--thing", "x", "--dsn", "host=/nonexistent")
	if code != 2 || errOut != "pgtend: --thing is a flag of flagged\n" {
		t.Errorf("plan plain --thing: exit %d, stderr %q", code, errOut)
	}
	dsn := pgtest.NewDatabase(t)
	for _, args := range [][]string{
		{"plan", "flagged", "--thing", "t1", "--hard", "--dsn", dsn},
		{"run", "--hard", "--thing=t1", "flagged", "--dsn", dsn},
	} {
		got = nil
		if _, errOut, code := inProcess(t, reg, args...); code != 0 || len(got) != 1 || got[0]["thing"] != "t1" || got[0]["hard"] != "true" || len(got[0]) != 2 {
			t.Errorf("%v: exit %d, flags %v, stderr %q", args, code, got, errOut)
		}
	}
	got = nil
	if _, errOut, code := inProcess(t, reg, "plan", "flagged", "--dsn", dsn); code != 0 || len(got) != 1 || len(got[0]) != 0 {
		t.Errorf("no flags: exit %d, flags %v, stderr %q", code, got, errOut)
	}
}
