package report

import (
	"context"
	"regexp"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pgtend/pgtend/ops/cronspec"
)

// pg_cron: cron.job, and cron.job_run_details for each job's last run,
// last success, last error and failures. pg_cron keeps its jobs in one
// database per server (cron.database_name); from any other, pgtend says
// where they are. job_run_details has no index but its runid: only the
// newest runDetailsWindow runs are read.

// runDetailsWindow bounds the runs read per report.
const runDetailsWindow = 50_000

// Job names pgtend gives the pg_cron jobs it installs.
const (
	CronRetentionPrefix = PgtendJobPrefix + "retention-" // + schema.table
	CronVacuumJob       = PgtendJobPrefix + "vacuum"
	CronTrimJob         = PgtendJobPrefix + "cron-trim"
)

var (
	vacuumCommand  = regexp.MustCompile(`(?i)^\s*vacuum\b`)
	trimCommand    = regexp.MustCompile(`(?i)\bdelete\s+from\s+cron\.job_run_details\b`)
	partmanCommand = regexp.MustCompile(`(?i)\brun_maintenance(_proc)?\b`)
)

const cronJobsQuery = `
WITH recent AS MATERIALIZED (
	SELECT jobid, runid, status, return_message, start_time, end_time FROM cron.job_run_details
	WHERE runid > (SELECT coalesce(max(runid), 0) FROM cron.job_run_details) - $1),
agg AS (
	SELECT jobid, (array_agg(runid ORDER BY start_time DESC NULLS LAST, runid DESC))[1] AS last_runid,
	       max(end_time) FILTER (WHERE status = 'succeeded') AS last_ok,
	       count(*) AS runs, count(*) FILTER (WHERE status = 'failed') AS failures,
	       (array_agg(runid ORDER BY start_time DESC NULLS LAST, runid DESC) FILTER (WHERE status = 'failed'))[1] AS last_failed
	FROM recent GROUP BY jobid),
since AS (
	SELECT r.jobid, min(r.start_time) AS since FROM recent r JOIN agg a USING (jobid)
	WHERE r.status = 'failed' AND r.start_time > coalesce(a.last_ok, '-infinity') GROUP BY r.jobid)
SELECT j.jobid, coalesce(to_jsonb(j)->>'jobname', ''), j.schedule, j.command, j.database, j.username, j.active,
       l.start_time, coalesce(l.status, ''), a.last_ok, a.runs, a.failures, f.return_message, f.end_time, s.since
FROM cron.job j
LEFT JOIN agg a ON a.jobid = j.jobid
LEFT JOIN recent l ON l.runid = a.last_runid
LEFT JOIN recent f ON f.runid = a.last_failed
LEFT JOIN since s ON s.jobid = j.jobid
ORDER BY j.jobid`

func readCron(ctx context.Context, conn *pgx.Conn, p jobsProbe, r *Report) error {
	// A role that may not read the settings is told pg_cron is preloaded
	// for this database when its extension is here (it was created where
	// cron.database_name said).
	preloaded := p.preload != nil && preloads(*p.preload, "pg_cron") || p.preload == nil && p.cronVersion != nil
	if !preloaded && p.cronVersion == nil && !p.cronAvailable {
		return nil // no pg_cron on this server
	}
	c := &CronJobs{Preloaded: preloaded, Version: p.cronVersion, OwnOnly: !p.superuse}
	switch {
	case preloaded && p.cronDatabase != nil:
		c.DatabaseName = p.cronDatabase
	case preloaded && p.cronVersion != nil:
		c.DatabaseName = &p.database
	}
	r.Jobs.Cron = c
	here := p.database
	switch {
	case !preloaded && p.preload == nil:
		c.Problem = "pg_cron is installed on the server; this role may not read shared_preload_libraries to tell whether it is loaded (pg_read_all_settings)"
		return nil
	case !preloaded:
		c.Problem = "pg_cron is installed on the server but not in shared_preload_libraries: add it there, with cron.database_name = '" + here + "', and restart PostgreSQL to schedule jobs in this database"
		return nil
	case c.DatabaseName != nil && *c.DatabaseName != here:
		c.Problem = "pg_cron keeps its jobs in database " + *c.DatabaseName + " (cron.database_name), not in " + here +
			": connect pgtend to " + *c.DatabaseName + " to see and schedule them, or set cron.database_name = '" + here + "' and restart (one database per server)"
		return nil
	case p.cronVersion == nil:
		c.Problem = "pg_cron is preloaded for this database but its extension is not created here: CREATE EXTENSION pg_cron (`pgtend plan schedule` offers it)"
		return nil
	}
	c.Usable = true
	// The catalog's estimate, or before the table was ever analyzed a count
	// (stopping at 100,000).
	if err := conn.QueryRow(ctx, `SELECT CASE WHEN c.reltuples >= 0 THEN c.reltuples::bigint
		  ELSE (SELECT count(*) FROM (SELECT 1 FROM cron.job_run_details LIMIT 100000) x) END, pg_total_relation_size(c.oid),
		(SELECT start_time FROM cron.job_run_details ORDER BY runid LIMIT 1)
		FROM pg_class c WHERE c.oid = 'cron.job_run_details'::regclass`).Scan(&c.RunDetailsRows, &c.RunDetailsBytes, &c.RunDetailsSince); err != nil {
		return err
	}
	rows, err := conn.Query(ctx, cronJobsQuery, runDetailsWindow)
	if err != nil {
		return err
	}
	defer rows.Close()
	zone := time.UTC // pg_cron before 1.5 reads schedules in GMT; 1.5+ in cron.timezone
	if p.cronZone != nil {
		if loc, err := time.LoadLocation(*p.cronZone); err == nil {
			zone = loc
		}
	}
	now := r.GeneratedAt.In(zone)
	for rows.Next() {
		var job Job
		var id int64
		var database, status string
		var runs, failures *int64
		var errMsg *string
		var errAt *time.Time
		if err := rows.Scan(&id, &job.Name, &job.Schedule, &job.Command, &database, &job.Owner, &job.Active,
			&job.LastRun, &status, &job.LastSuccess, &runs, &failures, &errMsg, &errAt, &job.FailingSince); err != nil {
			return err
		}
		job.Engine, job.ID, job.Kind, job.TotalRuns, job.TotalFailures = EngineCron, &id, "command", runs, failures
		if job.Name == "" {
			job.Name = "job " + job.Schedule
		}
		if database != here {
			job.Name += " (in " + database + ")"
		}
		job.ByPgtend = strings.HasPrefix(job.Name, PgtendJobPrefix)
		switch {
		case strings.HasPrefix(job.Name, CronRetentionPrefix):
			t := strings.TrimPrefix(job.Name, CronRetentionPrefix)
			job.Task, job.Table = "retention_cleanup", &t
		case job.Name == CronVacuumJob, vacuumCommand.MatchString(job.Command):
			job.Task = "vacuum_analyze"
		case partmanCommand.MatchString(job.Command):
			job.Kind = "run_maintenance_proc"
		}
		if job.Active && trimCommand.MatchString(job.Command) {
			c.Trimmed = true
		}
		switch status {
		case "":
		case "succeeded":
			job.LastStatus = "succeeded"
		case "failed":
			job.LastStatus = "failed"
		default: // starting, connecting, sending, running
			job.LastStatus = "running"
		}
		if job.LastRun != nil {
			job.LastRunBy = RunByScheduler
		}
		if errMsg != nil {
			msg := strings.TrimSpace(*errMsg)
			job.LastError, job.LastErrorAt = &msg, errAt
		}
		if sc, err := cronspec.Parse(job.Schedule); err == nil {
			if next := sc.Next(now); !next.IsZero() {
				job.NextStart = &next
			}
			job.every = sc.Period(now)
			// Late: it ran before, and not since the last time it was due
			// (a job never run may be newer than its last due time).
			if due := sc.Prev(now.Add(-lateGrace(&job))); job.Active && job.LastRun != nil && !due.IsZero() && job.LastRun.Before(due) {
				job.preset = JobLate
				job.presetWhy = "has not run since it was due at " + due.UTC().Format("2006-01-02 15:04 UTC") + " (is the pg_cron launcher running? cron.max_running_jobs?)"
			}
		}
		r.Jobs.Ledger = append(r.Jobs.Ledger, job)
	}
	return rows.Err()
}

// preloads says whether shared_preload_libraries lists lib.
func preloads(setting, lib string) bool {
	for _, l := range strings.Split(setting, ",") {
		l = strings.Trim(strings.TrimSpace(l), `"`)
		if l == lib || strings.HasSuffix(l, "/"+lib) {
			return true
		}
	}
	return false
}
