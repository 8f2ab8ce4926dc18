package maint

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/pgtend/pgtend/ops/report"
)

// hypertableSteps drops the chunks wholly older than the cutoff, in one
// drop_chunks. A hypertable that foreign keys reference cannot lose a
// chunk: each such constraint depends on every chunk, and PostgreSQL
// refuses the DROP whatever the rows.
func (j *tableJob) hypertableSteps() (tableResult, error) {
	all, old := chunksOf(j.r, j.t, j.cutoff)
	return j.dropChunks(all, old, j.t.Bound(j.cutoff), when(j.t, j.cutoff))
}

// dropChunks drops old, the chunks of all wholly older than bound (SQL of
// the time column's type; shown as cutoff).
func (j *tableJob) dropChunks(all, old []report.Chunk, bound, cutoff string) (tableResult, error) {
	t, rel, name := j.t, j.rel, j.name
	if len(old) == 0 {
		return tableResult{notes: []string{name + ": no chunk is wholly older than " + cutoff}, stays: portionOf(all)}, nil
	}
	if len(j.incoming) > 0 {
		var names []string
		for _, f := range j.incoming {
			names = append(names, f.Name+" on "+f.From)
		}
		return tableResult{}, fmt.Errorf("%s: foreign keys reference it (%s): drop_chunks would fail, as each such constraint depends on every chunk; "+
			"nothing planned for it", name, strings.Join(names, ", "))
	}
	// The cutoff is fixed now, as a value of the column's type (in the
	// table's zone for timestamp and date), so the run drops exactly the
	// chunks this plan lists even if it starts later; the run checks that
	// list again before dropping anything.
	shown := fmt.Sprintf("SELECT drop_chunks(%s, older_than => %s)", report.Literal(rel), bound)
	check := "SELECT show_chunks($1::regclass, older_than => " + bound + ")::text"
	drop := "SELECT drop_chunks($1::regclass, older_than => " + bound + ")::text"
	bytes := sumBytes(old)
	// show_chunks and drop_chunks return regclass text: schema-qualified,
	// quoted only where needed; compare by the relations they name.
	planned := map[string]report.Chunk{}
	for _, c := range old {
		planned[c.ChunkSchema+"."+c.Chunk] = c
	}
	goes := portionOf(old)
	n := int64(len(old))
	var affected []Affected
	for _, c := range old {
		affected = append(affected, Affected{Name: pgx.Identifier{c.ChunkSchema, c.Chunk}.Sanitize(), From: c.RangeStart, To: c.RangeEnd, Bytes: c.TotalBytes, Rows: c.RowEstimate})
	}
	step := Step{
		Affected: affected,
		Title:    fmt.Sprintf("drop %d chunks of %s older than %s", len(old), name, cutoff), Target: rel, Zone: t.Location(),
		Statements: []string{shown}, Lock: LockAccessExclusive + " on each dropped chunk", Destructive: true,
		EstBytes: &bytes, EstRows: goes.Rows, RowsFromCatalog: true, Unit: "chunks", Table: rel,
		needs: needs(rel, NeedOwner),
		run: func(ctx context.Context, r *runner, i int) (int64, error) {
			tx, err := r.conn.Begin(ctx)
			if err != nil {
				return 0, err
			}
			defer tx.Rollback(context.Background())
			rows, err := tx.Query(ctx, check, rel)
			if err != nil {
				return 0, err
			}
			now, err := pgx.CollectRows(rows, pgx.RowTo[string])
			if err != nil {
				return 0, err
			}
			var unplanned []string
			for _, c := range now {
				if _, ok := planned[unquote(c)]; !ok {
					unplanned = append(unplanned, c)
				}
			}
			if len(unplanned) > 0 {
				return 0, fmt.Errorf("%d chunks older than the cutoff appeared since the plan was made (%s): nothing dropped; plan again", len(unplanned), strings.Join(unplanned, ", "))
			}
			rows, err = tx.Query(ctx, drop, rel)
			if err != nil {
				return 0, err
			}
			dropped, err := pgx.CollectRows(rows, pgx.RowTo[string])
			if err != nil {
				return 0, err
			}
			if err := tx.Commit(ctx); err != nil {
				return 0, err
			}
			for _, c := range dropped {
				r.freed += sumBytes([]report.Chunk{planned[unquote(c)]})
				r.estRows += planned[unquote(c)].RowEstimate
			}
			r.emit(Event{Kind: Progress, Step: i, Done: int64(len(dropped)), Total: n, Unit: "chunks"})
			if len(dropped) == 0 {
				return 0, skip("none of the planned chunks was left to drop: someone dropped them since the plan was made")
			}
			return 0, nil
		},
	}
	return tableResult{steps: []Step{step}, kept: notIn(old), goes: goes, stays: portionOf(without(all, old))}, nil
}

// portionOf sums chunks or leaf partitions up: how many, their range, bytes
// and the catalog's rows.
func portionOf(cs []report.Chunk) Portion {
	p := Portion{Parts: len(cs), RowsFromCatalog: true}
	var bytes, rows int64
	for _, c := range cs {
		if c.RangeStart != nil && (p.From == nil || c.RangeStart.Before(*p.From)) {
			p.From = c.RangeStart
		}
		if c.RangeEnd != nil && (p.To == nil || c.RangeEnd.After(*p.To)) {
			p.To = c.RangeEnd
		}
		if c.TotalBytes != nil {
			bytes += *c.TotalBytes
		}
		rows += c.RowEstimate
	}
	p.Bytes, p.Rows = &bytes, &rows
	return p
}

// without is all but the chunks in gone.
func without(all, gone []report.Chunk) []report.Chunk {
	out := make([]report.Chunk, 0, len(all))
	for _, c := range all {
		if !slices.ContainsFunc(gone, func(g report.Chunk) bool { return g.ChunkSchema == c.ChunkSchema && g.Chunk == c.Chunk }) {
			out = append(out, c)
		}
	}
	return out
}

// notIn is the condition (alias r) that a row is in none of the chunks or
// partitions, which go: what a chunked table keeps.
func notIn(gone []report.Chunk) string {
	names := make([]string, len(gone))
	for i, c := range gone {
		names[i] = report.Literal(pgx.Identifier{c.ChunkSchema, c.Chunk}.Sanitize())
	}
	return "r.tableoid::regclass <> ALL (ARRAY[" + strings.Join(names, ", ") + "]::regclass[])"
}

// unquote turns regclass text into schema.name (display form).
func unquote(s string) string { return strings.ReplaceAll(s, `"`, "") }
