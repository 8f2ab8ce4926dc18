package tui

import "time"

// minGrowthWindow is how long pgtend must have watched a table before its
// measured growth replaces the policy's expected rate: shorter windows are
// dominated by autovacuum and page-fill noise.
const minGrowthWindow = 10 * time.Minute

type sizeSample struct {
	at    time.Time
	bytes int64
}

// growthTracker measures growth per day from the sizes seen while pgtend
// runs: the first and the latest sample of each table.
type growthTracker struct {
	first, last map[string]sizeSample
}

func newGrowthTracker() *growthTracker {
	return &growthTracker{first: map[string]sizeSample{}, last: map[string]sizeSample{}}
}

func (g *growthTracker) add(key string, at time.Time, bytes int64) {
	if _, ok := g.first[key]; !ok {
		g.first[key] = sizeSample{at, bytes}
	}
	g.last[key] = sizeSample{at, bytes}
}

// perDay returns bytes per day, measured when the window is long enough,
// else the expected rate (measured=false), else 0.
func (g *growthTracker) perDay(key string, expected *int64) (bytesPerDay float64, measured bool) {
	f, l := g.first[key], g.last[key]
	if span := l.at.Sub(f.at); span >= minGrowthWindow {
		return float64(l.bytes-f.bytes) / span.Hours() * 24, true
	}
	if expected != nil {
		return float64(*expected), false
	}
	return 0, false
}

// totalPerDay sums the growth of every table (measured where possible).
func (g *growthTracker) totalPerDay(expected map[string]*int64) (bytesPerDay float64, measured bool) {
	for key, exp := range expected {
		v, m := g.perDay(key, exp)
		bytesPerDay += v
		measured = measured || m
	}
	return bytesPerDay, measured
}
