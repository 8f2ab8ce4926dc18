package maint

import "time"

// FinishedStep is one step that ended, as the run's events told it.
type FinishedStep struct {
	Step    int
	Title   string
	Outcome string // OutcomeOK, OutcomeFailed or OutcomeCancelled: the word every writer shows
	Reason  string // why it failed
	Rows    int64
	// EstimatedRows are the catalog's rows of the chunks or partitions
	// it dropped.
	EstimatedRows int64
	Bytes         int64 // what it removed
	Duration      time.Duration
	Unit          string
}

// keepLogs is how many log lines a run state remembers; a view shows the
// last few that fit.
const keepLogs = 50

// RunState is what a run's events say, interpreted once: the step in
// flight with its progress, rate and ETA, the finished steps with their
// outcomes, the counts and totals, the last log lines. The console's run
// view and the headless line writer both draw from it.
type RunState struct {
	Plan    *Plan
	Started time.Time // by the caller's clock: rates and ETA use it too
	Current int       // the step running, -1 between steps
	Title   string
	// The step in flight: when it started, its progress (in Unit) and what
	// it is doing (VACUUM's "scanning heap").
	StepStart     time.Time
	Done, Total   int64
	Unit, Phase   string
	Finished      []FinishedStep
	Logs          []string
	Rows, Bytes   int64 // over the finished steps
	EstimatedRows int64
}

// NewRunState starts the state of a run of plan at now (plan may be nil
// where only the events are known).
func NewRunState(plan *Plan, now time.Time) *RunState {
	return &RunState{Plan: plan, Started: now, Current: -1}
}

// Apply takes one event in, at now.
func (s *RunState) Apply(ev Event, now time.Time) {
	switch ev.Kind {
	case StepStarted:
		s.Current, s.Title, s.StepStart = ev.Step, ev.Title, now
		s.Done, s.Total, s.Phase = 0, 0, ""
		s.Unit = ev.Unit
		if s.Unit == "" && s.Plan != nil && ev.Step >= 0 && ev.Step < len(s.Plan.Steps) {
			s.Unit = s.Plan.Steps[ev.Step].Unit
		}
	case Progress:
		if ev.Step != s.Current { // a late poll of a step already over
			return
		}
		s.Done, s.Total, s.Phase = ev.Done, ev.Total, ev.Message
		if ev.Unit != "" {
			s.Unit = ev.Unit
		}
	case Log:
		s.Logs = append(s.Logs, ev.Message)
		if len(s.Logs) > keepLogs {
			s.Logs = s.Logs[len(s.Logs)-keepLogs:]
		}
	case StepFinished, StepFailed, StepCancelled, StepSkipped:
		f := FinishedStep{Step: ev.Step, Title: ev.Title, Outcome: OutcomeOK, Rows: ev.Rows, EstimatedRows: ev.EstimatedRows, Bytes: ev.Bytes, Duration: ev.Duration, Unit: s.Unit}
		switch ev.Kind {
		case StepFailed:
			f.Outcome, f.Reason = OutcomeFailed, OutcomeFailed
			if ev.Err != nil {
				f.Reason = ev.Err.Error()
			}
		case StepCancelled:
			f.Outcome, f.Reason = OutcomeCancelled, OutcomeCancelled
		case StepSkipped:
			f.Outcome, f.Reason = OutcomeSkipped, ev.Message
		}
		s.Finished = append(s.Finished, f)
		s.Rows += f.Rows
		s.EstimatedRows += f.EstimatedRows
		s.Bytes += f.Bytes
		if ev.Step == s.Current {
			s.Current = -1
		}
	}
}

// Last is the step that finished last; ok is false before any has.
func (s *RunState) Last() (f FinishedStep, ok bool) {
	if len(s.Finished) == 0 {
		return FinishedStep{}, false
	}
	return s.Finished[len(s.Finished)-1], true
}

// Rate is the step's progress per second so far, 0 before it can be told.
func (s *RunState) Rate(now time.Time) float64 {
	elapsed := now.Sub(s.StepStart).Seconds()
	if s.Current < 0 || s.Done <= 0 || elapsed <= 0 {
		return 0
	}
	return float64(s.Done) / elapsed
}

// ETA is the step's time left at the rate so far; ok is false when unknown.
func (s *RunState) ETA(now time.Time) (time.Duration, bool) {
	rate := s.Rate(now)
	if s.Total <= 0 || rate <= 0 {
		return 0, false
	}
	left := float64(max(s.Total-s.Done, 0)) / rate
	return time.Duration(left * float64(time.Second)), true
}

// StepCounts are the finished steps by outcome.
type StepCounts struct{ OK, Failed, Cancelled, Skipped int }

// Counts sums the finished steps up by outcome.
func (s *RunState) Counts() StepCounts {
	var c StepCounts
	for _, f := range s.Finished {
		switch f.Outcome {
		case OutcomeCancelled:
			c.Cancelled++
		case OutcomeFailed:
			c.Failed++
		case OutcomeSkipped:
			c.Skipped++
		default:
			c.OK++
		}
	}
	return c
}
