package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/dustin/go-humanize"
	"github.com/jackc/pgx/v5"
	"github.com/pgtend/pgtend/ops/maint"
	"github.com/pgtend/pgtend/ops/state"
	"github.com/pgtend/pgtend/tui"
)

// The actions `plan` and `run` know; weekly and monthly are the guide's
// scripts made of them.
const actionsHelp = "vacuum, retention (run also takes weekly and monthly)"

func runPlan(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c, action, table, err := actionFlags("pgtend plan", args, stderr, nil)
	if err != nil {
		return err
	}
	t, conn, err := c.open(ctx)
	if err != nil {
		return err
	}
	defer closeConn(conn)
	makers, err := planMakers(conn, t, action, table)
	if err != nil {
		return err
	}
	for i, make := range makers {
		p, err := make(ctx)
		if err != nil {
			return err
		}
		if i > 0 {
			fmt.Fprintln(stdout, "(planned again after the step before has run)")
		}
		printPlan(stdout, p)
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
	t, conn, err := c.open(ctx)
	if err != nil {
		return err
	}
	defer closeConn(conn)
	makers, err := planMakers(conn, t, action, table)
	if err != nil {
		return err
	}
	mem := openMemory(t)
	failed := false
	// Each plan is made right before it runs (monthly's VACUUM must not
	// list the chunks its retention cleanup just dropped).
	for _, make := range makers {
		p, err := make(ctx)
		if err != nil {
			return err
		}
		printPlan(stdout, p)
		if p.Destructive() && !yes {
			return &exitError{code: 2, err: fmt.Errorf("the %s plan deletes data: nothing was changed; run again with --yes to confirm", p.Action)}
		}
		opts := maint.Options{LockTimeout: t.policy.Connection.MaintenanceLockTimeout, ReadOnly: c.readOnly, Policy: t.policy,
			BatchSize: batchSize, BatchPause: batchPause}
		res, runErr := maint.Run(ctx, t.dsn, t.settings(), p, opts, eventPrinter(stdout))
		if errors.Is(runErr, maint.ErrReadOnly) {
			return runErr // refused before anything ran: nothing to record
		}
		entry := maint.Entry(p, res, runErr, conn.Config().Database, conn.Config().User)
		where, recErr := maint.Record(context.Background(), conn, entry, mem.historyFile())
		fmt.Fprintf(stdout, "%s %s: %s, %s rows, database %s -> %s, in %s",
			stamp(time.Now()), p.Action, entry.Outcome, humanize.Comma(res.Rows),
			tui.BytesOf(res.BytesBefore), tui.BytesOf(res.BytesAfter), res.Finished.Sub(res.Started).Round(time.Millisecond))
		if recErr != nil {
			fmt.Fprintf(stdout, "; NOT RECORDED: %s\n", tui.Clean(recErr.Error()))
		} else {
			fmt.Fprintf(stdout, "; recorded in %s\n", tui.Clean(where))
		}
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

// open resolves the target and connects.
func (c *common) open(ctx context.Context) (target, *pgx.Conn, error) {
	t, err := c.resolve()
	if err != nil {
		return t, nil, err
	}
	conn, err := t.connect(ctx)
	return t, conn, err
}

// planMakers returns the planners of an action, or of the guide's scripts:
// weekly is VACUUM ANALYZE of every table (then sizes and disk), monthly is
// retention cleanup then VACUUM ANALYZE.
func planMakers(conn *pgx.Conn, t target, action, table string) ([]func(context.Context) (*maint.Plan, error), error) {
	vacuum := func(ctx context.Context) (*maint.Plan, error) {
		ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
		defer cancel()
		return maint.PlanVacuum(ctx, conn, t.policy, table)
	}
	retention := func(ctx context.Context) (*maint.Plan, error) {
		ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
		defer cancel()
		return maint.PlanRetention(ctx, conn, t.policy, table, maint.RetentionOptions{})
	}
	switch action {
	case "vacuum", "weekly":
		return []func(context.Context) (*maint.Plan, error){vacuum}, nil
	case "retention":
		return []func(context.Context) (*maint.Plan, error){retention}, nil
	case "monthly":
		return []func(context.Context) (*maint.Plan, error){retention, vacuum}, nil
	}
	return nil, usageError("unknown action %q: use %s", action, actionsHelp)
}

// printPlan shows a plan: every step's statements, lock and estimates.
func printPlan(w io.Writer, p *maint.Plan) {
	kind := "changes nothing destructive"
	if p.Destructive() {
		kind = "DELETES DATA"
	}
	fmt.Fprintf(w, "Plan: %s of %s — %d steps, %s\n", p.Action, tui.Clean(p.Target), len(p.Steps), kind)
	for i, s := range p.Steps {
		est := ""
		if s.EstRows != nil {
			est += ", " + humanize.Comma(*s.EstRows) + " rows"
		}
		if s.EstBytes != nil {
			est += ", " + tui.BytesOf(*s.EstBytes)
		}
		mark := ""
		if s.Destructive {
			mark = " [destructive]"
		}
		fmt.Fprintf(w, "  %d. %s%s (lock: %s%s)\n", i+1, tui.Clean(s.Title), mark, tui.Clean(s.Lock), est)
		for _, st := range s.Statements {
			fmt.Fprintf(w, "       %s;\n", tui.Clean(st))
		}
		for _, a := range s.Affected {
			fmt.Fprintf(w, "       - %s  %s → %s  %s\n", tui.Clean(a.Name), rangeEnd(a.From), rangeEnd(a.To), tui.Bytes(a.Bytes))
		}
	}
	for _, n := range p.Notes {
		fmt.Fprintf(w, "  note: %s\n", tui.Clean(n))
	}
}

func rangeEnd(t *time.Time) string {
	if t == nil {
		return "?"
	}
	return t.UTC().Format("2006-01-02 15:04")
}

func stamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

// eventPrinter writes one plain line per event (no escape sequences: cron
// mails and log files read it), progress at most once a second per step.
func eventPrinter(w io.Writer) func(maint.Event) {
	lastProgress := map[int]time.Time{}
	return func(e maint.Event) {
		prefix := fmt.Sprintf("%s [%d/%d]", stamp(e.At), e.Step+1, e.Of)
		switch e.Kind {
		case maint.StepStarted:
			fmt.Fprintf(w, "%s %s: started\n", prefix, tui.Clean(e.Title))
		case maint.Progress:
			if time.Since(lastProgress[e.Step]) < time.Second && (e.Total == 0 || e.Done < e.Total) {
				return
			}
			lastProgress[e.Step] = time.Now()
			total := "?"
			if e.Total > 0 {
				total = humanize.Comma(e.Total)
			}
			fmt.Fprintf(w, "%s progress %s/%s %s %s\n", prefix, humanize.Comma(e.Done), total, e.Unit, tui.Clean(e.Message))
		case maint.Log:
			fmt.Fprintf(w, "%s %s\n", prefix, tui.Clean(oneLine(e.Message)))
		case maint.StepFinished:
			removed := ""
			if e.Bytes > 0 {
				removed = ", " + tui.BytesOf(e.Bytes) + " removed"
			}
			fmt.Fprintf(w, "%s done in %s, %s rows%s\n", prefix, e.Duration.Round(time.Millisecond), humanize.Comma(e.Rows), removed)
		case maint.StepFailed:
			fmt.Fprintf(w, "%s FAILED after %s: %s\n", prefix, e.Duration.Round(time.Millisecond), tui.Clean(oneLine(e.Err.Error())))
		}
	}
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

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
	if len(entries) == 0 {
		fmt.Fprintln(stdout, "no maintenance recorded yet")
		return nil
	}
	for _, e := range entries {
		line := fmt.Sprintf("%s  %-18s %-9s %-22s rows %-8s", stamp(e.End), tui.Clean(e.Task), tui.Clean(e.Outcome), tui.Clean(e.Target), humanize.Comma(e.Rows))
		if e.BytesBefore > 0 {
			line += fmt.Sprintf(" db %s -> %s", tui.BytesOf(e.BytesBefore), tui.BytesOf(e.BytesAfter))
		}
		if e.Note != "" {
			line += "  note: " + tui.Clean(oneLine(e.Note))
		}
		if e.Error != "" {
			line += "  error: " + tui.Clean(oneLine(e.Error))
		}
		fmt.Fprintln(stdout, line)
	}
	return nil
}
