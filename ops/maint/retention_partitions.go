package maint

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pgtend/pgtend/ops/report"
)

// partitionSteps detaches and drops the partitions wholly older than the
// cutoff, but for those a foreign key holds: PostgreSQL refuses to detach
// a partition whose rows are referenced (whatever the ON DELETE action:
// a DETACH never cascades) or to drop one a constraint names; the plan
// keeps them and says why. The rows past the cutoff in the partitions
// that stay — a DEFAULT partition, one straddling the cutoff — are
// counted and said; those of the DEFAULT partition are deleted in batches
// when asked (RetentionOptions.IncludeDefault), those straddling the
// cutoff go with their partition at a later run.
func (j *tableJob) partitionSteps(ctx context.Context, conn *pgx.Conn) (tableResult, error) {
	r, t, rel, name, cutoff := j.r, j.t, j.rel, j.name, j.cutoff
	all, _ := chunksOf(r, t, cutoff)
	// The unit is the table's direct partition (for multi-level trees, the
	// whole sub-tree of one range); it goes only when all its leaves are old.
	type part struct {
		id       string
		bytes    int64
		old      bool
		from, to *time.Time
		leaves   []report.Chunk
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
		p.leaves = append(p.leaves, c)
	}
	var old []report.Chunk // every leaf that would go
	for _, p := range parts {
		if p.old {
			old = append(old, p.leaves...)
		}
	}
	var res tableResult
	if len(old) == 0 {
		res.notes = append(res.notes, name+": no partition is wholly older than "+when(t, cutoff))
	}
	var gone []*part // the partitions to detach and drop
	var leavesGone []report.Chunk
	for _, p := range parts {
		if !p.old {
			continue
		}
		held, err := j.heldBy(ctx, conn, p.id, p.leaves, notIn(old))
		if err != nil {
			return tableResult{}, err
		}
		if held != "" {
			res.notes = append(res.notes, fmt.Sprintf("%s: partition %s stays: %s", name, p.id, held))
			continue
		}
		gone = append(gone, p)
		leavesGone = append(leavesGone, p.leaves...)
	}
	res.kept = notIn(leavesGone)
	res.goes, res.stays = portionOf(leavesGone), portionOf(without(all, leavesGone))
	res.goes.Parts, res.stays.Parts = len(gone), len(parts)-len(gone)
	if len(old) == 0 {
		res.goes = Portion{}
	}
	if len(gone) == 0 {
		return res, j.partitionsLeftover(ctx, conn, &res, without(all, leavesGone))
	}
	// DETACH CONCURRENTLY (PostgreSQL 14+) takes only SHARE UPDATE
	// EXCLUSIVE on the parent, so writers go on; it is refused when the
	// table has a default partition.
	var version int
	var hasDefault bool
	if err := conn.QueryRow(ctx, `SELECT current_setting('server_version_num')::int,
		EXISTS (SELECT 1 FROM pg_partitioned_table WHERE partrelid = $1::regclass AND partdefid <> 0)`, rel).Scan(&version, &hasDefault); err != nil {
		return tableResult{}, err
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
		leaves := portionOf(p.leaves)
		steps = append(steps, Step{
			Affected: []Affected{{Name: id, From: p.from, To: p.to, Bytes: &bytes, Rows: *leaves.Rows}}, EstRows: leaves.Rows, RowsFromCatalog: true,
			Title: fmt.Sprintf("detach and drop partition %s of %s (%d of %d)", id, name, k+1, len(gone)), Target: id, Zone: t.Location(),
			Statements: []string{detach, dropStmt}, Lock: lock, Destructive: true, EstBytes: &bytes, Unit: "partitions", Table: rel,
			needs: append(needs(rel, NeedOwner), needs(id, NeedOwner)...),
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
					// Something that would keep the DROP from running after the
					// DETACH (a view, a foreign key to the partition, made since
					// the plan): leave it attached rather than detached and kept.
					if deps, err := dependents(ctx, r.conn, id); err != nil || len(deps) > 0 {
						if err == nil {
							err = fmt.Errorf("%s is now depended on by %s: PostgreSQL would refuse to drop it; left attached, nothing changed", id, strings.Join(deps, ", "))
						}
						return 0, err
					}
					if _, err := r.conn.Exec(ctx, detach); err != nil {
						return 0, err
					}
				default:
					// No longer a partition of this table (someone detached it,
					// to archive it perhaps): not ours to drop.
					return 0, skip(id + " is no longer a partition of " + rel + ": left alone")
				}
				// Detached: drop it even if the run is being cancelled, so no
				// detached table is left behind holding rows the parent lost.
				if _, err := r.conn.Exec(context.WithoutCancel(ctx), "DROP TABLE "+id); err != nil {
					return 0, fmt.Errorf("%s is detached but could not be dropped: %w", id, err)
				}
				r.freed, r.estRows = bytes, *leaves.Rows
				r.emit(Event{Kind: Progress, Step: i, Done: 1, Total: 1, Unit: "partitions"})
				return 0, nil
			},
		})
	}
	res.steps = steps
	return res, j.partitionsLeftover(ctx, conn, &res, without(all, leavesGone))
}

// partitionsLeftover counts the rows past the cutoff in the leaves that
// stay, but for the wholly old ones a foreign key holds (said already):
// those straddling the cutoff and DEFAULT partitions. A DEFAULT
// partition's rows are deleted in batches with IncludeDefault (the rows
// a reference holds stay), else said to stay, as straddling ones are.
func (j *tableJob) partitionsLeftover(ctx context.Context, conn *pgx.Conn, res *tableResult, stays []report.Chunk) error {
	var deleted []string
	for _, c := range stays {
		if olderThan(c, j.cutoff) || (c.RangeStart != nil && !c.RangeStart.Before(j.cutoff)) {
			continue // held whole (said why), or wholly newer
		}
		leaf := pgx.Identifier{c.ChunkSchema, c.Chunk}.Sanitize()
		n, err := j.countPast(ctx, conn, leaf)
		if err != nil {
			return err
		}
		if n == 0 {
			continue
		}
		bytes := share(c.TotalBytes, c.RowEstimate, n)
		if !c.Default {
			addPast(&res.stays, n, bytes)
			res.notes = append(res.notes, fmt.Sprintf("%s: %s past retention stay in %s, which straddles the cutoff: partitions go whole, and %s",
				j.name, rowsOf(n), display(c), j.goesWhole(c)))
			continue
		}
		what := fmt.Sprintf("%s past retention stay in %s, the DEFAULT partition: no partition removal takes them", rowsOf(n), display(c))
		if !j.opts.IncludeDefault {
			res.offers = append(res.offers, FlagIncludeDefault)
			addPast(&res.stays, n, bytes)
			res.notes = append(res.notes, fmt.Sprintf("%s: %s; --include-default deletes them in batches (the space is reused by the table, not returned to the filesystem)", j.name, what))
			continue
		}
		// The foreign keys that reach its rows: those to the partitioned
		// table, and those to the DEFAULT partition (or its leaf) itself.
		top := c.TopSchema + "." + c.Top
		d := rowsDelete{rel: leaf, name: display(c), what: display(c) + " (the DEFAULT partition of " + j.name + ")", rows: n, bytes: bytes,
			refs: []string{j.rel, leaf}}
		if top != display(c) {
			d.refs = append(d.refs, pgx.Identifier{c.TopSchema, c.Top}.Sanitize())
		}
		for _, f := range j.incoming {
			if !f.ToPart || f.To == display(c) || f.To == top {
				d.fks = append(d.fks, f)
			}
		}
		steps, notes, held, err := j.deleteSteps(ctx, conn, d, res.kept)
		if err != nil {
			return err
		}
		if held != "" {
			addPast(&res.stays, n, bytes)
			res.notes = append(res.notes, fmt.Sprintf("%s: %s; not deleted: %s", j.name, what, held))
			continue
		}
		res.steps = append(res.steps, steps...)
		res.notes = append(res.notes, notes...)
		res.notes = append(res.notes, fmt.Sprintf("%s: %s in %s go in batches (--include-default): DELETE frees space for the table's new rows but does not return it to the filesystem",
			j.name, rowsOf(n), display(c)))
		addPast(&res.goes, n, bytes)
		deleted = append(deleted, leaf)
	}
	if len(deleted) > 0 {
		res.kept = fmt.Sprintf("(%s) AND NOT (r.tableoid::regclass = ANY (%s) AND r.%s < %s)", res.kept, regclasses(deleted), j.col, j.t.Bound(j.cutoff))
	}
	return nil
}

// heldBy says why a foreign key keeps the partition id (with its leaves)
// from going, "" when none does: a constraint naming the partition or one
// of its leaves, or rows that stay referencing its rows. selfKept is what
// the table's own cleanup keeps, for a foreign key to itself.
func (j *tableJob) heldBy(ctx context.Context, conn *pgx.Conn, id string, leaves []report.Chunk, selfKept string) (string, error) {
	deps, err := dependents(ctx, conn, id)
	if err != nil {
		return "", err
	}
	if len(deps) > 0 {
		return strings.Join(deps, ", ") + " depend on it: PostgreSQL would refuse to drop it", nil
	}
	for _, f := range j.incoming {
		if f.ToPart {
			continue // a constraint on the partition is among its dependents
		}
		n, err := blockingRows(ctx, conn, f, id, "true", j.keptBy(f.from(), selfKept))
		if err != nil {
			return "", err
		}
		if n > 0 {
			return fmt.Sprintf("%s of %s that stay (%s) reference its rows (constraint %s, ON DELETE %s): PostgreSQL would refuse to detach it",
				rowsOf(n), f.From, j.whyKept(f), f.Name, f.OnDelete), nil
		}
	}
	return "", nil
}

// dependentsQuery names what depends on a relation or any relation of its
// partition tree and would keep DROP TABLE (without CASCADE) from running:
// views and rules, and foreign keys people declared (not the copies
// PostgreSQL keeps for a foreign key to the partitioned table, which a
// DETACH removes).
const dependentsQuery = `
WITH RECURSIVE tree AS (
	SELECT to_regclass($1)::oid AS relid
	UNION ALL SELECT i.inhrelid FROM tree JOIN pg_inherits i ON i.inhparent = tree.relid
)
SELECT coalesce(array_agg(DISTINCT pg_describe_object(d.classid, d.objid, d.objsubid)), '{}')
FROM pg_depend d
LEFT JOIN pg_rewrite rw ON d.classid = 'pg_rewrite'::regclass AND rw.oid = d.objid
LEFT JOIN pg_constraint c ON d.classid = 'pg_constraint'::regclass AND c.oid = d.objid
WHERE d.refclassid = 'pg_class'::regclass AND d.refobjid IN (SELECT relid FROM tree) AND d.deptype = 'n'
  AND ((rw.oid IS NOT NULL AND rw.ev_class NOT IN (SELECT relid FROM tree))
    OR (c.oid IS NOT NULL AND c.contype = 'f' AND c.conparentid = 0 AND c.conrelid NOT IN (SELECT relid FROM tree)))`

// dependents runs dependentsQuery, on a connection or in a transaction
// (the drops that lock the table first).
func dependents(ctx context.Context, q querier, rel string) ([]string, error) {
	var deps []string
	if err := q.QueryRow(ctx, dependentsQuery, rel).Scan(&deps); err != nil {
		return nil, fmt.Errorf("reading what depends on %s: %w", rel, err)
	}
	return deps, nil
}
