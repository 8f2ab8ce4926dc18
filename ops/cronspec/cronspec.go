// Package cronspec reads cron schedules — the five fields of a crontab
// line ("30 3 * * 0"), the macros (@daily, @weekly…) and pg_cron's
// "N seconds" — and says when one fires next, or last fired. pgtend uses it
// to tell a pg_cron job that has not run when due, and to check the
// crontab lines it prints. Days follow Vixie cron: when both the day of
// the month and the day of the week are restricted, either matches.
package cronspec

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Schedule is a parsed cron schedule.
type Schedule struct {
	minute, hour, dom, month, dow uint64 // bit sets
	domStar, dowStar              bool   // the field was "*" (or "*/n")
	// Every is set for pg_cron's "N seconds": it fires every N seconds
	// (the five fields are unused).
	Every time.Duration
	// Reboot: "@reboot", which never fires on a clock.
	Reboot bool
}

var macros = map[string]string{
	"@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *",
	"@weekly": "0 0 * * 0", "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *",
}

var monthNames = []string{"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"}
var dayNames = []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

// Parse reads a schedule.
func Parse(spec string) (Schedule, error) {
	s := strings.TrimSpace(spec)
	lower := strings.ToLower(s)
	if lower == "@reboot" {
		return Schedule{Reboot: true}, nil
	}
	if m, ok := macros[lower]; ok {
		s = m
	}
	if f := strings.Fields(lower); len(f) == 2 && (f[1] == "seconds" || f[1] == "second") {
		n, err := strconv.Atoi(f[0])
		if err != nil || n < 1 || n > 59 {
			return Schedule{}, fmt.Errorf("%q: pg_cron takes 1 to 59 seconds", spec)
		}
		return Schedule{Every: time.Duration(n) * time.Second}, nil
	}
	f := strings.Fields(s)
	if len(f) != 5 {
		return Schedule{}, fmt.Errorf("%q: a cron schedule has 5 fields (minute hour day-of-month month day-of-week), not %d", spec, len(f))
	}
	var sc Schedule
	var err error
	if sc.minute, err = field(f[0], 0, 59, nil); err != nil {
		return Schedule{}, fmt.Errorf("%q: minute: %w", spec, err)
	}
	if sc.hour, err = field(f[1], 0, 23, nil); err != nil {
		return Schedule{}, fmt.Errorf("%q: hour: %w", spec, err)
	}
	if sc.dom, err = field(f[2], 1, 31, nil); err != nil {
		return Schedule{}, fmt.Errorf("%q: day of month: %w", spec, err)
	}
	if sc.month, err = field(f[3], 1, 12, monthNames); err != nil {
		return Schedule{}, fmt.Errorf("%q: month: %w", spec, err)
	}
	if sc.dow, err = field(f[4], 0, 7, dayNames); err != nil {
		return Schedule{}, fmt.Errorf("%q: day of week: %w", spec, err)
	}
	if sc.dow&(1<<7) != 0 { // 7 is Sunday too
		sc.dow |= 1
	}
	sc.domStar, sc.dowStar = strings.HasPrefix(f[2], "*"), strings.HasPrefix(f[4], "*")
	return sc, nil
}

// field reads one field into a bit set of the values lo..hi it allows;
// names (jan, sun) stand for lo, lo+1, … when given.
func field(s string, lo, hi int, names []string) (uint64, error) {
	var bits uint64
	for _, part := range strings.Split(s, ",") {
		rng, stepText, hasStep := strings.Cut(part, "/")
		step := 1
		if hasStep {
			n, err := strconv.Atoi(stepText)
			if err != nil || n < 1 {
				return 0, fmt.Errorf("bad step %q", stepText)
			}
			step = n
		}
		from, to := lo, hi
		switch {
		case rng == "*":
		case strings.Contains(rng, "-"):
			a, b, _ := strings.Cut(rng, "-")
			var err error
			if from, err = value(a, lo, hi, names); err != nil {
				return 0, err
			}
			if to, err = value(b, lo, hi, names); err != nil {
				return 0, err
			}
			if from > to {
				return 0, fmt.Errorf("range %q goes backwards", rng)
			}
		default:
			v, err := value(rng, lo, hi, names)
			if err != nil {
				return 0, err
			}
			from, to = v, v
			if hasStep {
				to = hi
			}
		}
		for v := from; v <= to; v += step {
			bits |= 1 << uint(v)
		}
	}
	return bits, nil
}

func value(s string, lo, hi int, names []string) (int, error) {
	for i, n := range names {
		if strings.EqualFold(s, n) {
			return lo + i, nil
		}
	}
	v, err := strconv.Atoi(s)
	if err != nil || v < lo || v > hi {
		return 0, fmt.Errorf("%q is not a value from %d to %d", s, lo, hi)
	}
	return v, nil
}

func (sc Schedule) dayMatches(t time.Time) bool {
	dom := sc.dom&(1<<uint(t.Day())) != 0
	dow := sc.dow&(1<<uint(t.Weekday())) != 0
	if sc.domStar || sc.dowStar {
		return dom && dow
	}
	return dom || dow
}

// limit is how far Next and Prev look: a schedule that matches no day in
// five years (30 February) never fires.
const limit = 5 * 366 * 24 * time.Hour

// Next is the first time after t (to the minute, in t's location) the
// schedule fires; zero when it never does.
func (sc Schedule) Next(t time.Time) time.Time {
	if sc.Reboot {
		return time.Time{}
	}
	if sc.Every > 0 {
		return t.Truncate(sc.Every).Add(sc.Every)
	}
	loc := t.Location()
	c := time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), 0, 0, loc).Add(time.Minute)
	end := t.Add(limit)
	for c.Before(end) {
		switch {
		case sc.month&(1<<uint(c.Month())) == 0:
			c = time.Date(c.Year(), c.Month()+1, 1, 0, 0, 0, 0, loc)
		case !sc.dayMatches(c):
			c = time.Date(c.Year(), c.Month(), c.Day()+1, 0, 0, 0, 0, loc)
		case sc.hour&(1<<uint(c.Hour())) == 0:
			c = time.Date(c.Year(), c.Month(), c.Day(), c.Hour()+1, 0, 0, 0, loc)
		case sc.minute&(1<<uint(c.Minute())) == 0:
			c = c.Add(time.Minute)
		default:
			return c
		}
	}
	return time.Time{}
}

// Prev is the last time at or before t (to the minute, in t's location)
// the schedule fired; zero when it never did within five years.
func (sc Schedule) Prev(t time.Time) time.Time {
	if sc.Reboot {
		return time.Time{}
	}
	if sc.Every > 0 {
		return t.Truncate(sc.Every)
	}
	loc := t.Location()
	c := time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), 0, 0, loc)
	end := t.Add(-limit)
	for c.After(end) {
		switch {
		case sc.month&(1<<uint(c.Month())) == 0:
			c = time.Date(c.Year(), c.Month(), 1, 0, 0, 0, 0, loc).Add(-time.Minute) // the month before's last minute
		case !sc.dayMatches(c):
			c = time.Date(c.Year(), c.Month(), c.Day(), 0, 0, 0, 0, loc).Add(-time.Minute)
		case sc.hour&(1<<uint(c.Hour())) == 0:
			c = time.Date(c.Year(), c.Month(), c.Day(), c.Hour(), 0, 0, 0, loc).Add(-time.Minute)
		case sc.minute&(1<<uint(c.Minute())) == 0:
			c = c.Add(-time.Minute)
		default:
			return c
		}
	}
	return time.Time{}
}

// Period is roughly how often the schedule fires: the gap between the
// two firings after t (zero for @reboot), for judging how late a run is.
func (sc Schedule) Period(t time.Time) time.Duration {
	if sc.Every > 0 {
		return sc.Every
	}
	a := sc.Next(t)
	if a.IsZero() {
		return 0
	}
	b := sc.Next(a)
	if b.IsZero() {
		return 0
	}
	return b.Sub(a)
}
