package triage

import (
	"time"

	"github.com/pgtend/pgtend/ops/report"
	"github.com/pgtend/pgtend/ops/state"
)

// minGrowthSpan is the least time between a table's first and last stored
// sample for its growth to count: shorter spans are mostly autovacuum and
// page-fill noise (the console's measured growth waits as long).
const minGrowthSpan = 10 * time.Minute

// growth is the databases' growth a day: measured from the size history
// pgtend stores each time it samples (each table's first and last sample
// of the window), else what the policy expects (expected_growth), else
// unknown (basis "").
func growth(r *report.Report, samples []state.Sample) (perDay float64, basis string) {
	first, last := map[string]state.Sample{}, map[string]state.Sample{}
	for _, s := range samples {
		if f, ok := first[s.Table]; !ok || s.At.Before(f.At) {
			first[s.Table] = s
		}
		if l, ok := last[s.Table]; !ok || s.At.After(l.At) {
			last[s.Table] = s
		}
	}
	measured := false
	for key, f := range first {
		l := last[key]
		if span := l.At.Sub(f.At); span >= minGrowthSpan {
			perDay += float64(l.Bytes-f.Bytes) / span.Hours() * 24
			measured = true
		}
	}
	if measured {
		return perDay, "measured from the size history pgtend stored"
	}
	var expected int64
	for _, t := range r.Tables {
		if t.ExpectedGrowthPerDay != nil {
			expected += *t.ExpectedGrowthPerDay
		}
	}
	if expected > 0 {
		return float64(expected), "expected by the policy (expected_growth)"
	}
	return 0, ""
}

// forecast sets the days until the filesystem is full and the days each
// option buys, at the growth found.
func (t *Triage) forecast(r *report.Report, samples []state.Sample) {
	t.GrowthPerDay, t.GrowthBasis = growth(r, samples)
	if t.GrowthPerDay <= 0 {
		return
	}
	if t.Filesystem.FreeBytes != nil {
		t.DaysUntilFull = ptr(float64(*t.Filesystem.FreeBytes) / t.GrowthPerDay)
	}
	for i := range t.Options {
		o := &t.Options[i]
		if o.Bytes > 0 && o.Blocked == "" {
			o.DaysBought = ptr(float64(o.Bytes) / t.GrowthPerDay)
		}
	}
}
