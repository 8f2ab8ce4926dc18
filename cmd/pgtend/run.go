package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/pgtend/pgtend/ops/checklist"
	"github.com/pgtend/pgtend/ops/maint"
	"github.com/pgtend/pgtend/ops/report"
	"github.com/pgtend/pgtend/ops/state"
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
			"(and those that block the application's writes) run only with --yes. A script walks its checklist as the console's wizard does with every step " +
			"confirmed: its actions, then its sheets (printed, and counted as looked at), its manual tasks listed " +
			"as left to a person, then a summary — what ran, what was skipped and why, rows, space, duration — " +
			"recorded in the history. Exit status: 0 ok, 1 failed, 2 when a destructive step lacks --yes.\n\n" +
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
		opts.Confirmed = yes // a plan that needs it is refused first below, with exit 2
		out := runOutput(textRun{stdout})
		if *asJSON {
			out = jsonRun{json.NewEncoder(stdout)}
		}
		runPlan := func(ctx context.Context, p *maint.Plan) (maint.Result, error) {
			res, where, runErr, recErr := runAndRecord(ctx, t, p, opts, out.events(), mem)
			if !errors.Is(runErr, maint.ErrReadOnly) {
				out.result(p.Action, res, where, recErr)
			}
			return res, runErr
		}
		if _, ok := reg.Script(args[0]); ok {
			return runScript(ctx, reg, args[0], headlessChecklist{
				ops: checklistOps{t: t, mem: mem}, out: out, run: runPlan, yes: yes, printed: out.line,
				plan: func(ctx context.Context, a maint.Action) (*maint.Plan, error) {
					return a.Plan(ctx, conn, t.policy, *table)
				},
			})
		}
		failed := false
		for _, a := range actions {
			p, err := a.Plan(ctx, conn, t.policy, *table)
			if err != nil {
				return err
			}
			out.plan(p)
			if p.NeedsConfirmation() && !yes {
				return &exitError{code: 2, err: fmt.Errorf("the %s plan %s: nothing was changed; run again with --yes to confirm", p.Action, p.WhyConfirm())}
			}
			res, runErr := runPlan(ctx, p)
			if errors.Is(runErr, maint.ErrReadOnly) {
				return runErr // refused before anything ran: nothing recorded
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
		if failed {
			return &exitError{code: 1, err: errors.New("maintenance did not finish cleanly (see the FAILED and SKIPPED lines above)")}
		}
		return nil
	}
	return cmd
}

// runScript walks a script's checklist headless and records its summary.
func runScript(ctx context.Context, reg *maint.Registry, script string, h headlessChecklist) error {
	steps, err := reg.Checklist(script)
	if err != nil {
		return err
	}
	sum, err := h.walk(ctx, script, steps)
	if err != nil {
		return err
	}
	where, recErr := h.ops.Record(ctx, sum)
	h.out.checklist(sum, where, recErr)
	if o := sum.Outcome(); o != maint.OutcomeOK {
		return &exitError{code: 1, err: fmt.Errorf("the %s checklist did not finish cleanly (%s; see the FAILED and SKIPPED lines above)", script, o)}
	}
	return nil
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
	sheet(s *checklist.Sheet) error // a checklist's informational step
	checklist(s *checklist.Summary, recordedIn string, recordErr error)
	line(s string) // a remark (the text writer's; JSON says it otherwise)
}

type textRun struct{ w io.Writer }

func (o textRun) line(s string) { fmt.Fprintln(o.w, text.OneLine(text.Clean(s))) }

func (o textRun) sheet(s *checklist.Sheet) error {
	if s.Name == maint.SheetSizes {
		return o.report(s.Report)
	}
	_, err := fmt.Fprintln(o.w, strings.Join(text.SheetLines(s), "\n"))
	return err
}

func (o textRun) checklist(s *checklist.Summary, where string, recErr error) {
	fmt.Fprintln(o.w)
	for _, l := range text.ChecklistSummaryLines(s, "→") {
		fmt.Fprintln(o.w, l)
	}
	switch {
	case recErr != nil:
		fmt.Fprintf(o.w, "the summary was not recorded: %s\n", text.OneLine(recErr.Error()))
	default:
		fmt.Fprintf(o.w, "recorded in %s\n", where)
	}
}

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

func (o jsonRun) line(string) {}

// sheet is {"kind": "sheet", "name", "sheet"}: the sheet's own part (the
// sizes sheet stays the "report" it always was).
func (o jsonRun) sheet(s *checklist.Sheet) error {
	if s.Name == maint.SheetSizes {
		return o.report(s.Report)
	}
	var part any
	switch {
	case s.Logs != nil:
		part = s.Logs
	case s.Retention != nil:
		part = s.Retention
	case s.Cold != nil:
		part = s.Cold
	case s.Capacity != nil:
		part = s.Capacity
	case s.Audit != nil:
		part = s.Audit
	}
	return o.enc.Encode(struct {
		Kind  string `json:"kind"`
		Name  string `json:"name"`
		Sheet any    `json:"sheet"`
	}{"sheet", s.Name, part})
}

// checklist is {"kind": "checklist"}: the summary, as the history keeps it.
func (o jsonRun) checklist(s *checklist.Summary, where string, recErr error) {
	rec := struct {
		Kind       string        `json:"kind"`
		Entry      state.Entry   `json:"entry"`
		RecordedIn string        `json:"recorded_in"`
		Error      string        `json:"record_error,omitempty"`
		Steps      []stepOutcome `json:"steps"`
	}{Kind: "checklist", Entry: s.Entry("", "", text.ChecklistNote(s)), RecordedIn: where}
	if recErr != nil {
		rec.Error = recErr.Error()
	}
	for _, r := range s.Steps {
		rec.Steps = append(rec.Steps, stepOutcome{Step: r.Step.Name, Task: r.Step.Task, Outcome: r.Outcome, Reason: r.Reason, Rows: r.Rows})
	}
	_ = o.enc.Encode(rec)
}

type stepOutcome struct {
	Step    string `json:"step"`
	Task    string `json:"task"`
	Outcome string `json:"outcome"`
	Reason  string `json:"reason,omitempty"`
	Rows    int64  `json:"rows"`
}

func (o jsonRun) report(r *report.Report) error {
	return o.enc.Encode(struct {
		Kind   string         `json:"kind"`
		Report *report.Report `json:"report"`
	}{"report", r})
}
