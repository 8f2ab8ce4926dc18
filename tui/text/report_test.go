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
