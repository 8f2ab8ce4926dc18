package main

import (
	"bytes"
	"cmp"
	"context"
	"io"
	"regexp"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/pgtend/pgtend/ops/config"
	"github.com/pgtend/pgtend/ops/maint"
	"github.com/pgtend/pgtend/ops/pgtest"
)

// testRegistry has none of pgtend's actions: whatever the CLI names, plans
// or runs below can only have come from it.
func testRegistry(planned *[]string) *maint.Registry {
	return &maint.Registry{
		Actions: []maint.Action{
			{
				Name: "testaction", Heading: "TEST", Help: "a test action of one step", Task: "test_task", Key: "x",
				Planner: func(ctx context.Context, conn *pgx.Conn, _ config.Policy, table string) (*maint.Plan, error) {
					var one int
					if err := conn.QueryRow(ctx, "SELECT 1").Scan(&one); err != nil {
						return nil, err // the connection is live
					}
					*planned = append(*planned, "testaction "+table)
					target := cmp.Or(table, "every test table")
					return &maint.Plan{Target: target, Steps: []maint.Step{{Title: "test step on " + target, Target: target, Statements: []string{"SELECT 1"}, Lock: "none"}}}, nil
				},
			},
			{
				Name: "noopaction", Heading: "NOTHING", Help: "a test action with nothing to do", Task: "noop_task",
				Planner: func(context.Context, *pgx.Conn, config.Policy, string) (*maint.Plan, error) {
					*planned = append(*planned, "noopaction")
					return &maint.Plan{Target: "nothing"}, nil
				},
			},
		},
		Scripts: []maint.Script{{Name: "testscript", Help: "the no-op action, then the report", Actions: []string{"noopaction"}, Report: true}},
	}
}

// inProcess runs the command tree built from reg as the binary would,
// returning stdout, stderr and the exit status.
func inProcess(t *testing.T, reg *maint.Registry, args ...string) (string, string, int) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	root := newRootCmd(reg, &stdout, &stderr)
	root.SetArgs(args)
	code := exitCode(execute(context.Background(), root))
	return stdout.String(), stderr.String(), code
}

// TestRegistryIsTheOnlySource builds the CLI from a test registry: plan,
// run, their help, the unknown-action error and the completions know its
// actions and script, and nothing of pgtend's own.
func TestRegistryIsTheOnlySource(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	t.Setenv("XDG_STATE_HOME", t.TempDir())
	var planned []string
	reg := testRegistry(&planned)
	builtIn := maint.Default().Names(true)
	// A command of the tree may share an action's name (`pgtend schedule`
	// and the action schedule): the root's help names the command.
	commands := map[string]bool{}
	for _, c := range newRootCmd(reg, io.Discard, io.Discard).Commands() {
		commands[c.Name()] = true
	}
	lacksBuiltIn := func(what, out string) {
		t.Helper()
		for _, n := range builtIn {
			if commands[n] && what == "--help" {
				continue
			}
			// As a word: "compression" in a description is not the action "compress".
			if regexp.MustCompile(`(^|[^a-z_-])` + regexp.QuoteMeta(n) + `($|[^a-z_-])`).MatchString(out) {
				t.Errorf("%s names the default registry's %q:\n%s", what, n, out)
			}
		}
	}

	// Help: root, plan and run list the test actions and script with their help.
	for _, args := range [][]string{{"--help"}, {"plan", "--help"}, {"run", "--help"}, {"help", "run"}} {
		out, errOut, code := inProcess(t, reg, args...)
		if code != 0 || errOut != "" {
			t.Errorf("%v: exit %d, stderr %q", args, code, errOut)
		}
		for _, want := range []string{"testaction", "a test action of one step", "noopaction", "testscript", "the no-op action, then the report"} {
			if !strings.Contains(out, want) {
				t.Errorf("%v does not show %q:\n%s", args, want, out)
			}
		}
		lacksBuiltIn(strings.Join(args, " "), out)
	}

	// Unknown and missing actions: usage errors naming the registry's.
	for _, cmd := range []string{"plan", "run"} {
		_, errOut, code := inProcess(t, reg, cmd, "nosuch", "--dsn", "host=/nonexistent")
		if want := `pgtend: unknown action "nosuch": use testaction, noopaction, testscript` + "\n"; code != 2 || errOut != want {
			t.Errorf("%s nosuch: exit %d, stderr %q, want %q", cmd, code, errOut, want)
		}
		_, errOut, code = inProcess(t, reg, cmd)
		if want := "pgtend: pgtend " + cmd + " needs an action: testaction, noopaction, testscript\n"; code != 2 || errOut != want {
			t.Errorf("%s: exit %d, stderr %q, want %q", cmd, code, errOut, want)
		}
	}

	// Completion of the action.
	for _, cmd := range []string{"plan", "run"} {
		out, _, code := inProcess(t, reg, "__complete", cmd, "")
		var offered []string
		for _, l := range strings.Split(out, "\n") {
			if name, _, ok := strings.Cut(l, "\t"); ok {
				offered = append(offered, name)
			}
		}
		if code != 0 || strings.Join(offered, " ") != "testaction noopaction testscript" {
			t.Errorf("__complete %s: exit %d, offered %q\n%s", cmd, code, offered, out)
		}
		lacksBuiltIn("__complete "+cmd, out)
	}

	// plan calls the registry's planner, flags before or after the action.
	dsn := pgtest.NewDatabase(t)
	for _, args := range [][]string{{"plan", "testaction", "--table", "t1", "--dsn", dsn}, {"plan", "--table", "t1", "--dsn", dsn, "testaction"}} {
		planned = nil
		out, errOut, code := inProcess(t, reg, args...)
		if code != 0 || len(planned) != 1 || planned[0] != "testaction t1" || !strings.Contains(out, "Plan: testaction of t1 — 1 step, changes nothing destructive") || !strings.Contains(out, "test step on t1") {
			t.Errorf("%v: exit %d, planned %q\n%s%s", args, code, planned, out, errOut)
		}
	}
	planned = nil
	if out, errOut, code := inProcess(t, reg, "plan", "testscript", "--dsn", dsn); code != 0 || len(planned) != 1 || !strings.Contains(out, "Plan: noopaction of nothing") {
		t.Errorf("plan testscript: exit %d, planned %q\n%s%s", code, planned, out, errOut)
	}

	// run goes through maint.Run: the test action's step cannot run outside
	// ops/maint, but --read-only is refused by maint.Run before any step.
	out, errOut, code := inProcess(t, reg, "run", "testaction", "--read-only", "--dsn", dsn)
	if code != 1 || !strings.Contains(out, "Plan: testaction of every test table") || !strings.Contains(errOut, "read-only") {
		t.Errorf("run testaction --read-only: exit %d\n%s%s", code, out, errOut)
	}
	// The script runs its no-op action, records it with the action's task,
	// then prints the report because the script says so.
	out, errOut, code = inProcess(t, reg, "run", "testscript", "--dsn", dsn)
	if code != 0 || !strings.Contains(out, "noopaction: ok") || !strings.Contains(out, "recorded in pgtend.history") || !strings.Contains(out, "Database ") {
		t.Errorf("run testscript: exit %d\n%s%s", code, out, errOut)
	}
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var task, action, outcome string
	if err := conn.QueryRow(context.Background(), "SELECT task, action, outcome FROM pgtend.history").Scan(&task, &action, &outcome); err != nil || task != "noop_task" || action != "noopaction" || outcome != "ok" {
		t.Errorf("history: %s %s %s %v", task, action, outcome, err)
	}
}
