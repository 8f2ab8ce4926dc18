package text

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/dustin/go-humanize"
	"github.com/pgtend/pgtend/ops/report"
)

// Bytes formats a byte count the way operators read sizes: IEC units
// ("1.2 GiB") like pg_size_pretty, "—" when unknown.
func Bytes(n *int64) string { return BytesOr(n, "—") }

// bytesOr is Bytes with the console's glyph for an unknown figure.
func BytesOr(n *int64, unknown string) string {
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

// Day formats a time as a date in loc (nil for UTC).
func Day(t *time.Time, loc *time.Location) string {
	if t == nil {
		return "—"
	}
	return t.In(utcOr(loc)).Format("2006-01-02")
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
func Ratio(before, after *int64) string { return RatioOr(before, after, "—") }

func RatioOr(before, after *int64, unknown string) string {
	if before == nil || after == nil || *after == 0 {
		return unknown
	}
	return fmt.Sprintf("%.1fx", float64(*before)/float64(*after))
}

// stringOr is *s, or unknown when there is none.
func StringOr(s *string, unknown string) string {
	if s == nil {
		return unknown
	}
	return *s
}

// RangeText shows a chunk's or partition's bound in loc (its table's
// zone; nil for UTC): a date when it is a midnight there (daily chunks and
// partitions), with the time otherwise, or the integer of an
// integer-partitioned table.
func RangeText(t *time.Time, i *int64, loc *time.Location, unknown string) string {
	switch {
	case t != nil && Midnight(*t, loc):
		return t.In(utcOr(loc)).Format("2006-01-02")
	case t != nil:
		return t.In(utcOr(loc)).Format("2006-01-02 15:04")
	case i != nil:
		return fmt.Sprint(*i)
	}
	return unknown
}

// Midnight says whether t is a midnight in loc: RangeText shows it as a date.
func Midnight(t time.Time, loc *time.Location) bool {
	h, m, s := t.In(utcOr(loc)).Clock()
	return h == 0 && m == 0 && s == 0
}

func utcOr(loc *time.Location) *time.Location {
	if loc == nil {
		return time.UTC
	}
	return loc
}

// OneLine folds white space, line breaks included, to single spaces.
func OneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// Plural is "1 table", "2 tables".
func Plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return Count(int64(n)) + " " + noun + "s"
}

// TableRetention is a table's retention: in days, or for an integer time
// column in its units ("350 units").
func TableRetention(t report.Table) string {
	if t.IntegerRetention != nil && !t.Permanent {
		return Count(*t.IntegerRetention) + " units"
	}
	return Retention(t.RetentionDays, t.Permanent)
}

// TableOldest is a table's oldest row: its day, or an integer time
// column's smallest value.
func TableOldest(t report.Table) string {
	if t.IntegerTime != nil && t.IntegerTime.Oldest != nil {
		return strconv.FormatInt(*t.IntegerTime.Oldest, 10)
	}
	return Day(t.Oldest, t.Location())
}
