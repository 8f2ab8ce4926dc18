package maint

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pgtend/pgtend/ops/config"
	"github.com/pgtend/pgtend/ops/report"
)

// Running TimescaleDB's jobs now, in the foreground: CALL run_job(id).
// TimescaleDB records only its scheduler's runs (job_stats, job_errors),
// not these, so pgtend records each in pgtend.job_runs and the job ledger
// shows it as the job's last run. It is also the way round a scheduler
// whose runs fail while the jobs themselves work (PostgreSQL 15.20 with
// TimescaleDB 2.28.3: "cannot drop portal" from every background run).

// FlagJob is the jobs action's --job: one job by its id.
const FlagJob = "job"

const jobRunsDDL = `
CREATE TABLE ` + report.JobRunsTable + ` (
	id          bigserial PRIMARY KEY,
	engine      text NOT NULL,
	job_id      bigint NOT NULL,
	started_at  timestamptz NOT NULL,
	finished_at timestamptz NOT NULL,
	succeeded   boolean NOT NULL,
	error       text,
	role        text NOT NULL DEFAULT current_user
)`

// PlanRunJobs plans running TimescaleDB's jobs now: with --job, that one;
// with a table, the jobs working on it (its policies, its continuous
// aggregates'); else every scheduled job of the database. A retention
// job's run drops chunks: that step is destructive, and refused on a table
// the policy keeps for good.
func PlanRunJobs(ctx context.Context, conn *pgx.Conn, policy config.Policy, table string) (*Plan, error) {
	r, err := report.Collect(ctx, conn, policy)
	if err != nil {
		return nil, err
	}
	if r.Jobs.Timescale == nil {
		return nil, errors.New("TimescaleDB is not in this database: it has no jobs to run")
	}
	var only *int64
	if v := FlagsOf(ctx)[FlagJob]; v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("--job %q: a TimescaleDB job id is a number", v)
		}
		only = &id
	}
	var key string
	if table != "" {
		picked, err := pick(r, table)
		if err != nil {
			return nil, err
		}
		key = picked[0].Key()
	}
	schema, err := report.ExtensionSchema(ctx, conn, "timescaledb")
	if err != nil {
		return nil, err
	}
	if schema == "" {
		return nil, errors.New("TimescaleDB is not installed in this database: it has no jobs to run")
	}
	var role string
	var super bool
	if err := conn.QueryRow(ctx, `SELECT current_user, rolsuper FROM pg_roles WHERE rolname = current_user`).Scan(&role, &super); err != nil {
		return nil, err
	}
	p := &Plan{Target: targetName(table), Created: r.GeneratedAt}
	if only != nil {
		p.Target = fmt.Sprintf("TimescaleDB job %d", *only)
	}
	for _, j := range r.Jobs.Ledger {
		switch {
		case j.Engine != report.EngineTimescale:
			continue
		case only != nil && *j.ID != *only:
			continue
		case only == nil && key != "" && (j.Table == nil || *j.Table != key):
			continue
		case only == nil && key == "" && !j.Active:
			continue
		}
		st := runJobStep(r, j, pgx.Identifier{schema, "run_job"}.Sanitize())
		if j.Owner != role && !super {
			st.Denied = fmt.Sprintf("job %d belongs to %s: only its owner or a superuser may run it (run as %s)", *j.ID, j.Owner, j.Owner)
		}
		if j.Table != nil {
			var t *report.Table
			for i := range r.Tables {
				if r.Tables[i].Key() == *j.Table {
					t = &r.Tables[i]
				}
			}
			if t != nil && t.Kind != nil {
				i := slices.IndexFunc(p.Tables, func(s TableSummary) bool { return s.Table == t.Key() })
				if i < 0 {
					p.Tables = append(p.Tables, TableSummary{Table: t.Key(), Kind: *t.Kind, TimeZone: t.Location().String(), Locks: []string{}, Steps: []int{},
						ForeignKeys: []ForeignKey{}, Findings: []string{}})
					i = len(p.Tables) - 1
				}
				sum := &p.Tables[i]
				sum.Steps = append(sum.Steps, len(p.Steps))
				sum.Findings = append(sum.Findings, j.Describe()+": "+stateText(j))
				if !slices.Contains(sum.Locks, st.Lock) {
					sum.Locks = append(sum.Locks, st.Lock)
				}
			}
		} else {
			p.Notes = append(p.Notes, j.Describe()+": "+stateText(j))
		}
		p.Steps = append(p.Steps, st)
	}
	if len(p.Steps) == 0 {
		switch {
		case only != nil:
			return nil, fmt.Errorf("no TimescaleDB job %d in this database", *only)
		case key != "":
			return nil, fmt.Errorf("no TimescaleDB job works on %s", key)
		}
		p.Notes = append(p.Notes, "no TimescaleDB job is scheduled in this database")
	}
	p.Notes = append(p.Notes, "each run is recorded in "+report.JobRunsTable+" (TimescaleDB records only its scheduler's runs): the job ledger shows it as the job's last run")
	return p, nil
}

func stateText(j report.Job) string {
	label := strings.ReplaceAll(j.State, "_", " ") // cannot_start: "cannot start"
	switch {
	case j.Why == "":
		return label
	case strings.HasPrefix(j.Why, label):
		return j.Why
	}
	return label + ": " + j.Why
}

// runJobStep runs one job now and records the run.
func runJobStep(r *report.Report, j report.Job, fn string) Step {
	id := *j.ID
	stmt := fmt.Sprintf("CALL %s(%d)", fn, id)
	st := Step{
		Title: "run " + j.Describe() + " now", Target: fmt.Sprint(id), Statements: []string{stmt},
		Lock: "whatever its procedure takes", Unit: "jobs",
	}
	switch j.Kind {
	case "policy_compression":
		st.Lock = LockCompressChunk
	case "policy_refresh_continuous_aggregate":
		st.Lock = LockRowExclusive + " on the continuous aggregate's materialization"
	}
	if j.Table != nil {
		for _, t := range r.Tables {
			if t.Key() != *j.Table {
				continue
			}
			rel := pgx.Identifier{t.Schema, t.Name}.Sanitize()
			st.Target, st.Table, st.Zone = rel, rel, t.Location()
			st.needs = needs(rel, NeedOwner)
			if j.Kind == "policy_retention" {
				st.Destructive, st.Lock = true, LockAccessExclusive+" on each dropped chunk"
				for _, m := range t.RetentionManagedBy {
					if m.JobID != nil && int64(*m.JobID) == id && m.RetentionDays != nil {
						cutoff := r.GeneratedAt.Add(-time.Duration(*m.RetentionDays) * 24 * time.Hour)
						_, old := chunksOf(r, t, cutoff)
						for _, c := range old {
							st.Affected = append(st.Affected, Affected{Name: pgx.Identifier{c.ChunkSchema, c.Chunk}.Sanitize(), From: c.RangeStart, To: c.RangeEnd, Bytes: c.TotalBytes, Rows: c.RowEstimate})
						}
						b, n := sumBytes(old), int64(len(old))
						st.EstBytes = &b
						if n == 0 {
							st.Title += fmt.Sprintf(": drops the chunks older than %s (none now)", m.Retention)
						} else {
							st.Title += fmt.Sprintf(": drops the %d chunks older than %s", n, m.Retention)
						}
					}
				}
			}
		}
	}
	st.run = func(ctx context.Context, rn *runner, i int) (int64, error) {
		started := time.Now()
		_, err := rn.conn.Exec(ctx, stmt)
		if rerr := recordJobRun(context.WithoutCancel(ctx), rn.conn, id, started, err); rerr != nil {
			rn.emit(Event{Kind: Log, Step: i, Message: "the run was not recorded in " + report.JobRunsTable + ": " + rerr.Error()})
		}
		return 0, err
	}
	return st
}

// recordJobRun writes one foreground run to pgtend.job_runs (made on first
// use).
func recordJobRun(ctx context.Context, conn *pgx.Conn, id int64, started time.Time, runErr error) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var schema, table bool
	if err := conn.QueryRow(ctx, `SELECT to_regnamespace('pgtend') IS NOT NULL, to_regclass('`+report.JobRunsTable+`') IS NOT NULL`).Scan(&schema, &table); err != nil {
		return err
	}
	if !schema {
		if _, err := conn.Exec(ctx, "CREATE SCHEMA pgtend"); err != nil {
			return err
		}
	}
	if !table {
		if _, err := conn.Exec(ctx, jobRunsDDL); err != nil {
			return err
		}
	}
	var msg *string
	if runErr != nil {
		s := runErr.Error()
		msg = &s
	}
	_, err := conn.Exec(ctx, `INSERT INTO `+report.JobRunsTable+` (engine, job_id, started_at, finished_at, succeeded, error) VALUES ($1, $2, $3, $4, $5, $6)`,
		report.EngineTimescale, id, started, time.Now(), runErr == nil, msg)
	return err
}
