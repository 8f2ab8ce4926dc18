package report

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// IntegerTime describes a hypertable (or continuous aggregate) whose time
// dimension is an integer column: its chunks have integer ranges
// (range_start_integer, range_end_integer), and what is old is told by its
// integer_now function, when it has one — never by a retention in days.
type IntegerTime struct {
	ColumnType string `json:"column_type"` // "bigint", "integer", "smallint"
	// IntegerNow is its integer_now function (schema.name), nil when none
	// is set (set_integer_now_func): then nothing can say what is old.
	IntegerNow *string `json:"integer_now"`
	// Now is what IntegerNow returned when the report was read.
	Now *int64 `json:"now"`
	// Oldest is the smallest value of the time column, nil when empty.
	Oldest *int64 `json:"oldest"`
	// Cutoff is Now less the policy's integer_retention: chunks whose
	// range ends by it are past retention. Nil without either.
	Cutoff *int64 `json:"cutoff"`
}

// integerTimeQuery lists the hypertables with an integer time dimension,
// continuous aggregates' materialization hypertables under their view.
const integerTimeQuery = `
SELECT coalesce(ca.user_view_schema, h.schema_name)::text, coalesce(ca.user_view_name, h.table_name)::text,
       format_type(d.column_type, NULL), d.column_name::text,
       d.integer_now_func_schema::text, d.integer_now_func::text
FROM _timescaledb_catalog.hypertable h
JOIN LATERAL (SELECT * FROM _timescaledb_catalog.dimension d WHERE d.hypertable_id = h.id ORDER BY d.id LIMIT 1) d ON true
LEFT JOIN _timescaledb_catalog.continuous_agg ca ON ca.mat_hypertable_id = h.id
WHERE d.column_type IN ('smallint'::regtype, 'integer'::regtype, 'bigint'::regtype) AND d.num_slices IS NULL`

// readIntegerTimes fills IntegerTime for integer-time tables: their
// integer_now, oldest value, the cutoff the policy's integer_retention
// makes and which chunks are past it.
func readIntegerTimes(ctx context.Context, conn *pgx.Conn, f Features, r *Report) error {
	if !f.Timescale {
		return nil
	}
	rows, err := conn.Query(ctx, integerTimeQuery)
	if err != nil {
		return fmt.Errorf("reading integer time dimensions: %w", err)
	}
	type dim struct {
		schema, name, typ, col string
		nowSchema, now         *string
	}
	dims, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (dim, error) {
		var d dim
		return d, row.Scan(&d.schema, &d.name, &d.typ, &d.col, &d.nowSchema, &d.now)
	})
	if err != nil {
		return fmt.Errorf("reading integer time dimensions: %w", err)
	}
	for _, d := range dims {
		for i := range r.Tables {
			t := &r.Tables[i]
			if t.Missing || t.Schema != d.schema || t.Name != d.name {
				continue
			}
			it := &IntegerTime{ColumnType: d.typ}
			if d.now != nil && d.nowSchema != nil {
				fn := *d.nowSchema + "." + *d.now
				it.IntegerNow = &fn
			}
			t.IntegerTime = it
			if t.Locked || r.Estimated {
				continue
			}
			// The oldest chunk's smallest value: an index probe, chunk by chunk.
			err := conn.QueryRow(ctx, "SELECT min("+pgx.Identifier{d.col}.Sanitize()+")::bigint FROM "+qualified(t.Schema, t.Name)).Scan(&it.Oldest)
			if err != nil && !isPermissionDenied(err) && !isGone(err) {
				return fmt.Errorf("reading the oldest value of %s: %w", t.Key(), err)
			}
			if it.IntegerNow == nil {
				continue
			}
			// The function is the table's own (set_integer_now_func): what
			// TimescaleDB's retention policies call too.
			if err := conn.QueryRow(ctx, "SELECT "+pgx.Identifier{*d.nowSchema, *d.now}.Sanitize()+"()::bigint").Scan(&it.Now); err != nil {
				if isPermissionDenied(err) {
					continue
				}
				return fmt.Errorf("calling %s, the integer_now of %s: %w", *it.IntegerNow, t.Key(), err)
			}
			if t.IntegerRetention == nil {
				continue
			}
			cutoff := *it.Now - *t.IntegerRetention
			it.Cutoff = &cutoff
			var expired int64
			for j := range r.Chunks {
				c := &r.Chunks[j]
				if c.TableSchema == t.Schema && c.Table == t.Name && c.RangeEndInteger != nil && *c.RangeEndInteger <= cutoff {
					c.Expired = true
					expired += orZero(c.TotalBytes)
				}
			}
			t.ExpiredBytes = &expired
		}
	}
	return nil
}
