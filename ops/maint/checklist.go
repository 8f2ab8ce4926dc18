package maint

import (
	"errors"
	"fmt"

	"github.com/pgtend/pgtend/ops/calendar"
)

// ErrNotConfigured marks a plan refused because the policy does not ask
// for the action at all (no [archive]): a checklist skips such a step,
// saying why, rather than failing the whole routine.
var ErrNotConfigured = errors.New("not configured")

type notConfiguredError struct{ msg string }

func (e *notConfiguredError) Error() string        { return e.msg }
func (e *notConfiguredError) Is(target error) bool { return target == ErrNotConfigured }

// notConfigured is a refusal that says, in msg, what the policy lacks.
func notConfigured(msg string) error { return &notConfiguredError{msg} }

// The informational sheets a checklist shows (ops/checklist reads them).
const (
	SheetSizes       = "sizes"        // the sizes and disk report
	SheetLogs        = "logs"         // the server log's ERROR, FATAL and PANIC lines
	SheetRetention   = "retention"    // each table's age span, size and growth against its policy
	SheetColdBackups = "cold_backups" // old backups and archives to move to cold storage
	SheetCapacity    = "capacity"     // the disk's forecast
	SheetAudit       = "audit"        // largest tables, unused and duplicate indexes, vacuum, XID age
)

// sheets are the sheets' calendar tasks and titles.
var sheets = map[string]struct{ task, title string }{
	SheetSizes:       {"check_sizes", "Table sizes and disk"},
	SheetLogs:        {"review_logs", "Server log: errors since the last weekly run"},
	SheetRetention:   {"review_retention", "Retention policy review"},
	SheetColdBackups: {"archive_backups", "Old backups to move to cold storage"},
	SheetCapacity:    {"capacity_planning", "Storage capacity forecast"},
	SheetAudit:       {"performance_audit", "Performance audit"},
}

// StepKind is what a checklist step is.
type StepKind int

// Kinds of checklist steps.
const (
	KindAction StepKind = iota // a registry action: planned, confirmed or skipped, run
	KindSheet                  // an informational sheet: read, shown, looked at or skipped
	KindManual                 // a person's task: ticked off with a note, or skipped
)

// ChecklistStep is one step of a script walked as a checklist.
type ChecklistStep struct {
	Kind   StepKind
	Name   string // the action's, the sheet's, or the manual task's id
	Task   string // the calendar task it counts for
	Title  string
	Action Action // KindAction's
	// ByHand: the sheet's task is a person's (the calendar's manual
	// review_logs, performance_audit…): only a person looking at it in
	// the console counts it done; a headless run prints it.
	ByHand bool
}

// Checklist is a script as the steps the console's wizard walks and the
// headless run runs, in order: its actions, the sizes report (Report), its
// sheets, then its manual tasks.
func (r *Registry) Checklist(script string) ([]ChecklistStep, error) {
	s, ok := r.Script(script)
	if !ok {
		return nil, fmt.Errorf("unknown script %q", script)
	}
	actions, err := r.Resolve(script, true)
	if err != nil {
		return nil, err
	}
	var out []ChecklistStep
	for _, a := range actions {
		title := a.Heading + " every table"
		if t, ok := calendar.Find(a.Task); ok {
			title = t.Title
		}
		switch a.Name {
		case "backup": // its task is the verification; the step makes the backup too
			title = "Back up the database, and verify the backup"
		case "archive": // its task is the monthly one; the step archives the whole dirs too
			title = "Archive models and trade logs"
		}
		out = append(out, ChecklistStep{Kind: KindAction, Name: a.Name, Task: a.Task, Title: title, Action: a})
	}
	names := s.Sheets
	if s.Report {
		names = append([]string{SheetSizes}, names...)
	}
	for _, n := range names {
		d, ok := sheets[n]
		if !ok {
			return nil, fmt.Errorf("script %s names the unknown sheet %q", s.Name, n)
		}
		t, _ := calendar.Find(d.task)
		out = append(out, ChecklistStep{Kind: KindSheet, Name: n, Task: d.task, Title: d.title, ByHand: t.Manual})
	}
	for _, id := range s.Manual {
		t, ok := calendar.Find(id)
		if !ok {
			return nil, fmt.Errorf("script %s names the unknown calendar task %q", s.Name, id)
		}
		out = append(out, ChecklistStep{Kind: KindManual, Name: id, Task: id, Title: t.Title})
	}
	return out, nil
}
