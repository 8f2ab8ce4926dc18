package text

import (
	"fmt"
	"strings"

	"github.com/pgtend/pgtend/ops/report"
)

// writeJobs prints the job ledger: who does each calendar task, when it
// last succeeded, its state and last error, then the warnings of the jobs
// (failing first) and what each engine is here.
func writeJobs(b *strings.Builder, r *report.Report) {
	j := r.Jobs
	if len(j.Ledger) == 0 {
		return
	}
	b.WriteString("\nJob ledger (who does each task)\n")
	titles := map[string]string{"": "(no task)"}
	for _, c := range r.Calendar {
		titles[c.Task] = c.Title
	}
	rows := [][]string{{"TASK", "ENGINE", "JOB", "SCHEDULE", "LAST RUN", "LAST OK", "NEXT", "STATE", "LAST ERROR"}}
	prev := "\x00"
	for _, job := range j.Ledger {
		task := ""
		if job.Task != prev {
			task, prev = Clean(titles[job.Task]), job.Task
		}
		name := job.Name
		if job.ID != nil {
			name = fmt.Sprintf("%d %s", *job.ID, name)
		}
		if job.Table != nil {
			name += " (" + *job.Table + ")"
		}
		next := "—"
		if job.NextStart != nil {
			next = job.NextStart.UTC().Format("2006-01-02 15:04")
		}
		lastErr := "—"
		if job.LastError != nil {
			lastErr = OneLine(*job.LastError)
			if job.FailingSince != nil {
				lastErr += " (failing since " + job.FailingSince.UTC().Format("2006-01-02 15:04 UTC") + ")"
			}
		}
		rows = append(rows, []string{task, job.Engine, Clean(name), Clean(OrDash(job.Schedule)), Ago(job.LastRun, r.GeneratedAt), Ago(job.LastSuccess, r.GeneratedAt),
			next, job.State, Clean(lastErr)})
	}
	writeTable(b, rows, nil)
	for _, w := range j.Warnings {
		fmt.Fprintf(b, "  ! %s\n", Clean(OneLine(w.Text)))
	}
	if ts := j.Timescale; ts != nil {
		fmt.Fprintf(b, "  TimescaleDB: %d jobs scheduled here, at most %d run at once (timescaledb.max_background_workers %d, max_worker_processes %d, %s)\n",
			ts.Scheduled, max(ts.JobSlots, 0), ts.MaxBackgroundWorkers, ts.MaxWorkerProcesses, Plural(ts.Schedulers, "scheduler"))
	}
	if c := j.Cron; c != nil {
		if c.Usable {
			fmt.Fprintf(b, "  pg_cron %s: cron.job_run_details about %s rows (%s)", Clean(StringOr(c.Version, "?")), Count(c.RunDetailsRows), BytesOf(c.RunDetailsBytes))
			if c.RunDetailsSince != nil {
				fmt.Fprintf(b, " since %s", c.RunDetailsSince.UTC().Format("2006-01-02"))
			}
			if !c.Trimmed {
				b.WriteString(", trimmed by no job")
			}
			b.WriteString("\n")
		} else {
			fmt.Fprintf(b, "  pg_cron: %s\n", Clean(c.Problem))
		}
	}
	if pm := j.Partman; pm != nil {
		for _, s := range pm.Sets {
			ahead := "?"
			if s.Ahead != nil {
				ahead = fmt.Sprint(*s.Ahead)
			}
			fmt.Fprintf(b, "  pg_partman %s: premake %d, %s partitions ahead, automatic maintenance %s\n", Clean(s.Parent), s.Premake, ahead, map[bool]string{true: "on", false: "off"}[s.Automatic])
		}
	}
}

// OrDash is s, or "—" when empty.
func OrDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}
