package checklist

import (
	"errors"
	"time"

	"github.com/pgtend/pgtend/ops/calendar"
	"github.com/pgtend/pgtend/ops/maint"
	"github.com/pgtend/pgtend/ops/report"
	"github.com/pgtend/pgtend/ops/state"
)

// Outcomes of a checklist step besides a run's (maint.OutcomeOK, Failed,
// Cancelled, Skipped) and a tick-off's (state.OutcomeTicked).
const (
	// OutcomeDeclined: the step did not run — the operator skipped it,
	// or it could not be planned (Reason says which).
	OutcomeDeclined = "declined"
	// OutcomeUnconfigured: the policy does not ask for the step (no
	// [archive]); the routine did its part.
	OutcomeUnconfigured = "unconfigured"
	// OutcomePrinted: a sheet of a person's task printed by a headless
	// run, which does not count it done (maint.ChecklistStep.ByHand).
	OutcomePrinted = "printed"
	// OutcomeEarlier: its task was done earlier in this period; a
	// resumed checklist passes it.
	OutcomeEarlier = "earlier"
)

// Task is the history's task of a checklist run's summary (its action is
// the script's name).
const Task = "checklist"

// StepResult is what became of one step.
type StepResult struct {
	Step          maint.ChecklistStep
	Outcome       string
	Reason        string // why declined, failed or skipped
	Rows          int64  // rows a run deleted
	EstimatedRows int64  // the catalog's rows of the chunks and partitions it dropped
	Duration      time.Duration
}

// FromPlanErr is the step's result when its plan could not be made: not
// set up (the policy does not ask for it), else failed — the console's
// wizard and a headless run record it alike.
func FromPlanErr(step maint.ChecklistStep, err error) StepResult {
	if errors.Is(err, maint.ErrNotConfigured) {
		return StepResult{Step: step, Outcome: OutcomeUnconfigured, Reason: err.Error()}
	}
	return StepResult{Step: step, Outcome: maint.OutcomeFailed, Reason: "cannot plan: " + err.Error()}
}

// FromRun is the step's result from its run's.
func FromRun(step maint.ChecklistStep, res maint.Result, runErr error) StepResult {
	r := StepResult{Step: step, Outcome: res.Outcome, Rows: res.Rows, EstimatedRows: res.EstimatedRows}
	if !res.Started.IsZero() && !res.Finished.IsZero() {
		r.Duration = res.Finished.Sub(res.Started)
	}
	switch {
	case runErr != nil:
		r.Outcome, r.Reason = maint.OutcomeFailed, runErr.Error()
	case len(res.Failed) > 0:
		r.Reason = res.Failed[0]
	case len(res.Skipped) > 0:
		r.Reason = res.Skipped[0]
	}
	if r.Outcome == "" {
		r.Outcome = maint.OutcomeFailed
	}
	return r
}

// Summary is one walk of a checklist: each step's result, the filesystem
// before and after, when it began and ended.
type Summary struct {
	Script            string
	Started, Finished time.Time
	Steps             []StepResult
	DiskBefore        report.Disk
	DiskAfter         report.Disk
}

// Rows are the rows the runs deleted, and the catalog's rows of the chunks
// and partitions they dropped.
func (s *Summary) Rows() (deleted, dropped int64) {
	for _, r := range s.Steps {
		deleted += r.Rows
		dropped += r.EstimatedRows
	}
	return deleted, dropped
}

// Space is the data directory's filesystem's used bytes before and after
// (filesystem true), else the database's size (when pgtend cannot see the
// filesystem).
func (s *Summary) Space() (before, after int64, filesystem bool) {
	tb, fb, okb := s.DiskBefore.Space()
	ta, fa, oka := s.DiskAfter.Space()
	if okb && oka {
		return tb - fb, ta - fa, true
	}
	return s.DiskBefore.DatabaseBytes, s.DiskAfter.DatabaseBytes, false
}

// Outcome sums the steps up: failed or cancelled when one was, skipped
// when one did not run (or did nothing), else ok.
func (s *Summary) Outcome() string {
	out := maint.OutcomeOK
	for _, r := range s.Steps {
		switch r.Outcome {
		case maint.OutcomeFailed:
			return maint.OutcomeFailed
		case maint.OutcomeCancelled:
			out = maint.OutcomeCancelled
		case maint.OutcomeSkipped, OutcomeDeclined:
			if r.Step.Kind == maint.KindManual || r.Step.ByHand { // a person's task, left to them: the routine did its part
				continue
			}
			if out == maint.OutcomeOK {
				out = maint.OutcomeSkipped
			}
		}
	}
	return out
}

// Entry is the summary's history entry; note is its text (tui/text's
// ChecklistNote: the steps, the filesystem), what `pgtend history` shows
// of it. Its bytes are the database's size, as every entry's are.
func (s *Summary) Entry(database, role, note string) state.Entry {
	deleted, _ := s.Rows()
	return state.Entry{Start: s.Started, End: s.Finished, Database: database, Role: role, Task: Task, Action: s.Script, Target: s.Script,
		Rows: deleted, BytesBefore: s.DiskBefore.DatabaseBytes, BytesAfter: s.DiskAfter.DatabaseBytes, Outcome: s.Outcome(), Note: note}
}

// DoneEarlier says, for each step, whether its task is done in its
// period by the calendar (status ok): a checklist opened again resumes at
// the first step not done.
func DoneEarlier(steps []maint.ChecklistStep, items []report.CalendarItem) []bool {
	status := map[string]string{}
	for _, c := range items {
		status[c.Task] = c.Status
	}
	out := make([]bool, len(steps))
	for i, s := range steps {
		out[i] = s.Task != "" && status[s.Task] == calendar.OK
	}
	return out
}
