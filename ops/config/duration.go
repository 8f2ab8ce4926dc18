package config

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Policy ages (retention, compress_after) are whole days: that is the unit
// operators think in and what TimescaleDB policies are usually written in.
// Months and years are refused because their length varies and a user who
// writes "3 months" deserves to know whether they get 84 or 92 days.

// maxDays bounds day counts so weeks*7 and later interval arithmetic cannot
// overflow; a thousand years is beyond any real policy.
const maxDays = 366_000

var daysRe = regexp.MustCompile(`^([+-]?[0-9]+)\s*([A-Za-z]*)$`)

var dayUnits = map[string]int{
	"d": 1, "day": 1, "days": 1,
	"w": 7, "wk": 7, "wks": 7, "week": 7, "weeks": 7,
}

var ambiguousUnits = map[string]string{
	"mo": "months", "mon": "months", "mons": "months", "month": "months", "months": "months",
	"y": "years", "yr": "years", "yrs": "years", "year": "years", "years": "years",
}

// parseDays turns "90d", "90 days", "1 day", "12w" or "12 weeks" into days.
// It accepts a sign so the caller can say "must be > 0" rather than the
// less helpful "bad duration" for "-5d".
func parseDays(s string) (int, error) {
	m := daysRe.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return 0, fmt.Errorf("bad duration %q: want whole days or weeks, like \"90d\", \"90 days\" or \"12w\"", s)
	}
	unit := strings.ToLower(m[2])
	if unit == "" {
		return 0, fmt.Errorf("bad duration %q: missing unit, write \"%sd\" for days", s, m[1])
	}
	if what, ok := ambiguousUnits[unit]; ok {
		return 0, fmt.Errorf("bad duration %q: %s are ambiguous (they vary in length); use days or weeks, like \"90d\" or \"12w\"", s, what)
	}
	mult, ok := dayUnits[unit]
	if !ok {
		return 0, fmt.Errorf("bad duration %q: unit %q is not days or weeks; write e.g. \"90d\", \"90 days\" or \"12w\"", s, m[2])
	}
	n, err := strconv.Atoi(m[1])
	if err != nil || n > maxDays/mult || n < -maxDays/mult {
		return 0, fmt.Errorf("bad duration %q: out of range (at most %d days)", s, maxDays)
	}
	return n * mult, nil
}

// formatDays is the canonical spelling Encode writes; parseDays reads it back.
func formatDays(n int) string { return strconv.Itoa(n) + "d" }

// parseTimeout parses a [connection] timeout: a Go duration string > 0.
// Zero would mean "no timeout" to PostgreSQL, which is exactly what these
// settings exist to prevent, so it is refused.
func parseTimeout(s string) (time.Duration, error) {
	d, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil {
		return 0, fmt.Errorf("bad duration %q: want a Go duration like \"30s\", \"1m30s\" or \"500ms\"", s)
	}
	if d == 0 {
		return 0, fmt.Errorf("must be greater than zero (got %q): 0 would disable the timeout", s)
	}
	if d < 0 {
		return 0, fmt.Errorf("must be greater than zero (got %q)", s)
	}
	return d, nil
}
