package report

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pgtend/pgtend/ops/config"
	"github.com/pgtend/pgtend/ops/pgtest"
)

func ptrTime(t time.Time) *time.Time { return &t }
func ptrStr(s string) *string        { return &s }
func ptrInt64(n int64) *int64        { return &n }

// The ledger's order and judgement: per calendar task pgtend's line, then
// the engines' jobs; then the jobs of no task. A failing job is failing
// whatever else (even run fine by hand since), never ok; a job whose start
// passed is late; no free worker means it cannot start.
func TestLedgerJudgesJobs(t *testing.T) {
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	r := &Report{GeneratedAt: now, Server: Server{Database: "trading"}}
	r.Calendar = BuildCalendar(map[string]time.Time{"vacuum_analyze": now.Add(-2 * time.Hour)}, now)
	r.Jobs = Jobs{Timescale: &TimescaleJobs{MaxBackgroundWorkers: 16, MaxWorkerProcesses: 32, Schedulers: 1, SchedulerHere: true, JobSlots: 14, Scheduled: 3},
		Ledger: []Job{
			{Engine: EngineTimescale, ID: ptrInt64(1001), Kind: "policy_retention", Task: "retention_cleanup", Table: ptrStr("public.ticks"), Active: true,
				LastRun: ptrTime(now.Add(-time.Minute)), LastRunBy: RunByPgtend, LastStatus: "succeeded", LastSuccess: ptrTime(now.Add(-time.Minute)),
				LastError: ptrStr(`cannot drop portal "" while it is being set up (24000)`), FailingSince: ptrTime(now.Add(-26 * time.Hour)), TotalFailures: ptrInt64(2),
				schedulerFailed: true, every: 24 * time.Hour},
			{Engine: EngineTimescale, ID: ptrInt64(1002), Kind: "policy_compression", Task: "compression_check", Table: ptrStr("public.ticks"), Active: true,
				NextStart: ptrTime(now.Add(-3 * time.Hour)), LastRun: ptrTime(now.Add(-27 * time.Hour)), LastStatus: "succeeded", every: 24 * time.Hour},
			{Engine: EngineTimescale, ID: ptrInt64(1004), Kind: "policy_compression", Task: "compression_check", Table: ptrStr("public.quotes"), Active: true,
				LastRun: ptrTime(now.Add(-time.Hour)), LastRunBy: RunByScheduler, LastStatus: "failed", schedulerFailed: true, FailingSince: ptrTime(now.Add(-time.Hour)),
				LastError: ptrStr(`failed to start job Job 1004 ("Columnstore Policy [1004]") failed to start (XX000)`), every: 12 * time.Hour},
			{Engine: EngineTimescale, ID: ptrInt64(1003), Kind: "policy_refresh_continuous_aggregate", Table: ptrStr("public.daily"), Active: true,
				NextStart: ptrTime(now.Add(time.Hour)), LastRun: ptrTime(now.Add(-time.Hour)), LastStatus: "succeeded", every: 2 * time.Hour},
		}}
	r.buildLedger()
	var order []string
	for _, j := range r.Jobs.Ledger {
		order = append(order, j.Task+"/"+j.Engine)
	}
	if got := strings.Join(order[:2], " "); got != "vacuum_analyze/pgtend check_sizes/pgtend" {
		t.Errorf("the ledger starts %s", got)
	}
	if last := r.Jobs.Ledger[len(r.Jobs.Ledger)-1]; last.Task != "" || *last.ID != 1003 || last.State != JobOK {
		t.Errorf("the last line is %+v, want the cagg refresh (no task), ok", last)
	}
	byID := map[int64]Job{}
	for _, j := range r.Jobs.Ledger {
		if j.ID != nil {
			byID[*j.ID] = j
		}
	}
	ret := byID[1001]
	if ret.State != JobFailing || !strings.Contains(ret.Why, "failing since 2026-11-27 10:00 UTC (2 failed runs): cannot drop portal") ||
		!strings.Contains(ret.Why, "it works by hand, not from the scheduler") {
		t.Errorf("retention: %s: %s", ret.State, ret.Why)
	}
	if c := byID[1002]; c.State != JobLate || !strings.Contains(c.Why, "has not run when due") {
		t.Errorf("compression: %s: %s", c.State, c.Why)
	}
	if c := byID[1004]; c.State != JobCannotStart || !strings.Contains(c.Why, "the scheduler found no free background worker") || !strings.Contains(c.Why, "at most 14 jobs run at once") {
		t.Errorf("a job the scheduler could not start: %s: %s", c.State, c.Why)
	}
	if v := r.JobsFor("vacuum_analyze")[0]; v.Engine != EnginePgtend || v.State != JobOK || v.LastSuccess == nil {
		t.Errorf("pgtend's vacuum line: %+v", v)
	}
	if len(r.Jobs.Warnings) != 3 || r.Jobs.Warnings[0].Code != WarnJobFailing || r.Jobs.Warnings[1].Code != WarnJobsCannotStart || r.Jobs.Warnings[2].Code != WarnJobLate ||
		*r.Jobs.Warnings[0].Table != "ticks" || !strings.HasPrefix(r.Jobs.Warnings[0].Text, "TimescaleDB job 1001 (retention of public.ticks): failing since") {
		t.Errorf("warnings: %+v", r.Jobs.Warnings)
	}

	// No worker free: every scheduled job cannot start (a failing one stays failing).
	r.Jobs.Timescale.JobSlots = 0
	r.buildLedger()
	for _, j := range r.Jobs.Ledger {
		if j.ID != nil && *j.ID != 1001 && j.State != JobCannotStart {
			t.Errorf("job %d with no worker free: %s", *j.ID, j.State)
		}
	}
	// A refresh (MergeLastRuns) rebuilds it the same way.
	r.MergeLastRuns(map[string]time.Time{"retention_cleanup": now.Add(-time.Hour)})
	if p := r.JobsFor("retention_cleanup")[0]; p.Engine != EnginePgtend || p.LastSuccess == nil || len(r.JobsFor("retention_cleanup")) != 2 {
		t.Errorf("after merging the history file: %+v", r.JobsFor("retention_cleanup"))
	}
}

// pgtend's line for a task: done by an enabled systemd timer of this host
// when one runs its script; a run that failed after the last success is
// the line's last error.
func TestLedgerPgtendLine(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "timers.target.wants"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"pgtend-monthly.timer", "pgtend-weekly.timer", "timers.target.wants/pgtend-monthly.timer"} {
		if err := os.WriteFile(filepath.Join(dir, f), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	r := &Report{GeneratedAt: now}
	r.Calendar = BuildCalendar(map[string]time.Time{"retention_cleanup": now.AddDate(0, 0, -40), "vacuum_analyze": now.AddDate(0, 0, -30)}, now)
	r.Jobs = Jobs{Timers: findTimers([]string{dir}), failures: map[string]historyFailure{
		"retention_cleanup": {at: now.AddDate(0, 0, -1), outcome: "failed", err: "could not lock public.ticks within 5s"},
		"vacuum_analyze":    {at: now.AddDate(0, 0, -60), outcome: "failed", err: "old"},
	}}
	r.buildLedger()
	ret := r.JobsFor("retention_cleanup")[0]
	if ret.Engine != EngineSystemd || ret.Name != "pgtend-monthly.timer (pgtend run monthly)" || !ret.Active ||
		ret.State != JobFailing || ret.LastError == nil || !strings.Contains(ret.Why, "could not lock") {
		t.Errorf("retention's line: %+v", ret)
	}
	sizes := r.JobsFor("check_sizes")[0]
	if sizes.Engine != EngineSystemd || sizes.Active || !strings.Contains(sizes.Why, "installed on this host but not enabled") {
		t.Errorf("check_sizes' line (the weekly timer, not enabled): %+v", sizes)
	}
	if v := r.JobsFor("vacuum_analyze")[0]; v.State == JobFailing {
		t.Errorf("a failure older than a success counts: %+v", v)
	}
	if logs := r.JobsFor("review_logs")[0]; logs.Engine != EnginePgtend || logs.Name != "by hand (ticked off)" {
		t.Errorf("a manual task: %+v", logs)
	}
}

// pg_cron's jobs as the report reads them: from the cron database only
// (elsewhere it says where they are), each with its last run, last
// success, last error and since when it fails, from job_run_details; a job
// that ran before but not since it was due is late; without a trim of
// job_run_details an old one is warned about.
func TestCronJobsRead(t *testing.T) {
	elsewhere := connect(t, pgtest.NewDatabase(t))
	r := collect(t, elsewhere, config.Policy{})
	if pgtest.Cluster.Cron {
		if r.Jobs.Cron == nil || r.Jobs.Cron.Usable || !strings.Contains(r.Jobs.Cron.Problem, "pg_cron keeps its jobs in database "+pgtest.CronDatabase) {
			t.Errorf("from another database: %+v", r.Jobs.Cron)
		}
	}
	dsn := pgtest.RequireCron(t)
	conn := connect(t, dsn)
	exec(t, conn, `SELECT cron.schedule('nightly', '0 3 * * *', 'SELECT 1')`)
	exec(t, conn, `SELECT cron.schedule('broken', '*/5 * * * *', 'SELECT 1/0')`)
	exec(t, conn, `SELECT cron.schedule('vacuum things', '0 3 * * 0', 'VACUUM ANALYZE')`)
	// Their history, as pg_cron writes it.
	exec(t, conn, `
		INSERT INTO cron.job_run_details (jobid, job_pid, database, username, command, status, return_message, start_time, end_time)
		SELECT j.jobid, 1, current_database(), current_user, j.command, x.status, x.msg, now() - x.ago, now() - x.ago + interval '1 second'
		FROM cron.job j JOIN (VALUES
			('nightly', 'succeeded', 'SELECT 1', interval '50 days'),
			('nightly', 'succeeded', 'SELECT 1', interval '3 days'),
			('broken',  'succeeded', '1 row', interval '2 hours'),
			('broken',  'failed', 'ERROR:  division by zero', interval '1 hour'),
			('broken',  'failed', 'ERROR:  division by zero', interval '2 minutes')
		) AS x(name, status, msg, ago) ON x.name = j.jobname
		ORDER BY x.ago DESC -- runids follow time, as pg_cron gives them`)
	r = collect(t, conn, config.Policy{})
	c := r.Jobs.Cron
	if c == nil || !c.Usable || c.Version == nil || c.RunDetailsSince == nil || c.Trimmed {
		t.Fatalf("pg_cron: %+v", c)
	}
	jobs := map[string]Job{}
	for _, j := range r.Jobs.Ledger {
		if j.Engine == EngineCron {
			jobs[j.Name] = j
		}
	}
	nightly := jobs["nightly"]
	if nightly.State != JobLate || nightly.LastSuccess == nil || !strings.Contains(nightly.Why, "has not run since it was due") || nightly.NextStart == nil {
		t.Errorf("nightly (ran 3 days ago, due daily): %+v", nightly)
	}
	broken := jobs["broken"]
	if broken.State != JobFailing || broken.LastError == nil || *broken.LastError != "ERROR:  division by zero" || broken.FailingSince == nil ||
		r.GeneratedAt.Sub(*broken.FailingSince) < 59*time.Minute || *broken.TotalFailures != 2 || *broken.TotalRuns != 3 {
		t.Errorf("broken: %+v", broken)
	}
	if v := jobs["vacuum things"]; v.Task != "vacuum_analyze" || v.State != JobPending {
		t.Errorf("a VACUUM job is the vacuum task's, never run: %+v", v)
	}
	var codes []string
	for _, w := range r.Jobs.Warnings {
		codes = append(codes, w.Code)
	}
	if got := strings.Join(codes, " "); got != "job_failing job_late cron_run_details_growing" {
		t.Errorf("warnings: %s", got)
	}
}

// TimescaleDB's scheduler runs a job that fails: the ledger says failing,
// with its error and since when — here the error may be the scheduler's own
// ("cannot drop portal" on PostgreSQL 15.20 with TimescaleDB 2.28.3), a
// failure all the same. Where the server has no worker left to run the
// scheduler or the job, the ledger says it cannot start.
func TestTimescaleSchedulerFailureShown(t *testing.T) {
	pgtest.RequireTimescale(t)
	conn := connect(t, pgtest.NewDatabase(t))
	exec(t, conn, `CREATE EXTENSION timescaledb;
		CREATE PROCEDURE broken(job_id int, config jsonb) LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'the feed is down'; END $$;`)
	var id int64
	pgtest.QueryRow(t, conn, `SELECT add_job('broken', '1 hour', initial_start => now())`).Scan(&id)
	deadline := time.Now().Add(30 * time.Second)
	for {
		r := collect(t, conn, config.Policy{})
		var job Job
		for _, j := range r.Jobs.Ledger {
			if j.ID != nil && *j.ID == id {
				job = j
			}
		}
		switch {
		case job.State == JobFailing:
			if job.LastError == nil || job.FailingSince == nil || job.LastRunBy != RunByScheduler || job.Kind != "public.broken" {
				t.Errorf("failing job: %+v", job)
			}
			t.Logf("the scheduler's failure: %s", job.Why)
			return
		case job.State == JobCannotStart:
			t.Logf("no worker for the scheduler here: %s", job.Why)
			return
		case time.Now().After(deadline):
			t.Fatalf("after 30 s the job is %s: %s (%+v)", job.State, job.Why, r.Jobs.Timescale)
		}
		time.Sleep(time.Second)
	}
}

// pg_partman's maintenance in the ledger: who runs run_maintenance_proc —
// nobody here, unless a pg_cron job does — each set's premake and how many
// partitions it has ahead of now; a set with none ahead is behind.
func TestPartmanMaintenanceInLedger(t *testing.T) {
	conn := connect(t, pgtest.NewDatabase(t))
	pgtest.RequireExtension(t, conn, "pg_partman")
	major := installPartman(t, conn, "partman")
	daily := "p_type => 'native', p_interval => 'daily'"
	if major >= 5 {
		daily = "p_interval => '1 day'"
	}
	exec(t, conn, `
		CREATE TABLE events (ts timestamptz NOT NULL, v text) PARTITION BY RANGE (ts);
		CREATE TABLE stale (ts timestamptz NOT NULL, v text) PARTITION BY RANGE (ts);`)
	exec(t, conn, `SELECT partman.create_parent(p_parent_table => 'public.events', p_control => 'ts', `+daily+`)`)
	exec(t, conn, `SELECT partman.create_parent(p_parent_table => 'public.stale', p_control => 'ts', `+daily+`,
		p_start_partition => (now() - interval '20 days')::text, p_premake => 2)`)
	// stale's partitions end long ago: as if its maintenance had stopped.
	exec(t, conn, `DO $$ DECLARE r record; BEGIN
		FOR r IN SELECT c.oid::regclass AS part FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
			WHERE i.inhparent = 'stale'::regclass AND pg_get_expr(c.relpartbound, c.oid) NOT LIKE '%DEFAULT%'
			  AND substring(pg_get_expr(c.relpartbound, c.oid) FROM 'FROM [(]''([^'']*)''')::timestamptz > now() - interval '10 days'
		LOOP EXECUTE format('DROP TABLE %s', r.part); END LOOP; END $$;
		UPDATE partman.part_config SET retention = '30 days' WHERE parent_table = 'public.events'`)
	r := collect(t, conn, config.Policy{})
	pm := r.Jobs.Partman
	if pm == nil || len(pm.Sets) != 2 || pm.BackgroundWorker || pm.CronJob != nil {
		t.Fatalf("pg_partman: %+v", pm)
	}
	ahead := map[string]int{}
	for _, s := range pm.Sets {
		if s.Ahead == nil {
			t.Fatalf("%s: partitions ahead unknown", s.Parent)
		}
		ahead[s.Parent] = *s.Ahead
	}
	if ahead["public.events"] < 1 || ahead["public.stale"] != 0 {
		t.Errorf("partitions ahead: %v", ahead)
	}
	lines := r.JobsFor("retention_cleanup")
	var line Job
	for _, j := range lines {
		if j.Engine == EnginePartman {
			line = j
		}
	}
	if line.State != JobUnscheduled || !strings.Contains(line.Why, "nothing runs run_maintenance_proc") ||
		!strings.Contains(line.Command, "public.stale premake 2 (0 ahead)") || !strings.Contains(line.Command, "retention 30 days") {
		t.Errorf("pg_partman's line: %+v", line)
	}
	var codes []string
	for _, w := range r.Jobs.Warnings {
		codes = append(codes, w.Code)
	}
	if got := strings.Join(codes, " "); got != "partman_unscheduled partman_behind" {
		t.Errorf("warnings: %s (%+v)", got, r.Jobs.Warnings)
	}
}
