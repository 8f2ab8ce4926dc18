package text

import (
	"fmt"
	"io"
	"time"

	"github.com/pgtend/pgtend/ops/maint"
	"github.com/pgtend/pgtend/ops/state"
)

// The headless side of maintenance as plain text: plans, one line per run
// event, run summaries and the history. No escape sequences (cron mails and
// log files read it); every string from the database goes through Clean.

// Stamp is how run output and history show a time.
func Stamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

// EventWriter returns an emit function writing one line per event,
// progress at most once a second per step (and always its last). What a
// line says comes from maint.RunState, as in the console: a cancelled step
// reads "cancelled" in both.
func EventWriter(w io.Writer) func(maint.Event) {
	lastProgress := map[int]time.Time{}
	var st *maint.RunState
	return func(e maint.Event) {
		if st == nil {
			st = maint.NewRunState(nil, e.At)
		}
		st.Apply(e, e.At)
		prefix := fmt.Sprintf("%s [%d/%d]", Stamp(e.At), e.Step+1, e.Of)
		switch e.Kind {
		case maint.StepStarted:
			fmt.Fprintf(w, "%s %s: started\n", prefix, Clean(e.Title))
		case maint.Progress:
			if time.Since(lastProgress[e.Step]) < time.Second && (e.Total == 0 || e.Done < e.Total) {
				return
			}
			lastProgress[e.Step] = time.Now()
			total := "?"
			if e.Total > 0 {
				total = Count(e.Total)
			}
			pace := ""
			if e.Message != "" {
				pace = " " + Clean(e.Message)
			}
			if rate := st.Rate(e.At); rate > 0 {
				pace += ", " + Count(int64(rate+0.5)) + " " + Clean(st.Unit) + "/s"
			}
			if eta, ok := st.ETA(e.At); ok {
				pace += ", ETA " + eta.Round(time.Second).String()
			}
			fmt.Fprintf(w, "%s progress %s/%s %s%s\n", prefix, Count(e.Done), total, Clean(e.Unit), pace)
		case maint.Log:
			fmt.Fprintf(w, "%s %s\n", prefix, Clean(OneLine(e.Message)))
		case maint.StepFinished, maint.StepFailed, maint.StepCancelled, maint.StepSkipped:
			f, _ := st.Last()
			took := f.Duration.Round(time.Millisecond)
			switch f.Outcome {
			case maint.OutcomeFailed:
				fmt.Fprintf(w, "%s FAILED after %s: %s\n", prefix, took, Clean(OneLine(f.Reason)))
			case maint.OutcomeCancelled:
				fmt.Fprintf(w, "%s %s after %s, %s rows\n", prefix, f.Outcome, took, Count(f.Rows))
			case maint.OutcomeSkipped:
				fmt.Fprintf(w, "%s SKIPPED, nothing done: %s\n", prefix, Clean(OneLine(f.Reason)))
			default:
				removed := ""
				if f.EstimatedRows > 0 {
					removed += ", " + RowsText(f.EstimatedRows, true)
				}
				if f.Bytes > 0 {
					removed += ", " + BytesOf(f.Bytes) + " removed"
				}
				fmt.Fprintf(w, "%s done in %s, %s rows%s\n", prefix, took, Count(f.Rows), removed)
			}
		}
	}
}

// WriteRunSummary sums a run up in one line, with where it was recorded
// (or why it was not).
func WriteRunSummary(w io.Writer, action string, res maint.Result, recordedIn string, recordErr error) {
	rows := Count(res.Rows) + " rows"
	if res.EstimatedRows > 0 {
		rows += " deleted, " + RowsText(res.EstimatedRows, true) + " in dropped chunks and partitions"
	}
	fmt.Fprintf(w, "%s %s: %s, %s, database %s -> %s, in %s", Stamp(time.Now()), action, res.Outcome, rows,
		BytesOf(res.BytesBefore), BytesOf(res.BytesAfter), res.Finished.Sub(res.Started).Round(time.Millisecond))
	if recordErr != nil {
		fmt.Fprintf(w, "; NOT RECORDED: %s\n", Clean(OneLine(recordErr.Error())))
		return
	}
	fmt.Fprintf(w, "; recorded in %s\n", Clean(recordedIn))
}

// WriteHistory lists history entries, one a line.
func WriteHistory(w io.Writer, entries []state.Entry) {
	if len(entries) == 0 {
		fmt.Fprintln(w, "no maintenance recorded yet")
		return
	}
	for _, e := range entries {
		line := fmt.Sprintf("%s  %-18s %-9s %-22s rows %-8s", Stamp(e.End), Clean(e.Task), Clean(e.Outcome), Clean(e.Target), Count(e.Rows))
		if e.BytesBefore > 0 {
			line += fmt.Sprintf(" db %s -> %s", BytesOf(e.BytesBefore), BytesOf(e.BytesAfter))
		}
		if e.Note != "" {
			line += "  note: " + Clean(OneLine(e.Note))
		}
		if e.Error != "" {
			line += "  error: " + Clean(OneLine(e.Error))
		}
		fmt.Fprintln(w, line)
	}
}
