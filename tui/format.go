package tui

import (
	"fmt"
	"strconv"
	"time"

	"github.com/dustin/go-humanize"
)

// Bytes formats a byte count the way operators read sizes: IEC units
// ("1.2 GiB") like pg_size_pretty, "—" when unknown.
func Bytes(n *int64) string { return bytesOr(n, "—") }

// bytesOr is Bytes with the console's glyph for an unknown figure.
func bytesOr(n *int64, unknown string) string {
	if n == nil {
		return unknown
	}
	return BytesOf(*n)
}

// BytesOf formats a known byte count.
func BytesOf(n int64) string {
	if n < 0 {
		return "-" + humanize.IBytes(uint64(-n))
	}
	return humanize.IBytes(uint64(n))
}

// Count formats a row count with thousands separators.
func Count(n int64) string { return humanize.Comma(n) }

// Ago formats a past time relative to now ("3 hours ago"), "never" when nil.
func Ago(t *time.Time, now time.Time) string {
	if t == nil {
		return "never"
	}
	return humanize.RelTime(*t, now, "ago", "from now")
}

// Day formats a time as a date in UTC.
func Day(t *time.Time) string {
	if t == nil {
		return "—"
	}
	return t.UTC().Format("2006-01-02")
}

// Retention formats a retention policy.
func Retention(days *int, permanent bool) string {
	switch {
	case permanent:
		return "permanent"
	case days == nil:
		return "none"
	default:
		return strconv.Itoa(*days) + "d"
	}
}

// Ratio formats a compression ratio before/after ("7.5x").
func Ratio(before, after *int64) string { return ratioOr(before, after, "—") }

func ratioOr(before, after *int64, unknown string) string {
	if before == nil || after == nil || *after == 0 {
		return unknown
	}
	return fmt.Sprintf("%.1fx", float64(*before)/float64(*after))
}

// stringOr is *s, or unknown when there is none.
func stringOr(s *string, unknown string) string {
	if s == nil {
		return unknown
	}
	return *s
}
