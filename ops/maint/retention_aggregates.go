package maint

import (
	"fmt"
	"math"
	"time"

	"github.com/pgtend/pgtend/ops/report"
)

// Retention and continuous aggregates. Dropping raw chunks inside an
// aggregate's refresh window does not fail: the next refresh recomputes
// the window from the raw rows left, deletes the aggregated buckets of the
// dropped range, and both jobs report success (TimescaleDB's docs, "Data
// retention with continuous aggregates"). A plan on a hypertable lists its
// aggregates and warns, with the numbers and the fix, when its cutoff is
// inside one's window.

// AggregateCheck is one continuous aggregate of a table being cleaned,
// and where the plan's cutoff falls against its refresh window.
type AggregateCheck struct {
	Aggregate string `json:"aggregate"` // schema.view
	// StartOffset is its refresh policy's, nil when the window has no
	// start or it has no policy (Refreshed false).
	StartOffset *string `json:"start_offset"`
	// WindowStart is the oldest instant its next refresh recomputes, nil
	// when the window has no start, no policy, or an integer offset.
	WindowStart *time.Time `json:"window_start"`
	Refreshed   bool       `json:"refreshed"` // it has a refresh policy
	// InsideWindow: the cutoff is newer than the window's start (or the
	// window has none): its next refresh erases the dropped range's
	// buckets.
	InsideWindow bool `json:"inside_window"`
}

// aggregateChecks checks the cutoff against each continuous aggregate of
// the table, giving the findings to show: a warning for each window the
// cutoff is inside, a line for the others.
func (j *tableJob) aggregateChecks() ([]AggregateCheck, []string) {
	var checks []AggregateCheck
	var notes []string
	if n := j.ownWindow(); n != "" {
		notes = append(notes, n)
	}
	for _, a := range j.r.Aggregates(j.t) {
		c := AggregateCheck{Aggregate: a.Key()}
		p := a.Aggregate.Refresh
		switch {
		case p == nil:
			notes = append(notes, fmt.Sprintf("%s aggregates %s and has no refresh policy: a refresh_continuous_aggregate by hand over the dropped range (before %s) would delete its buckets there",
				a.Key(), j.name, when(j.t, j.cutoff)))
		case p.StartOffset == nil:
			c.Refreshed, c.InsideWindow = true, true
			notes = append(notes, fmt.Sprintf("WARNING: %s aggregates %s and its refresh policy (job %d) has no start_offset: every refresh recomputes it from the first row, "+
				"so the next one deletes its buckets for everything this plan drops (before %s), and both jobs report success. "+
				"Fix: give its policy a start_offset shorter than %s (remove_continuous_aggregate_policy, then add_continuous_aggregate_policy), before cleaning %s",
				a.Key(), j.name, p.JobID, when(j.t, j.cutoff), j.age(), j.name))
		case p.WindowStart == nil:
			// Not known to be outside: counted inside, so that an aggregate
			// keeping its buckets refuses the drop (erasesKept).
			c.Refreshed, c.StartOffset, c.InsideWindow = true, p.StartOffset, true
			notes = append(notes, fmt.Sprintf("%s aggregates %s; its refresh policy's start_offset %s is not an interval: pgtend cannot tell whether the cutoff %s is inside its window",
				a.Key(), j.name, *p.StartOffset, when(j.t, j.cutoff)))
		default:
			c.Refreshed, c.StartOffset, c.WindowStart = true, p.StartOffset, p.WindowStart
			c.InsideWindow = j.cutoff.After(*p.WindowStart)
			if !c.InsideWindow {
				notes = append(notes, fmt.Sprintf("%s aggregates %s: its refresh window starts at %s (start_offset %s), older than the cutoff %s: its buckets stay",
					a.Key(), j.name, when(j.t, *p.WindowStart), *p.StartOffset, when(j.t, j.cutoff)))
				break
			}
			notes = append(notes, fmt.Sprintf("WARNING: the cutoff %s is inside the refresh window of %s, which aggregates %s: the window starts at %s (start_offset %s), %s after it; "+
				"its next refresh deletes its buckets from %s to %s, and both jobs report success. "+
				"Fix: keep %s longer than %s (drop only data older than %s), or move the window: a start_offset shorter than %s "+
				"(remove_continuous_aggregate_policy, then add_continuous_aggregate_policy)",
				when(j.t, j.cutoff), a.Key(), j.name, when(j.t, *p.WindowStart), *p.StartOffset, days(j.cutoff.Sub(*p.WindowStart)),
				when(j.t, *p.WindowStart), when(j.t, j.cutoff),
				j.name, *p.StartOffset, when(j.t, *p.WindowStart), j.age()))
		}
		checks = append(checks, c)
	}
	return checks, notes
}

// erasesKept is the refusal of a cutoff inside the refresh window of an
// aggregate that keeps buckets older than that cutoff — permanent, without
// a retention of its own, or with a longer one: its next refresh would
// delete buckets the policy keeps, so the raw chunks must stay. (An
// aggregate whose own retention drops them first loses nothing: the
// warning is enough.)
func (j *tableJob) erasesKept(checks []AggregateCheck) error {
	aggs := map[string]report.Table{}
	for _, a := range j.r.Aggregates(j.t) {
		aggs[a.Key()] = a
	}
	for _, c := range checks {
		a, ok := aggs[c.Aggregate]
		if !c.InsideWindow || !ok {
			continue
		}
		keeps := "it is permanent in the policy"
		switch {
		case a.Permanent:
		case a.RetentionDays == nil:
			keeps = "it has no retention of its own"
		case j.r.GeneratedAt.AddDate(0, 0, -*a.RetentionDays).Before(j.cutoff):
			keeps = fmt.Sprintf("its own retention, %d days, keeps them", *a.RetentionDays)
		default:
			continue
		}
		from := "its first bucket"
		switch {
		case c.WindowStart != nil:
			from = when(j.t, *c.WindowStart)
		case c.StartOffset != nil:
			return fmt.Errorf("%s: pgtend cannot tell whether the cutoff %s is inside the refresh window of %s (its start_offset %s is not an interval), "+
				"and %s: refusing, as its next refresh could delete buckets the policy keeps", j.name, when(j.t, j.cutoff), c.Aggregate, *c.StartOffset, keeps)
		}
		return fmt.Errorf("%s: the cutoff %s is inside the refresh window of %s, whose next refresh would delete its buckets from %s to %s, "+
			"and %s: refusing. Fix: keep %s longer than its window (start_offset %s), or give %s's refresh policy a start_offset shorter than %s",
			j.name, when(j.t, j.cutoff), c.Aggregate, from, when(j.t, j.cutoff), keeps, j.name, deref(c.StartOffset), c.Aggregate, j.age())
	}
	return nil
}

// ownWindow warns when a continuous aggregate's own cutoff is inside its
// refresh window: its next refresh computes the dropped buckets again from
// its source's rows, and the space comes back.
func (j *tableJob) ownWindow() string {
	a := j.t.Aggregate
	if a == nil || a.Refresh == nil || a.Refresh.StartOffset == nil || a.Refresh.WindowStart == nil || !j.cutoff.After(*a.Refresh.WindowStart) {
		return ""
	}
	p := a.Refresh
	return fmt.Sprintf("WARNING: the cutoff %s is inside %s's own refresh window, which starts at %s (start_offset %s): its next refresh computes the dropped buckets "+
		"newer than %s again from the rows %s still holds, and the space comes back. Fix: a retention longer than %s for %s, or a start_offset shorter than %s",
		when(j.t, j.cutoff), j.name, when(j.t, *p.WindowStart), *p.StartOffset, when(j.t, *p.WindowStart), a.Source, *p.StartOffset, j.name, j.age())
}

// age is how far back the cutoff is, in days.
func (j *tableJob) age() string { return days(j.r.GeneratedAt.Sub(j.cutoff)) }

// days shows a duration in days, to a tenth.
func days(d time.Duration) string {
	n := d.Hours() / 24
	if n == math.Trunc(n) {
		return fmt.Sprintf("%.0f days", n)
	}
	return fmt.Sprintf("%.1f days", n)
}

// isAggregate: a continuous aggregate, cleaned like a hypertable
// (drop_chunks on its view drops its materialization hypertable's chunks).
func isAggregate(t report.Table) bool {
	return t.Kind != nil && *t.Kind == report.KindContinuousAggregate
}

// integerAggregates refuses the retention of an integer-time hypertable
// that feeds a continuous aggregate keeping its buckets (permanent, or no
// retention of its own): pgtend does not read integer refresh windows, so
// it cannot tell that the next refresh would not delete them.
func (j *tableJob) integerAggregates() error {
	for _, a := range j.r.Aggregates(j.t) {
		if a.Permanent || (a.RetentionDays == nil && a.IntegerRetention == nil) {
			return fmt.Errorf("%s feeds the continuous aggregate %s, which keeps its buckets (permanent, or no retention of its own), and pgtend cannot tell "+
				"whether dropping its chunks is inside %s's refresh window (an integer window): refusing. Give %s a retention of its own, "+
				"or drop %s's chunks with TimescaleDB's drop_chunks once you have checked the window", j.name, a.Key(), a.Key(), a.Key(), j.name)
		}
	}
	return nil
}
