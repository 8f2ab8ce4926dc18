package report

import (
	"context"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
)

// TimescaleDB's jobs: timescaledb_information.jobs with job_stats (last
// run, status, next start, totals), the latest of job_errors and when the
// failures began, and the runs pgtend made itself with CALL run_job, which
// TimescaleDB does not record (pgtend.job_runs).

// JobRunsTable is where pgtend records the jobs it ran in the foreground
// (ops/maint creates it on first use).
const JobRunsTable = "pgtend.job_runs"

// finite makes an infinite timestamp NULL (TimescaleDB says -infinity for
// "never").
func finite(expr string) string { return "CASE WHEN isfinite(" + expr + ") THEN " + expr + " END" }

func timescaleJobsQuery(withErrors bool) string {
	errorsCols := `NULL::text, NULL::text, NULL::timestamptz, NULL::timestamptz`
	errorsJoin := ""
	if withErrors {
		errorsCols = `e.err_message, e.sqlerrcode, e.finish_time,
		       (SELECT min(x.start_time) FROM timescaledb_information.job_errors x
		         WHERE x.job_id = j.job_id AND x.start_time > coalesce(` + finite("s.last_successful_finish") + `, '-infinity'))`
		errorsJoin = `LEFT JOIN LATERAL (SELECT e.err_message, e.sqlerrcode, e.finish_time FROM timescaledb_information.job_errors e
		                 WHERE e.job_id = j.job_id ORDER BY e.start_time DESC NULLS LAST LIMIT 1) e ON true`
	}
	return `
SELECT j.job_id::bigint, j.application_name::text, j.proc_schema::text, j.proc_name::text, j.owner::text, j.scheduled,
       j.schedule_interval::text, extract(epoch FROM j.schedule_interval)::float8, coalesce(j.config::text, ''),
       coalesce(ca.view_schema::text || '.' || ca.view_name::text, j.hypertable_schema::text || '.' || j.hypertable_name::text),
       ` + finite("s.last_run_started_at") + `, ` + finite("s.last_successful_finish") + `,
       coalesce(s.last_run_status::text, ''), coalesce(s.job_status::text, ''),
       coalesce(` + finite("s.next_start") + `, ` + finite("j.next_start") + `), s.total_runs::bigint, s.total_failures::bigint,
       ` + errorsCols + `
FROM timescaledb_information.jobs j
LEFT JOIN timescaledb_information.job_stats s ON s.job_id = j.job_id
LEFT JOIN timescaledb_information.continuous_aggregates ca
       ON ca.materialization_hypertable_schema = j.hypertable_schema AND ca.materialization_hypertable_name = j.hypertable_name
` + errorsJoin + `
ORDER BY j.job_id`
}

// workersQuery counts the server's background workers now: TimescaleDB's
// schedulers (of every database, and this one's), and the others that
// share max_worker_processes — not the server's own processes, nor
// TimescaleDB's launcher or its running jobs (named "… [job id]").
const workersQuery = `
SELECT count(*) FILTER (WHERE backend_type = 'TimescaleDB Background Worker Scheduler')::int,
       count(*) FILTER (WHERE backend_type = 'TimescaleDB Background Worker Scheduler' AND datname = current_database())::int,
       count(*) FILTER (WHERE backend_type NOT LIKE 'TimescaleDB%' AND backend_type !~ '\[[0-9]+\]$'
         AND backend_type NOT IN ('client backend', 'autovacuum launcher', 'autovacuum worker', 'background writer',
           'checkpointer', 'walwriter', 'archiver', 'startup', 'walreceiver', 'walsender', 'logger', 'standalone backend'))::int
FROM pg_stat_activity`

func readTimescaleJobs(ctx context.Context, conn *pgx.Conn, p jobsProbe, r *Report) error {
	ts := &TimescaleJobs{MaxWorkerProcesses: p.workerProcesses}
	if p.tsdbWorkers != nil {
		ts.MaxBackgroundWorkers, _ = strconv.Atoi(*p.tsdbWorkers)
	}
	var here int
	if err := conn.QueryRow(ctx, workersQuery).Scan(&ts.Schedulers, &here, &ts.OtherWorkers); err != nil {
		return err
	}
	ts.SchedulerHere = here > 0
	// The launcher takes one of TimescaleDB's workers, each database's
	// scheduler one more; jobs get what is left, and no more than
	// max_worker_processes leaves after everyone else.
	ts.JobSlots = min(ts.MaxBackgroundWorkers, ts.MaxWorkerProcesses-ts.OtherWorkers) - 1 - ts.Schedulers

	rows, err := conn.Query(ctx, timescaleJobsQuery(p.jobErrors))
	if err != nil {
		return err
	}
	var jobs []Job
	for rows.Next() {
		var job Job
		var id int64
		var procSchema, procName, config, status, jobStatus string
		var table, errMsg, errCode *string
		var secs float64
		var errAt *time.Time
		if err := rows.Scan(&id, &job.Name, &procSchema, &procName, &job.Owner, &job.Active,
			&job.Schedule, &secs, &config, &table, &job.LastRun, &job.LastSuccess, &status, &jobStatus,
			&job.NextStart, &job.TotalRuns, &job.TotalFailures, &errMsg, &errCode, &errAt, &job.FailingSince); err != nil {
			rows.Close()
			return err
		}
		job.Engine, job.ID, job.Table, job.Command = EngineTimescale, &id, table, config
		job.Schedule = "every " + job.Schedule
		job.every = time.Duration(secs * float64(time.Second))
		job.Kind = procName
		if procSchema != "_timescaledb_functions" && procSchema != "_timescaledb_internal" {
			job.Kind = procSchema + "." + procName
		}
		switch procName {
		case "policy_retention":
			job.Task = "retention_cleanup"
		case "policy_compression":
			job.Task = "compression_check"
		}
		if job.LastRun != nil {
			job.LastRunBy = RunByScheduler
		}
		switch {
		case jobStatus == "Running":
			job.LastStatus = "running"
		case status == "Success":
			job.LastStatus = "succeeded"
		case status == "Failed":
			job.LastStatus, job.schedulerFailed = "failed", true
		}
		if errMsg != nil {
			msg := *errMsg
			if errCode != nil && *errCode != "" {
				msg += " (" + *errCode + ")"
			}
			job.LastError, job.LastErrorAt = &msg, errAt
		}
		if job.Active {
			ts.Scheduled++
		}
		jobs = append(jobs, job)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	if p.jobRuns {
		if err := mergeJobRuns(ctx, conn, EngineTimescale, jobs); err != nil {
			return err
		}
	}
	r.Jobs.Timescale = ts
	r.Jobs.Ledger = append(r.Jobs.Ledger, jobs...)
	return nil
}

// mergeJobRuns adds the runs pgtend made itself (CALL run_job) to the
// engine's jobs: a later run is the last run, a later success the last
// success, a later failure the last error.
func mergeJobRuns(ctx context.Context, conn *pgx.Conn, engine string, jobs []Job) error {
	rows, err := conn.Query(ctx, `SELECT job_id,
		(array_agg(finished_at ORDER BY finished_at DESC))[1], (array_agg(succeeded ORDER BY finished_at DESC))[1],
		max(finished_at) FILTER (WHERE succeeded),
		(array_agg(error ORDER BY finished_at DESC) FILTER (WHERE NOT succeeded))[1], max(finished_at) FILTER (WHERE NOT succeeded)
		FROM `+JobRunsTable+` WHERE engine = $1 GROUP BY job_id`, engine)
	if err != nil {
		return err
	}
	defer rows.Close()
	byID := map[int64]*Job{}
	for i := range jobs {
		byID[*jobs[i].ID] = &jobs[i]
	}
	for rows.Next() {
		var id int64
		var last time.Time
		var ok bool
		var success, failedAt *time.Time
		var errMsg *string
		if err := rows.Scan(&id, &last, &ok, &success, &errMsg, &failedAt); err != nil {
			return err
		}
		job := byID[id]
		if job == nil {
			continue // a job since removed
		}
		if job.LastRun == nil || last.After(*job.LastRun) {
			job.LastRun, job.LastRunBy, job.LastStatus = &last, RunByPgtend, map[bool]string{true: "succeeded", false: "failed"}[ok]
		}
		if success != nil && (job.LastSuccess == nil || success.After(*job.LastSuccess)) {
			job.LastSuccess = success
		}
		if failedAt != nil && errMsg != nil && (job.LastErrorAt == nil || failedAt.After(*job.LastErrorAt)) {
			msg := *errMsg + " (CALL run_job by pgtend)"
			job.LastError, job.LastErrorAt = &msg, failedAt
			if !ok && job.FailingSince == nil {
				job.FailingSince = failedAt
			}
		}
	}
	return rows.Err()
}
