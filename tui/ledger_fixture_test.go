package tui

import (
	"time"

	"github.com/pgtend/pgtend/ops/report"
)

// fixtureJobs is the job ledger of the fixture's calendar: TimescaleDB's
// policies (one failing as the background scheduler fails on PostgreSQL
// 15.20 with TimescaleDB 2.28.3, though run by hand it works; one late),
// pg_cron jobs (one named with an escape sequence), pg_partman's
// maintenance, a systemd timer, and pgtend's own line of each task.
func fixtureJobs() report.Jobs {
	id := func(n int64) *int64 { return &n }
	hours := func(h float64) *time.Time { return ptr(fixtureNow.Add(time.Duration(h * float64(time.Hour)))) }
	pgtend := func(task string, last *time.Time, state, why string) report.Job {
		j := report.Job{Engine: report.EnginePgtend, Kind: "history", Task: task, Name: "by hand", Active: true, LastRun: last, LastSuccess: last, State: state, Why: why}
		if last != nil {
			j.LastStatus, j.LastRunBy = "succeeded", report.RunByPgtend
		}
		return j
	}
	portal := `cannot drop portal "" while it is being set up (24000)`
	failing := report.Job{Engine: report.EngineTimescale, ID: id(1001), Name: "Retention Policy [1001]", Kind: "policy_retention", Task: "retention",
		Table: ptr("public.option_chain_snapshots"), Schedule: "every 1 day", Owner: "postgres", Active: true,
		Command: `{"drop_after": "90 days", "hypertable_id": 1}`,
		LastRun: hours(-0.3), LastRunBy: report.RunByPgtend, LastStatus: "succeeded", LastSuccess: hours(-0.3), NextStart: hours(20),
		TotalRuns: id(3), TotalFailures: id(3), LastError: &portal, LastErrorAt: hours(-4), FailingSince: hours(-52), State: report.JobFailing,
		Why: "failing since 2026-11-26 08:00 UTC (3 failed runs): " + portal + "; run by pgtend (CALL run_job) it succeeded 2026-11-28 11:42 UTC: it works by hand, not from the scheduler"}
	return report.Jobs{
		Timescale: &report.TimescaleJobs{MaxBackgroundWorkers: 16, MaxWorkerProcesses: 32, Schedulers: 1, SchedulerHere: true, OtherWorkers: 2, JobSlots: 14, Scheduled: 4},
		Cron: &report.CronJobs{Preloaded: true, Version: ptr("1.4-1"), DatabaseName: ptr("trading"), Usable: true,
			RunDetailsRows: 182_000, RunDetailsBytes: 48 * mib, RunDetailsSince: ptr(fixtureNow.AddDate(0, -6, 0))},
		Partman: &report.PartmanJobs{Version: "4.7.2", BackgroundWorker: true, Interval: ptr("3600"), Sets: []report.PartmanSet{{Parent: "public.order_book_l2", Premake: 4, Automatic: true}}},
		Timers:  []report.Timer{{Unit: "pgtend-monthly.timer", Script: "monthly", Enabled: true, Tasks: []string{"retention"}}},
		Ledger: []report.Job{
			{Engine: report.EngineSystemd, Kind: "timer", Task: "retention", Name: "pgtend-monthly.timer (pgtend run monthly)", Active: true, LastRun: at(1), LastSuccess: at(1), LastStatus: "succeeded", State: report.JobOK},
			failing,
			{Engine: report.EngineTimescale, ID: id(1002), Name: "Retention Policy [1002]", Kind: "policy_retention", Task: "retention", Table: ptr("public.ml_features"),
				Schedule: "every 1 day", Owner: "postgres", Active: true, LastRun: hours(-5), LastRunBy: report.RunByScheduler, LastStatus: "succeeded", LastSuccess: hours(-5),
				NextStart: hours(19), TotalRuns: id(40), TotalFailures: id(0), State: report.JobOK},
			{Engine: report.EngineCron, ID: id(4), Name: "pgtend-retention-public.trade_logs", Kind: "command", Task: "retention", Table: ptr("public.trade_logs"), Schedule: "30 3 * * *", Owner: "postgres", Active: true, ByPgtend: true,
				Command: "DO $pgtend$ DECLARE cutoff timestamptz := now() - make_interval(secs => 7776000); …", LastRun: hours(-8.5), LastRunBy: report.RunByScheduler, LastStatus: "succeeded",
				LastSuccess: hours(-8.5), NextStart: hours(15.5), TotalRuns: id(30), TotalFailures: id(0), State: report.JobOK},
			{Engine: report.EnginePartman, Name: "run_maintenance_proc", Kind: "run_maintenance_proc", Task: "retention", Schedule: "pg_partman_bgw every 3600 s", Active: true,
				State: report.JobUnknown, Why: "pg_partman_bgw runs it and records no runs (only the server log says when)"},
			pgtend("compress", at(1.2), report.JobOK, ""),
			{Engine: report.EngineTimescale, ID: id(1003), Name: "Columnstore Policy [1003]", Kind: "policy_compression", Task: "compress", Table: ptr("public.option_chain_snapshots"),
				Schedule: "every 12:00:00", Owner: "postgres", Active: true, LastRun: hours(-15), LastRunBy: report.RunByScheduler, LastStatus: "succeeded", LastSuccess: hours(-15),
				NextStart: hours(-3), TotalRuns: id(60), TotalFailures: id(1), State: report.JobLate, Why: "has not run when due: its next start was 2026-11-28 09:00 UTC"},
			pgtend("analyze", at(1.5), report.JobDue, "due since Fri 2026-11-27"),
			pgtend("vacuum", at(6), report.JobOK, ""),
			{Engine: report.EngineCron, ID: id(3), Name: "pgtend-vacuum", Kind: "command", Task: "vacuum", Schedule: "0 3 * * 0", Owner: "postgres", Active: true, ByPgtend: true,
				Command: `VACUUM (ANALYZE) "public"."trade_history"`, LastRun: at(6.4), LastRunBy: report.RunByScheduler, LastStatus: "succeeded", LastSuccess: at(6.4),
				NextStart: hours(15), TotalRuns: id(12), TotalFailures: id(0), State: report.JobOK},
			pgtend("backup", at(3), report.JobLate, "overdue since Thu 2026-11-26"),
			pgtend("verify", at(9), report.JobLate, "overdue since Thu 2026-11-26"),
			pgtend("reindex", nil, report.JobDue, "due since Tue 2026-12-01"),
			{Engine: report.EnginePgtend, Kind: "history", Task: "upgrade", Name: "by hand (ticked off)", Active: true, LastRun: at(80), LastSuccess: at(80), LastStatus: "succeeded", State: report.JobOK},
			{Engine: report.EngineTimescale, ID: id(1000), Name: "Refresh Continuous Aggregate Policy [1000]", Kind: "policy_refresh_continuous_aggregate", Table: ptr("public.option_chain_daily"),
				Schedule: "every 01:00:00", Owner: "postgres", Active: true, LastRun: hours(-0.5), LastRunBy: report.RunByScheduler, LastStatus: "succeeded", LastSuccess: hours(-0.5),
				NextStart: hours(0.5), TotalRuns: id(500), TotalFailures: id(0), State: report.JobOK},
			{Engine: report.EngineCron, ID: id(9), Name: evilName, Kind: "command", Schedule: "*/5 * * * *", Owner: "etl", Active: true, Command: "SELECT refresh_" + evilName + "()",
				LastRun: hours(-0.05), LastRunBy: report.RunByScheduler, LastStatus: "succeeded", LastSuccess: hours(-0.05), NextStart: hours(0.03), TotalRuns: id(2000), TotalFailures: id(0), State: report.JobOK},
		},
		Warnings: []report.Warning{
			{Schema: ptr("public"), Table: ptr("option_chain_snapshots"), Code: report.WarnJobFailing, Text: "TimescaleDB job 1001 (retention of public.option_chain_snapshots): " + failing.Why},
			{Schema: ptr("public"), Table: ptr("option_chain_snapshots"), Code: report.WarnJobLate, Text: "TimescaleDB job 1003 (compression of public.option_chain_snapshots): has not run when due: its next start was 2026-11-28 09:00 UTC"},
			{Code: report.WarnCronRunDetails, Text: "cron.job_run_details holds about 182,000 rows (48 MiB) since 2026-05-28 and nothing trims it: it grows by a row a run (`pgtend plan schedule` offers a job that keeps 30 days)"},
		},
	}
}
