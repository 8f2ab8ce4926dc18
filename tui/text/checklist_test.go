package text

import (
	"strings"
	"testing"
	"time"

	"github.com/pgtend/pgtend/ops/checklist"
	"github.com/pgtend/pgtend/ops/maint"
	"github.com/pgtend/pgtend/ops/report"
	"github.com/pgtend/pgtend/ops/state"
)

func TestChecklistSummaryLines(t *testing.T) {
	total, free0, free1 := int64(100<<30), int64(40<<30), int64(42<<30)
	start := time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)
	s := &checklist.Summary{Script: "monthly", Started: start, Finished: start.Add(95 * time.Second),
		DiskBefore: report.Disk{Visible: true, TotalBytes: &total, FreeBytes: &free0, DatabaseBytes: 50 << 30},
		DiskAfter:  report.Disk{Visible: true, TotalBytes: &total, FreeBytes: &free1, DatabaseBytes: 48 << 30},
		Steps: []checklist.StepResult{
			{Step: maint.ChecklistStep{Name: "retention", Title: "Retention cleanup"}, Outcome: maint.OutcomeOK, Rows: 10, EstimatedRows: 5000},
			{Step: maint.ChecklistStep{Name: "vacuum", Title: "VACUUM ANALYZE"}, Outcome: checklist.OutcomeDeclined, Reason: "skipped by the operator"},
			{Step: maint.ChecklistStep{Kind: maint.KindManual, Name: "retrain_models", Title: "Retrain models"}, Outcome: state.OutcomeTicked, Reason: "v7\x1b[2J"},
		}}
	out := strings.Join(ChecklistSummaryLines(s, "→"), "\n")
	for _, want := range []string{"monthly checklist: skipped", "10 deleted, ~5,000 rows", "filesystem used 60 GiB → 58 GiB (2.0 GiB freed)",
		"duration  1m35s", "skipped      VACUUM ANALYZE: skipped by the operator", "ticked off   Retrain models: v7"} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "\x1b") {
		t.Error("a control character reached the text")
	}
	note := ChecklistNote(s)
	if !strings.Contains(note, "vacuum skipped (skipped by the operator)") || !strings.Contains(note, "filesystem used 60 GiB -> 58 GiB") {
		t.Errorf("note %q", note)
	}
	if e := s.Entry("trading", "postgres", note); e.Task != checklist.Task || e.Action != "monthly" || e.BytesBefore != 50<<30 || e.Rows != 10 || e.Outcome != maint.OutcomeSkipped {
		t.Errorf("entry %+v", e)
	}
}

func TestSheetLinesSayWhyTheLogIsUnread(t *testing.T) {
	out := strings.Join(SheetLines(&checklist.Sheet{Name: maint.SheetLogs, Logs: &checklist.Logs{Reason: "logging_collector is off"}}), "\n")
	if !strings.Contains(out, "The server log cannot be read: logging_collector is off") || !strings.Contains(out, "set logging_collector = on") || strings.Contains(out, "grant") {
		t.Errorf("no collector: %s", out)
	}
	out = strings.Join(SheetLines(&checklist.Sheet{Name: maint.SheetLogs, Logs: &checklist.Logs{File: "log/x.log", Denied: true, Reason: "this role may not read server files"}}), "\n")
	if !strings.Contains(out, "GRANT EXECUTE ON FUNCTION pg_current_logfile()") {
		t.Errorf("denied: %s", out)
	}
}

func TestSheetLinesSayWhatOfTheLogWasRead(t *testing.T) {
	l := &checklist.Logs{File: "log/b.log", Files: []string{"log/a.log", "log/b.log"}, Readable: true, Via: "pg_read_file",
		Zone: "Asia/Tokyo", Note: "the server's log_line_prefix (\"[%p] \") writes no time", Total: 0, Partial: true, Skipped: 2, Budget: 8 << 20}
	out := strings.Join(SheetLines(&checklist.Sheet{Name: maint.SheetLogs, Logs: l}), "\n")
	for _, want := range []string{"and 1 older file rotated out of it since: log/a.log", "log_timezone Asia/Tokyo", "writes no time", "8.0 MiB read limit was reached", "2 older files modified since not read"} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in\n%s", want, out)
		}
	}
}

func TestSheetLinesNameColdAfter(t *testing.T) {
	out := strings.Join(SheetLines(&checklist.Sheet{Name: maint.SheetColdBackups, Cold: &checklist.ColdStorage{AfterDays: 90, BackupDir: "/b", Kept: 3}}), "\n")
	if !strings.Contains(out, "Cold storage: 0 B older than 90 days ([backup] cold_after)") || !strings.Contains(out, "3 backups or archives younger stay") {
		t.Errorf("%s", out)
	}
}

// A change smaller than the figures' rounding is said once, not as
// "185 GiB → 185 GiB (grew 680 MiB)".
func TestChecklistSummarySpaceWithinRounding(t *testing.T) {
	s := &checklist.Summary{Script: "quarterly", DiskBefore: report.Disk{Visible: true, TotalBytes: ptr(int64(252 << 30)), FreeBytes: ptr(int64(67 << 30))}}
	s.DiskAfter = s.DiskBefore
	s.DiskAfter.FreeBytes = ptr(int64(67<<30 - 300<<20))
	if got := ChecklistSummaryLines(s, "→")[2]; got != "space     filesystem used 185 GiB (grew 300 MiB)" {
		t.Errorf("%q", got)
	}
}
