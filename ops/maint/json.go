package maint

import (
	"encoding/json"
	"slices"
	"time"
)

// The JSON of plans and runs (`pgtend plan --json`, `pgtend run --json`)
// is a stable contract, like the report's: fields are added, never renamed.

// Contract is the plan as its JSON says it: every field, and whether it
// destroys data or needs --yes.
// Its lists are [] when empty, never null, whichever planner made it.
func (p *Plan) Contract() any {
	c := *p
	c.Tables = slices.Clone(orEmpty(c.Tables))
	for i := range c.Tables {
		c.Tables[i].Aggregates = orEmpty(c.Tables[i].Aggregates)
	}
	c.Steps, c.Refused, c.Notes = orEmpty(c.Steps), orEmpty(c.Refused), orEmpty(c.Notes)
	c.Offers, c.LeftOut = orEmpty(c.Offers), orEmpty(c.LeftOut)
	return struct {
		*Plan
		Destructive       bool `json:"destructive"`
		NeedsConfirmation bool `json:"needs_confirmation"` // destructive, or blocking writers: --yes
	}{&c, p.Destructive(), p.NeedsConfirmation()}
}

// orEmpty is s, or an empty slice for nil: JSON [] rather than null.
func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

var eventKinds = map[EventKind]string{
	StepStarted: "step_started", Progress: "progress", Log: "log",
	StepFinished: "step_finished", StepFailed: "step_failed", StepCancelled: "step_cancelled", StepSkipped: "step_skipped",
}

// MarshalJSON renders an event as one object of a run's JSON lines.
func (e Event) MarshalJSON() ([]byte, error) {
	var errText *string
	if e.Err != nil {
		s := e.Err.Error()
		errText = &s
	}
	return json.Marshal(struct {
		Kind          string    `json:"kind"`
		At            time.Time `json:"at"`
		Step          int       `json:"step"` // from 0, as Plan.Steps
		Of            int       `json:"of"`
		Title         string    `json:"title,omitempty"`
		Done          int64     `json:"done"`
		Total         int64     `json:"total"`
		Unit          string    `json:"unit,omitempty"`
		Message       string    `json:"message,omitempty"`
		Rows          int64     `json:"rows"`
		EstimatedRows int64     `json:"estimated_rows"` // the catalog's rows of dropped chunks or partitions
		Bytes         int64     `json:"bytes"`
		DurationMS    int64     `json:"duration_ms"`
		Error         *string   `json:"error"`
	}{eventKinds[e.Kind], e.At.UTC(), e.Step, e.Of, e.Title, e.Done, e.Total, e.Unit, e.Message, e.Rows, e.EstimatedRows, e.Bytes, e.Duration.Milliseconds(), errText})
}

// RunRecord is a finished run as the last JSON line of `pgtend run
// --json` says it: the result, and where it was recorded.
type RunRecord struct {
	Kind          string    `json:"kind"` // "result"
	Action        string    `json:"action"`
	Outcome       string    `json:"outcome"`
	Rows          int64     `json:"rows"`
	EstimatedRows int64     `json:"estimated_rows"`
	BytesBefore   int64     `json:"database_bytes_before"`
	BytesAfter    int64     `json:"database_bytes_after"`
	Started       time.Time `json:"started"`
	Finished      time.Time `json:"finished"`
	Failed        []string  `json:"failed"`
	Skipped       []string  `json:"skipped"`
	RecordedIn    string    `json:"recorded_in"`
	RecordError   *string   `json:"record_error"`
}

// Record is the run's RunRecord.
func (res Result) Record(action, recordedIn string, recordErr error) RunRecord {
	r := RunRecord{Kind: "result", Action: action, Outcome: res.Outcome, Rows: res.Rows, EstimatedRows: res.EstimatedRows,
		BytesBefore: res.BytesBefore, BytesAfter: res.BytesAfter, Started: res.Started.UTC(), Finished: res.Finished.UTC(),
		Failed: res.Failed, Skipped: res.Skipped, RecordedIn: recordedIn}
	if r.Failed == nil {
		r.Failed = []string{}
	}
	if r.Skipped == nil {
		r.Skipped = []string{}
	}
	if recordErr != nil {
		s := recordErr.Error()
		r.RecordError = &s
	}
	return r
}
