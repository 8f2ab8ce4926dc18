package cronspec

import (
	"testing"
	"time"
)

func TestNextPrev(t *testing.T) {
	at := func(s string) time.Time {
		v, err := time.Parse("2006-01-02 15:04", s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	cases := []struct {
		spec, from, next, prev string
	}{
		{"30 3 * * 0", "2026-11-28 12:00", "2026-11-29 03:30", "2026-11-22 03:30"},    // Sundays
		{"0 3 * * 7", "2026-11-29 03:00", "2026-12-06 03:00", "2026-11-29 03:00"},     // 7 is Sunday; at the minute it fires, Prev is now
		{"*/15 * * * *", "2026-11-28 12:07", "2026-11-28 12:15", "2026-11-28 12:00"},  // steps
		{"0 0 1 * *", "2026-12-31 23:59", "2027-01-01 00:00", "2026-12-01 00:00"},     // year boundary
		{"@daily", "2026-03-01 00:00", "2026-03-02 00:00", "2026-03-01 00:00"},        // macro
		{"0 3 1-7 * 6", "2026-11-10 00:00", "2026-11-14 03:00", "2026-11-07 03:00"},   // Vixie: day 1-7 OR Saturday
		{"0 12 29 feb *", "2026-03-01 00:00", "2028-02-29 12:00", "2024-02-29 12:00"}, // leap days only
		{"0 9-17/4 * jan-mar mon-fri", "2026-01-02 18:00", "2026-01-05 09:00", "2026-01-02 17:00"},
	}
	for _, c := range cases {
		sc, err := Parse(c.spec)
		if err != nil {
			t.Fatalf("%s: %v", c.spec, err)
		}
		if got := sc.Next(at(c.from)); !got.Equal(at(c.next)) {
			t.Errorf("%s: Next(%s) = %s, want %s", c.spec, c.from, got, c.next)
		}
		if got := sc.Prev(at(c.from)); !got.Equal(at(c.prev)) {
			t.Errorf("%s: Prev(%s) = %s, want %s", c.spec, c.from, got, c.prev)
		}
	}
}

func TestParseRefuses(t *testing.T) {
	for _, spec := range []string{"", "* * * *", "60 * * * *", "* 24 * * *", "* * 0 * *", "* * * 13 *", "* * * * 8", "5-1 * * * *", "*/0 * * * *", "x * * * *", "0 seconds", "@sometimes"} {
		if _, err := Parse(spec); err == nil {
			t.Errorf("%q parsed", spec)
		}
	}
}

func TestSecondsAndReboot(t *testing.T) {
	sc, err := Parse("30 seconds")
	if err != nil || sc.Every != 30*time.Second {
		t.Fatalf("30 seconds: %v %v", sc, err)
	}
	sc, err = Parse("@reboot")
	if err != nil || !sc.Reboot || !sc.Next(time.Now()).IsZero() {
		t.Fatalf("@reboot: %v %v", sc, err)
	}
	if p := mustParse(t, "0 3 * * 0").Period(time.Now()); p != 7*24*time.Hour {
		t.Errorf("weekly period %v", p)
	}
}

func mustParse(t *testing.T, s string) Schedule {
	sc, err := Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return sc
}
