package text

import (
	"strings"
	"testing"
	"time"

	"github.com/pgtend/pgtend/ops/report"
)

// Sizes read with the size functions are slow on thousands of chunks: the
// text report says how to let pgtend read the files instead.
func TestTextReportNamesTheGrantWhenSizesCameFromFunctions(t *testing.T) {
	for by, want := range map[string]bool{report.MeasuredBySizeFunctions: true, report.MeasuredByFiles: false} {
		var b strings.Builder
		r := &report.Report{MeasuredBy: by, Disk: report.Disk{Reason: "not on this host"}}
		if err := WriteReport(&b, r); err != nil {
			t.Fatal(err)
		}
		if got := strings.Contains(b.String(), "GRANT EXECUTE ON FUNCTION pg_ls_dir(text, boolean, boolean), pg_stat_file(text, boolean)"); got != want {
			t.Errorf("measured by %s: GRANT hint shown = %v, want %v\n%s", by, got, want, b.String())
		}
	}
}

// A table read in a zone says so, and its oldest day is that zone's.
func TestTextReportShowsLocalTimesInTheirZone(t *testing.T) {
	zone, col, kind := "America/New_York", "ts", report.KindTable
	oldest := time.Date(2026, 11, 2, 3, 0, 0, 0, time.UTC) // 1 November, 22:00 in New York
	r := &report.Report{Disk: report.Disk{Reason: "elsewhere"}, Tables: []report.Table{
		{Schema: "public", Name: "ticks", Kind: &kind, TimeColumn: &col, TimeZone: &zone, Oldest: &oldest},
	}}
	var b strings.Builder
	if err := WriteReport(&b, r); err != nil {
		t.Fatal(err)
	}
	if out := b.String(); !strings.Contains(out, "2026-11-01") || !strings.Contains(out, "read in time zone America/New_York") {
		t.Errorf("report:\n%s", out)
	}
}

// A continuous aggregate is shown with its source and refresh policy, and
// the database's size is reconciled: listed + each unlisted group.
func TestTextReportShowsAggregatesAndEveryByte(t *testing.T) {
	kind, total := report.KindContinuousAggregate, int64(3<<20)
	start, end := "30 days", "01:00:00"
	ran := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	r := &report.Report{GeneratedAt: ran.Add(time.Hour), Disk: report.Disk{Reason: "elsewhere"},
		Server: report.Server{DatabaseBytes: 10 << 20}, UnlistedBytes: 7 << 20,
		Unlisted: []report.UnlistedGroup{{Group: report.UnlistedSystemCatalogs, Bytes: 6 << 20, Relations: 55}, {Group: report.UnlistedFiles, Bytes: 1 << 20}},
		Tables: []report.Table{{Schema: "public", Name: "daily", Kind: &kind, TotalBytes: &total, Aggregate: &report.Aggregate{Source: "public.ticks",
			Refresh: &report.RefreshPolicy{JobID: 1000, StartOffset: &start, EndOffset: &end, Schedule: "01:00:00", Active: true, LastRun: &ran, LastStatus: "failed"}}}}}
	var b strings.Builder
	if err := WriteReport(&b, r); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"Continuous aggregates", "public.daily  public.ticks  30 days … 01:00:00 ago  every 01:00:00  1 hour ago  failed  never",
		"Every byte: listed tables 3.0 MiB + unlisted 7.0 MiB = database 10 MiB", "system catalogs: pg_catalog, information_schema (55 relations)   6.0 MiB",
		"files of no relation"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
}

// An integer-time table shows its oldest value, its retention in units,
// and what its integer_now says — or why nothing can tell what is old.
func TestTextReportShowsIntegerTime(t *testing.T) {
	kind, col, fn := report.KindHypertable, "n", "public.seq_now"
	now, oldest, cutoff, keep := int64(1000), int64(0), int64(650), int64(350)
	r := &report.Report{Disk: report.Disk{Reason: "elsewhere"}, Tables: []report.Table{
		{Schema: "public", Name: "seq_ticks", Kind: &kind, TimeColumn: &col, IntegerRetention: &keep,
			IntegerTime: &report.IntegerTime{ColumnType: "bigint", IntegerNow: &fn, Now: &now, Oldest: &oldest, Cutoff: &cutoff}},
		{Schema: "public", Name: "raw_seq", Kind: &kind, TimeColumn: &col, IntegerTime: &report.IntegerTime{ColumnType: "integer"}},
	}}
	var b strings.Builder
	if err := WriteReport(&b, r); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"350 units", "public.seq_ticks: integer time (n bigint): public.seq_now() = 1000, chunks ending by 650 are past retention",
		"public.raw_seq: integer time (n integer): no integer_now function: nothing says which values are old, retention is refused"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
}
