// Package maint plans and runs maintenance: every action is first a Plan
// (ordered steps with their exact statements, targets, estimated rows and
// bytes, the locks they take, whether they destroy data), shown and
// confirmed, then run with progress events that the console and the
// headless runner share, cancellable, and recorded in the history.
package maint

import (
	"context"
	"slices"
	"time"

	"github.com/pgtend/pgtend/ops/state"
)

// Lock levels steps take, as PostgreSQL names them.
const (
	LockShareUpdateExclusive = "SHARE UPDATE EXCLUSIVE" // VACUUM, ANALYZE, DETACH CONCURRENTLY
	LockRowExclusive         = "ROW EXCLUSIVE"          // DELETE
	LockAccessExclusive      = "ACCESS EXCLUSIVE"       // drop_chunks, DROP TABLE, DETACH
)

// Step is one unit of a plan. The JSON tags are the contract of
// `pgtend plan --json`: fields are added, never renamed.
type Step struct {
	Title       string   `json:"title"`
	Target      string   `json:"target"`     // the relation it works on, quoted
	Statements  []string `json:"statements"` // exactly what runs (a batched DELETE shows its batch statement)
	Lock        string   `json:"lock"`
	Destructive bool     `json:"destructive"`
	// Blocking: the step blocks the application's writes (a plain REINDEX,
	// asked for with --blocking) though it deletes nothing: its plan is
	// confirmed like a destructive one (see NeedsConfirmation).
	Blocking bool   `json:"blocking"`
	EstRows  *int64 `json:"est_rows"` // rows affected, when known
	// RowsFromCatalog: EstRows is the catalog's estimate (reltuples) of the
	// rows in the chunks or partitions the step drops, not a count.
	RowsFromCatalog bool   `json:"est_rows_from_catalog"`
	EstBytes        *int64 `json:"est_bytes"` // bytes affected (freed), when known
	Unit            string `json:"unit"`      // what progress counts: "blocks", "rows", "chunks"
	// Table is the policy table the step serves, quoted (pgx.Identifier),
	// so a run can re-check that it is not permanent.
	Table string `json:"table"`
	// Affected lists what the step removes (chunks, partitions), each with
	// its range and size, so the plan shows exactly what goes.
	Affected []Affected `json:"affected"`
	// Zone is where the step's times (Affected ranges) are shown: its
	// table's zone; nil for UTC.
	Zone *time.Location `json:"-"`
	// Denied says why the connected role may not do the step, and what
	// would allow it (set when the plan is made); such a step is skipped.
	Denied string   `json:"denied,omitempty"`
	needs  []needOn // what the role must be allowed, checked by markDenied
	run    func(ctx context.Context, r *runner, step int) (rows int64, err error)
	// Alone are the action flags that plan this step's work alone (a
	// REINDEX step's --index): the console sets them from the step under
	// its cursor.
	Alone Flags `json:"-"`
}

// Affected is one chunk or partition a step removes.
type Affected struct {
	Name  string     `json:"name"` // quoted, schema-qualified
	From  *time.Time `json:"from"`
	To    *time.Time `json:"to"`
	Bytes *int64     `json:"bytes"`
	Rows  int64      `json:"row_estimate"` // the catalog's
}

// Plan is what an action will do.
type Plan struct {
	Action  string     `json:"action"` // the registry action it belongs to (set by Action.Plan)
	Task    string     `json:"task"`   // the calendar task it counts for (set by Action.Plan)
	Target  string     `json:"target"` // the table asked for, or "all tables in the policy"
	Cutoff  *time.Time `json:"cutoff"`
	Created time.Time  `json:"created"`
	// Tables sum the plan up per table, in the order the steps run: what
	// goes, what stays, the locks, the foreign keys and what they mean.
	Tables []TableSummary `json:"tables"`
	Steps  []Step         `json:"steps"`
	// Refused are the tables the plan leaves alone, and why.
	Refused []Refusal `json:"refused"`
	Notes   []string  `json:"notes"` // what the operator should know: disk space truths
	// filesOnly: the run changes no database, only files (a backup reads
	// the database; archives and rotation touch files): a read-only
	// session or a standby may run it.
	filesOnly bool
	// confirmed: the operator confirmed this plan as it needs (Confirm),
	// in the console's typed-name step.
	confirmed bool
	// Offers are the switches of its action (Flag.Name) that would change
	// this plan: the console offers them as keys that plan again.
	Offers []string `json:"offers"`
	// Pickable: its steps do not depend on one another, so the operator
	// may run some of them (Only); LeftOut are the titles of the steps
	// left out that way, recorded with the run.
	Pickable bool     `json:"pickable"`
	LeftOut  []string `json:"left_out"`
}

// Offer adds flag to the plan's Offers, once.
func (p *Plan) Offer(flag string) {
	if !slices.Contains(p.Offers, flag) {
		p.Offers = append(p.Offers, flag)
	}
}

// Remarks are everything the plan says besides its steps: the refusals,
// each table's findings, the notes.
func (p *Plan) Remarks() []string {
	var out []string
	for _, r := range p.Refused {
		out = append(out, r.Reason)
	}
	for _, t := range p.Tables {
		out = append(out, t.Findings...)
	}
	return append(out, p.Notes...)
}

// Refusal is a table a plan leaves alone, with the reason.
type Refusal struct {
	Table  string `json:"table"`
	Reason string `json:"reason"`
}

// TableSummary is a plan at a glance for one table.
type TableSummary struct {
	Table    string `json:"table"` // schema.name
	Kind     string `json:"kind"`
	TimeZone string `json:"time_zone"` // where its times are shown: "UTC", or its timestamp column's zone
	// Goes and Stays are what the plan removes and what remains (empty for
	// plans that remove nothing).
	Goes  Portion  `json:"goes"`
	Stays Portion  `json:"stays"`
	Locks []string `json:"locks"`
	Steps []int    `json:"steps"` // its steps, as indexes of Plan.Steps
	// ForeignKeys reference the table (Incoming) or are held by it.
	ForeignKeys []ForeignKey `json:"foreign_keys"`
	Findings    []string     `json:"findings"` // what the foreign keys, triggers and space mean here
	// Aggregates are, for a hypertable's retention, its continuous
	// aggregates and whether the cutoff is inside their refresh windows
	// (see retention_aggregates.go). Never nil.
	Aggregates []AggregateCheck `json:"continuous_aggregates"`
}

// Portion is a part of a table: how many chunks or partitions (0 for a
// plain table), the time range, bytes and rows.
type Portion struct {
	Parts int        `json:"parts"`
	From  *time.Time `json:"from"`
	To    *time.Time `json:"to"`
	Bytes *int64     `json:"bytes"`
	Rows  *int64     `json:"rows"`
	// RowsFromCatalog: Rows is the catalog's estimate, not a count.
	RowsFromCatalog bool `json:"rows_from_catalog"`
	// RowsPastCutoff counts the rows older than the cutoff in chunks and
	// partitions not removed whole — a DEFAULT partition, one straddling
	// the cutoff, an inheritance parent's own rows and children without a
	// proven range: in Goes those deleted in batches, in Stays those left
	// (nil when none). BytesPastCutoff is their estimated share of the
	// bytes; in Goes it is space the table reuses, not returned to the
	// filesystem.
	RowsPastCutoff  *int64 `json:"rows_past_cutoff"`
	BytesPastCutoff *int64 `json:"bytes_past_cutoff"`
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

// Blocking reports whether any step blocks the application's writes.
func (p *Plan) Blocking() bool {
	for _, s := range p.Steps {
		if s.Blocking {
			return true
		}
	}
	return false
}

// NeedsConfirmation reports whether the plan needs the destructive-grade
// confirmation (typing the table's name in the console, --yes headless):
// it deletes data, or it blocks writers.
func (p *Plan) NeedsConfirmation() bool { return p.Destructive() || p.Blocking() }

// Confirm records that the operator confirmed the plan as it needs (the
// console calls it when the typed name matches): Run refuses a plan that
// needs confirmation unless it was confirmed this way or by
// Options.Confirmed (--yes).
func (p *Plan) Confirm() { p.confirmed = true }

// Confirmed says whether Confirm was called.
func (p *Plan) Confirmed() bool { return p.confirmed }

// WhyConfirm says why a plan needs the operator's confirmation, for the
// refusals: "deletes data", "blocks the application's writes".
func (p *Plan) WhyConfirm() string {
	if p.Destructive() {
		return "deletes data"
	}
	return "blocks the application's writes"
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
	// StepSkipped: the step did nothing, and Message says why in the
	// server's words (VACUUM's "skipping …", chunks already gone) or the
	// plan's (the role may not do it).
	StepSkipped
)

// Event is one thing a run reports, in order, on one channel the console
// and the headless runner share.
type Event struct {
	Kind    EventKind
	At      time.Time
	Step    int // index into Plan.Steps
	Of      int // number of steps
	Title   string
	Done    int64 // progress so far, in Unit
	Total   int64 // 0 when unknown
	Unit    string
	Message string // a log line, a phase, a server NOTICE
	Rows    int64  // finished: rows affected
	// EstimatedRows: finished, the catalog's rows of the chunks or
	// partitions the step dropped (no row was counted).
	EstimatedRows int64
	Bytes         int64 // finished: bytes the step removed, 0 when none
	Duration      time.Duration
	Err           error
}

// Outcomes of a run; ok is the history's (state.LastDone counts it).
const (
	OutcomeOK        = state.OutcomeOK
	OutcomeFailed    = "failed"
	OutcomeCancelled = "cancelled"
	// OutcomeSkipped: nothing failed, but some steps did nothing: the
	// calendar does not count such a run as done.
	OutcomeSkipped = "skipped"
)

// Result sums up a run.
type Result struct {
	Outcome       string
	Rows          int64
	EstimatedRows int64 // the catalog's rows of the chunks and partitions dropped
	BytesBefore   int64 // database size before and after
	BytesAfter    int64
	Started       time.Time
	Finished      time.Time
	Failed        []string // steps that failed, with their reasons
	Skipped       []string // steps that did nothing, with the reasons
}

// deref is *p, or T's zero value when p is nil: the report's figures that
// may be unknown.
func deref[T any](p *T) T {
	if p == nil {
		var zero T
		return zero
	}
	return *p
}
