package report

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
)

// pg_partman's maintenance: run_maintenance_proc creates each set's
// partitions ahead (premake) and drops those past its retention. Who runs
// it: its background worker (pg_partman_bgw, when preloaded and naming
// this database) or a pg_cron job; it records no runs of its own, so the
// last run is known only from pg_cron. The sets' retentions are the
// report's (Table.RetentionManagedBy, managers.go); here are their premake
// and how many partitions each has ahead of now.

func readPartmanJobs(ctx context.Context, conn *pgx.Conn, f Features, p jobsProbe, r *Report) error {
	rows, err := conn.Query(ctx, `SELECT parent_table, premake, automatic_maintenance = 'on', retention FROM `+
		qualified(f.PartmanSchema, "part_config")+` ORDER BY parent_table`)
	if err != nil {
		return err
	}
	pm := &PartmanJobs{Version: f.PartmanVersion, Sets: []PartmanSet{}}
	for rows.Next() {
		var s PartmanSet
		if err := rows.Scan(&s.Parent, &s.Premake, &s.Automatic, &s.Retention); err != nil {
			rows.Close()
			return err
		}
		pm.Sets = append(pm.Sets, s)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for i := range pm.Sets {
		pm.Sets[i].Ahead = r.partitionsAhead(pm.Sets[i].Parent)
	}
	if p.preload != nil && preloads(*p.preload, "pg_partman_bgw") && p.bgwDatabases != nil {
		for _, d := range strings.Split(*p.bgwDatabases, ",") {
			if strings.TrimSpace(d) == p.database {
				pm.BackgroundWorker = true
			}
		}
	}
	if pm.BackgroundWorker {
		iv := "3600"
		if p.bgwInterval != nil && *p.bgwInterval != "" {
			iv = *p.bgwInterval
		}
		pm.Interval, pm.Role = &iv, p.bgwRole
	}
	r.Jobs.Partman = pm

	line := Job{Engine: EnginePartman, Kind: "run_maintenance_proc", Name: "run_maintenance_proc", Active: true}
	for _, s := range pm.Sets {
		if s.Retention != nil {
			line.Task = "retention_cleanup"
		}
	}
	// A pg_cron job that runs it becomes this line: its runs are pg_partman's.
	if i := slices.IndexFunc(r.Jobs.Ledger, func(j Job) bool { return j.Engine == EngineCron && j.Kind == "run_maintenance_proc" }); i >= 0 {
		cj := r.Jobs.Ledger[i]
		r.Jobs.Ledger = slices.Delete(r.Jobs.Ledger, i, i+1)
		pm.CronJob = cj.ID
		id := *cj.ID
		line.ID, line.Schedule, line.Command, line.Owner, line.Active = cj.ID, fmt.Sprintf("pg_cron job %d: %s", id, cj.Schedule), cj.Command, cj.Owner, cj.Active
		line.LastRun, line.LastRunBy, line.LastStatus, line.LastSuccess = cj.LastRun, cj.LastRunBy, cj.LastStatus, cj.LastSuccess
		line.NextStart, line.TotalRuns, line.TotalFailures = cj.NextStart, cj.TotalRuns, cj.TotalFailures
		line.LastError, line.LastErrorAt, line.FailingSince, line.every = cj.LastError, cj.LastErrorAt, cj.FailingSince, cj.every
		line.preset, line.presetWhy = cj.preset, cj.presetWhy
	}
	automatic := slices.ContainsFunc(pm.Sets, func(s PartmanSet) bool { return s.Automatic })
	switch {
	case pm.CronJob != nil:
	case pm.BackgroundWorker:
		line.Schedule = "pg_partman_bgw every " + *pm.Interval + " s"
		if pm.Role != nil && *pm.Role != "" {
			line.Schedule += " as " + *pm.Role
		}
		line.preset, line.presetWhy = JobUnknown, "pg_partman_bgw runs it and records no runs (only the server log says when)"
	case automatic:
		line.Active = false
		line.preset, line.presetWhy = JobUnscheduled, "nothing runs run_maintenance_proc for this database (no pg_partman_bgw naming it, no pg_cron job): new partitions are not made ahead, old ones not dropped"
	default:
		line.Active = false // no set for it to maintain: judged paused
	}
	var behind []string
	for _, s := range pm.Sets {
		if s.Automatic && s.Ahead != nil && *s.Ahead == 0 {
			behind = append(behind, s.Parent)
		}
	}
	if len(behind) > 0 && line.preset != JobUnscheduled && line.LastStatus != "failed" {
		line.preset = JobLate
		line.presetWhy = "has not run when due: no partition ahead of now for " + strings.Join(behind, ", ")
	}
	if line.Command == "" { // what it keeps: each set's premake, what is ahead, its retention
		var sets []string
		for _, s := range pm.Sets {
			set := fmt.Sprintf("%s premake %d", s.Parent, s.Premake)
			if s.Ahead != nil {
				set += fmt.Sprintf(" (%d ahead)", *s.Ahead)
			}
			if s.Retention != nil {
				set += ", retention " + *s.Retention
			}
			if !s.Automatic {
				set += ", automatic_maintenance off"
			}
			sets = append(sets, set)
		}
		line.Command = strings.Join(sets, "; ")
	}
	if len(pm.Sets) > 0 {
		r.Jobs.Ledger = append(r.Jobs.Ledger, line)
	}
	return nil
}

// partitionsAhead counts the direct partitions of the table parent
// ("schema.table") that start after the report's time; nil when the report
// has no partitions of it.
func (r *Report) partitionsAhead(parent string) *int {
	schema, name, ok := strings.Cut(parent, ".")
	if !ok {
		return nil
	}
	seen, ahead := map[string]bool{}, map[string]bool{}
	for _, c := range r.Chunks {
		if c.TableSchema != schema || c.Table != name {
			continue
		}
		top := c.TopSchema + "." + c.Top
		seen[top] = true
		if c.RangeStart != nil && c.RangeStart.After(r.GeneratedAt) {
			ahead[top] = true
		}
	}
	if len(seen) == 0 {
		return nil
	}
	n := len(ahead)
	return &n
}
