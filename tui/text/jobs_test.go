package text

import (
	"strings"
	"testing"
	"time"

	"github.com/pgtend/pgtend/ops/report"
)

// The text report ends with the job ledger: every job with its engine,
// last run and success, state and last error since when, then the
// warnings; names from the database cleaned.
func TestTextReportShowsTheJobLedger(t *testing.T) {
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	since, id, table := now.Add(-26*time.Hour), int64(1001), "public.ticks"
	msg := `cannot drop portal "" while it is being set up (24000)`
	r := &report.Report{GeneratedAt: now, Disk: report.Disk{Reason: "elsewhere"},
		Calendar: []report.CalendarItem{{Task: "retention_cleanup", Title: "Retention cleanup", Cadence: "monthly", NextDue: now, Status: "due"}},
		Jobs: report.Jobs{
			Timescale: &report.TimescaleJobs{MaxBackgroundWorkers: 16, MaxWorkerProcesses: 8, Schedulers: 1, SchedulerHere: true, JobSlots: 4, Scheduled: 1},
			Ledger: []report.Job{
				{Engine: report.EnginePgtend, Task: "retention_cleanup", Name: "by hand", State: report.JobDue},
				{Engine: report.EngineTimescale, ID: &id, Name: "Retention Policy [1001]\x1b[2J", Task: "retention_cleanup", Table: &table, Schedule: "every 1 day",
					LastRun: &since, LastError: &msg, FailingSince: &since, State: report.JobFailing, Why: "failing since 2026-11-27 10:00 UTC: " + msg},
			},
			Warnings: []report.Warning{{Code: report.WarnJobFailing, Text: "TimescaleDB job 1001 (retention of public.ticks): failing since 2026-11-27 10:00 UTC: " + msg}},
		}}
	var b strings.Builder
	if err := WriteReport(&b, r); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"Job ledger (who does each task)", "Retention cleanup", "1001 Retention Policy [1001]?[2J (public.ticks)", "failing",
		msg + " (failing since 2026-11-27 10:00 UTC)", "! TimescaleDB job 1001", "at most 4 run at once"} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in\n%s", want, out)
		}
	}
	if strings.Contains(out, "\x1b") {
		t.Error("an escape sequence from the database reached the report")
	}
}
