package demo

import "time"

const day = 24 * time.Hour

// batchDays bounds how many days (so partitions or chunks) one statement
// creates or fills: each holds locks on every partition or chunk it touches
// until commit, and the default lock table has room for a few thousand in
// all. 100 keeps a 200-day seed to a handful of statements per table.
const batchDays = 100

// span is the time range the data covers: [start, end) with end = Now and
// start = Now - Days, cut into the UTC days it touches. Days are UTC so the
// partition names, chunk boundaries (TimescaleDB aligns 1-day chunks on UTC
// midnight) and per-day tests all agree whatever the session's TimeZone.
type span struct {
	start, end time.Time
	firstDay   time.Time // UTC midnight of the day holding start
	days       int       // UTC days from firstDay up to and including the day holding end's last instant
}

func newSpan(now time.Time, days int) span {
	end := now.UTC()
	start := end.Add(-time.Duration(days) * day)
	first := midnight(start)
	last := midnight(end.Add(-time.Microsecond))
	return span{start: start, end: end, firstDay: first, days: int(last.Sub(first)/day) + 1}
}

func midnight(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// dayStart returns UTC midnight of the i-th day of the span (i may run past
// the span, for the partitions ahead of Now).
func (s span) dayStart(i int) time.Time { return s.firstDay.Add(time.Duration(i) * day) }

// dayBounds returns the part [lo, hi) of the i-th day inside the span;
// ok is false when there is none.
func (s span) dayBounds(i int) (lo, hi time.Time, ok bool) {
	lo, hi = s.dayStart(i), s.dayStart(i+1)
	if lo.Before(s.start) {
		lo = s.start
	}
	if hi.After(s.end) {
		hi = s.end
	}
	return lo, hi, lo.Before(hi)
}
