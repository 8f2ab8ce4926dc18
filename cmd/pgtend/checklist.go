package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pgtend/pgtend/ops/checklist"
	"github.com/pgtend/pgtend/ops/config"
	"github.com/pgtend/pgtend/ops/maint"
	"github.com/pgtend/pgtend/ops/report"
	"github.com/pgtend/pgtend/ops/state"
	"github.com/pgtend/pgtend/tui/text"
)

// checklistOps is what a checklist needs besides its actions, for the
// console's wizard and `pgtend run weekly|monthly|quarterly` alike: each
// on a connection of its own, within a deadline.
type checklistOps struct {
	t   target
	mem *memory
}

// Sheet reads an informational step; since is when the log's errors count
// from (the last weekly review; zero when there was none).
func (c checklistOps) Sheet(ctx context.Context, name string, since time.Time) (s *checklist.Sheet, err error) {
	err = c.t.read(ctx, func(ctx context.Context, conn *pgx.Conn) error {
		s, err = checklist.Read(ctx, conn, name, checklist.Inputs{
			Policy: c.t.policy, LogsSince: since, Samples: c.mem.loadSizes(time.Now()),
			Collect: func(ctx context.Context, conn *pgx.Conn, p config.Policy) (*report.Report, error) {
				r, err := report.Collect(ctx, conn, p)
				if err == nil {
					c.mem.annotate(r)
				}
				return r, err
			},
		})
		return err
	})
	return s, err
}

// LastDone is when a task was last done (zero: never).
func (c checklistOps) LastDone(ctx context.Context, task string) (last time.Time, err error) {
	err = c.t.read(ctx, func(ctx context.Context, conn *pgx.Conn) error {
		last, err = checklist.LastDone(ctx, conn, c.mem.historyFile(), task)
		return err
	})
	return last, err
}

// Looked records that a sheet was looked at: its calendar task is done.
func (c checklistOps) Looked(ctx context.Context, step maint.ChecklistStep, script string) error {
	_, err := c.record(ctx, func(database, role string) state.Entry {
		now := time.Now()
		return state.Entry{Start: now, End: now, Database: database, Role: role, Task: step.Task, Action: step.Name,
			Outcome: state.OutcomeOK, Note: "looked at in the " + script + " checklist"}
	})
	return err
}

// Disk measures the data directory's filesystem.
func (c checklistOps) Disk(ctx context.Context) (d report.Disk, err error) {
	err = c.t.read(ctx, func(ctx context.Context, conn *pgx.Conn) error {
		d, err = report.ReadDisk(ctx, conn)
		return err
	})
	return d, err
}

// Record stores a walk's summary in the history, and says where.
func (c checklistOps) Record(ctx context.Context, s *checklist.Summary) (string, error) {
	return c.record(ctx, func(database, role string) state.Entry {
		return s.Entry(database, role, text.ChecklistNote(s))
	})
}

// record writes an entry made for the connection's database and role, as
// recordRun does a run's.
func (c checklistOps) record(ctx context.Context, entry func(database, role string) state.Entry) (string, error) {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	conn, err := c.t.connect(rctx)
	if err != nil {
		return "", fmt.Errorf("not recorded: %w", err)
	}
	defer closeConn(conn)
	return maint.Record(rctx, conn, entry(conn.Config().Database, conn.Config().User), c.mem.historyFile())
}

// headlessChecklist is `pgtend run SCRIPT`: every step of the script's
// checklist in order, as the console's wizard walks it with every step
// confirmed — each action planned right before it runs, each sheet printed
// (and counted as looked at, unless its task is a person's), the manual
// tasks listed as left to a person —
// then the summary, recorded in the history.
type headlessChecklist struct {
	ops     checklistOps
	out     runOutput
	run     func(ctx context.Context, p *maint.Plan) (maint.Result, error) // runs and records a plan
	plan    func(ctx context.Context, a maint.Action) (*maint.Plan, error)
	yes     bool
	printed func(string) // a line of text (none with --json)
}

// walk runs the steps; it returns the summary, and an error that ends the
// command at once (a destructive plan without --yes).
func (h headlessChecklist) walk(ctx context.Context, script string, steps []maint.ChecklistStep) (*checklist.Summary, error) {
	sum := &checklist.Summary{Script: script, Started: time.Now()}
	sum.DiskBefore, _ = h.ops.Disk(ctx) // unseen: the summary says the database's size instead
	for _, st := range steps {
		if ctx.Err() != nil {
			break
		}
		r, err := h.step(ctx, script, st)
		if err != nil {
			return nil, err
		}
		sum.Steps = append(sum.Steps, r)
		if r.Outcome == maint.OutcomeCancelled {
			break
		}
	}
	sum.DiskAfter, _ = h.ops.Disk(context.WithoutCancel(ctx))
	sum.Finished = time.Now()
	return sum, nil
}

func (h headlessChecklist) step(ctx context.Context, script string, st maint.ChecklistStep) (checklist.StepResult, error) {
	declined := func(reason string) checklist.StepResult {
		return checklist.StepResult{Step: st, Outcome: checklist.OutcomeDeclined, Reason: reason}
	}
	switch st.Kind {
	case maint.KindManual:
		h.printed("TO DO by hand: " + st.Title + " (tick it off with a note in the console's Calendar pane)")
		return declined("a person's task: tick it off with a note"), nil
	case maint.KindSheet:
		return h.sheet(ctx, script, st), nil
	}
	p, err := h.plan(ctx, st.Action)
	if err != nil {
		r := checklist.FromPlanErr(st, err)
		if r.Outcome == checklist.OutcomeUnconfigured {
			h.printed("NOT CONFIGURED " + st.Name + ": " + r.Reason)
		} else {
			h.printed("FAILED " + st.Name + ": " + r.Reason)
		}
		return r, nil
	}
	h.out.plan(p)
	if p.NeedsConfirmation() && !h.yes {
		return checklist.StepResult{}, &exitError{code: 2, err: fmt.Errorf("the %s plan %s: nothing was changed; run again with --yes to confirm", p.Action, p.WhyConfirm())}
	}
	res, runErr := h.run(ctx, p)
	if errors.Is(runErr, maint.ErrReadOnly) {
		return checklist.StepResult{}, runErr // refused before anything ran: nothing recorded
	}
	return checklist.FromRun(st, res, runErr), nil
}

// sheet reads, prints and records a sheet; the sizes report goes out as
// the report it always was (a "report" line with --json).
func (h headlessChecklist) sheet(ctx context.Context, script string, st maint.ChecklistStep) checklist.StepResult {
	var since time.Time
	if st.Name == maint.SheetLogs {
		since, _ = h.ops.LastDone(ctx, st.Task)
	}
	s, err := h.ops.Sheet(ctx, st.Name, since)
	if err == nil {
		err = h.out.sheet(s)
	}
	if err == nil && st.ByHand { // printed for a person, who ticks it off once read
		return checklist.StepResult{Step: st, Outcome: checklist.OutcomePrinted, Reason: "a person's review: printed here, counted done when looked at in the console's checklist"}
	}
	if err == nil {
		err = h.ops.Looked(ctx, st, script)
	}
	if err != nil {
		h.printed("FAILED " + st.Name + ": " + err.Error())
		return checklist.StepResult{Step: st, Outcome: maint.OutcomeFailed, Reason: err.Error()}
	}
	return checklist.StepResult{Step: st, Outcome: maint.OutcomeOK}
}
