package config

import (
	"strings"
	"testing"
	"time"
)

func TestParseDays(t *testing.T) {
	good := map[string]int{
		"90d": 90, "90 days": 90, "1 day": 1, "12w": 84, "12 weeks": 84, "1 week": 7,
		" 7d ": 7, "7D": 7, "0d": 0, "-5d": -5, "+3d": 3,
	}
	for in, want := range good {
		got, err := parseDays(in)
		if err != nil || got != want {
			t.Errorf("parseDays(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	bad := map[string]string{
		"90x":                "not days or weeks",
		"ninety days":        "want whole days or weeks",
		"3 months":           "months are ambiguous",
		"3mo":                "months are ambiguous",
		"1 year":             "years are ambiguous",
		"90":                 "missing unit",
		"48h":                "not days or weeks",
		"1.5d":               "want whole days or weeks",
		"":                   "want whole days or weeks",
		"99999999999999999d": "out of range",
		"60000w":             "out of range",
	}
	for in, want := range bad {
		_, err := parseDays(in)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("parseDays(%q) error = %v; want it to mention %q", in, err, want)
		}
	}
}

func TestParseTimeout(t *testing.T) {
	if d, err := parseTimeout("1m30s"); err != nil || d != 90*time.Second {
		t.Errorf("parseTimeout(1m30s) = %v, %v", d, err)
	}
	for in, want := range map[string]string{"30": "bad duration", "soon": "bad duration", "0s": "greater than zero", "-1s": "greater than zero"} {
		if _, err := parseTimeout(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("parseTimeout(%q) error = %v; want %q", in, err, want)
		}
	}
}

func TestParseGrowth(t *testing.T) {
	good := map[string]int64{
		"50 MB/day": 50_000_000, "50MB/day": 50_000_000, "50 MB": 50_000_000, "50 mb / Day": 50_000_000,
		"100 KB/day": 100_000, "500 KiB/day": 512_000, "1.5 GB/day": 1_500_000_000,
		"52428800 B/day": 52428800, "0 B/day": 0, "1,000 B": 1000,
	}
	for in, want := range good {
		got, err := parseGrowth(in)
		if err != nil || got != want {
			t.Errorf("parseGrowth(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	bad := map[string]string{
		"fifty MB/day": "bad size", "50 MB/hour": "per day", "-5 MB/day": "negative",
		"": "bad size", "/day": "bad size", "50 parsecs": "bad size", "99 EB/day": "too large",
	}
	for in, want := range bad {
		if _, err := parseGrowth(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("parseGrowth(%q) error = %v; want %q", in, err, want)
		}
	}
}

func TestFormatGrowthRoundTrips(t *testing.T) {
	want := map[int64]string{
		50_000_000: "50 MB/day", 100_000: "100 kB/day", 52428800: "50 MiB/day",
		52428801: "52428801 B/day", 7: "7 B/day", 1_500_000: "1.5 MB/day",
	}
	for n, s := range want {
		if got := formatGrowth(n); got != s {
			t.Errorf("formatGrowth(%d) = %q, want %q", n, got, s)
		}
	}
	for _, n := range []int64{1, 9, 10, 999, 1000, 1023, 1024, 123456789, 1 << 40, 1<<62 + 1, 9_223_372_036_854_775_807} {
		back, err := parseGrowth(formatGrowth(n))
		if err != nil || back != n {
			t.Errorf("parseGrowth(formatGrowth(%d) = %q) = %d, %v", n, formatGrowth(n), back, err)
		}
	}
}
