package maint

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
)

// plainSteps deletes the rows older than the cutoff in batches, then
// VACUUM ANALYZE. Foreign keys that reference the table are reckoned
// with: a cascade or SET NULL/DEFAULT that would reach rows that stay is
// refused; rows past the cutoff that rows that stay reference (RESTRICT,
// NO ACTION) are left, and said so. Each batch is its own transaction
// that locks its rows first, so no reference to them can appear before
// they go, and skips every row a reference holds: no DELETE ever cascades
// or fails on a foreign key.
func (j *tableJob) plainSteps(ctx context.Context, conn *pgx.Conn) (tableResult, error) {
	t, rel, name, col, cutoff := j.t, j.rel, j.name, j.col, j.cutoff
	bound := t.Bound(cutoff)
	doomed := "t." + col + " < " + bound // alias t: a row that goes
	res := tableResult{kept: "NOT (r." + col + " < " + bound + ")"}
	var old int64
	if err := conn.QueryRow(ctx, fmt.Sprintf("SELECT count(*) FROM %s t WHERE %s", rel, doomed)).Scan(&old); err != nil {
		return tableResult{}, fmt.Errorf("%s: counting rows older than the cutoff: %w", name, err)
	}
	if old == 0 {
		return tableResult{notes: []string{name + ": no row is older than " + when(t, cutoff)}}, nil
	}
	var guards []string
	for _, f := range j.incoming {
		n, err := blockingRows(ctx, conn, f, rel, doomed, j.keptBy(f.from(), res.kept))
		if err != nil {
			return tableResult{}, err
		}
		switch {
		case n > 0 && f.changesOther():
			return tableResult{}, fmt.Errorf("%s: constraint %s on %s (ON DELETE %s) would reach %s of it that must stay (%s): nothing planned for it",
				name, f.Name, f.From, f.OnDelete, rowsOf(n), j.whyKept(f))
		case n > 0:
			res.notes = append(res.notes, fmt.Sprintf("%s: rows past the cutoff that %s of %s reference stay (constraint %s, ON DELETE %s: deleting them would fail; %s)",
				name, rowsOf(n), f.From, f.Name, f.OnDelete, j.whyKept(f)))
		}
		guards = append(guards, fmt.Sprintf("NOT EXISTS (SELECT 1 FROM %s r WHERE %s)", f.fromRel, f.joinOn("r", "t")))
	}
	triggers, err := readDeleteTriggers(ctx, conn, rel)
	if err != nil {
		return tableResult{}, err
	}
	for _, tr := range triggers {
		res.notes = append(res.notes, fmt.Sprintf("%s: row trigger %s fires for each deleted row: it may write elsewhere", name, tr))
	}
	cond := doomed
	for _, g := range guards {
		cond += " AND " + g
	}
	// One transaction a batch; the predicate is repeated so a row updated
	// to a newer time stays. When foreign keys reference the table, the
	// batch's rows are locked first (no reference to them can be made
	// meanwhile: a new one waits for the lock) and only those still
	// unreferenced are deleted; that lock needs UPDATE on the table.
	b := batch{planned: incomingOIDs(j.incoming), rel: rel,
		del: fmt.Sprintf("DELETE FROM %s t WHERE %s AND t.ctid = ANY (ARRAY(SELECT t.ctid FROM %s t WHERE %s LIMIT $1))", rel, cond, rel, cond)}
	shown := []string{strings.Replace(b.del, "$1", "<batch>", 1) + "  -- one transaction a batch, until no row is left"}
	need := needs(rel, NeedSelect, NeedDelete)
	if len(guards) > 0 {
		need = append(need, needOn{rel, NeedUpdate})
		b.pick = fmt.Sprintf("SELECT t.ctid FROM %s t WHERE %s LIMIT $1 FOR UPDATE OF t", rel, cond)
		b.del = fmt.Sprintf("DELETE FROM %s t WHERE t.ctid = ANY ($1::tid[]) AND %s", rel, cond)
		shown = []string{strings.Replace(b.pick, "$1", "<batch>", 1), strings.Replace(b.del, "$1::tid[]", "<those rows>", 1) + "  -- one transaction a batch, until no row is left"}
	}
	var bytes *int64
	if t.ExpiredBytes != nil {
		b := *t.ExpiredBytes
		bytes = &b
	}
	step := Step{
		Title: fmt.Sprintf("delete %d rows of %s older than %s, in batches", old, name, when(t, cutoff)), Target: rel, Zone: t.Location(),
		Statements: shown,
		Lock:       LockRowExclusive + " (row locks on the deleted rows only)", Destructive: true,
		EstRows: &old, EstBytes: bytes, Unit: "rows", Table: rel, needs: need,
		run: b.runAll(old, bytes),
	}
	vac := vacuumStep("VACUUM (ANALYZE) "+name, rel, name)
	stays := max(t.RowEstimate-old, 0)
	res.goes = Portion{From: t.Oldest, To: &cutoff, Bytes: bytes, Rows: &old}
	res.stays = Portion{From: &cutoff, Rows: &stays, RowsFromCatalog: true}
	if t.TotalBytes != nil && bytes != nil {
		b := *t.TotalBytes - *bytes
		res.stays.Bytes = &b
	}
	res.notes = append(res.notes, name+": DELETE frees space for the table's new rows but does not return it to the filesystem (only VACUUM FULL, which locks the table, would)")
	res.steps = []Step{step, vac}
	return res, nil
}

// batch is one DELETE batch: pick locks the rows first ("" when no foreign
// key references the table: del picks its rows itself).
type batch struct {
	rel     string
	planned []uint32 // the foreign keys that referenced rel when planned
	// refs are the relations (quoted) whose referencing foreign keys are
	// compared with planned; rel alone when empty. A partition's rows are
	// reached by those of its partitioned table too.
	refs      []string
	pick, del string
}

// runAll is a step that runs batches until none is left (old rows were
// counted, their bytes estimated), each its own transaction, pausing
// between them; cancelling stops between batches.
func (b batch) runAll(old int64, bytes *int64) func(ctx context.Context, r *runner, i int) (int64, error) {
	return func(ctx context.Context, r *runner, i int) (int64, error) {
		var done int64
		for {
			if err := ctx.Err(); err != nil {
				return done, err
			}
			picked, deleted, err := b.run(ctx, r.conn, r.opts.BatchSize)
			done += deleted
			if err != nil {
				return done, err
			}
			if bytes != nil && old > 0 { // the rows' share of the estimate: space for the table, not the filesystem
				r.freed = *bytes * min(done, old) / old
			}
			r.emit(Event{Kind: Progress, Step: i, Done: done, Total: old, Unit: "rows"})
			if picked == 0 {
				if done == 0 {
					return 0, skip("no row older than the cutoff was left to delete")
				}
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
	}
}

// run is one batch in one transaction: the foreign keys that reference
// rel are checked again against the plan's (one added since could
// cascade), then the batch's rows deleted. picked is how many it took on
// (0: nothing is left to delete).
func (b batch) run(ctx context.Context, conn *pgx.Conn, size int) (picked, deleted int64, err error) {
	tx, err := conn.Begin(ctx)
	if err != nil {
		return 0, 0, err
	}
	defer tx.Rollback(context.Background())
	var now []uint32
	refs := b.refs
	if len(refs) == 0 {
		refs = []string{b.rel}
	}
	if err := tx.QueryRow(ctx, `SELECT coalesce(array_agg(c.oid ORDER BY c.oid), '{}') FROM pg_constraint c
		WHERE `+declaredForeignKey+` AND c.confrelid = ANY ($1::text[]::regclass[])`, refs).Scan(&now); err != nil {
		return 0, 0, err
	}
	if !slices.Equal(now, b.planned) {
		return 0, 0, fmt.Errorf("the foreign keys that reference %s changed since the plan was made: nothing deleted in this batch; plan again", b.rel)
	}
	arg := any(size)
	if b.pick != "" {
		rows, err := tx.Query(ctx, b.pick, size)
		if err != nil {
			return 0, 0, err
		}
		tids, err := pgx.CollectRows(rows, pgx.RowTo[pgtype.TID])
		if err != nil || len(tids) == 0 {
			return 0, 0, err
		}
		picked, arg = int64(len(tids)), tids
	}
	tag, err := tx.Exec(ctx, b.del, arg)
	if err != nil {
		return 0, 0, err
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, 0, err
	}
	if b.pick == "" {
		picked = tag.RowsAffected()
	}
	return picked, tag.RowsAffected(), nil
}

// rowsOf is "1 row", "3 rows".
func rowsOf(n int64) string {
	if n == 1 {
		return "1 row"
	}
	return fmt.Sprintf("%d rows", n)
}
