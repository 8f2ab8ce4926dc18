package report

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Aggregate is what a continuous aggregate adds to its table row: the
// hypertable it aggregates and how it is refreshed.
type Aggregate struct {
	// Source is the hypertable it aggregates, "schema.name".
	Source string `json:"source"`
	// MaterializedOnly: queries read only what was materialized (no
	// real-time aggregation of the newest rows).
	MaterializedOnly bool `json:"materialized_only"`
	// Refresh is its refresh policy, nil when it has none (refreshed by
	// hand only).
	Refresh *RefreshPolicy `json:"refresh_policy"`
}

// RefreshPolicy is a continuous aggregate's refresh job
// (policy_refresh_continuous_aggregate) and how its runs went.
type RefreshPolicy struct {
	JobID int64 `json:"job_id"`
	// StartOffset and EndOffset are the policy's, as its config says them
	// ("30 days", "01:00:00", or an integer for an integer-time
	// aggregate); StartOffset nil: the window reaches back to the first
	// row.
	StartOffset *string `json:"start_offset"`
	EndOffset   *string `json:"end_offset"`
	// WindowStart and WindowEnd are the refresh window now: now minus each
	// offset; nil for an integer offset, and WindowStart for none.
	WindowStart *time.Time `json:"window_start"`
	WindowEnd   *time.Time `json:"window_end"`
	// Schedule is its schedule_interval, e.g. "01:00:00".
	Schedule string `json:"schedule"`
	Active   bool   `json:"active"`
	// The last refresh, from the job ledger (job_stats, and the runs
	// pgtend made with CALL run_job).
	LastRun     *time.Time `json:"last_run"`
	LastSuccess *time.Time `json:"last_success"`
	LastStatus  string     `json:"last_status"` // "succeeded", "failed", "running", "" when it never ran
	NextStart   *time.Time `json:"next_start"`
}

// aggregatesQuery reads each continuous aggregate's source (for one built
// on another aggregate, that aggregate's view) and its widest
// refresh policy (the one reaching furthest back: what a retention on the
// source must stay clear of). Offsets given as intervals make a window
// from $1, the report's time.
const aggregatesQuery = `
SELECT DISTINCT ON (ca.view_schema, ca.view_name)
       ca.view_schema::text, ca.view_name::text,
       coalesce(pa.view_schema::text || '.' || pa.view_name::text, ca.hypertable_schema::text || '.' || ca.hypertable_name::text),
       ca.materialized_only, j.job_id::bigint, coalesce(j.scheduled, false), coalesce(j.schedule_interval::text, ''),
       j.config->>'start_offset', j.config->>'end_offset',
       CASE WHEN jsonb_typeof(j.config->'start_offset') = 'string' THEN $1::timestamptz - (j.config->>'start_offset')::interval END,
       CASE WHEN jsonb_typeof(j.config->'end_offset') = 'string' THEN $1::timestamptz - (j.config->>'end_offset')::interval END
FROM timescaledb_information.continuous_aggregates ca
LEFT JOIN timescaledb_information.continuous_aggregates pa
       ON pa.materialization_hypertable_schema = ca.hypertable_schema AND pa.materialization_hypertable_name = ca.hypertable_name
LEFT JOIN timescaledb_information.jobs j ON j.proc_name = 'policy_refresh_continuous_aggregate'
       AND ((j.hypertable_schema = ca.view_schema AND j.hypertable_name = ca.view_name)
         OR (j.hypertable_schema = ca.materialization_hypertable_schema AND j.hypertable_name = ca.materialization_hypertable_name))
ORDER BY ca.view_schema, ca.view_name,
         (j.job_id IS NOT NULL AND j.config->>'start_offset' IS NULL) DESC, 10 NULLS LAST, j.job_id`

// readAggregates fills each continuous aggregate's Aggregate and each
// hypertable's AggregatedBy; the refresh runs come from the job ledger,
// read before.
func readAggregates(ctx context.Context, conn *pgx.Conn, f Features, r *Report) error {
	for i := range r.Tables {
		r.Tables[i].AggregatedBy = []string{}
	}
	if !f.Timescale {
		return nil
	}
	rows, err := conn.Query(ctx, aggregatesQuery, r.GeneratedAt)
	if err != nil {
		return fmt.Errorf("reading continuous aggregates: %w", err)
	}
	defer rows.Close()
	byKey := map[string]int{}
	for i, t := range r.Tables {
		if !t.Missing {
			byKey[t.Key()] = i
		}
	}
	for rows.Next() {
		var schema, name string
		var a Aggregate
		var p RefreshPolicy
		var job *int64
		if err := rows.Scan(&schema, &name, &a.Source, &a.MaterializedOnly, &job, &p.Active, &p.Schedule,
			&p.StartOffset, &p.EndOffset, &p.WindowStart, &p.WindowEnd); err != nil {
			return fmt.Errorf("reading continuous aggregates: %w", err)
		}
		key := schema + "." + name
		if job != nil {
			p.JobID = *job
			for _, j := range r.Jobs.Ledger {
				if j.Engine == EngineTimescale && j.ID != nil && *j.ID == *job {
					p.LastRun, p.LastSuccess, p.LastStatus, p.NextStart = j.LastRun, j.LastSuccess, j.LastStatus, j.NextStart
				}
			}
			a.Refresh = &p
		}
		if i, ok := byKey[key]; ok {
			a := a
			r.Tables[i].Aggregate = &a
		}
		if i, ok := byKey[a.Source]; ok {
			r.Tables[i].AggregatedBy = append(r.Tables[i].AggregatedBy, key)
		}
	}
	return rows.Err()
}

// Aggregates are the continuous aggregates of the report built on the
// table, in the report's order.
func (r *Report) Aggregates(t Table) []Table {
	var out []Table
	for _, a := range r.Tables {
		if a.Aggregate != nil && a.Aggregate.Source == t.Key() {
			out = append(out, a)
		}
	}
	return out
}

// ExpectedGrowth is each table's policy expected_growth per day, by key
// (nil for none), and whether any table has one: what a growth figure
// falls back on where pgtend has measured none.
func (r *Report) ExpectedGrowth() (map[string]*int64, bool) {
	out, known := map[string]*int64{}, false
	for _, t := range r.Tables {
		out[t.Key()] = t.ExpectedGrowthPerDay
		known = known || t.ExpectedGrowthPerDay != nil
	}
	return out, known
}
