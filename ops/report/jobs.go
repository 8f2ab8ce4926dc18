package report

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/dustin/go-humanize"
	"github.com/jackc/pgx/v5"
	"github.com/pgtend/pgtend/ops/calendar"
)

// The job ledger: who does each task of the maintenance calendar, and how
// it went. pgtend hands the recurring parts to the schedulers that already
// run next to the database — TimescaleDB's jobs, pg_cron, pg_partman's
// maintenance — or to a timer that runs `pgtend run weekly|monthly`; what
// none of them does is pgtend's, by hand. For every job the ledger says when
// it last ran and last succeeded, its last error and since when it fails:
// a job whose runs fail is never shown as installed and fine.
//
// One query per engine that is there (TimescaleDB's views, pg_cron's
// tables, pg_partman's part_config), plus one that probes the settings.

// Engines (Job.Engine).
const (
	EngineTimescale = "timescaledb"
	EngineCron      = "pg_cron"
	EnginePartman   = "pg_partman"
	EngineSystemd   = "systemd" // a timer on this host that runs pgtend
	EnginePgtend    = "pgtend"  // pgtend, by hand (or by a timer pgtend cannot see)
)

// Job states (Job.State), worst first as the ledger sorts its warnings.
const (
	JobFailing     = "failing"      // its last run failed
	JobCannotStart = "cannot_start" // no background worker is free to start it
	JobLate        = "late"         // it has not run when it was due
	JobUnscheduled = "unscheduled"  // nothing runs it
	JobDue         = "due"          // pgtend's own task, due now (the calendar's status)
	JobRunning     = "running"
	JobPaused      = "paused"  // installed, not scheduled (inactive)
	JobPending     = "pending" // scheduled, never ran yet, not late
	JobUnknown     = "unknown" // nothing tells when it ran
	JobOK          = "ok"
)

// Who ran a job's last run (Job.LastRunBy).
const (
	RunByScheduler = "scheduler" // the engine's own scheduler (TimescaleDB's, pg_cron's)
	RunByPgtend    = "pgtend"    // pgtend ran it in the foreground (CALL run_job), recorded in pgtend.job_runs
)

// Warning codes of the ledger (Jobs.Warnings).
const (
	WarnJobFailing       = "job_failing"
	WarnJobLate          = "job_late"
	WarnJobsCannotStart  = "jobs_cannot_start"
	WarnJobsFewWorkers   = "jobs_few_workers"
	WarnJobsUnreadable   = "jobs_unreadable"
	WarnCronRunDetails   = "cron_run_details_growing"
	WarnPartmanUnsched   = "partman_unscheduled"
	WarnPartmanBehind    = "partman_behind"
	WarnCronNotPreloaded = "cron_not_preloaded"
)

// PgtendJobPrefix starts the name of every pg_cron job pgtend installs
// (`pgtend plan schedule`), so the ledger knows them and their tasks.
const PgtendJobPrefix = "pgtend-"

// Jobs is the job ledger of a report.
type Jobs struct {
	// Timescale is TimescaleDB's job scheduler: its workers; nil when the
	// extension is not in this database.
	Timescale *TimescaleJobs `json:"timescaledb"`
	// Cron is pg_cron as this database sees it; nil when the server has no
	// pg_cron at all.
	Cron *CronJobs `json:"pg_cron"`
	// Partman is pg_partman's maintenance; nil when not in this database.
	Partman *PartmanJobs `json:"pg_partman"`
	// Timers are pgtend's systemd timers on the host pgtend runs on.
	Timers []Timer `json:"timers"`
	// Ledger is every job, in the calendar's task order (Task "" last:
	// jobs that do no task of the calendar), each task's pgtend line first.
	Ledger   []Job     `json:"ledger"`
	Warnings []Warning `json:"warnings"`

	failures map[string]historyFailure // pgtend.history's latest failed run per task
}

// TimescaleJobs are TimescaleDB's scheduler's means.
type TimescaleJobs struct {
	MaxBackgroundWorkers int `json:"max_background_workers"` // timescaledb.max_background_workers
	MaxWorkerProcesses   int `json:"max_worker_processes"`
	// Schedulers are TimescaleDB's schedulers running now, one per database
	// with the extension (of the whole server).
	Schedulers int `json:"schedulers"`
	// SchedulerHere: this database's scheduler runs; without it no job here
	// starts.
	SchedulerHere bool `json:"scheduler_here"`
	// OtherWorkers are the server's other background workers now (pg_cron,
	// parallel query, logical replication): they share max_worker_processes.
	OtherWorkers int `json:"other_workers"`
	// JobSlots is how many jobs can run at once: what the launcher and the
	// schedulers leave of timescaledb.max_background_workers, or of
	// max_worker_processes when that is less.
	JobSlots int `json:"job_slots"`
	// Scheduled counts this database's scheduled jobs.
	Scheduled int `json:"scheduled"`
}

// CronJobs is pg_cron as seen from this database.
type CronJobs struct {
	Preloaded bool `json:"preloaded"` // in shared_preload_libraries
	// Version is the extension's in this database, nil when not created here.
	Version *string `json:"version"`
	// DatabaseName is cron.database_name: the one database pg_cron keeps
	// its jobs in (nil when the library is not loaded).
	DatabaseName *string `json:"database_name"`
	// Usable: pgtend can schedule and read jobs here (preloaded, created
	// in this database, which is cron.database_name).
	Usable bool `json:"usable"`
	// Problem says why it is not usable, "" when it is.
	Problem string `json:"problem"`
	// OwnOnly: row security shows this role only its own jobs and runs.
	OwnOnly bool `json:"own_only"`
	// RunDetails is cron.job_run_details: it grows by one row a run until
	// something deletes them.
	RunDetailsRows  int64      `json:"run_details_rows"` // the catalog's estimate
	RunDetailsBytes int64      `json:"run_details_bytes"`
	RunDetailsSince *time.Time `json:"run_details_since"` // its oldest run
	// Trimmed: a job deletes old run details.
	Trimmed bool `json:"trimmed"`
}

// PartmanJobs is pg_partman's maintenance (run_maintenance_proc): who runs
// it and the sets it keeps.
type PartmanJobs struct {
	Version string `json:"version"`
	// BackgroundWorker: pg_partman_bgw is preloaded and lists this database
	// (pg_partman_bgw.dbname); Interval is its pg_partman_bgw.interval in
	// seconds, Role its pg_partman_bgw.role.
	BackgroundWorker bool    `json:"background_worker"`
	Interval         *string `json:"interval"`
	Role             *string `json:"role"`
	// CronJob is the pg_cron job that runs it, when one does.
	CronJob *int64       `json:"cron_job"`
	Sets    []PartmanSet `json:"sets"`
}

// PartmanSet is one partition set pg_partman maintains.
type PartmanSet struct {
	Parent    string  `json:"parent"` // schema.table
	Premake   int     `json:"premake"`
	Automatic bool    `json:"automatic_maintenance"`
	Retention *string `json:"retention"`
	// Ahead are the set's partitions starting after now (nil when not
	// known: not a time-partitioned table of the report).
	Ahead *int `json:"ahead"`
}

// Timer is one of pgtend's systemd timers on this host.
type Timer struct {
	Unit    string   `json:"unit"`    // "pgtend-monthly.timer"
	Script  string   `json:"script"`  // "monthly": what it runs (`pgtend run monthly`)
	Path    string   `json:"path"`    // where its unit file is
	Enabled bool     `json:"enabled"` // linked into timers.target.wants
	Tasks   []string `json:"tasks"`   // the calendar tasks its script does
}

// Job is one line of the ledger: a job of an engine, or pgtend's own
// doing of a calendar task.
type Job struct {
	Engine string `json:"engine"`
	// ID is TimescaleDB's job_id or pg_cron's jobid; nil otherwise.
	ID *int64 `json:"id"`
	// Name is what the engine calls it (application_name, jobname), or
	// what pgtend's line runs ("pgtend run monthly", "by hand").
	Name string `json:"name"`
	// Kind is TimescaleDB's proc_name (policy_retention, policy_compression,
	// policy_refresh_continuous_aggregate, or schema.proc of a custom job),
	// "command" for pg_cron, "run_maintenance_proc", "timer", "history".
	Kind string `json:"kind"`
	// Task is the calendar task it does, "" when none.
	Task  string  `json:"task"`
	Table *string `json:"table"` // schema.name it works on, when one
	// Schedule as the engine says it: "1 day", "0 3 * * 0", "every 3600 s".
	Schedule string `json:"schedule"`
	Command  string `json:"command"` // pg_cron's command; TimescaleDB's config
	Owner    string `json:"owner"`
	Active   bool   `json:"active"`
	// ByPgtend: pgtend installed it (its name starts with PgtendJobPrefix,
	// or it is the policy pgtend's schedule plan installs).
	ByPgtend bool `json:"by_pgtend"`

	LastRun    *time.Time `json:"last_run"`
	LastRunBy  string     `json:"last_run_by"` // RunByScheduler, RunByPgtend, "" when it never ran
	LastStatus string     `json:"last_status"` // "succeeded", "failed", "running", "" when it never ran
	// LastSuccess is when a run last succeeded, whoever ran it.
	LastSuccess   *time.Time `json:"last_success"`
	NextStart     *time.Time `json:"next_start"`
	TotalRuns     *int64     `json:"total_runs"`
	TotalFailures *int64     `json:"total_failures"`
	LastError     *string    `json:"last_error"`
	LastErrorAt   *time.Time `json:"last_error_at"`
	// FailingSince is the first failed run after its last success.
	FailingSince *time.Time `json:"failing_since"`
	State        string     `json:"state"`
	// Why says what the state means, in words: what failed, since when,
	// what to do.
	Why string `json:"why"`

	schedulerFailed bool          // TimescaleDB's scheduler's last run failed
	every           time.Duration // how often it runs, 0 when not known
	// preset is a state its reader found (pg_cron's late, pg_partman's
	// unscheduled), with presetWhy: judge keeps it over the clock's.
	preset, presetWhy string
}

// Failing says whether the job's runs fail or cannot start: never shown as fine.
func (j Job) Failing() bool { return j.State == JobFailing || j.State == JobCannotStart }

// Warned says whether the job's state is one the operator must act on.
func (j Job) Warned() bool {
	switch j.State {
	case JobFailing, JobCannotStart, JobLate, JobUnscheduled:
		return true
	}
	return false
}

// JobsFor returns the ledger's lines of a calendar task ("" for the jobs
// that do none).
func (r *Report) JobsFor(task string) []Job {
	var out []Job
	for _, j := range r.Jobs.Ledger {
		if j.Task == task {
			out = append(out, j)
		}
	}
	return out
}

// historyFailure is a run of pgtend's that did not end ok.
type historyFailure struct {
	at      time.Time
	outcome string
	err     string
}

// jobsProbe is what every report asks about the job engines.
type jobsProbe struct {
	database                     string
	preload                      *string // nil: this role may not read shared_preload_libraries
	cronDatabase, cronVersion    *string
	cronZone                     *string
	cronAvailable                bool
	bgwDatabases, bgwInterval    *string
	bgwRole                      *string
	tsdbWorkers                  *string
	workerProcesses              int
	jobErrors, jobRuns, superuse bool
}

// readJobs reads the engines' jobs into r.Jobs (the ledger is built by
// buildLedger, once the calendar is known).
func readJobs(ctx context.Context, conn *pgx.Conn, f Features, r *Report) error {
	r.Jobs = Jobs{Timers: []Timer{}, Ledger: []Job{}, Warnings: []Warning{}}
	// pg_settings, not current_setting: it leaves out, rather than refuses,
	// what a role without pg_read_all_settings may not see
	// (shared_preload_libraries, cron.database_name).
	var p jobsProbe
	err := conn.QueryRow(ctx, `
		WITH s AS (SELECT name, setting FROM pg_settings WHERE name IN ('shared_preload_libraries', 'cron.database_name', 'cron.timezone',
			'pg_partman_bgw.dbname', 'pg_partman_bgw.interval', 'pg_partman_bgw.role', 'timescaledb.max_background_workers', 'max_worker_processes'))
		SELECT current_database(), (SELECT setting FROM s WHERE name = 'shared_preload_libraries'),
		       (SELECT setting FROM s WHERE name = 'cron.database_name'), (SELECT setting FROM s WHERE name = 'cron.timezone'),
		       (SELECT extversion FROM pg_extension WHERE extname = 'pg_cron'),
		       EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'pg_cron'),
		       (SELECT setting FROM s WHERE name = 'pg_partman_bgw.dbname'), (SELECT setting FROM s WHERE name = 'pg_partman_bgw.interval'),
		       (SELECT setting FROM s WHERE name = 'pg_partman_bgw.role'),
		       (SELECT setting FROM s WHERE name = 'timescaledb.max_background_workers'), coalesce((SELECT setting FROM s WHERE name = 'max_worker_processes')::int, 8),
		       to_regclass('timescaledb_information.job_errors') IS NOT NULL,
		       coalesce((SELECT has_schema_privilege(c.relnamespace, 'USAGE') AND has_table_privilege(c.oid, 'SELECT')
		                   FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		                  WHERE n.nspname = 'pgtend' AND c.relname = 'job_runs'), false),
		       coalesce((SELECT rolsuper FROM pg_roles WHERE rolname = current_user), false)`).Scan(
		&p.database, &p.preload, &p.cronDatabase, &p.cronZone, &p.cronVersion, &p.cronAvailable,
		&p.bgwDatabases, &p.bgwInterval, &p.bgwRole, &p.tsdbWorkers, &p.workerProcesses,
		&p.jobErrors, &p.jobRuns, &p.superuse)
	if err != nil {
		return fmt.Errorf("reading the job engines' settings: %w", err)
	}
	j := &r.Jobs
	unreadable := func(what string) {
		j.Warnings = append(j.Warnings, Warning{Code: WarnJobsUnreadable, Text: "this role may not read " + what + ": those jobs are not in the ledger"})
	}
	if f.Timescale {
		err := readTimescaleJobs(ctx, conn, p, r)
		if denied(err) {
			unreadable("TimescaleDB's job views")
		} else if err != nil {
			return fmt.Errorf("reading TimescaleDB's jobs: %w", err)
		}
	}
	if err := readCron(ctx, conn, p, r); denied(err) {
		unreadable("pg_cron's cron.job and cron.job_run_details")
	} else if err != nil {
		return fmt.Errorf("reading pg_cron's jobs: %w", err)
	}
	if f.Partman {
		err := errDenied
		if f.PartmanReadable {
			err = readPartmanJobs(ctx, conn, f, p, r)
		}
		if denied(err) {
			unreadable(f.PartmanSchema + ".part_config")
		} else if err != nil {
			return fmt.Errorf("reading pg_partman's maintenance: %w", err)
		}
	}
	j.Timers = findTimers(SystemdDirs)
	if f.HasHistory {
		if j.failures, err = readLastFailures(ctx, conn); err != nil {
			return err
		}
	}
	return nil
}

// readLastFailures reads each task's latest run that did not end ok.
func readLastFailures(ctx context.Context, conn *pgx.Conn) (map[string]historyFailure, error) {
	rows, err := conn.Query(ctx, `SELECT DISTINCT ON (task) task, finished_at, outcome, coalesce(to_jsonb(h)->>'error', '')
		FROM pgtend.history h WHERE outcome NOT IN ('ok', 'ticked') ORDER BY task, finished_at DESC`)
	if err != nil {
		return nil, fmt.Errorf("reading pgtend.history: %w", err)
	}
	defer rows.Close()
	out := map[string]historyFailure{}
	for rows.Next() {
		var task string
		var h historyFailure
		if err := rows.Scan(&task, &h.at, &h.outcome, &h.err); err != nil {
			return nil, err
		}
		out[task] = h
	}
	return out, rows.Err()
}

// SystemdDirs are where pgtend's timers are looked for: the package's
// units, the administrator's (`pgtend schedule install --systemd`), and
// the links that enable them. Tests point it elsewhere.
var SystemdDirs = []string{"/etc/systemd/system", "/usr/lib/systemd/system", "/lib/systemd/system"}

// ScriptTasks are the calendar tasks of the scripts the systemd units run
// (`pgtend run weekly` and `monthly`): those of their actions in ops/maint's
// registry, and those of its sheets a run counts done (check_sizes) — not
// its manual tasks, nor a person's reviews it prints (a test there keeps the
// two in step).
var ScriptTasks = map[string][]string{
	"weekly":  {"vacuum_analyze", "verify_backup", "archive_trade_logs", "check_sizes"},
	"monthly": {"retention_cleanup", "compression_check", "archive_trade_logs", "vacuum_analyze", "reindex"},
}

// findTimers finds pgtend's timers on this host; enabled when linked into
// timers.target.wants of the first directory.
func findTimers(dirs []string) []Timer {
	out := []Timer{}
	for _, script := range []string{"weekly", "monthly"} {
		unit := "pgtend-" + script + ".timer"
		t := Timer{Unit: unit, Script: script, Tasks: ScriptTasks[script]}
		for _, d := range dirs {
			if _, err := os.Stat(filepath.Join(d, unit)); err == nil {
				t.Path = filepath.Join(d, unit)
				break
			}
		}
		if len(dirs) > 0 {
			if _, err := os.Stat(filepath.Join(dirs[0], "timers.target.wants", unit)); err == nil {
				t.Enabled = true
			}
		}
		if t.Path != "" || t.Enabled {
			out = append(out, t)
		}
	}
	return out
}

// buildLedger lays the ledger out from the engines' jobs and the calendar:
// per task of the calendar, pgtend's line (by hand, or a timer of this
// host), then the engines' jobs; then the jobs that do no task. Each job's
// state is judged at the report's time, and the warnings made.
func (r *Report) buildLedger() {
	j := &r.Jobs
	// A report read without jobs (a test's) has none, never nil.
	if j.Timers == nil {
		j.Timers = []Timer{}
	}
	var engines []Job
	for _, job := range j.Ledger {
		if job.Engine != EnginePgtend && job.Engine != EngineSystemd {
			engines = append(engines, job)
		}
	}
	var warnings []Warning
	for _, w := range j.Warnings {
		if !ledgerWarning(w.Code) {
			warnings = append(warnings, w) // the reading's own (unreadable views): kept
		}
	}
	now := r.GeneratedAt
	ledger := []Job{}
	for _, c := range r.Calendar {
		ledger = append(ledger, r.pgtendLine(c))
		for _, job := range engines {
			if job.Task == c.Task {
				ledger = append(ledger, job)
			}
		}
	}
	for _, job := range engines {
		if !slices.ContainsFunc(r.Calendar, func(c CalendarItem) bool { return c.Task == job.Task }) {
			ledger = append(ledger, job)
		}
	}
	for i := range ledger {
		if ledger[i].Engine != EnginePgtend && ledger[i].Engine != EngineSystemd {
			judge(&ledger[i], now, j.Timescale)
		}
	}
	j.Ledger = ledger
	j.Warnings = append(warnings, r.ledgerWarnings()...)
}

func ledgerWarning(code string) bool {
	switch code {
	case WarnJobsUnreadable:
		return false
	}
	return true
}

// pgtendLine is pgtend's own doing of a calendar task: the history's last
// success (the calendar's), its last failure when later, and the timer
// of this host that runs it, if any.
func (r *Report) pgtendLine(c CalendarItem) Job {
	job := Job{Engine: EnginePgtend, Kind: "history", Task: c.Task, Name: "by hand", Active: true,
		LastSuccess: c.LastRun, LastRun: c.LastRun, State: JobOK}
	if c.Manual {
		job.Name = "by hand (ticked off)"
	}
	if c.LastRun != nil {
		job.LastStatus, job.LastRunBy = "succeeded", RunByPgtend
	}
	// A timer of this host that runs the task's script: an enabled one
	// first.
	timers := slices.Clone(r.Jobs.Timers)
	slices.SortStableFunc(timers, func(a, b Timer) int { return cmp.Compare(btoi(b.Enabled), btoi(a.Enabled)) })
	for _, t := range timers {
		if slices.Contains(t.Tasks, c.Task) {
			job.Engine, job.Kind, job.Name, job.Active = EngineSystemd, "timer", t.Unit+" (pgtend run "+t.Script+")", t.Enabled
			break
		}
	}
	switch c.Status {
	case calendar.Due:
		job.State = JobDue
		job.Why = "due since " + c.NextDue.Format("Mon 2006-01-02")
	case calendar.Overdue:
		job.State = JobLate
		job.Why = "overdue since " + c.NextDue.Format("Mon 2006-01-02")
	}
	if job.Engine == EngineSystemd && !job.Active {
		job.Why = strings.TrimPrefix(job.Why+"; ", "; ") + job.Name + " is installed on this host but not enabled"
	}
	if f, ok := r.Jobs.failures[c.Task]; ok && (c.LastRun == nil || f.at.After(*c.LastRun)) {
		at, msg := f.at, f.err
		if msg == "" {
			msg = "the run ended " + f.outcome
		}
		job.LastRun, job.LastStatus, job.LastError, job.LastErrorAt = &at, f.outcome, &msg, &at
		if f.outcome == "failed" {
			job.State, job.FailingSince = JobFailing, &at
			job.Why = "pgtend's last run failed: " + msg
		}
	}
	return job
}

// judge sets an engine job's state and says why.
func judge(job *Job, now time.Time, ts *TimescaleJobs) {
	since := func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return " since " + t.UTC().Format("2006-01-02 15:04 UTC")
	}
	last := func() string {
		if job.LastError == nil {
			return ""
		}
		return ": " + *job.LastError
	}
	switch {
	case job.schedulerFailed && job.LastError != nil && strings.Contains(*job.LastError, "failed to start job") && (job.LastRunBy != RunByPgtend || job.LastStatus != "succeeded"):
		// TimescaleDB's scheduler found no background worker to run it.
		job.State = JobCannotStart
		job.Why = "cannot start" + since(job.FailingSince) + ": the scheduler found no free background worker (" + *job.LastError + ")"
		if ts != nil {
			job.Why += fmt.Sprintf("; at most %d jobs run at once here (timescaledb.max_background_workers %d, max_worker_processes %d)", max(ts.JobSlots, 0), ts.MaxBackgroundWorkers, ts.MaxWorkerProcesses)
		}
	case job.schedulerFailed || job.LastStatus == "failed":
		job.State = JobFailing
		n := ""
		if job.TotalFailures != nil && *job.TotalFailures > 0 {
			n = fmt.Sprintf(" (%s)", plural(*job.TotalFailures, "failed run"))
		}
		job.Why = "failing" + since(job.FailingSince) + n + last()
		if job.schedulerFailed && job.LastRunBy == RunByPgtend && job.LastStatus == "succeeded" {
			job.Why += "; run by pgtend (CALL run_job) it succeeded " + job.LastRun.UTC().Format("2006-01-02 15:04 UTC") +
				": it works by hand, not from the scheduler"
		}
		if job.Engine == EngineTimescale && job.LastError != nil && strings.Contains(*job.LastError, "cannot drop portal") {
			// ../shared/notes/timescaledb.md: PostgreSQL 15.20 with TimescaleDB
			// 2.28.3; retention runs had dropped their chunks before the error.
			job.Why += " (a known failure of TimescaleDB 2.28.3's scheduler on PostgreSQL 15.20, even when the work was done; `pgtend run jobs` runs it with CALL run_job)"
		}
	case job.preset != "": // the reader's judgement (pg_partman, pg_cron), with its reason
		job.State, job.Why = job.preset, job.presetWhy
	case !job.Active:
		job.State, job.Why = JobPaused, "installed but not scheduled: it does not run"
	case job.Engine == EngineTimescale && ts != nil && !ts.SchedulerHere:
		job.State, job.Why = JobCannotStart, "no TimescaleDB scheduler runs for this database (timescaledb.max_background_workers, or the launcher is stopped): its jobs do not start"
	case job.Engine == EngineTimescale && ts != nil && ts.JobSlots <= 0:
		job.State, job.Why = JobCannotStart, fmt.Sprintf("no background worker is free for TimescaleDB's jobs (timescaledb.max_background_workers %d, max_worker_processes %d; the launcher, %s and %s take them)",
			ts.MaxBackgroundWorkers, ts.MaxWorkerProcesses, plural(int64(ts.Schedulers), "scheduler"), plural(int64(ts.OtherWorkers), "other worker"))
	case job.LastStatus == "running":
		job.State, job.Why = JobRunning, "running"+since(job.LastRun)
	case job.NextStart != nil && now.Sub(*job.NextStart) > lateGrace(job):
		job.State = JobLate
		job.Why = "has not run when due: its next start was " + job.NextStart.UTC().Format("2006-01-02 15:04 UTC")
	case job.LastRun == nil:
		job.State, job.Why = JobPending, "scheduled, not run yet"
	default:
		job.State, job.Why = JobOK, ""
	}
}

// lateGrace is how long after its start time a job may still be starting:
// five minutes, or a tenth of its period (at most an hour).
func lateGrace(job *Job) time.Duration {
	return max(5*time.Minute, min(job.every/10, time.Hour))
}

// ledgerWarnings are the warnings of the judged ledger: every failing,
// late or unscheduled job, and the engines' own.
func (r *Report) ledgerWarnings() []Warning {
	j := &r.Jobs
	var out []Warning
	for _, job := range j.Ledger {
		if !job.Warned() || job.Engine == EnginePgtend {
			continue // pgtend's own lateness is the calendar's status
		}
		code := map[string]string{JobFailing: WarnJobFailing, JobCannotStart: WarnJobsCannotStart, JobLate: WarnJobLate, JobUnscheduled: WarnPartmanUnsched}[job.State]
		w := Warning{Code: code, Text: job.Describe() + ": " + job.Why}
		if job.Table != nil {
			if schema, name, ok := strings.Cut(*job.Table, "."); ok {
				w.Schema, w.Table = &schema, &name
			}
		}
		out = append(out, w)
	}
	if ts := j.Timescale; ts != nil && ts.JobSlots > 0 && ts.Scheduled > ts.JobSlots {
		out = append(out, Warning{Code: WarnJobsFewWorkers, Text: fmt.Sprintf(
			"at most %d of this database's %d scheduled TimescaleDB jobs can run at once (timescaledb.max_background_workers %d, max_worker_processes %d, %s): those falling due together wait",
			ts.JobSlots, ts.Scheduled, ts.MaxBackgroundWorkers, ts.MaxWorkerProcesses, plural(int64(ts.Schedulers), "scheduler"))})
	}
	if c := j.Cron; c != nil {
		// pg_cron in another database (cron.database_name) is no warning:
		// one database per server has it; the ledger's head says where.
		switch {
		case c.Usable && !c.Trimmed && c.RunDetailsSince != nil && (r.GeneratedAt.Sub(*c.RunDetailsSince) > 31*24*time.Hour || c.RunDetailsRows > 100_000):
			out = append(out, Warning{Code: WarnCronRunDetails, Text: fmt.Sprintf(
				"cron.job_run_details holds about %s rows (%s) since %s and nothing trims it: it grows by a row a run (`pgtend plan schedule` offers a job that keeps 30 days)",
				humanize.Comma(c.RunDetailsRows), humanize.IBytes(uint64(max(c.RunDetailsBytes, 0))), c.RunDetailsSince.UTC().Format("2006-01-02"))})
		}
	}
	if pm := j.Partman; pm != nil {
		for _, s := range pm.Sets {
			if s.Automatic && s.Ahead != nil && *s.Ahead == 0 {
				schema, name, _ := strings.Cut(s.Parent, ".")
				out = append(out, Warning{Schema: &schema, Table: &name, Code: WarnPartmanBehind, Text: fmt.Sprintf(
					"pg_partman premakes %d partitions of %s, and none starts after now: its maintenance has not run when due (new rows go to the default partition, or fail)", s.Premake, s.Parent)})
			}
		}
	}
	slices.SortStableFunc(out, func(a, b Warning) int { return cmp.Compare(warnRank(a.Code), warnRank(b.Code)) })
	return out
}

func warnRank(code string) int {
	switch code {
	case WarnJobFailing, WarnJobsCannotStart:
		return 0
	case WarnJobLate, WarnPartmanBehind, WarnPartmanUnsched:
		return 1
	}
	return 2
}

// Describe names the job the way warnings do: "TimescaleDB job 1001
// (retention of public.ticks)", "pg_cron job 3 pgtend-vacuum".
func (j Job) Describe() string {
	switch j.Engine {
	case EngineTimescale:
		what := j.Name
		if j.Table != nil {
			what = KindLabel(j.Kind) + " of " + *j.Table
		}
		return fmt.Sprintf("TimescaleDB job %d (%s)", deref(j.ID), what)
	case EngineCron:
		return fmt.Sprintf("pg_cron job %d %s", deref(j.ID), j.Name)
	case EnginePartman:
		return "pg_partman's maintenance (" + j.Name + ")"
	case EngineSystemd:
		return j.Name
	}
	return "pgtend " + j.Name
}

// KindLabel is what a TimescaleDB job does, in a word or two.
func KindLabel(kind string) string {
	switch kind {
	case "policy_retention":
		return "retention"
	case "policy_compression":
		return "compression"
	case "policy_refresh_continuous_aggregate":
		return "cagg refresh"
	case "policy_reorder":
		return "reorder"
	case "policy_job_stat_history_retention":
		return "job history retention"
	}
	return kind
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func plural(n int64, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return humanize.Comma(n) + " " + noun + "s"
}

func deref(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}
