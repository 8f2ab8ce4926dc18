// Package calendar is the maintenance guide's calendar: which task falls due
// when (weekly on Sundays, monthly and quarterly on the first weekend) and
// whether it is ok, due or overdue given when it last ran. Pure functions of
// time, so the console, the report and the tests agree.
package calendar

import "time"

// Cadences.
const (
	Weekly    = "weekly"
	Monthly   = "monthly"
	Quarterly = "quarterly"
)

// Statuses.
const (
	OK      = "ok"
	Due     = "due"
	Overdue = "overdue"
)

// Task is one item of the calendar.
type Task struct {
	ID      string // stable key, also the history's task name
	Title   string
	Cadence string
	Manual  bool // done by a person and ticked off, not run by pgtend
}

// Tasks is the guide's calendar in its order.
var Tasks = []Task{
	{"vacuum_analyze", "VACUUM ANALYZE", Weekly, false},
	{"check_sizes", "Check table sizes", Weekly, false},
	{"verify_backup", "Verify the backup", Weekly, false},
	{"review_logs", "Review error logs", Weekly, true},
	{"retention_cleanup", "Retention cleanup", Monthly, false},
	{"compression_check", "Compression check", Monthly, false},
	{"archive_trade_logs", "Archive trade logs", Monthly, false},
	{"reindex", "Rebuild indexes if needed", Monthly, false},
	{"retrain_models", "Retrain models", Monthly, true},
	{"review_retention", "Review retention policies", Quarterly, true},
	{"archive_backups", "Archive old backups to cold storage", Quarterly, false},
	{"performance_audit", "Performance audit", Quarterly, true},
	{"capacity_planning", "Storage capacity planning", Quarterly, true},
}

// Evaluate says when task is next due and its status at now. lastRun is nil
// when it never ran. A run shortly before the scheduled day (up to a grace
// of two days for weekly tasks, a week otherwise) counts for that day, so a
// Saturday cron job satisfies Sunday's VACUUM.
func Evaluate(t Task, lastRun *time.Time, now time.Time) (nextDue time.Time, status string) {
	prev, next := occurrences(t.Cadence, now)
	grace, window := 7*24*time.Hour, 2*24*time.Hour // monthly/quarterly: the whole first weekend
	if t.Cadence == Weekly {
		grace, window = 2*24*time.Hour, 24*time.Hour // Sunday
	}
	if lastRun != nil && !lastRun.Before(prev.Add(-grace)) {
		return next, OK
	}
	if lastRun == nil || now.Before(prev.Add(window)) {
		return prev, Due
	}
	return prev, Overdue
}

// Find is the task with the id.
func Find(id string) (Task, bool) {
	for _, t := range Tasks {
		if t.ID == id {
			return t, true
		}
	}
	return Task{}, false
}

// occurrences returns the latest scheduled day at or before now and the
// first one after it, as midnights in now's location.
func occurrences(cadence string, now time.Time) (prev, next time.Time) {
	day := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, now.Location())
	switch cadence {
	case Weekly:
		prev = day.AddDate(0, 0, -int(day.Weekday())) // Sunday
		return prev, prev.AddDate(0, 0, 7)
	default:
		step := 1
		if cadence == Quarterly {
			step = 3
		}
		// Start of the current period (month, or quarter starting Jan/Apr/Jul/Oct).
		m := int(now.Month()) - 1
		m -= m % step
		start := time.Date(now.Year(), time.Month(m+1), 1, 0, 0, 0, 0, now.Location())
		this := firstSaturday(start)
		if this.After(now) {
			return firstSaturday(start.AddDate(0, -step, 0)), this
		}
		return this, firstSaturday(start.AddDate(0, step, 0))
	}
}

// firstSaturday returns the first Saturday of the month of t (the start of
// the month's first full weekend).
func firstSaturday(t time.Time) time.Time {
	first := time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, t.Location())
	return first.AddDate(0, 0, (int(time.Saturday)-int(first.Weekday())+7)%7)
}
