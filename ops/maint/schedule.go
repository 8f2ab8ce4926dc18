package maint

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/pgtend/pgtend/ops/config"
	"github.com/pgtend/pgtend/ops/report"
)

// Schedules handed to the database's own job engines, not to a daemon of
// pgtend's: the policy becomes TimescaleDB policies (add_retention_policy
// per hypertable with a retention, add_compression_policy or
// add_columnstore_policy per hypertable with a compress_after) and pg_cron
// jobs (retention of partitioned and plain tables, the weekly VACUUM
// ANALYZE, a trim of cron.job_run_details). The plan shows what exists and
// what changes: a policy with another setting is altered in place
// (alter_job keeps its id and its history), one of a table the policy keeps
// for good is removed, a pgtend job the policy no longer wants is
// unscheduled. pg_partman's maintenance is its own: the plan only says who
// runs it. Without pg_cron the plan says what stays with `pgtend run
// weekly|monthly` and `pgtend schedule print`.

// PlanSchedule plans installing the policy's schedules. It works on the
// whole policy: table must be "".
func PlanSchedule(ctx context.Context, conn *pgx.Conn, policy config.Policy, table string) (*Plan, error) {
	if table != "" {
		return nil, fmt.Errorf("schedule works on every table of the policy at once: --table does not apply")
	}
	r, tables, err := inventory(ctx, conn, policy, "")
	if err != nil {
		return nil, err
	}
	p := &Plan{Target: "database " + r.Server.Database, Created: r.GeneratedAt}
	s := &scheduler{r: r, p: p, policy: policy}
	if s.api, err = detectAPI(ctx, conn); err != nil {
		return nil, err
	}
	if err := conn.QueryRow(ctx, `SELECT coalesce((SELECT n.nspname::text FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
		WHERE e.extname = 'timescaledb'), '')`).Scan(&s.tsSchema); err != nil {
		return nil, err
	}
	var oids []uint32
	for _, t := range tables {
		if !t.Missing {
			oids = append(oids, t.OID())
		}
	}
	if s.incoming, _, err = readForeignKeys(ctx, conn, oids); err != nil {
		return nil, err
	}
	for _, t := range tables {
		if t.Missing {
			p.Refused = append(p.Refused, Refusal{Table: t.Key(), Reason: t.Key() + ": not in the database"})
			continue
		}
		if *t.Kind == report.KindHypertable {
			if err := s.timescale(ctx, conn, t); err != nil {
				return nil, err
			}
		}
		if isAggregate(t) && t.RetentionDays != nil && len(t.RetentionManagedBy) == 0 {
			s.note(t, t.Key()+" is a continuous aggregate: pgtend's schedule installs no retention policy on it; "+
				"pgtend run retention (monthly) drops its chunks, or add_retention_policy on the view does it in the database")
		}
	}
	if err := s.cron(ctx, conn, tables); err != nil {
		return nil, err
	}
	s.partman()
	if len(p.Steps) == 0 {
		p.Notes = append(p.Notes, "nothing to change: every schedule the policy asks for is installed")
	}
	return p, nil
}

// scheduler is one schedule plan being made.
type scheduler struct {
	r        *report.Report
	p        *Plan
	policy   config.Policy
	api      *tsAPI // TimescaleDB's compression API; nil without TimescaleDB
	tsSchema string // where TimescaleDB's functions are; "" without it
	incoming map[uint32][]ForeignKey
}

// summary is the table's summary in the plan, made on first use.
func (s *scheduler) summary(t report.Table) *TableSummary {
	for i := range s.p.Tables {
		if s.p.Tables[i].Table == t.Key() {
			return &s.p.Tables[i]
		}
	}
	s.p.Tables = append(s.p.Tables, TableSummary{Table: t.Key(), Kind: *t.Kind, TimeZone: t.Location().String(),
		Locks: []string{}, Steps: []int{}, ForeignKeys: []ForeignKey{}, Findings: []string{}})
	return &s.p.Tables[len(s.p.Tables)-1]
}

// add appends a step for table t (nil: the database's), with a finding.
func (s *scheduler) add(t *report.Table, st Step, finding string) {
	if t != nil {
		sum := s.summary(*t)
		sum.Steps = append(sum.Steps, len(s.p.Steps))
		if st.Lock != "" && !slices.Contains(sum.Locks, st.Lock) {
			sum.Locks = append(sum.Locks, st.Lock)
		}
		if finding != "" {
			sum.Findings = append(sum.Findings, finding)
		}
	} else if finding != "" {
		s.p.Notes = append(s.p.Notes, finding)
	}
	s.p.Steps = append(s.p.Steps, st)
}

// note says something about table t without a step.
func (s *scheduler) note(t report.Table, finding string) {
	sum := s.summary(t)
	sum.Findings = append(sum.Findings, finding)
}

// LockNone is what installing a job takes: no lock on the tables.
const LockNone = "none (a job is installed)"

// timescale plans a hypertable's retention and compression policies.
func (s *scheduler) timescale(ctx context.Context, conn *pgx.Conn, t report.Table) error {
	name, rel := t.Key(), pgx.Identifier{t.Schema, t.Name}.Sanitize()
	tp, _ := policyOf(s.policy, t)
	var existing []report.RetentionManager
	for _, m := range t.RetentionManagedBy {
		if m.By == report.ManagerTimescale && m.JobID != nil {
			existing = append(existing, m)
		}
	}
	settings, err := readCompressSettings(ctx, conn, t.Schema, t.Name)
	if err != nil {
		return err
	}
	// Retention.
	switch {
	case t.Permanent:
		for _, m := range existing {
			st := removeRetentionStep(s.ts("remove_retention_policy"), rel, name, m)
			s.add(&t, st, fmt.Sprintf("%s is permanent in the policy, and TimescaleDB's retention policy (job %d, %s %s) drops its old chunks: the plan removes that policy",
				name, *m.JobID, m.Setting, m.Retention))
		}
	case t.RetentionDays == nil:
		for _, m := range existing {
			s.note(t, fmt.Sprintf("no retention in pgtend's policy; TimescaleDB's retention policy (job %d, %s %s) stays as it is", *m.JobID, m.Setting, m.Retention))
		}
	default:
		days := *t.RetentionDays
		if why := s.cannotDropChunks(t, settings); why != "" {
			s.note(t, "no retention policy scheduled: "+why)
			break
		}
		after := fmt.Sprintf("%d days", days)
		switch {
		case len(existing) == 0:
			s.add(&t, addRetentionStep(s.ts("add_retention_policy"), rel, name, after), fmt.Sprintf("no TimescaleDB retention policy: the plan adds one, dropping chunks older than %s every day from now on", after))
		case len(existing) > 1:
			s.note(t, fmt.Sprintf("%d TimescaleDB retention policies: pgtend leaves them (remove all but one)", len(existing)))
		case existing[0].Setting != "drop_after":
			s.note(t, fmt.Sprintf("TimescaleDB's retention policy (job %d) drops by %s %s (chunk creation time): pgtend leaves it; remove it to have the policy's drop_after installed",
				*existing[0].JobID, existing[0].Setting, existing[0].Retention))
		case existing[0].RetentionDays != nil && *existing[0].RetentionDays == days:
			m := existing[0]
			what := fmt.Sprintf("TimescaleDB's retention policy exists: job %d, drop_after %s: unchanged", *m.JobID, m.Retention)
			if !m.Active {
				what += " (it is paused: scheduled = false; pgtend leaves it so)"
			}
			s.note(t, what)
		default:
			m := existing[0]
			s.add(&t, alterJobStep(s.ts("alter_job"), rel, name, int64(*m.JobID), "drop_after", m.Retention, after, true),
				fmt.Sprintf("TimescaleDB's retention policy (job %d) has drop_after %s, the policy %s: the plan changes it with alter_job, which keeps the job, its id and its history",
					*m.JobID, m.Retention, after))
		}
		if t.TimeZone != nil && *t.TimeZone != "UTC" {
			s.note(t, fmt.Sprintf("its time column has no time zone: TimescaleDB's job reckons its cutoff in the server's TimeZone, pgtend in %s (a difference of hours at most)", *t.TimeZone))
		}
	}
	// Compression.
	if tp.CompressAfterDays <= 0 || s.api == nil {
		return nil
	}
	after := fmt.Sprintf("%d days", tp.CompressAfterDays)
	switch {
	case settings.timeInteger:
		s.note(t, "no compression policy scheduled: it is partitioned by an integer column, and pgtend compresses by age on time columns only")
	case settings.jobID == nil:
		if !settings.enabled {
			s.add(&t, enableCompressionStep(s.api, rel, name, tp), "compression is not enabled: the plan enables it first, a schema change ("+segmentText(tp.SegmentBy)+")")
		}
		fn := "add_compression_policy"
		if s.api.columnstore {
			fn = "add_columnstore_policy"
		}
		s.add(&t, addPolicyStep(s.api, rel, name, after), fmt.Sprintf("no TimescaleDB compression policy: the plan adds one (%s), compressing chunks older than %s from now on", fn, after))
	case settings.jobAfter != nil && !sameDays(*settings.jobAfter, tp.CompressAfterDays):
		s.add(&t, alterJobStep(s.ts("alter_job"), rel, name, int64(*settings.jobID), "compress_after", *settings.jobAfter, after, false),
			fmt.Sprintf("TimescaleDB's compression policy (job %d) compresses after %s, the policy after %s: the plan changes it with alter_job, which keeps the job and its history",
				*settings.jobID, *settings.jobAfter, after))
	default:
		what := fmt.Sprintf("TimescaleDB's compression policy exists: job %d, compress_after %s: unchanged", *settings.jobID, after)
		if !settings.jobActive {
			what += " (it is paused: scheduled = false; pgtend leaves it so)"
		}
		s.note(t, what)
	}
	return nil
}

// cannotDropChunks says why a retention policy on t would fail or drop by
// another column than the policy's, "" when it can be installed.
func (s *scheduler) cannotDropChunks(t report.Table, settings compressSettings) string {
	switch {
	case t.TimeColumn == nil:
		return "no time column in the policy"
	case t.PartitionColumn == nil || *t.PartitionColumn != *t.TimeColumn:
		return fmt.Sprintf("the policy's time column %q is not the hypertable's time dimension: TimescaleDB's policy would drop by the dimension", *t.TimeColumn)
	case settings.timeInteger:
		return "it is partitioned by an integer column: drop_after would need a number, not a number of days"
	}
	if fks := s.incoming[t.OID()]; len(fks) > 0 {
		var names []string
		for _, f := range fks {
			names = append(names, f.Name+" on "+f.From)
		}
		return "foreign keys reference it (" + strings.Join(names, ", ") + "): drop_chunks fails on such a hypertable, so the job would fail every day"
	}
	return ""
}

// ts is TimescaleDB's function fn, qualified.
func (s *scheduler) ts(fn string) string { return pgx.Identifier{s.tsSchema, fn}.Sanitize() }

func addRetentionStep(fn, rel, name, after string) Step {
	stmt := fmt.Sprintf("SELECT %s(%s, drop_after => INTERVAL '%s', schedule_interval => INTERVAL '1 day')", fn, report.Literal(rel), after)
	return Step{
		Title: "add TimescaleDB's retention policy to " + name + ": drop chunks older than " + after + ", every day", Target: rel, Statements: []string{stmt},
		Lock: LockNone, Destructive: true, Unit: "jobs", Table: rel, needs: needs(rel, NeedOwner),
		run: func(ctx context.Context, r *runner, i int) (int64, error) {
			if id, err := retentionJob(ctx, r.conn, rel); err != nil || id != nil {
				if err == nil {
					err = skip(fmt.Sprintf("%s has a retention policy already (job %d, added since the plan was made)", name, *id))
				}
				return 0, err
			}
			_, err := r.conn.Exec(ctx, stmt)
			return 0, err
		},
	}
}

func removeRetentionStep(fn, rel, name string, m report.RetentionManager) Step {
	stmt := fmt.Sprintf("SELECT %s(%s)", fn, report.Literal(rel))
	return Step{
		Title: fmt.Sprintf("remove TimescaleDB's retention policy (job %d) from %s, which the policy keeps for good", *m.JobID, name), Target: rel,
		Statements: []string{stmt}, Lock: "none (a job is removed)", Unit: "jobs", Table: rel, needs: needs(rel, NeedOwner),
		run: func(ctx context.Context, r *runner, i int) (int64, error) {
			if id, err := retentionJob(ctx, r.conn, rel); err != nil || id == nil {
				if err == nil {
					err = skip(name + " has no retention policy any more (removed since the plan was made)")
				}
				return 0, err
			}
			_, err := r.conn.Exec(ctx, stmt)
			return 0, err
		},
	}
}

// retentionJob is the hypertable's retention policy's job, nil when none.
func retentionJob(ctx context.Context, conn *pgx.Conn, rel string) (*int64, error) {
	var id *int64
	err := conn.QueryRow(ctx, `SELECT min(job_id)::bigint FROM timescaledb_information.jobs WHERE proc_name = 'policy_retention'
		AND format('%I.%I', hypertable_schema, hypertable_name)::regclass = $1::regclass`, rel).Scan(&id)
	return id, err
}

// alterJobStep changes one setting of a policy's config with alter_job,
// which keeps the job, its id and its history; the run first checks the
// setting is still what the plan saw.
func alterJobStep(fn, rel, name string, id int64, key, from, to string, destructive bool) Step {
	stmt := fmt.Sprintf("SELECT %s(%d, config => jsonb_set(j.config, '{%s}', to_jsonb(%s::text))) FROM timescaledb_information.jobs j WHERE j.job_id = %d",
		fn, id, key, report.Literal(to), id)
	return Step{
		Title: fmt.Sprintf("change TimescaleDB job %d of %s: %s %s → %s (alter_job)", id, name, key, from, to), Target: rel, Statements: []string{stmt},
		Lock: "none (a job's settings change)", Destructive: destructive, Unit: "jobs", Table: rel, needs: needs(rel, NeedOwner),
		run: func(ctx context.Context, r *runner, i int) (int64, error) {
			var now *string
			if err := r.conn.QueryRow(ctx, `SELECT config->>$2 FROM timescaledb_information.jobs WHERE job_id = $1`, id, key).Scan(&now); err == pgx.ErrNoRows {
				return 0, skip(fmt.Sprintf("job %d no longer exists", id))
			} else if err != nil {
				return 0, err
			}
			if now == nil || *now != from {
				return 0, skip(fmt.Sprintf("job %d's %s changed since the plan was made (now %s): left alone; plan again", id, key, derefString(now)))
			}
			_, err := r.conn.Exec(ctx, stmt)
			return 0, err
		},
	}
}

func derefString(s *string) string {
	if s == nil {
		return "none"
	}
	return *s
}

// partman says who runs pg_partman's maintenance, as the ledger found it.
func (s *scheduler) partman() {
	pm := s.r.Jobs.Partman
	if pm == nil || len(pm.Sets) == 0 {
		return
	}
	i := slices.IndexFunc(s.r.Jobs.Ledger, func(j report.Job) bool { return j.Engine == report.EnginePartman })
	if i < 0 {
		return
	}
	line := s.r.Jobs.Ledger[i]
	who := line.Schedule
	if who == "" {
		who = "nothing: " + line.Why
	}
	s.p.Notes = append(s.p.Notes, fmt.Sprintf("pg_partman maintains %d partition sets itself (run_maintenance_proc: premake, its retention); who runs it: %s. pgtend leaves it as it is",
		len(pm.Sets), who))
}
