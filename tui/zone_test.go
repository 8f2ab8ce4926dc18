package tui

import (
	"strings"
	"testing"
	"time"

	"github.com/pgtend/pgtend/ops/report"
)

// A table whose time column is a timestamp read in New York: the Chunks
// pane draws its ranges there (its midnights as dates) and says so.
func TestChunksOfLocalTimesAreDrawnInTheirZone(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	zone := "America/New_York"
	edit := func(r *report.Report) *report.Report {
		for i := range r.Tables {
			if r.Tables[i].Name == "ml_features" {
				r.Tables[i].TimeZone = &zone
			}
		}
		day := 0
		for i := range r.Chunks {
			if r.Chunks[i].Table == "ml_features" {
				// Each chunk one New York day, as the report reads it.
				from := time.Date(2026, 11, 1, 0, 0, 0, 0, ny).AddDate(0, 0, day)
				day++
				to := from.AddDate(0, 0, 1)
				r.Chunks[i].RangeStart, r.Chunks[i].RangeEnd = &from, &to
			}
		}
		return r
	}
	m, _ := newTestModel(&fakeDB{edit: edit})
	start(t, m, 80, 24)
	press(m, "j", "j", "enter") // ml_features' chunks
	wants(t, m, "times in America/New_York", "2026-11-01", "2026-11-02")
	if v := plain(t, m); strings.Contains(v, "04:00") || strings.Contains(v, "05:00") {
		t.Errorf("ranges drawn in UTC:\n%s", v)
	}
}
