package maint

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pgtend/pgtend/ops/config"
	"github.com/pgtend/pgtend/ops/pg"
	"github.com/pgtend/pgtend/ops/pgtest"
	"github.com/pgtend/pgtend/ops/report"
)

// simpleExec runs sql as pg_cron does: one simple-protocol query, outside
// any transaction block (so a DO block may COMMIT).
func simpleExec(t *testing.T, conn *pgx.Conn, sql string) error {
	t.Helper()
	_, err := conn.PgConn().Exec(context.Background(), sql).ReadAll()
	return err
}

func planSchedule(t *testing.T, conn *pgx.Conn, policy config.Policy) *Plan {
	t.Helper()
	a, ok := Default().Action("schedule")
	if !ok {
		t.Fatal("no schedule action in the registry")
	}
	p, err := a.Plan(context.Background(), conn, policy, "")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func runSchedulePlan(t *testing.T, dsn string, p *Plan, policy config.Policy) (Result, *recorder) {
	t.Helper()
	rec := &recorder{}
	res, err := Run(context.Background(), dsn, pg.Settings{StatementTimeout: 30 * time.Second, LockTimeout: 2 * time.Second}, p, Options{Confirmed: true, Policy: policy}, rec.emit)
	if err != nil {
		t.Fatal(err)
	}
	return res, rec
}

func stepTitles(p *Plan) []string {
	var out []string
	for _, s := range p.Steps {
		out = append(out, s.Title)
	}
	return out
}

func remarks(p *Plan) string { return strings.Join(p.Remarks(), "\n") }

// The DO blocks pgtend hands to pg_cron keep pgtend's cutoff rule: a
// partition goes when its upper bound is at or before the cutoff (DEFAULT
// partitions stay), a plain table loses the rows older than it, in
// batches; timestamp and date columns are read in the table's zone; and
// both refuse when no newer row would remain.
func TestCronRetentionCommands(t *testing.T) {
	conn := connect(t, pgtest.NewDatabase(t))
	exec(t, conn, `
		CREATE TABLE parts (ts timestamptz NOT NULL, v int) PARTITION BY RANGE (ts);
		CREATE TABLE parts_default PARTITION OF parts DEFAULT;
		CREATE TABLE plain (ts timestamp NOT NULL, v int);
		CREATE TABLE days (d date NOT NULL);`)
	exec(t, conn, `DO $$ DECLARE d date; BEGIN
		FOR i IN -12..1 LOOP
			d := (now() AT TIME ZONE 'UTC')::date + i;
			EXECUTE format('CREATE TABLE IF NOT EXISTS %I PARTITION OF parts FOR VALUES FROM (%L) TO (%L)', 'parts_' || to_char(d, 'YYYYMMDD'),
				d::timestamp AT TIME ZONE 'UTC', (d + 1)::timestamp AT TIME ZONE 'UTC');
		END LOOP; END $$`)
	exec(t, conn, `INSERT INTO parts SELECT g, 1 FROM generate_series(now() - interval '12 days', now(), interval '1 hour') g;
		INSERT INTO parts_default VALUES (now() - interval '400 days', 1);
		INSERT INTO plain SELECT g, 1 FROM generate_series((now() AT TIME ZONE 'America/New_York') - interval '12 days', now() AT TIME ZONE 'America/New_York', interval '1 minute') g;
		INSERT INTO days SELECT d::date FROM generate_series(now() - interval '12 days', now(), interval '1 day') d`)
	tz := "America/New_York"
	r, err := report.Collect(context.Background(), conn, config.Policy{Tables: []config.TablePolicy{
		{Name: "parts", TimeColumn: "ts", RetentionDays: 5},
		{Name: "plain", TimeColumn: "ts", RetentionDays: 5, TimeZone: tz},
		{Name: "days", TimeColumn: "d", RetentionDays: 5, TimeZone: tz},
	}, Connection: config.DefaultConnection})
	if err != nil {
		t.Fatal(err)
	}
	tables := map[string]report.Table{}
	for _, tb := range r.Tables {
		tables[tb.Name] = tb
	}
	parts, plain, days := tables["parts"], tables["plain"], tables["days"]
	if plain.TimeZone == nil || *plain.TimeZone != tz || days.TimeType() != report.TypeDate {
		t.Fatalf("plain's zone %v, days' type %q", plain.TimeZone, days.TimeType())
	}

	if err := simpleExec(t, conn, partitionsCommand(parts, 5, 5*time.Second)); err != nil {
		t.Fatalf("partitions: %v", err)
	}
	left := pgtest.Count(t, conn, `SELECT count(*) FROM pg_inherits WHERE inhparent = 'parts'::regclass`)
	if left != 8 { // of 14 daily partitions the 7 wholly older than 5 days go; the DEFAULT partition stays
		rows, _ := conn.Query(context.Background(), `SELECT inhrelid::regclass::text FROM pg_inherits WHERE inhparent = 'parts'::regclass ORDER BY 1`)
		names, _ := pgx.CollectRows(rows, pgx.RowTo[string])
		t.Errorf("%d partitions left, want 7 and the default: %v", left, names)
	}
	if n := pgtest.Count(t, conn, `SELECT count(*) FROM parts WHERE ts < now() - interval '6 days' AND tableoid <> 'parts_default'::regclass`); n != 0 {
		t.Errorf("%d rows older than 6 days are left outside the default partition", n)
	}
	if n := pgtest.Count(t, conn, `SELECT count(*) FROM parts_default`); n != 1 {
		t.Errorf("the DEFAULT partition holds %d rows, want its 1 (never dropped)", n)
	}
	if n := pgtest.Count(t, conn, `SELECT count(*) FROM parts WHERE ts >= now() - interval '4 days'`); n < 4*24 {
		t.Errorf("only %d rows of the last 4 days are left", n)
	}

	if err := simpleExec(t, conn, plainCommand(plain, 5, 1000, 5*time.Second)); err != nil {
		t.Fatalf("plain: %v", err)
	}
	// The cutoff read in New York: no row older than 5 days there, all newer ones kept.
	if n := pgtest.Count(t, conn, `SELECT count(*) FROM plain WHERE ts < (now() - interval '5 days') AT TIME ZONE 'America/New_York' - interval '1 minute'`); n != 0 {
		t.Errorf("%d rows older than the cutoff are left", n)
	}
	if n := pgtest.Count(t, conn, `SELECT count(*) FROM plain WHERE ts >= (now() - interval '5 days') AT TIME ZONE 'America/New_York' + interval '1 minute'`); n < 5*24*60-5 {
		t.Errorf("only %d rows newer than the cutoff are left", n)
	}
	if err := simpleExec(t, conn, plainCommand(days, 5, 1000, 5*time.Second)); err != nil {
		t.Fatalf("days: %v", err)
	}
	var oldest time.Time
	pgtest.QueryRow(t, conn, `SELECT min(d)::timestamp FROM days`).Scan(&oldest)
	cutDay := time.Now().In(mustZone(t, tz)).Add(-5 * 24 * time.Hour).Format("2006-01-02")
	if got := oldest.Format("2006-01-02"); got != cutDay {
		t.Errorf("the oldest day left is %s, want the cutoff's day in New York, %s (a day goes when it ended by the cutoff)", got, cutDay)
	}
	// Everything past the cutoff: refused, nothing deleted.
	exec(t, conn, `DELETE FROM plain WHERE ts >= (now() AT TIME ZONE 'America/New_York') - interval '5 days'`)
	before := pgtest.Count(t, conn, `SELECT count(*) FROM plain`)
	if err := simpleExec(t, conn, plainCommand(plain, 1, 1000, 5*time.Second)); err == nil || !strings.Contains(err.Error(), "refusing to delete everything") {
		t.Errorf("a cleanup that leaves no newer row: %v", err)
	}
	if after := pgtest.Count(t, conn, `SELECT count(*) FROM plain`); after != before {
		t.Errorf("the refused cleanup deleted %d rows", before-after)
	}
}

func mustZone(t *testing.T, name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// With TimescaleDB, the schedule plan installs the policy as TimescaleDB
// policies, showing what exists and what changes: a missing retention or
// compression policy is added, one with another setting altered in place
// (same job), one that agrees left, one on a permanent table removed. Run,
// planned again it has nothing to change; the ledger lists the jobs.
func TestScheduleTimescalePolicies(t *testing.T) {
	pgtest.RequireTimescale(t)
	dsn := pgtest.NewDatabase(t)
	conn := connect(t, dsn)
	exec(t, conn, `CREATE EXTENSION timescaledb;
		CREATE TABLE fresh (ts timestamptz NOT NULL, v int);   SELECT create_hypertable('fresh', 'ts', chunk_time_interval => interval '1 day');
		CREATE TABLE other (ts timestamptz NOT NULL, v int);   SELECT create_hypertable('other', 'ts', chunk_time_interval => interval '1 day');
		CREATE TABLE agrees (ts timestamptz NOT NULL, v int);  SELECT create_hypertable('agrees', 'ts', chunk_time_interval => interval '1 day');
		CREATE TABLE keeper (ts timestamptz NOT NULL, v int);  SELECT create_hypertable('keeper', 'ts', chunk_time_interval => interval '1 day');
		CREATE TABLE squeezed (ts timestamptz NOT NULL, dev int, v int); SELECT create_hypertable('squeezed', 'ts', chunk_time_interval => interval '1 day');
		INSERT INTO fresh SELECT g, 1 FROM generate_series(now() - interval '3 days', now(), interval '1 hour') g;
		SELECT add_retention_policy('other', INTERVAL '30 days');
		SELECT add_retention_policy('agrees', INTERVAL '10 days');
		SELECT add_retention_policy('keeper', INTERVAL '7 days');`)
	var otherJob int64
	pgtest.QueryRow(t, conn, `SELECT job_id FROM timescaledb_information.jobs WHERE hypertable_name = 'other'`).Scan(&otherJob)
	policy := config.Policy{Tables: []config.TablePolicy{
		{Name: "fresh", TimeColumn: "ts", RetentionDays: 10},
		{Name: "other", TimeColumn: "ts", RetentionDays: 10},
		{Name: "agrees", TimeColumn: "ts", RetentionDays: 10},
		{Name: "keeper", TimeColumn: "ts", Permanent: true},
		{Name: "squeezed", TimeColumn: "ts", CompressAfterDays: 3, SegmentBy: []string{"dev"}},
	}, Connection: config.DefaultConnection}
	p := planSchedule(t, conn, policy)
	titles := strings.Join(stepTitles(p), "\n")
	for _, want := range []string{
		"add TimescaleDB's retention policy to public.fresh: drop chunks older than 10 days, every day",
		"change TimescaleDB job " + idText(otherJob) + " of public.other: drop_after 30 days → 10 days (alter_job)",
		"remove TimescaleDB's retention policy (job",
		"enable compression on public.squeezed",
		"add TimescaleDB's compression policy to public.squeezed: compress chunks older than 3 days",
	} {
		if !strings.Contains(titles, want) {
			t.Errorf("no step %q in\n%s", want, titles)
		}
	}
	if len(p.Steps) != 5 {
		t.Errorf("%d steps, want 5:\n%s", len(p.Steps), titles)
	}
	if !strings.Contains(remarks(p), "TimescaleDB's retention policy exists: job") || !strings.Contains(remarks(p), "drop_after 10 days: unchanged") {
		t.Errorf("the plan does not say agrees' policy stays:\n%s", remarks(p))
	}
	if !p.Destructive() {
		t.Error("installing retention policies is not marked destructive")
	}
	res, rec := runSchedulePlan(t, dsn, p, policy)
	if res.Outcome != OutcomeOK {
		t.Fatalf("outcome %s: %v %v (%d events)", res.Outcome, res.Failed, res.Skipped, len(rec.events))
	}
	type job struct {
		Table, Proc, Config string
		ID                  int64
	}
	rows, err := conn.Query(context.Background(), `SELECT hypertable_name::text, proc_name::text, config::text, job_id::bigint FROM timescaledb_information.jobs
		WHERE hypertable_name IS NOT NULL ORDER BY hypertable_name, proc_name`)
	if err != nil {
		t.Fatal(err)
	}
	jobs, err := pgx.CollectRows(rows, pgx.RowToStructByPos[job])
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]job{}
	for _, j := range jobs {
		got[j.Table+"/"+j.Proc] = j
	}
	check := func(key, setting, want string) {
		t.Helper()
		j, ok := got[key]
		var cfg map[string]any
		_ = json.Unmarshal([]byte(j.Config), &cfg)
		if !ok || cfg[setting] != want {
			t.Errorf("%s: %+v, want %s = %s", key, j, setting, want)
		}
	}
	check("fresh/policy_retention", "drop_after", "10 days")
	check("other/policy_retention", "drop_after", "10 days")
	check("agrees/policy_retention", "drop_after", "10 days")
	check("squeezed/policy_compression", "compress_after", "3 days")
	if got["other/policy_retention"].ID != otherJob {
		t.Errorf("other's policy is job %d, want %d kept (alter_job, not remove and add)", got["other/policy_retention"].ID, otherJob)
	}
	if _, ok := got["keeper/policy_retention"]; ok {
		t.Error("the permanent table keeps its retention policy")
	}
	again := planSchedule(t, conn, policy)
	if len(again.Steps) != 0 {
		t.Errorf("planned again: %v", stepTitles(again))
	}
	// The ledger lists them under their tasks, with their stats.
	r, err := report.Collect(context.Background(), conn, policy)
	if err != nil {
		t.Fatal(err)
	}
	var retention, compression int
	for _, j := range r.JobsFor("retention_cleanup") {
		if j.Engine == report.EngineTimescale {
			retention++
			if j.State == "" || j.Schedule != "every 1 day" {
				t.Errorf("retention job %s: state %q schedule %q", j.Describe(), j.State, j.Schedule)
			}
		}
	}
	for _, j := range r.JobsFor("compression_check") {
		if j.Engine == report.EngineTimescale {
			compression++
		}
	}
	if retention != 3 || compression != 1 {
		t.Errorf("ledger: %d retention and %d compression jobs, want 3 and 1", retention, compression)
	}
	if r.Jobs.Timescale == nil || r.Jobs.Timescale.MaxBackgroundWorkers <= 0 || r.Jobs.Timescale.Scheduled < 4 {
		t.Errorf("TimescaleDB's workers: %+v", r.Jobs.Timescale)
	}
}

func idText(n int64) string { b, _ := json.Marshal(n); return string(b) }

// A job run with CALL run_job — TimescaleDB records only its scheduler's
// runs — shows in the ledger as the job's last run, by pgtend; a job whose
// run fails is flagged failing, with its error and since when.
func TestRunJobsShowsInLedger(t *testing.T) {
	pgtest.RequireTimescale(t)
	dsn := pgtest.NewDatabase(t)
	conn := connect(t, dsn)
	exec(t, conn, `CREATE EXTENSION timescaledb;
		CREATE TABLE ticks (ts timestamptz NOT NULL, v int); SELECT create_hypertable('ticks', 'ts', chunk_time_interval => interval '1 day');
		INSERT INTO ticks SELECT g, 1 FROM generate_series(now() - interval '20 days', now(), interval '1 hour') g;
		CREATE PROCEDURE broken(job_id int, config jsonb) LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'the feed is down'; END $$;`)
	var retention, broken int64
	// initial_start far ahead: the background scheduler leaves them alone.
	pgtest.QueryRow(t, conn, `SELECT add_retention_policy('ticks', INTERVAL '10 days', initial_start => now() + interval '1 day')`).Scan(&retention)
	pgtest.QueryRow(t, conn, `SELECT add_job('broken', '1 day', initial_start => now() + interval '1 day')`).Scan(&broken)
	policy := config.Policy{Tables: []config.TablePolicy{{Name: "ticks", TimeColumn: "ts", RetentionDays: 10}}, Connection: config.DefaultConnection}

	a, _ := Default().Action("jobs")
	p, err := a.Plan(WithFlags(context.Background(), Flags{FlagJob: idText(retention)}), conn, policy, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Steps) != 1 || !p.Steps[0].Destructive || !strings.Contains(p.Steps[0].Title, "drops the 10 chunks older than 10 days") || len(p.Steps[0].Affected) != 10 {
		t.Fatalf("plan: %v (affected %d)", stepTitles(p), len(p.Steps[0].Affected))
	}
	res, _ := runSchedulePlan(t, dsn, p, policy)
	if res.Outcome != OutcomeOK {
		t.Fatalf("run_job: %s %v", res.Outcome, res.Failed)
	}
	if n := pgtest.Count(t, conn, `SELECT count(*) FROM show_chunks('ticks', older_than => interval '10 days')`); n != 0 {
		t.Errorf("%d chunks older than 10 days are left", n)
	}
	p, err = a.Plan(WithFlags(context.Background(), Flags{FlagJob: idText(broken)}), conn, policy, "")
	if err != nil {
		t.Fatal(err)
	}
	res, _ = runSchedulePlan(t, dsn, p, policy)
	if res.Outcome != OutcomeFailed || len(res.Failed) != 1 || !strings.Contains(res.Failed[0], "the feed is down") {
		t.Fatalf("the broken job's run: %s %v", res.Outcome, res.Failed)
	}

	r, err := report.Collect(context.Background(), conn, policy)
	if err != nil {
		t.Fatal(err)
	}
	byID := map[int64]report.Job{}
	for _, j := range r.Jobs.Ledger {
		if j.ID != nil && j.Engine == report.EngineTimescale {
			byID[*j.ID] = j
		}
	}
	ok := byID[retention]
	// ok — or, where the test cluster's workers are all taken by other
	// databases' schedulers, cannot_start: true of its schedule either way.
	if ok.LastRun == nil || ok.LastRunBy != report.RunByPgtend || ok.LastStatus != "succeeded" || ok.LastSuccess == nil ||
		(ok.State != report.JobOK && ok.State != report.JobCannotStart) ||
		time.Since(*ok.LastRun) > time.Minute || ok.Task != "retention_cleanup" {
		t.Errorf("the retention job after CALL run_job: %+v", ok)
	}
	bad := byID[broken]
	if bad.State != report.JobFailing || bad.LastError == nil || !strings.Contains(*bad.LastError, "the feed is down") || bad.FailingSince == nil ||
		!strings.Contains(bad.Why, "the feed is down") || bad.LastRunBy != report.RunByPgtend {
		t.Errorf("the broken job: %+v", bad)
	}
	if !slices.ContainsFunc(r.Jobs.Warnings, func(w report.Warning) bool {
		return w.Code == report.WarnJobFailing && strings.Contains(w.Text, "the feed is down")
	}) {
		t.Errorf("no warning of the failing job: %+v", r.Jobs.Warnings)
	}
}

// The scripts' calendar tasks the report gives pgtend's systemd timers are
// those of the registry's scripts.
func TestScriptTasksMatchRegistry(t *testing.T) {
	reg := Default()
	for _, name := range []string{"weekly", "monthly"} {
		s, ok := reg.Script(name)
		if !ok {
			t.Fatalf("no script %s", name)
		}
		steps, err := reg.Checklist(s.Name)
		if err != nil {
			t.Fatal(err)
		}
		var want []string
		for _, st := range steps {
			if st.Kind != KindManual && !st.ByHand && st.Task != "" && !slices.Contains(want, st.Task) {
				want = append(want, st.Task)
			}
		}
		got := slices.Clone(report.ScriptTasks[name])
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("report.ScriptTasks[%q] = %v, the registry's script does %v", name, got, want)
		}
	}
}

// With pg_cron, the schedule plan installs retention jobs for partitioned
// and plain tables (not for one that foreign keys reference), the weekly
// VACUUM ANALYZE and the trim of cron.job_run_details; pg_cron runs them,
// and the ledger lists them with their run details: successes as such, a
// failing job with its error and since when.
func TestScheduleCronJobsRunAndListed(t *testing.T) {
	dsn := pgtest.RequireCron(t)
	conn := connect(t, dsn)
	exec(t, conn, `
		CREATE TABLE bars (ts timestamptz NOT NULL, v int) PARTITION BY RANGE (ts);
		DO $$ DECLARE d date; BEGIN
			FOR i IN -12..1 LOOP
				d := (now() AT TIME ZONE 'UTC')::date + i;
				EXECUTE format('CREATE TABLE %I PARTITION OF bars FOR VALUES FROM (%L) TO (%L)', 'bars_' || to_char(d, 'YYYYMMDD'),
					d::timestamp AT TIME ZONE 'UTC', (d + 1)::timestamp AT TIME ZONE 'UTC');
			END LOOP; END $$;
		INSERT INTO bars SELECT g, 1 FROM generate_series(now() - interval '12 days', now(), interval '1 hour') g;
		CREATE TABLE events (ts timestamptz NOT NULL, v int);
		INSERT INTO events SELECT g, 1 FROM generate_series(now() - interval '12 days', now(), interval '10 minutes') g;
		CREATE TABLE orders (id int PRIMARY KEY, ts timestamptz NOT NULL);
		CREATE TABLE fills (order_id int REFERENCES orders, ts timestamptz);
		INSERT INTO orders SELECT i, now() - make_interval(days => i) FROM generate_series(0, 12) i;
		CREATE TABLE ledger (ts timestamptz NOT NULL);`)
	policy := config.Policy{Tables: []config.TablePolicy{
		{Name: "bars", TimeColumn: "ts", RetentionDays: 5},
		{Name: "events", TimeColumn: "ts", RetentionDays: 5},
		{Name: "orders", TimeColumn: "ts", RetentionDays: 5},
		{Name: "ledger", TimeColumn: "ts", Permanent: true},
	}, Connection: config.DefaultConnection}
	p := planSchedule(t, conn, policy)
	want := []string{
		"schedule pg_cron job pgtend-retention-public.bars, daily at 03:30 GMT",
		"schedule pg_cron job pgtend-retention-public.events, daily at 03:30 GMT",
		"schedule pg_cron job pgtend-vacuum, Sundays at 03:00 GMT",
		"schedule pg_cron job pgtend-cron-trim, daily at 04:00 GMT",
	}
	if got := stepTitles(p); !slices.Equal(got, want) {
		t.Fatalf("steps:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if !strings.Contains(remarks(p), "no pg_cron retention job: foreign keys reference it (fills_order_id_fkey on public.fills)") {
		t.Errorf("the plan does not say why orders is left out:\n%s", remarks(p))
	}
	if res, _ := runSchedulePlan(t, dsn, p, policy); res.Outcome != OutcomeOK {
		t.Fatalf("outcome %s: %v %v", res.Outcome, res.Failed, res.Skipped)
	}
	for _, s := range p.Steps {
		name := strings.Fields(strings.TrimPrefix(s.Title, "schedule pg_cron job "))[0]
		name = strings.TrimSuffix(name, ",")
		var command string
		pgtest.QueryRow(t, conn, `SELECT command FROM cron.job WHERE jobname = $1`, name).Scan(&command)
		if !strings.Contains(s.Statements[0], report.Literal(command)) {
			t.Errorf("%s: cron.job's command is not the plan's:\n%s\nvs\n%s", name, command, s.Statements[0])
		}
	}
	if again := planSchedule(t, conn, policy); len(again.Steps) != 0 {
		t.Errorf("planned again: %v", stepTitles(again))
	}

	// Now: every pgtend job every minute, and a job that fails.
	exec(t, conn, `SELECT cron.alter_job(jobid, schedule => '* * * * *') FROM cron.job WHERE jobname LIKE 'pgtend-%'`)
	exec(t, conn, `SELECT cron.schedule('broken', '* * * * *', 'SELECT 1/0')`)
	deadline := time.Now().Add(100 * time.Second)
	for {
		n := pgtest.Count(t, conn, `SELECT count(DISTINCT jobid) FROM cron.job_run_details WHERE status IN ('succeeded', 'failed')`)
		if n >= 5 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 100 s, %d of the 5 jobs have run (is pg_cron's launcher running?)", n)
		}
		time.Sleep(2 * time.Second)
	}
	r, err := report.Collect(context.Background(), conn, policy)
	if err != nil {
		t.Fatal(err)
	}
	if r.Jobs.Cron == nil || !r.Jobs.Cron.Usable || r.Jobs.Cron.RunDetailsSince == nil || !r.Jobs.Cron.Trimmed {
		t.Errorf("pg_cron: %+v", r.Jobs.Cron)
	}
	seen := map[string]report.Job{}
	for _, j := range r.Jobs.Ledger {
		if j.Engine == report.EngineCron {
			seen[j.Name] = j
		}
	}
	for _, name := range []string{"pgtend-retention-public.bars", "pgtend-retention-public.events", "pgtend-vacuum", "pgtend-cron-trim"} {
		j := seen[name]
		if j.LastStatus != "succeeded" || j.LastSuccess == nil || j.LastRunBy != report.RunByScheduler || j.State != report.JobOK || j.NextStart == nil || j.LastError != nil {
			t.Errorf("%s: %+v", name, j)
		}
	}
	if seen["pgtend-retention-public.bars"].Task != "retention_cleanup" || seen["pgtend-vacuum"].Task != "vacuum_analyze" {
		t.Errorf("tasks: bars %q, vacuum %q", seen["pgtend-retention-public.bars"].Task, seen["pgtend-vacuum"].Task)
	}
	b := seen["broken"]
	if b.State != report.JobFailing || b.LastError == nil || !strings.Contains(*b.LastError, "division by zero") || b.FailingSince == nil || !strings.Contains(b.Why, "division by zero") {
		t.Errorf("broken: %+v", b)
	}
	if n := pgtest.Count(t, conn, `SELECT count(*) FROM events WHERE ts < now() - interval '5 days' - interval '2 minutes'`); n != 0 {
		t.Errorf("pg_cron's run left %d rows of events older than 5 days", n)
	}
	if n := pgtest.Count(t, conn, `SELECT count(*) FROM pg_inherits WHERE inhparent = 'bars'::regclass`); n != 7 {
		t.Errorf("pg_cron's run left %d partitions of bars, want 7", n)
	}
	// The schedules changed by hand: the plan puts them back.
	again := planSchedule(t, conn, policy)
	if len(again.Steps) != 4 || !strings.HasPrefix(again.Steps[0].Title, "update pg_cron job ") {
		t.Errorf("planned after the schedules changed: %v", stepTitles(again))
	}
}
