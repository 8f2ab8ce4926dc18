package maint

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/pgtend/pgtend/ops/report"
)

// inheritanceTreeQuery lists a legacy inheritance tree (CREATE TABLE child
// () INHERITS (parent)) from its root, which comes first: every relation,
// its first parent (what the report counts it under), whether it has
// children of its own, how many parents it has, its kind (r, f).
const inheritanceTreeQuery = `
WITH RECURSIVE tree(relid, parent, depth) AS (
	SELECT $1::regclass::oid, 0::oid, 0
	UNION ALL
	SELECT i.inhrelid, i.inhparent, t.depth + 1 FROM tree t JOIN pg_inherits i ON i.inhparent = t.relid AND i.inhseqno = 1
)
SELECT t.relid, t.parent, n.nspname::text, c.relname::text, c.relkind::text,
       EXISTS (SELECT 1 FROM pg_inherits k WHERE k.inhparent = t.relid),
       (SELECT count(*) FROM pg_inherits p WHERE p.inhrelid = t.relid)
FROM tree t JOIN pg_class c ON c.oid = t.relid JOIN pg_namespace n ON n.oid = c.relnamespace
ORDER BY t.depth, n.nspname, c.relname`

// inheritedRel is one relation of an inheritance tree.
type inheritedRel struct {
	oid, parent   uint32
	schema, name  string
	kind          string // pg_class.relkind: r, f
	hasChildren   bool
	parents       int
	rel, shown    string        // quoted; schema.name
	parentOfShown string        // its parent, schema.name
	isRoot        bool          // the policy's table itself
	chunk         *report.Chunk // the report's figures for a child
	bytes         *int64        // the report's (for the root: its own, less its children's)
	rowEstimate   int64
}

// inheritedSteps plans retention of an inheritance parent, relation by
// relation — never with ctids taken from a scan of the parent, which
// belong to different tables:
//   - a child without children of its own whose CHECK constraints prove
//     every row older than the cutoff (the planner refutes a newer row;
//     NOT NULL, or the rows themselves, that none lacks a time; its newest
//     row confirms it) is dropped whole, unless something depends on it:
//     the files go back to the filesystem at once;
//   - every other relation, the parent's own rows included, deletes its
//     rows older than the cutoff in batches (FROM ONLY it), as a plain
//     table does, foreign keys guarded, then VACUUM ANALYZE: space the
//     table reuses, not returned to the filesystem.
//
// A foreign table, or a child that also inherits from another parent, is
// left alone and said so.
func (j *tableJob) inheritedSteps(ctx context.Context, conn *pgx.Conn) (tableResult, error) {
	rels, err := j.inheritanceTree(ctx, conn)
	if err != nil {
		return tableResult{}, err
	}
	// The proofs set constraint_exclusion for their transaction only, and
	// read nothing but the catalog and an index probe or two.
	tx, err := conn.Begin(ctx)
	if err != nil {
		return tableResult{}, err
	}
	defer tx.Rollback(context.Background())
	var res tableResult
	var drops []inheritedRel
	var deletes []rowsDelete
	col, bound := "t."+j.col, j.t.Bound(j.cutoff)
	for _, m := range rels {
		switch {
		case m.kind != "r":
			res.notes = append(res.notes, fmt.Sprintf("%s: %s is a foreign table: left alone", j.name, m.shown))
			continue
		case m.parents > 1:
			res.notes = append(res.notes, fmt.Sprintf("%s: %s inherits from other tables too: left alone (its rows belong to each of them)", j.name, m.shown))
			continue
		}
		if !m.isRoot && !m.hasChildren {
			why, err := j.wholePast(ctx, tx, m.rel)
			if err != nil {
				return tableResult{}, fmt.Errorf("%s: proving the range of %s: %w", j.name, m.rel, err)
			}
			switch why {
			case "":
				deps, err := dependents(ctx, tx.Conn(), m.rel)
				if err != nil {
					return tableResult{}, err
				}
				if len(deps) == 0 {
					drops = append(drops, m)
					continue
				}
				res.notes = append(res.notes, fmt.Sprintf("%s: %s is wholly past the cutoff, but %s depend on it (PostgreSQL would refuse to drop it): its rows are deleted in batches instead",
					j.name, m.shown, strings.Join(deps, ", ")))
			case notProven:
				// Wholly newer, by its CHECK constraints: nothing to count.
				if newer, err := refuted(ctx, tx, m.rel, col+" < "+bound); err != nil || newer {
					if err != nil {
						return tableResult{}, err
					}
					continue
				}
				// Only old rows, but nothing proves it: say how it could go whole.
				var newest bool
				if err := tx.QueryRow(ctx, fmt.Sprintf("SELECT EXISTS (SELECT 1 FROM ONLY %s t WHERE NOT (%s < %s) OR %s IS NULL)", m.rel, col, bound, col)).Scan(&newest); err != nil {
					return tableResult{}, err
				}
				if !newest {
					res.notes = append(res.notes, fmt.Sprintf("%s: %s holds only rows past the cutoff, but no CHECK constraint on %s proves it: its rows are deleted in batches (with one, it would be dropped whole)",
						j.name, m.shown, *j.t.TimeColumn))
				}
			default:
				res.notes = append(res.notes, fmt.Sprintf("%s: %s's CHECK constraints put it past the cutoff, but %s: its older rows are deleted in batches instead", j.name, m.shown, why))
			}
		}
		n, err := j.countPast(ctx, tx, m.rel)
		if err != nil {
			return tableResult{}, err
		}
		if n == 0 {
			continue
		}
		d := rowsDelete{rel: m.rel, name: m.shown, rows: n, bytes: share(m.bytes, m.rowEstimate, n), refs: []string{m.rel},
			what: m.shown + " (inheritance child of " + m.parentOfShown + ")"}
		if m.isRoot {
			d.what = m.shown + " alone (the inheritance parent's own rows)"
		}
		// A foreign key references one relation of the tree only: rows of
		// its children are not the parent's to it.
		for _, f := range j.incoming {
			if f.toOID == m.oid {
				d.fks = append(d.fks, f)
			}
		}
		d.oid = m.oid
		deletes = append(deletes, d)
	}
	if err := tx.Rollback(ctx); err != nil {
		return tableResult{}, err
	}
	deletes = referencingFirst(deletes)

	// What stays, as the condition on alias r: rows of the dropped children
	// go, and rows older than the cutoff of the relations deleted from.
	var dropped, deleted []string
	for _, m := range drops {
		dropped = append(dropped, m.rel)
	}
	for _, d := range deletes {
		deleted = append(deleted, d.rel)
	}
	kept := func(deleted []string) string {
		return fmt.Sprintf("NOT (r.tableoid::regclass = ANY (%s) OR (r.tableoid::regclass = ANY (%s) AND r.%s < %s))", regclasses(dropped), regclasses(deleted), j.col, bound)
	}
	res.kept = kept(deleted) // what the tree's own references weigh (each batch skips rows still referenced)

	var goneChunks, allChunks []report.Chunk
	for _, m := range rels {
		if m.chunk != nil {
			allChunks = append(allChunks, *m.chunk)
		}
	}
	for k, m := range drops {
		goneChunks = append(goneChunks, *m.chunk)
		res.steps = append(res.steps, j.dropChildStep(m, k, len(drops)))
	}
	var planned []string
	for _, d := range deletes {
		steps, notes, held, err := j.deleteSteps(ctx, conn, d, res.kept)
		if err != nil {
			return tableResult{}, err
		}
		if held != "" {
			res.notes = append(res.notes, fmt.Sprintf("%s: %s past retention stay in %s: %s", j.name, rowsOf(d.rows), d.name, held))
			addPast(&res.stays, d.rows, d.bytes)
			continue
		}
		planned = append(planned, d.rel)
		res.steps = append(res.steps, steps...)
		res.notes = append(res.notes, notes...)
		addPast(&res.goes, d.rows, d.bytes)
	}
	// What the tables cleaned after it weigh: a relation whose rows a
	// reference holds keeps them (a partition they reference must stay).
	res.kept = kept(planned)
	goes, stays := portionOf(goneChunks), portionOf(without(allChunks, goneChunks))
	goes.RowsPastCutoff, goes.BytesPastCutoff = res.goes.RowsPastCutoff, res.goes.BytesPastCutoff
	stays.RowsPastCutoff, stays.BytesPastCutoff = res.stays.RowsPastCutoff, res.stays.BytesPastCutoff
	// What stays holds the parent's own rows too.
	if j.t.TotalBytes != nil && goes.Bytes != nil {
		b := *j.t.TotalBytes - *goes.Bytes
		stays.Bytes = &b
	}
	rows := max(j.t.RowEstimate-*goes.Rows-deref(goes.RowsPastCutoff), 0)
	stays.Rows = &rows
	res.goes, res.stays = goes, stays
	switch {
	case len(drops) == 0 && len(deletes) == 0:
		res.notes = append(res.notes, j.name+": no row of it or its children is older than "+when(j.t, j.cutoff))
	case len(deletes) > 0:
		res.notes = append(res.notes, j.name+": DELETE frees space for the table's new rows but does not return it to the filesystem (only VACUUM FULL, which locks the table, would); the children dropped whole return theirs")
	}
	if len(res.steps) == 0 {
		res.goes = Portion{}
	}
	return res, nil
}

// referencingFirst orders the relations of a tree that delete rows so that
// one whose rows reference another's (a child's foreign key to a sibling)
// deletes first: the referenced rows that go are then no longer held. A
// cycle keeps its relations in the tree's order (each batch skips the rows
// still referenced, so none fails).
func referencingFirst(deletes []rowsDelete) []rowsDelete {
	oids := make([]uint32, len(deletes))
	incoming := map[uint32][]ForeignKey{}
	byOID := map[uint32]rowsDelete{}
	for i, d := range deletes {
		oids[i], byOID[d.oid] = d.oid, d
		for _, f := range d.fks {
			f.fromRoot = 0 // the relation, not its tree's table
			incoming[d.oid] = append(incoming[d.oid], f)
		}
	}
	order, cyclic := cleaningOrder(oids, incoming)
	out := make([]rowsDelete, 0, len(deletes))
	for _, oid := range order {
		out = append(out, byOID[oid])
	}
	for _, oid := range oids {
		if _, ok := cyclic[oid]; ok {
			out = append(out, byOID[oid])
		}
	}
	return out
}

// inheritanceTree reads the table's tree, root first, with the report's
// figures for each child.
func (j *tableJob) inheritanceTree(ctx context.Context, conn *pgx.Conn) ([]inheritedRel, error) {
	rows, err := conn.Query(ctx, inheritanceTreeQuery, j.rel)
	if err != nil {
		return nil, fmt.Errorf("%s: reading its inheritance children: %w", j.name, err)
	}
	defer rows.Close()
	chunks := map[string]*report.Chunk{}
	var childBytes, childRows int64
	for i := range j.r.Chunks {
		c := &j.r.Chunks[i]
		if c.TableSchema == j.t.Schema && c.Table == j.t.Name {
			chunks[display(*c)] = c
			if c.TotalBytes != nil {
				childBytes += *c.TotalBytes
			}
			childRows += c.RowEstimate
		}
	}
	var out []inheritedRel
	shownOf := map[uint32]string{}
	for rows.Next() {
		var m inheritedRel
		if err := rows.Scan(&m.oid, &m.parent, &m.schema, &m.name, &m.kind, &m.hasChildren, &m.parents); err != nil {
			return nil, fmt.Errorf("%s: reading its inheritance children: %w", j.name, err)
		}
		m.rel, m.shown = pgx.Identifier{m.schema, m.name}.Sanitize(), m.schema+"."+m.name
		shownOf[m.oid] = m.shown
		m.parentOfShown = shownOf[m.parent]
		m.isRoot = m.parent == 0
		if m.isRoot {
			// Its own rows: the table less its children.
			if j.t.TotalBytes != nil {
				b := *j.t.TotalBytes - childBytes
				m.bytes = &b
			}
			m.rowEstimate = max(j.t.RowEstimate-childRows, 0)
		} else {
			c := chunks[m.shown]
			if c == nil { // made since the report was read: its figures are unknown
				c = &report.Chunk{TableSchema: j.t.Schema, Table: j.t.Name, ChunkSchema: m.schema, Chunk: m.name}
			}
			m.chunk, m.bytes, m.rowEstimate = c, c.TotalBytes, c.RowEstimate
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// dropChildStep drops one inheritance child proven wholly past the cutoff.
// The run proves it again under the child's ACCESS EXCLUSIVE lock (no row
// can come or change meanwhile) and drops it only if it is still the
// parent's childless child, nothing depends on it and the proof holds:
// otherwise nothing is dropped. The parent is not locked.
func (j *tableJob) dropChildStep(m inheritedRel, k, n int) Step {
	var bytes int64
	if m.bytes != nil {
		bytes = *m.bytes
	}
	rows := m.rowEstimate
	rel, col, bound := m.rel, "t."+j.col, j.t.Bound(j.cutoff)
	lock := "LOCK TABLE ONLY " + rel + " IN ACCESS EXCLUSIVE MODE"
	proof := fmt.Sprintf("EXPLAIN SELECT 1 FROM ONLY %s t WHERE %s >= %s  -- with constraint_exclusion on: its CHECK constraints must refute every such row", rel, col, bound)
	drop := "DROP TABLE " + rel
	parent := m.parent
	return Step{
		Affected: []Affected{{Name: rel, From: m.chunk.RangeStart, To: m.chunk.RangeEnd, Bytes: m.bytes, Rows: rows}}, EstRows: &rows, RowsFromCatalog: true,
		Title:  fmt.Sprintf("drop inheritance child %s of %s, wholly older than %s (%d of %d)", m.shown, j.name, when(j.t, j.cutoff), k+1, n),
		Target: rel, Zone: j.t.Location(), Statements: []string{lock, proof, drop}, Lock: LockAccessExclusive + " on each dropped child (not on the parent)",
		Destructive: true, EstBytes: &bytes, Unit: "tables", Table: j.rel, needs: needs(rel, NeedOwner),
		run: func(ctx context.Context, r *runner, i int) (int64, error) {
			tx, err := r.conn.Begin(ctx)
			if err != nil {
				return 0, err
			}
			defer tx.Rollback(context.Background())
			var now *uint32
			if err := tx.QueryRow(ctx, `SELECT (SELECT i.inhparent FROM pg_inherits i WHERE i.inhrelid = c.oid AND i.inhseqno = 1)
				FROM pg_class c WHERE c.oid = to_regclass($1)`, rel).Scan(&now); err != nil {
				if errors.Is(err, pgx.ErrNoRows) {
					return 0, skip(rel + " no longer exists: nothing to drop")
				}
				return 0, err
			}
			if now == nil || *now != parent {
				return 0, skip(rel + " is no longer a child of " + m.parentOfShown + ": left alone")
			}
			if _, err := tx.Exec(ctx, lock); err != nil {
				return 0, err
			}
			// Under the lock: what the plan proved holds still.
			why, err := j.wholePast(ctx, tx, rel)
			if err != nil {
				return 0, err
			}
			if why != "" {
				return 0, fmt.Errorf("%s can no longer be proven wholly older than the cutoff (%s): nothing dropped; plan again", rel, why)
			}
			var children bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_inherits WHERE inhparent = $1::regclass)
				OR (SELECT count(*) FROM pg_inherits WHERE inhrelid = $1::regclass) <> 1`, rel).Scan(&children); err != nil {
				return 0, err
			}
			if children {
				return 0, fmt.Errorf("%s has children of its own, or other parents, since the plan was made: nothing dropped; plan again", rel)
			}
			if deps, err := dependents(ctx, tx.Conn(), rel); err != nil || len(deps) > 0 {
				if err == nil {
					err = fmt.Errorf("%s is now depended on by %s: PostgreSQL would refuse to drop it; nothing dropped", rel, strings.Join(deps, ", "))
				}
				return 0, err
			}
			if _, err := tx.Exec(ctx, drop); err != nil {
				return 0, err
			}
			if err := tx.Commit(ctx); err != nil {
				return 0, err
			}
			r.freed, r.estRows = bytes, rows
			r.emit(Event{Kind: Progress, Step: i, Done: 1, Total: 1, Unit: "tables"})
			return 0, nil
		},
	}
}
