package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/pgtend/pgtend/ops/maint"
	"github.com/pgtend/pgtend/ops/report"
	"github.com/pgtend/pgtend/tui/text"
	"github.com/spf13/cobra"
)

// newRunCmd is `pgtend run ACTION`: run an action or script headless, one
// line per event, each run recorded in the history.
func newRunCmd(reg *maint.Registry) *cobra.Command {
	var yes bool
	var batchSize int
	var batchPause time.Duration
	cmd := &cobra.Command{
		Use:   "run ACTION",
		Short: "run an action or script, one line per event",
		Long: "Runs an action or a script: each action is planned right before it runs, its plan printed, " +
			"then one line per event and a summary saying where the run was recorded. Destructive plans " +
			"(and those that block the application's writes) run only with --yes. Exit status: 0 ok, 1 failed, 2 when a destructive step lacks --yes.\n\n" +
			actionsHelp(reg),
		Args:              actionArg(reg),
		ValidArgsFunction: completeActions(reg),
	}
	c := addCommon(cmd)
	table := addTable(cmd, c)
	flags := addActionFlags(cmd, reg)
	f := cmd.Flags()
	f.BoolVar(&yes, "yes", false, "confirm destructive steps"+destructiveNames(reg)+" and steps that block writers; without it they are refused (exit 2)")
	f.IntVar(&batchSize, "batch-size", 10000, "rows per DELETE transaction (plain tables)")
	f.DurationVar(&batchPause, "batch-pause", 0, "pause between DELETE batches, to spare the application's I/O")
	asJSON := f.Bool("json", false, "one JSON object a line: each plan, each event, each result (and a script's report); a stable contract")
	_ = cmd.RegisterFlagCompletionFunc("batch-size", cobra.NoFileCompletions)
	_ = cmd.RegisterFlagCompletionFunc("batch-pause", cobra.NoFileCompletions)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if batchSize < 1 || batchSize > 10_000_000 {
			return usageError("--batch-size %d: use 1 to 10000000", batchSize)
		}
		if batchPause < 0 {
			return usageError("--batch-pause %v: must not be negative", batchPause)
		}
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
		mem := openMemory(t)
		opts := t.maintOptions(c.readOnly)
		opts.BatchSize, opts.BatchPause = batchSize, batchPause
		failed := false
		// Each plan is made right before it runs (a script's VACUUM must
		// not list the chunks its retention cleanup just dropped).
		out := runOutput(textRun{stdout})
		if *asJSON {
			out = jsonRun{json.NewEncoder(stdout)}
		}
		for _, a := range actions {
			p, err := a.Plan(ctx, conn, t.policy, *table)
			if err != nil {
				return err
			}
			out.plan(p)
			if p.NeedsConfirmation() && !yes {
				what := "deletes data"
				if !p.Destructive() {
					what = "blocks the application's writes"
				}
				return &exitError{code: 2, err: fmt.Errorf("the %s plan %s: nothing was changed; run again with --yes to confirm", p.Action, what)}
			}
			res, where, runErr, recErr := runAndRecord(ctx, t, p, opts, out.events(), mem)
			if errors.Is(runErr, maint.ErrReadOnly) {
				return runErr // refused before anything ran: nothing recorded
			}
			out.result(p.Action, res, where, recErr)
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
		// A script may end with the sizes and disk report (not after a
		// cancel: the user asked to stop).
		if s, ok := reg.Script(args[0]); ok && s.Report && ctx.Err() == nil {
			r, err := readReport(ctx, t)
			if err != nil {
				return err
			}
			if err := out.report(r); err != nil {
				return err
			}
		}
		if failed {
			return &exitError{code: 1, err: errors.New("maintenance did not finish cleanly (see the FAILED and SKIPPED lines above)")}
		}
		return nil
	}
	return cmd
}

// destructiveNames is " (retention)" for the registry's destructive
// actions, "" when there are none.
func destructiveNames(reg *maint.Registry) string {
	var names []string
	for _, a := range reg.Actions {
		if a.Destructive {
			names = append(names, a.Name)
		}
	}
	if len(names) == 0 {
		return ""
	}
	return " (" + strings.Join(names, ", ") + ")"
}

// runOutput is how `pgtend run` speaks: lines of text, or JSON lines.
type runOutput interface {
	plan(p *maint.Plan)
	events() func(maint.Event) // a writer for one run's events
	result(action string, res maint.Result, recordedIn string, recordErr error)
	report(r *report.Report) error
}

type textRun struct{ w io.Writer }

func (o textRun) plan(p *maint.Plan)            { text.WritePlan(o.w, p) }
func (o textRun) events() func(maint.Event)     { return text.EventWriter(o.w) }
func (o textRun) report(r *report.Report) error { return text.WriteReport(o.w, r) }
func (o textRun) result(action string, res maint.Result, where string, recErr error) {
	text.WriteRunSummary(o.w, action, res, where, recErr)
}

// jsonRun writes one object a line, each with its "kind": "plan", the
// events (maint.Event's JSON), "result", "report".
type jsonRun struct{ enc *json.Encoder }

func (o jsonRun) plan(p *maint.Plan) {
	_ = o.enc.Encode(struct {
		Kind string `json:"kind"`
		Plan any    `json:"plan"`
	}{"plan", p.Contract()})
}

func (o jsonRun) events() func(maint.Event) { return func(e maint.Event) { _ = o.enc.Encode(e) } }

func (o jsonRun) result(action string, res maint.Result, where string, recErr error) {
	_ = o.enc.Encode(res.Record(action, where, recErr))
}

func (o jsonRun) report(r *report.Report) error {
	return o.enc.Encode(struct {
		Kind   string         `json:"kind"`
		Report *report.Report `json:"report"`
	}{"report", r})
}
