// Package maint plans and runs maintenance: every action is first a Plan
// (ordered steps with their exact statements, targets, estimated rows and
// bytes, the locks they take, whether they destroy data), shown and
// confirmed, then run with progress events that the console and the
// headless runner share, cancellable, and recorded in the history.
package maint

import (
	"context"
	"time"

	"github.com/pgtend/pgtend/ops/state"
)

// Lock levels steps take, as PostgreSQL names them.
const (
	LockShareUpdateExclusive = "SHARE UPDATE EXCLUSIVE" // VACUUM, ANALYZE, DETACH CONCURRENTLY
	LockRowExclusive         = "ROW EXCLUSIVE"          // DELETE
	LockAccessExclusive      = "ACCESS EXCLUSIVE"       // drop_chunks, DROP TABLE, DETACH
)

// Step is one unit of a plan.
type Step struct {
	Title       string
	Target      string   // the relation it works on, quoted
	Statements  []string // exactly what runs (a batched DELETE shows its batch statement)
	Lock        string
	Destructive bool
	EstRows     *int64 // rows affected, when known
	EstBytes    *int64 // bytes affected (freed), when known
	Unit        string // what progress counts: "blocks", "rows", "chunks"
	// Table is the policy table the step serves, quoted (pgx.Identifier),
	// so a run can re-check that it is not permanent.
	Table string
	// Affected lists what the step removes (chunks, partitions), each with
	// its range and size, so the plan shows exactly what goes.
	Affected []Affected
	// Zone is where the step's times (Affected ranges) are shown: its
	// table's zone; nil for UTC.
	Zone *time.Location
	run  func(ctx context.Context, r *runner, step int) (rows int64, err error)
}

// Affected is one chunk or partition a step removes.
type Affected struct {
	Name     string // quoted, schema-qualified
	From, To *time.Time
	Bytes    *int64
}

// Plan is what an action will do.
type Plan struct {
	Action  string // the registry action it belongs to (set by Action.Plan)
	Task    string // the calendar task it counts for (set by Action.Plan)
	Target  string // the table asked for, or "all tables in the policy"
	Cutoff  *time.Time
	Steps   []Step
	Notes   []string // what the operator should know: skipped tables, disk space truths
	Created time.Time
}

// Destructive reports whether any step destroys data: such a plan needs a
// confirmation (typing the table's name in the console, --yes headless).
func (p *Plan) Destructive() bool {
	for _, s := range p.Steps {
		if s.Destructive {
			return true
		}
	}
	return false
}

// EventKind says what an Event reports.
type EventKind int

// Event kinds.
const (
	StepStarted EventKind = iota
	Progress
	Log
	StepFinished
	StepFailed
	// StepCancelled: the run was cancelled while the step ran; what it
	// did before the cancel (Rows) stands.
	StepCancelled
)

// Event is one thing a run reports, in order, on one channel the console
// and the headless runner share.
type Event struct {
	Kind     EventKind
	At       time.Time
	Step     int // index into Plan.Steps
	Of       int // number of steps
	Title    string
	Done     int64 // progress so far, in Unit
	Total    int64 // 0 when unknown
	Unit     string
	Message  string // a log line, a phase, a server NOTICE
	Rows     int64  // finished: rows affected
	Bytes    int64  // finished: bytes the step removed, 0 when none
	Duration time.Duration
	Err      error
}

// Outcomes of a run; ok is the history's (state.LastDone counts it).
const (
	OutcomeOK        = state.OutcomeOK
	OutcomeFailed    = "failed"
	OutcomeCancelled = "cancelled"
)

// Result sums up a run.
type Result struct {
	Outcome     string
	Rows        int64
	BytesBefore int64 // database size before and after
	BytesAfter  int64
	Started     time.Time
	Finished    time.Time
	Failed      []string // steps that failed, with their reasons
}
