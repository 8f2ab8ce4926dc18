package maint

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pgtend/pgtend/ops/report"
)

// pg_cron jobs for what TimescaleDB's policies do not cover: retention of
// partitioned and plain tables, the weekly VACUUM ANALYZE, and a daily trim
// of cron.job_run_details (one row a run, kept for ever otherwise). Each
// command is one SQL statement pg_cron runs as the role that scheduled it:
//   - a partitioned table: a DO block that detaches and drops, one at a
//     time and each in its own transaction, the partitions whose upper bound
//     is at or before the cutoff (the same rule as `pgtend run retention`),
//     leaving DEFAULT and MAXVALUE partitions and those of several key
//     columns (no single upper bound to go by) and those a foreign key or a
//     view holds (PostgreSQL refuses them; the job then fails, naming them);
//   - a plain table: a DO block that deletes the rows older than the cutoff
//     in batches, each batch its own transaction (COMMIT in a DO block run
//     by itself), under lock_timeout;
//   - both refuse, as pgtend's plans do, when no row newer than the cutoff
//     would remain. Tables that foreign keys reference are not scheduled:
//     pgtend's own run checks those references batch by batch, a job cannot.

// Schedules of pgtend's pg_cron jobs (pg_cron reads them in GMT before
// 1.5, in cron.timezone after).
const (
	cronRetentionSchedule = "30 3 * * *" // daily at 03:30
	cronVacuumSchedule    = "0 3 * * 0"  // Sundays at 03:00
	cronTrimSchedule      = "0 4 * * *"  // daily at 04:00
	cronTrimKeep          = "30 days"
	cronBatch             = 10_000
)

// CronTrimCommand is the command of pgtend's trim of cron.job_run_details.
const CronTrimCommand = "DELETE FROM cron.job_run_details WHERE end_time < now() - interval '" + cronTrimKeep + "'"

// cron plans pgtend's pg_cron jobs, or says why there are none.
func (s *scheduler) cron(ctx context.Context, conn *pgx.Conn, tables []report.Table) error {
	c, here := s.r.Jobs.Cron, s.r.Server.Database
	stays := "retention of partitioned and plain tables and the weekly VACUUM ANALYZE stay with `pgtend run monthly --yes` and `pgtend run weekly`: " +
		"`pgtend schedule print` prints them as crontab lines and systemd units"
	var denied string
	switch {
	case c == nil:
		s.p.Notes = append(s.p.Notes, "pg_cron is not installed on this server (Debian: postgresql-NN-cron; then shared_preload_libraries and cron.database_name): "+stays)
		return nil
	case !c.Usable && c.Preloaded && c.Version == nil && (c.DatabaseName == nil || *c.DatabaseName == here):
		var super bool
		if err := conn.QueryRow(ctx, `SELECT rolsuper FROM pg_roles WHERE rolname = current_user`).Scan(&super); err != nil {
			return err
		}
		st := Step{Title: "create the extension pg_cron in " + here, Target: pgx.Identifier{here}.Sanitize(), Statements: []string{"CREATE EXTENSION IF NOT EXISTS pg_cron"},
			Lock: "none", Unit: "extensions",
			run: func(ctx context.Context, r *runner, i int) (int64, error) {
				_, err := r.conn.Exec(ctx, "CREATE EXTENSION IF NOT EXISTS pg_cron")
				return 0, err
			}}
		if !super {
			st.Denied = "CREATE EXTENSION pg_cron needs a superuser: run as one (sudo -u postgres pgtend run schedule), or have one create it"
			denied = "pg_cron's extension is not created yet: " + st.Denied
		}
		s.add(nil, st, "pg_cron is preloaded for this database but not created here: the plan creates it, then schedules its jobs")
	case !c.Usable:
		s.p.Notes = append(s.p.Notes, c.Problem+"; "+stays)
		return nil
	default:
		var may bool
		if err := conn.QueryRow(ctx, `SELECT has_schema_privilege('cron', 'USAGE') AND has_function_privilege('cron.schedule(text, text, text)', 'EXECUTE')`).Scan(&may); err != nil {
			return err
		}
		if !may {
			denied = "this role may not schedule pg_cron jobs: GRANT USAGE ON SCHEMA cron TO " + s.role(ctx, conn) + " (pg_cron runs each job as the role that scheduled it)"
		}
	}
	zone := "GMT"
	if c.Version != nil && !strings.HasPrefix(*c.Version, "1.4") && !strings.HasPrefix(*c.Version, "1.3") {
		zone = "cron.timezone"
	}
	existing := map[string]report.Job{}
	for _, j := range s.r.Jobs.Ledger {
		if j.Engine == report.EngineCron && j.ByPgtend {
			existing[j.Name] = j
		}
	}
	want := map[string]bool{}
	job := func(t *report.Table, table, name, schedule, command, what string, destructive bool, ns []needOn) {
		want[name] = true
		old, ok := existing[name]
		if ok && old.Command == command && old.Schedule == schedule {
			finding := fmt.Sprintf("pg_cron job %d %s exists (%s): unchanged", deref64(old.ID), name, schedule)
			if t != nil {
				s.note(*t, finding)
			} else {
				s.p.Notes = append(s.p.Notes, finding)
			}
			return
		}
		st := cronScheduleStep(table, name, schedule, command, zone, destructive, ns, old, ok)
		if denied != "" && st.Denied == "" {
			st.Denied = denied
		}
		finding := fmt.Sprintf("pg_cron job %s, %s (%s %s): %s", name, describeSchedule(schedule), schedule, zone, what)
		if ok {
			finding = fmt.Sprintf("pg_cron job %d %s exists with another command or schedule: the plan replaces them (cron.schedule by name updates it). %s", deref64(old.ID), name, what)
		}
		s.add(t, st, finding)
	}
	var vacuum []string
	for i := range tables {
		t := tables[i]
		if t.Missing || !t.InPolicy {
			continue
		}
		rel := pgx.Identifier{t.Schema, t.Name}.Sanitize()
		vacuum = append(vacuum, rel)
		if t.Permanent || t.RetentionDays == nil || (*t.Kind != report.KindPartitioned && *t.Kind != report.KindTable) {
			continue
		}
		command, what, why := s.cronRetention(t)
		if why != "" {
			s.note(t, "no pg_cron retention job: "+why)
			continue
		}
		ns := needs(rel, NeedSelect, NeedDelete)
		if *t.Kind == report.KindPartitioned {
			ns = needs(rel, NeedOwner)
		}
		job(&t, rel, report.CronRetentionPrefix+t.Key(), cronRetentionSchedule, command, what, true, ns)
	}
	if len(vacuum) > 0 {
		job(nil, "", report.CronVacuumJob, cronVacuumSchedule, "VACUUM (ANALYZE) "+strings.Join(vacuum, ", "),
			fmt.Sprintf("VACUUM (ANALYZE) of the policy's %d tables in one command (a table the role may not maintain is skipped with a warning)", len(vacuum)), false, nil)
	}
	if _, ours := existing[report.CronTrimJob]; !c.Trimmed || ours {
		job(nil, pgx.Identifier{"cron", "job_run_details"}.Sanitize(), report.CronTrimJob, cronTrimSchedule, CronTrimCommand,
			fmt.Sprintf("deletes pg_cron's run details older than %s (cron.job_run_details grows by a row a run; it holds about %d rows now)", cronTrimKeep, c.RunDetailsRows), true, nil)
	}
	for name, j := range existing {
		if !want[name] {
			st := cronUnscheduleStep(j)
			if denied != "" {
				st.Denied = denied
			}
			s.add(nil, st, fmt.Sprintf("pg_cron job %d %s is pgtend's and the policy no longer asks for it: the plan unschedules it", deref64(j.ID), name))
		}
	}
	return nil
}

func deref64(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}

func (s *scheduler) role(ctx context.Context, conn *pgx.Conn) string {
	var role string
	_ = conn.QueryRow(ctx, `SELECT current_user`).Scan(&role)
	return pgx.Identifier{role}.Sanitize()
}

func describeSchedule(schedule string) string {
	switch schedule {
	case cronRetentionSchedule:
		return "daily at 03:30"
	case cronVacuumSchedule:
		return "Sundays at 03:00"
	case cronTrimSchedule:
		return "daily at 04:00"
	}
	return schedule
}

// cronRetention is the command of a table's pg_cron retention job and
// what it does, or why it is not scheduled.
func (s *scheduler) cronRetention(t report.Table) (command, what, why string) {
	name := t.Key()
	switch {
	case t.TimeColumn == nil:
		return "", "", "no time column in the policy"
	case t.TimeType() == "":
		return "", "", fmt.Sprintf("time column %s is not a timestamptz, timestamp or date column", *t.TimeColumn)
	case *t.Kind == report.KindPartitioned && (t.PartitionColumn == nil || *t.PartitionColumn != *t.TimeColumn):
		return "", "", fmt.Sprintf("the policy's time column %q is not the column it is partitioned by", *t.TimeColumn)
	}
	if fks := s.incoming[t.OID()]; len(fks) > 0 {
		var names []string
		for _, f := range fks {
			names = append(names, f.Name+" on "+f.From)
		}
		return "", "", "foreign keys reference it (" + strings.Join(names, ", ") + "): `pgtend run retention` checks them batch by batch, a job cannot; it stays with `pgtend run monthly --yes`"
	}
	lock := s.policy.Connection.MaintenanceLockTimeout
	if lock <= 0 {
		lock = 5 * time.Second
	}
	days := *t.RetentionDays
	if *t.Kind == report.KindPartitioned {
		return partitionsCommand(t, days, lock), fmt.Sprintf("detaches and drops, one a transaction, the partitions of %s wholly older than %d days; "+
			"leaves DEFAULT and MAXVALUE partitions, and fails naming those PostgreSQL refuses (a foreign key, a view); "+
			"DETACH takes ACCESS EXCLUSIVE on the parent briefly, under lock_timeout %s", name, days, lock), ""
	}
	return plainCommand(t, days, cronBatch, lock), fmt.Sprintf("deletes the rows of %s older than %d days in batches of %d, each its own transaction, under lock_timeout %s; "+
		"the space is reused by the table, not returned to the filesystem (autovacuum, or the weekly VACUUM job, makes it reusable)", name, days, cronBatch, lock), ""
}

// liveBound is the cutoff, held in the DO block's variable cutoff (an
// instant), as a value comparable with t's time column: the rule of
// report.Table.Bound, in the table's zone for timestamp and date columns.
func liveBound(t report.Table) string {
	switch typ := t.TimeType(); {
	case (typ == report.TypeTimestamp || typ == report.TypeDate) && t.TimeZone != nil:
		cast := "timestamp"
		if typ == report.TypeDate {
			cast = "date"
		}
		return "(cutoff AT TIME ZONE " + report.Literal(*t.TimeZone) + ")::" + cast
	}
	return "cutoff"
}

// doBlock wraps body in DO and a dollar quote that does not occur in it,
// on one line (cron.job shows it so, and so does the plan). body has no
// comment, and no string literal with two spaces in a row.
func doBlock(body string) string {
	body = strings.Join(strings.Fields(body), " ")
	tag := "$pgtend$"
	for i := 1; strings.Contains(body, tag); i++ {
		tag = fmt.Sprintf("$pgtend%d$", i)
	}
	return "DO " + tag + " " + body + " " + tag
}

func plainCommand(t report.Table, days, batch int, lock time.Duration) string {
	rel := pgx.Identifier{t.Schema, t.Name}.Sanitize()
	col := pgx.Identifier{*t.TimeColumn}.Sanitize()
	return doBlock(strings.NewReplacer(
		"{secs}", fmt.Sprint(days*86400), "{lock}", report.Literal(fmt.Sprintf("%dms", lock.Milliseconds())),
		"{rel}", rel, "{col}", col, "{bound}", liveBound(t), "{name}", report.Literal(t.Key()), "{batch}", fmt.Sprint(batch),
	).Replace(`DECLARE
  cutoff timestamptz := now() - make_interval(secs => {secs});
  n bigint;
  total bigint := 0;
BEGIN
  PERFORM set_config('lock_timeout', {lock}, false);
  IF NOT EXISTS (SELECT 1 FROM {rel} t WHERE t.{col} >= {bound}) THEN
    RAISE EXCEPTION 'pgtend: no row of % is newer than %: refusing to delete everything', {name}, cutoff;
  END IF;
  LOOP
    DELETE FROM {rel} t WHERE t.{col} < {bound}
      AND t.ctid = ANY (ARRAY(SELECT t.ctid FROM {rel} t WHERE t.{col} < {bound} LIMIT {batch}));
    GET DIAGNOSTICS n = ROW_COUNT;
    total := total + n;
    COMMIT;
    EXIT WHEN n = 0;
  END LOOP;
  RAISE NOTICE 'pgtend: deleted % rows of % older than %', total, {name}, cutoff;
END`))
}

func partitionsCommand(t report.Table, days int, lock time.Duration) string {
	rel := pgx.Identifier{t.Schema, t.Name}.Sanitize()
	col := pgx.Identifier{*t.TimeColumn}.Sanitize()
	cast := map[string]string{report.TypeTimestamptz: "timestamptz", report.TypeTimestamp: "timestamp", report.TypeDate: "date"}[t.TimeType()]
	return doBlock(strings.NewReplacer(
		"{secs}", fmt.Sprint(days*86400), "{lock}", report.Literal(fmt.Sprintf("%dms", lock.Milliseconds())),
		"{rel}", rel, "{col}", col, "{bound}", liveBound(t), "{name}", report.Literal(t.Key()), "{relname}", report.Literal(rel), "{cast}", cast,
	).Replace(`DECLARE
  cutoff timestamptz := now() - make_interval(secs => {secs});
  p record;
  dropped int := 0;
  failed text[] := '{}';
BEGIN
  PERFORM set_config('lock_timeout', {lock}, false);
  IF NOT EXISTS (SELECT 1 FROM {rel} t WHERE t.{col} >= {bound}) THEN
    RAISE EXCEPTION 'pgtend: no row of % is newer than %: refusing to delete everything', {name}, cutoff;
  END IF;
  FOR p IN
    SELECT c.oid::regclass AS part, substring(pg_get_expr(c.relpartbound, c.oid) FROM $re$TO [(]'([^']*)'[)]$re$) AS upper
    FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
    WHERE i.inhparent = {relname}::regclass AND NOT i.inhdetachpending
    ORDER BY 2
  LOOP
    CONTINUE WHEN p.upper IS NULL OR p.upper::{cast} > {bound};
    BEGIN
      EXECUTE format('ALTER TABLE %s DETACH PARTITION %s', {relname}::regclass, p.part);
      EXECUTE format('DROP TABLE %s', p.part);
      dropped := dropped + 1;
    EXCEPTION WHEN OTHERS THEN
      failed := failed || (p.part::text || ': ' || SQLERRM);
    END;
    COMMIT;
  END LOOP;
  IF cardinality(failed) > 0 THEN
    RAISE EXCEPTION 'pgtend: dropped % partitions of %, not %: %', dropped, {name}, cardinality(failed), array_to_string(failed, '; ');
  END IF;
  RAISE NOTICE 'pgtend: dropped % partitions of % older than %', dropped, {name}, cutoff;
END`))
}

// cronScheduleStep schedules (or, by name, updates) a pg_cron job; the run
// first checks the job is still as the plan saw it.
// table is the relation whose rows the job deletes ("" when none): a
// permanent one is refused when the plan runs.
func cronScheduleStep(table, name, schedule, command, zone string, destructive bool, ns []needOn, old report.Job, existed bool) Step {
	stmt := "SELECT cron.schedule(" + report.Literal(name) + ", " + report.Literal(schedule) + ", " + report.Literal(command) + ")"
	title := fmt.Sprintf("schedule pg_cron job %s, %s %s", name, describeSchedule(schedule), zone)
	if existed {
		title = fmt.Sprintf("update pg_cron job %d %s: %s %s", deref64(old.ID), name, describeSchedule(schedule), zone)
	}
	return Step{
		Title: title, Target: report.Literal(name), Statements: []string{stmt}, Lock: LockNone, Destructive: destructive, Unit: "jobs",
		Table: table, needs: ns,
		run: func(ctx context.Context, r *runner, i int) (int64, error) {
			var cmd, sched string
			err := r.conn.QueryRow(ctx, `SELECT command, schedule FROM cron.job WHERE jobname = $1 AND username = current_user`, name).Scan(&cmd, &sched)
			switch {
			case err == pgx.ErrNoRows && existed:
				return 0, skip("pg_cron job " + name + " was removed since the plan was made: left so; plan again")
			case err == nil && !existed:
				return 0, skip("pg_cron job " + name + " was scheduled since the plan was made: left as it is; plan again")
			case err == nil && (cmd != old.Command || sched != old.Schedule):
				return 0, skip("pg_cron job " + name + " changed since the plan was made: left as it is; plan again")
			case err != nil && err != pgx.ErrNoRows:
				return 0, err
			}
			_, err = r.conn.Exec(ctx, stmt)
			return 0, err
		},
	}
}

func cronUnscheduleStep(j report.Job) Step {
	id := deref64(j.ID)
	stmt := fmt.Sprintf("SELECT cron.unschedule(%d)", id)
	return Step{
		Title: fmt.Sprintf("unschedule pg_cron job %d %s", id, j.Name), Target: report.Literal(j.Name), Statements: []string{stmt}, Lock: "none (a job is removed)", Unit: "jobs",
		run: func(ctx context.Context, r *runner, i int) (int64, error) {
			var exists bool
			if err := r.conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM cron.job WHERE jobid = $1)`, id).Scan(&exists); err != nil {
				return 0, err
			}
			if !exists {
				return 0, skip(fmt.Sprintf("pg_cron job %d is gone already", id))
			}
			_, err := r.conn.Exec(ctx, stmt)
			return 0, err
		},
	}
}
