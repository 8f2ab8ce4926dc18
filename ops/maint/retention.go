package maint

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pgtend/pgtend/ops/config"
	"github.com/pgtend/pgtend/ops/report"
)

// RetentionOptions tune a retention plan.
type RetentionOptions struct {
	// Cutoff replaces now − retention (a cutoff in the future is refused).
	Cutoff *time.Time
}

// PlanRetention plans removing the data older than each table's retention
// ("" for every table of the policy with a retention), by the kind of table:
//   - a hypertable drops whole chunks (drop_chunks): instant, and the files
//     go back to the filesystem;
//   - a partitioned table detaches and drops whole partitions;
//   - a plain table deletes in batches, then VACUUM ANALYZE: the space is
//     reusable by the table but not returned to the filesystem.
//
// Refused, with the reason: a permanent table, a table without a retention
// or a time column, a cutoff in the future, a cleanup that would delete
// everything. Rows newer than the cutoff are never touched.
func PlanRetention(ctx context.Context, conn *pgx.Conn, policy config.Policy, table string, o RetentionOptions) (*Plan, error) {
	r, tables, err := inventory(ctx, conn, policy, table)
	if err != nil {
		return nil, err
	}
	p := &Plan{Target: targetName(table), Created: r.GeneratedAt}
	if o.Cutoff != nil && o.Cutoff.After(r.GeneratedAt) {
		return nil, fmt.Errorf("cutoff %s is in the future (the server's time is %s): refusing", o.Cutoff.Format(time.RFC3339), r.GeneratedAt.Format(time.RFC3339))
	}
	for _, t := range tables {
		steps, note, err := planTable(ctx, conn, r, t, o)
		if err != nil {
			if table != "" {
				return nil, err
			}
			p.Notes = append(p.Notes, err.Error()+": skipped")
			continue
		}
		if note != "" {
			p.Notes = append(p.Notes, note)
		}
		p.Steps = append(p.Steps, steps...)
	}
	if o.Cutoff != nil {
		p.Cutoff = o.Cutoff
	}
	if len(p.Steps) == 0 {
		p.Notes = append(p.Notes, "nothing is past its retention")
	}
	return p, nil
}

func planTable(ctx context.Context, conn *pgx.Conn, r *report.Report, t report.Table, o RetentionOptions) ([]Step, string, error) {
	name := t.Schema + "." + t.Name
	switch {
	case t.Permanent:
		return nil, "", fmt.Errorf("%s is permanent: retention never deletes from it", name)
	case t.Missing:
		return nil, "", fmt.Errorf("%s is not in the database", name)
	case t.RetentionDays == nil && o.Cutoff == nil:
		return nil, "", fmt.Errorf("%s has no retention in the policy", name)
	case t.TimeColumn == nil:
		return nil, "", fmt.Errorf("%s has no time column: set time_column in the policy", name)
	case t.Locked:
		return nil, "", fmt.Errorf("%s is locked by another session right now", name)
	}
	// The cutoff is an instant. A timestamp or date column is compared with
	// it in the table's zone (report.Table.Bound), and the report reads its
	// chunk and partition ranges as instants of that zone too.
	cutoff := r.GeneratedAt.Add(-time.Duration(derefInt(t.RetentionDays)) * 24 * time.Hour)
	if o.Cutoff != nil {
		cutoff = *o.Cutoff
	}
	cutoff = cutoff.UTC()
	rel := pgx.Identifier{t.Schema, t.Name}.Sanitize()
	if *t.Kind != report.KindTable && (t.PartitionColumn == nil || *t.PartitionColumn != *t.TimeColumn) {
		return nil, "", fmt.Errorf("%s: the policy's time column %q is not the column the table is partitioned by: whole chunks cannot be dropped by it", name, *t.TimeColumn)
	}
	// Whatever the chunk or partition layout (empty future partitions made
	// ahead of time, a stray future row), refuse unless a row newer than the
	// cutoff stays.
	var survivor bool
	col := pgx.Identifier{*t.TimeColumn}.Sanitize()
	if t.TimeType() == "" {
		return nil, "", fmt.Errorf("%s: time column %s is not a timestamptz, timestamp or date column", name, *t.TimeColumn)
	}
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM "+rel+" WHERE "+col+" >= "+t.Bound(cutoff)+")").Scan(&survivor); err != nil {
		return nil, "", fmt.Errorf("%s: %w", name, err)
	}
	if !survivor {
		return nil, "", fmt.Errorf("%s: no row is newer than %s: refusing to delete everything", name, when(t, cutoff))
	}
	switch *t.Kind {
	case report.KindHypertable:
		return hypertableSteps(ctx, conn, r, t, rel, name, cutoff)
	case report.KindPartitioned:
		return partitionSteps(ctx, conn, r, t, rel, name, cutoff)
	default:
		return plainSteps(ctx, conn, t, rel, name, cutoff)
	}
}

// when shows an instant as the table's times are shown: in its zone, which
// it names.
func when(t report.Table, instant time.Time) string {
	return instant.In(t.Location()).Format("2006-01-02 15:04 MST")
}

func derefInt(p *int) int {
	if p == nil {
		return 0
	}
	return *p
}

// chunksOf returns the table's chunks and those wholly older than cutoff.
func chunksOf(r *report.Report, t report.Table, cutoff time.Time) (all, old []report.Chunk) {
	for _, c := range r.Chunks {
		if c.TableSchema != t.Schema || c.Table != t.Name {
			continue
		}
		all = append(all, c)
		if olderThan(c, cutoff) {
			old = append(old, c)
		}
	}
	return all, old
}

// olderThan: the chunk's whole range ends by cutoff.
func olderThan(c report.Chunk, cutoff time.Time) bool {
	return c.RangeEnd != nil && !c.RangeEnd.After(cutoff)
}

func sumBytes(cs []report.Chunk) int64 {
	var n int64
	for _, c := range cs {
		if c.TotalBytes != nil {
			n += *c.TotalBytes
		}
	}
	return n
}

func hypertableSteps(ctx context.Context, conn *pgx.Conn, r *report.Report, t report.Table, rel, name string, cutoff time.Time) ([]Step, string, error) {
	_, old := chunksOf(r, t, cutoff)
	if len(old) == 0 {
		return nil, name + ": no chunk is wholly older than " + when(t, cutoff), nil
	}
	// The cutoff is fixed now, as a value of the column's type (in the
	// table's zone for timestamp and date), so the run drops exactly the
	// chunks this plan lists even if it starts later; the run checks that
	// list again before dropping anything.
	bound := t.Bound(cutoff)
	shown := fmt.Sprintf("SELECT drop_chunks(%s, older_than => %s)", report.Literal(rel), bound)
	check := "SELECT show_chunks($1::regclass, older_than => " + bound + ")::text"
	drop := "SELECT drop_chunks($1::regclass, older_than => " + bound + ")::text"
	bytes := sumBytes(old)
	// show_chunks and drop_chunks return regclass text: schema-qualified,
	// quoted only where needed; compare by the relations they name.
	planned := map[string]int64{} // bytes by chunk
	for _, c := range old {
		planned[c.ChunkSchema+"."+c.Chunk] = sumBytes([]report.Chunk{c})
	}
	n := int64(len(old))
	var affected []Affected
	for _, c := range old {
		affected = append(affected, Affected{Name: pgx.Identifier{c.ChunkSchema, c.Chunk}.Sanitize(), From: c.RangeStart, To: c.RangeEnd, Bytes: c.TotalBytes})
	}
	step := Step{
		Affected: affected,
		Title:    fmt.Sprintf("drop %d chunks of %s older than %s", len(old), name, when(t, cutoff)), Target: rel, Zone: t.Location(),
		Statements: []string{shown}, Lock: LockAccessExclusive + " on each dropped chunk", Destructive: true,
		EstBytes: &bytes, Unit: "chunks", Table: rel,
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
				r.freed += planned[unquote(c)]
			}
			r.emit(Event{Kind: Progress, Step: i, Done: int64(len(dropped)), Total: n, Unit: "chunks"})
			return 0, nil
		},
	}
	return []Step{step}, "", nil
}

// unquote turns regclass text into schema.name (display form).
func unquote(s string) string { return strings.ReplaceAll(s, `"`, "") }

func partitionSteps(ctx context.Context, conn *pgx.Conn, r *report.Report, t report.Table, rel, name string, cutoff time.Time) ([]Step, string, error) {
	all, _ := chunksOf(r, t, cutoff)
	// The unit is the table's direct partition (for multi-level trees, the
	// whole sub-tree of one range); it goes only when all its leaves are old.
	type part struct {
		id       string
		bytes    int64
		old      bool
		from, to *time.Time
	}
	var parts []*part
	byID := map[string]*part{}
	for _, c := range all {
		id := pgx.Identifier{c.TopSchema, c.Top}.Sanitize()
		p := byID[id]
		if p == nil {
			p = &part{id: id, old: true, from: c.RangeStart, to: c.RangeEnd}
			byID[id] = p
			parts = append(parts, p)
		}
		if c.TotalBytes != nil {
			p.bytes += *c.TotalBytes
		}
		p.old = p.old && olderThan(c, cutoff)
	}
	var gone []*part // the partitions to detach and drop
	for _, p := range parts {
		if p.old {
			gone = append(gone, p)
		}
	}
	if len(gone) == 0 {
		return nil, name + ": no partition is wholly older than " + when(t, cutoff), nil
	}
	// DETACH CONCURRENTLY (PostgreSQL 14+) takes only SHARE UPDATE
	// EXCLUSIVE on the parent, so writers go on; it is refused when the
	// table has a default partition.
	var version int
	var hasDefault bool
	if err := conn.QueryRow(ctx, `SELECT current_setting('server_version_num')::int,
		EXISTS (SELECT 1 FROM pg_partitioned_table WHERE partrelid = $1::regclass AND partdefid <> 0)`, rel).Scan(&version, &hasDefault); err != nil {
		return nil, "", err
	}
	concurrently := version >= 140000 && !hasDefault
	var steps []Step
	for k, p := range gone {
		detach := fmt.Sprintf("ALTER TABLE %s DETACH PARTITION %s", rel, p.id)
		lock := LockAccessExclusive + " on " + rel
		if concurrently {
			detach += " CONCURRENTLY"
			lock = LockShareUpdateExclusive + " on " + rel + ", " + LockAccessExclusive + " on the partition"
		}
		dropStmt := "DROP TABLE " + p.id
		bytes := p.bytes
		id := p.id
		steps = append(steps, Step{
			Affected: []Affected{{Name: id, From: p.from, To: p.to, Bytes: &bytes}},
			Title:    fmt.Sprintf("detach and drop partition %s of %s (%d of %d)", id, name, k+1, len(gone)), Target: id, Zone: t.Location(),
			Statements: []string{detach, dropStmt}, Lock: lock, Destructive: true, EstBytes: &bytes, Unit: "partitions", Table: rel,
			run: func(ctx context.Context, r *runner, i int) (int64, error) {
				// A DETACH CONCURRENTLY that was cancelled leaves the
				// partition "detach pending": finish it instead.
				var attached, pending bool
				if err := r.conn.QueryRow(ctx, `SELECT count(*) > 0, coalesce(bool_or(inhdetachpending), false)
					FROM pg_inherits WHERE inhrelid = to_regclass($1) AND inhparent = $2::regclass`, id, rel).Scan(&attached, &pending); err != nil {
					return 0, err
				}
				switch {
				case pending:
					if _, err := r.conn.Exec(ctx, fmt.Sprintf("ALTER TABLE %s DETACH PARTITION %s FINALIZE", rel, id)); err != nil {
						return 0, err
					}
				case attached:
					if _, err := r.conn.Exec(ctx, detach); err != nil {
						return 0, err
					}
				default:
					// No longer a partition of this table (someone detached it,
					// to archive it perhaps): not ours to drop.
					r.emit(Event{Kind: Log, Step: i, Message: id + " is no longer a partition of " + rel + ": left alone"})
					return 0, nil
				}
				// Detached: drop it even if the run is being cancelled, so no
				// detached table is left behind holding rows the parent lost.
				if _, err := r.conn.Exec(context.WithoutCancel(ctx), "DROP TABLE "+id); err != nil {
					return 0, fmt.Errorf("%s is detached but could not be dropped: %w", id, err)
				}
				r.freed = bytes
				r.emit(Event{Kind: Progress, Step: i, Done: 1, Total: 1, Unit: "partitions"})
				return 0, nil
			},
		})
	}
	return steps, "", nil
}

func plainSteps(ctx context.Context, conn *pgx.Conn, t report.Table, rel, name string, cutoff time.Time) ([]Step, string, error) {
	col := pgx.Identifier{*t.TimeColumn}.Sanitize()
	bound := t.Bound(cutoff)
	var old int64
	if err := conn.QueryRow(ctx, fmt.Sprintf("SELECT count(*) FROM %s WHERE %s < %s", rel, col, bound)).Scan(&old); err != nil {
		return nil, "", fmt.Errorf("%s: counting rows older than the cutoff: %w", name, err)
	}
	if old == 0 {
		return nil, name + ": no row is older than " + when(t, cutoff), nil
	}
	// Batches by ctid: each DELETE is its own transaction, short locks,
	// and the predicate is repeated so a row updated to a newer time is
	// never deleted.
	batch := fmt.Sprintf("DELETE FROM %s WHERE %s < %s AND ctid = ANY (ARRAY(SELECT ctid FROM %s WHERE %s < %s LIMIT $1))", rel, col, bound, rel, col, bound)
	shown := strings.Replace(batch, "$1", "<batch>", 1) + "  -- repeated until no row is left"
	var bytes *int64
	if t.ExpiredBytes != nil {
		b := *t.ExpiredBytes
		bytes = &b
	}
	del := Step{
		Title: fmt.Sprintf("delete %d rows of %s older than %s, in batches", old, name, when(t, cutoff)), Target: rel, Zone: t.Location(),
		Statements: []string{shown}, Lock: LockRowExclusive + " (row locks on the deleted rows only)", Destructive: true,
		EstRows: &old, EstBytes: bytes, Unit: "rows", Table: rel,
		run: func(ctx context.Context, r *runner, i int) (int64, error) {
			var done int64
			for {
				if err := ctx.Err(); err != nil {
					return done, err
				}
				tag, err := r.conn.Exec(ctx, batch, r.opts.BatchSize)
				if err != nil {
					return done, err
				}
				done += tag.RowsAffected()
				if bytes != nil && old > 0 { // the rows' share of the estimate: space for the table, not the filesystem
					r.freed = *bytes * min(done, old) / old
				}
				r.emit(Event{Kind: Progress, Step: i, Done: done, Total: old, Unit: "rows"})
				if tag.RowsAffected() == 0 {
					return done, nil
				}
				if r.opts.BatchPause > 0 {
					select {
					case <-ctx.Done():
						return done, ctx.Err()
					case <-time.After(r.opts.BatchPause):
					}
				}
			}
		},
	}
	vac := vacuumStep("VACUUM (ANALYZE) "+name, rel, name)
	note := name + ": DELETE frees space for the table's new rows but does not return it to the filesystem (only VACUUM FULL, which locks the table, would)"
	return []Step{del, vac}, note, nil
}
