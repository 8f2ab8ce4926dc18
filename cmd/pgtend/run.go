package main

import (
	"context"
	"errors"
	"fmt"
	"github.com/pgtend/pgtend/tui/text"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pgtend/pgtend/ops/maint"
	"github.com/pgtend/pgtend/ops/state"
)

// The actions `plan` and `run` know; weekly and monthly are the guide's
// scripts made of them.
const actionsHelp = "vacuum, retention (run also takes weekly and monthly)"

func runPlan(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c, action, table, err := actionFlags("pgtend plan", args, stderr, nil)
	if err != nil {
		return err
	}
	makers, t, conn, err := c.openFor(ctx, action)
	if err != nil {
		return err
	}
	defer closeConn(conn)
	for i, make := range makers {
		p, err := make(ctx, conn, t, table)
		if err != nil {
			return err
		}
		if i > 0 {
			fmt.Fprintln(stdout, "(planned again after the step before has run)")
		}
		text.WritePlan(stdout, p)
	}
	return nil
}

func runRun(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var yes bool
	var batchSize int
	var batchPause time.Duration
	c, action, table, err := actionFlags("pgtend run", args, stderr, func(c *common) {
		c.fs.BoolVar(&yes, "yes", false, "confirm destructive steps (retention); without it they are refused (exit 2)")
		c.fs.IntVar(&batchSize, "batch-size", 10000, "rows per DELETE transaction (plain tables)")
		c.fs.DurationVar(&batchPause, "batch-pause", 0, "pause between DELETE batches, to spare the application's I/O")
	})
	if err != nil {
		return err
	}
	if batchSize < 1 || batchSize > 10_000_000 {
		return usageError("--batch-size %d: use 1 to 10000000", batchSize)
	}
	if batchPause < 0 {
		return usageError("--batch-pause %v: must not be negative", batchPause)
	}
	makers, t, conn, err := c.openFor(ctx, action)
	if err != nil {
		return err
	}
	defer closeConn(conn)
	mem := openMemory(t)
	failed := false
	// Each plan is made right before it runs (monthly's VACUUM must not
	// list the chunks its retention cleanup just dropped).
	for _, make := range makers {
		p, err := make(ctx, conn, t, table)
		if err != nil {
			return err
		}
		text.WritePlan(stdout, p)
		if p.Destructive() && !yes {
			return &exitError{code: 2, err: fmt.Errorf("the %s plan deletes data: nothing was changed; run again with --yes to confirm", p.Action)}
		}
		opts := t.maintOptions(c.readOnly)
		opts.BatchSize, opts.BatchPause = batchSize, batchPause
		res, runErr := maint.Run(ctx, t.dsn, t.settings(), p, opts, text.EventWriter(stdout))
		if errors.Is(runErr, maint.ErrReadOnly) {
			return runErr // refused before anything ran: nothing to record
		}
		where, recErr := recordRun(ctx, t, p, res, runErr, mem)
		text.WriteRunSummary(stdout, p.Action, res, where, recErr)
		if runErr != nil {
			return runErr
		}
		if res.Outcome != maint.OutcomeOK {
			failed = true
			if res.Outcome == maint.OutcomeCancelled {
				break
			}
		}
	}
	if action == "weekly" {
		if err := printReport(ctx, t, false, stdout); err != nil {
			return err
		}
	}
	if failed {
		return &exitError{code: 1, err: errors.New("maintenance did not finish cleanly (see the FAILED lines above)")}
	}
	return nil
}

// actionFlags parses `ACTION [flags]`.
func actionFlags(name string, args []string, stderr io.Writer, extra func(*common)) (*common, string, string, error) {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		return nil, "", "", usageError("%s needs an action: %s", name, actionsHelp)
	}
	action := args[0]
	c := newFlags(name+" "+action, stderr)
	table := c.fs.String("table", "", "one table (name or schema.name); default: every table of the policy")
	if extra != nil {
		extra(c)
	}
	if err := c.parse(args[1:]); err != nil {
		return nil, "", "", err
	}
	return c, action, *table, nil
}

// openFor checks the action (an unknown one is refused before anything
// connects), resolves the target and connects.
func (c *common) openFor(ctx context.Context, action string) ([]planner, target, *pgx.Conn, error) {
	makers, err := planners(action)
	if err != nil {
		return nil, target{}, nil, err
	}
	t, conn, err := c.open(ctx)
	return makers, t, conn, err
}

// open resolves the target and connects.
func (c *common) open(ctx context.Context) (target, *pgx.Conn, error) {
	t, err := c.resolve()
	if err != nil {
		return t, nil, err
	}
	conn, err := t.connect(ctx)
	return t, conn, err
}

// planner makes one plan on a connection.
type planner func(ctx context.Context, conn *pgx.Conn, t target, table string) (*maint.Plan, error)

func planVacuum(ctx context.Context, conn *pgx.Conn, t target, table string) (*maint.Plan, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	return maint.PlanVacuum(ctx, conn, t.policy, table)
}

func planRetention(ctx context.Context, conn *pgx.Conn, t target, table string) (*maint.Plan, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	return maint.PlanRetention(ctx, conn, t.policy, table, maint.RetentionOptions{})
}

// planners returns the planners of an action, or of the guide's scripts:
// weekly is VACUUM ANALYZE of every table (then sizes and disk), monthly is
// retention cleanup then VACUUM ANALYZE. An unknown action is refused
// before anything connects.
func planners(action string) ([]planner, error) {
	switch action {
	case "vacuum", "weekly":
		return []planner{planVacuum}, nil
	case "retention":
		return []planner{planRetention}, nil
	case "monthly":
		return []planner{planRetention, planVacuum}, nil
	}
	return nil, usageError("unknown action %q: use %s", action, actionsHelp)
}

// runHistory prints the maintenance history: the database's, then this
// machine's file (tick-offs, runs the database refused to record).
func runHistory(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c := newFlags("pgtend history", stderr)
	limit := c.fs.Int("limit", 50, "entries to show")
	if err := c.parse(args); err != nil {
		return err
	}
	if *limit < 1 {
		return usageError("--limit %d: show at least 1 entry", *limit)
	}
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
	text.WriteHistory(stdout, entries)
	return nil
}
