package checklist

import (
	"regexp"
	"strconv"
	"strings"
	"time"
)

// LogClock reads the time at the start of a server log line, as the
// server's log_line_prefix and log_timezone write it: %m and %t write the
// wall clock of log_timezone with its abbreviation (EST, JST, +04), %n the
// Unix epoch. An abbreviation alone names no offset (IST is India's and
// Ireland's), so the wall clock is read in log_timezone itself; the
// abbreviation only picks the side of a daylight-saving fold.
type LogClock struct {
	// Loc is log_timezone's location; nil when it is not known here (the
	// abbreviation is then the only hint, UTC when it names none).
	Loc *time.Location
	// Epoch: the prefix writes %n (seconds since 1970) before any %m or %t.
	Epoch bool
	// Untimed: the prefix writes no time at all (no %m, %t or %n), so a
	// line's time cannot be known and every error line is kept.
	Untimed bool
}

// NewLogClock is the clock of a server whose log_line_prefix and
// log_timezone are prefix and zone ("" when they could not be read: the
// stamp is then looked for in either form). note says what is not exact,
// "" when the clock is.
func NewLogClock(prefix, zone string, prefixKnown bool) (c LogClock, note string) {
	if prefixKnown {
		switch logPrefixTime(prefix) {
		case 'n':
			c.Epoch = true
			return c, ""
		case 0:
			c.Untimed = true
			return c, "the server's log_line_prefix (" + strconv.Quote(prefix) + ") writes no time (%m, %t or %n): the lines' times are unknown, so every error line of the files read is shown, not only those since the last review"
		}
	}
	if zone == "" {
		return c, "the server's log_timezone could not be read: line times are read by their zone abbreviation alone"
	}
	loc, err := time.LoadLocation(zone)
	if err != nil {
		return c, "the server's log_timezone " + strconv.Quote(zone) + " is not a zone known here: line times are read by their zone abbreviation alone"
	}
	c.Loc = loc
	return c, ""
}

// logPrefixTime is the first time escape of a log_line_prefix: 'm', 't'
// or 'n', 0 when it has none. %% is a literal percent sign; a padding
// width (%-10t) may come between the % and the letter.
func logPrefixTime(prefix string) byte {
	for i := 0; i < len(prefix); i++ {
		if prefix[i] != '%' {
			continue
		}
		j := i + 1
		for j < len(prefix) && (prefix[j] == '-' || prefix[j] >= '0' && prefix[j] <= '9') {
			j++
		}
		if j >= len(prefix) {
			return 0
		}
		switch prefix[j] {
		case 'm', 't', 'n':
			return prefix[j]
		}
		i = j
	}
	return 0
}

var (
	wallStampRe  = regexp.MustCompile(`(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d{1,6})?) (\S+)`)
	epochStampRe = regexp.MustCompile(`\b(\d{9,11})\.(\d{3})\b`)
)

// Time is the time line was written, false when it has none (a
// continuation line, an untimed prefix).
func (c LogClock) Time(line string) (time.Time, bool) {
	if c.Untimed {
		return time.Time{}, false
	}
	if c.Epoch {
		m := epochStampRe.FindStringSubmatch(line)
		if m == nil {
			return time.Time{}, false
		}
		sec, _ := strconv.ParseInt(m[1], 10, 64)
		ms, _ := strconv.ParseInt(m[2], 10, 64)
		return time.Unix(sec, ms*int64(time.Millisecond)), true
	}
	m := wallStampRe.FindStringSubmatch(line)
	if m == nil {
		return time.Time{}, false
	}
	wall, abbr := m[1], m[2]
	layout := "2006-01-02 15:04:05"
	if strings.Contains(wall, ".") {
		layout += ".999999"
	}
	if c.Loc == nil {
		t, err := time.Parse(layout+" MST", wall+" "+abbr)
		return t, err == nil
	}
	// The abbreviation decides only when log_timezone knows it (EST or EDT
	// on the night the clocks go back); else the wall clock is read in
	// log_timezone.
	if t, err := time.ParseInLocation(layout+" MST", wall+" "+abbr, c.Loc); err == nil && t.Location() == c.Loc {
		return t, true
	}
	t, err := time.ParseInLocation(layout, wall, c.Loc)
	return t, err == nil
}

// ErrorLines are the ERROR, FATAL and PANIC lines of a log's text at or
// after since (a line whose time cannot be read is kept: better shown
// twice than missed), the latest maxLogLines, and how many there were.
func ErrorLines(text string, since time.Time, clock LogClock) ([]string, int) {
	var out []string
	total := 0
	for _, line := range strings.Split(text, "\n") {
		if !severityRe.MatchString(line) {
			continue
		}
		if at, ok := clock.Time(line); ok && !since.IsZero() && at.Before(since) {
			continue
		}
		total++
		out = append(out, line)
		if len(out) > maxLogLines {
			out = out[1:]
		}
	}
	return out, total
}
