package triage

import (
	"github.com/pgtend/pgtend/ops/health"
	"github.com/pgtend/pgtend/ops/report"
	"github.com/pgtend/pgtend/ops/state"
)

// forecast sets the days until the filesystem is full and the days each
// option buys, at the growth the Disk pane and doctor tell (health.GrowthOf:
// measured from the size history pgtend stores each time it samples, else
// the policy's expected_growth).
func (t *Triage) forecast(r *report.Report, samples []state.Sample) {
	expected, _ := r.ExpectedGrowth()
	g := health.GrowthOf(samples, expected)
	t.GrowthPerDay, t.GrowthBasis = g.PerDay, g.Basis
	if t.GrowthPerDay <= 0 {
		return
	}
	if t.Filesystem.FreeBytes != nil {
		t.DaysUntilFull = ptr(float64(*t.Filesystem.FreeBytes) / t.GrowthPerDay)
	}
	for i := range t.Options {
		o := &t.Options[i]
		// Only what returns to the filesystem buys days: space kept for
		// reuse inside PostgreSQL, or behind a rewrite, does not.
		if o.Bytes > 0 && o.Blocked == "" && (o.Frees == FreesNow || o.Frees == FreesCheckpoint) {
			o.DaysBought = ptr(float64(o.Bytes) / t.GrowthPerDay)
		}
	}
}
