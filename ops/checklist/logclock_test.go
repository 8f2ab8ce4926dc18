package checklist

import (
	"strings"
	"testing"
	"time"
)

// A line's stamp is log_timezone's wall clock: the cut-off is the same
// instant whatever zone the server logs in.
func TestLogClockReadsTheServersZone(t *testing.T) {
	since := time.Date(2026, 12, 1, 15, 0, 0, 0, time.UTC) // 10:00 in New York, 00:00 the 2nd in Tokyo
	for _, c := range []struct {
		zone, before, after string
	}{
		{"America/New_York", "2026-12-01 09:59:59.999 EST", "2026-12-01 10:00:00.001 EST"},
		{"Asia/Tokyo", "2026-12-01 23:59:59 JST", "2026-12-02 00:00:01 JST"},
		{"Asia/Dubai", "2026-12-01 18:59:59.500 +04", "2026-12-01 19:00:00.000 +04"},
		{"Asia/Kolkata", "2026-12-01 20:29:59 IST", "2026-12-01 20:30:00 IST"}, // IST is Ireland's too
	} {
		clock, note := NewLogClock("%m [%p] ", c.zone, true)
		if note != "" || clock.Loc == nil {
			t.Fatalf("%s: note %q", c.zone, note)
		}
		log := c.before + " [7] ERROR:  before the cut-off\n" + c.after + " [7] ERROR:  after the cut-off\n"
		lines, n := ErrorLines(log, since, clock)
		if n != 1 || !strings.Contains(lines[0], "after the cut-off") {
			t.Errorf("%s: %d %q", c.zone, n, lines)
		}
	}
}

// On the night New York's clocks go back, 01:30 happens twice: the
// abbreviation tells which.
func TestLogClockFold(t *testing.T) {
	clock, _ := NewLogClock("%t ", "America/New_York", true)
	edt, _ := clock.Time("2026-11-01 01:30:00 EDT [1] ERROR:  x")
	est, _ := clock.Time("2026-11-01 01:30:00 EST [1] ERROR:  x")
	if est.Sub(edt) != time.Hour || !edt.Equal(time.Date(2026, 11, 1, 5, 30, 0, 0, time.UTC)) {
		t.Errorf("EDT %s, EST %s", edt.UTC(), est.UTC())
	}
}

func TestLogClockPrefixes(t *testing.T) {
	at := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	epoch, note := NewLogClock("%u@%d %n ", "Asia/Tokyo", true)
	if !epoch.Epoch || note != "" {
		t.Fatalf("%%n: %+v %q", epoch, note)
	}
	if got, ok := epoch.Time("app@db 1796126400.250 ERROR:  x"); !ok || !got.Equal(at.Add(250*time.Millisecond)) {
		t.Errorf("epoch: %s %v", got.UTC(), ok)
	}
	untimed, note := NewLogClock("[%p] %q%u@%d ", "UTC", true)
	if !untimed.Untimed || !strings.Contains(note, "writes no time") {
		t.Errorf("no time: %+v %q", untimed, note)
	}
	log := "[9] ERROR:  one\n[9] ERROR:  two 2026-01-01 00:00:00 UTC\n"
	if _, n := ErrorLines(log, at, untimed); n != 2 {
		t.Errorf("untimed lines are all kept: %d", n)
	}
	if c, _ := NewLogClock("100%% %-30t", "UTC", true); c.Untimed || c.Epoch {
		t.Errorf("%%%% and a padded %%t: %+v", c)
	}
	if c, _ := NewLogClock("%%t", "UTC", true); !c.Untimed {
		t.Errorf("%%%%t is a literal: %+v", c)
	}
	if c, note := NewLogClock("%m ", "Nowhere/Atlantis", true); c.Loc != nil || !strings.Contains(note, "not a zone known here") {
		t.Errorf("unknown zone: %+v %q", c, note)
	}
}
