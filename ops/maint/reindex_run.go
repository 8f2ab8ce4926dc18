package maint

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/dustin/go-humanize"
	"github.com/jackc/pgx/v5"
)

// dropLeftoverStep drops an invalid index a failed or cancelled REINDEX
// CONCURRENTLY left (its _ccnew copy, or the _ccold original of a rebuild
// that finished), concurrently: it indexes nothing queries use and every
// write still updates it.
func dropLeftoverStep(x ixInfo, rootRel string) Step {
	stmt := "DROP INDEX CONCURRENTLY " + x.quoted()
	bytes := x.bytes
	what := "the unfinished copy"
	if x.leftover() == "ccold" {
		what = "the old index a finished rebuild did not drop"
	}
	return Step{
		Title:  fmt.Sprintf("drop %s (invalid, %s: %s of a failed or cancelled REINDEX CONCURRENTLY)", x.shown(), humanize.IBytes(uint64(bytes)), what),
		Target: x.tableQuoted(), Statements: []string{stmt}, Lock: LockReindexConcurrently, EstBytes: &bytes, Unit: "indexes", Table: rootRel,
		needs: needs(x.tableQuoted(), NeedOwner), Alone: Flags{FlagIndex: x.quoted()},
		run: func(ctx context.Context, r *runner, i int) (int64, error) {
			st, err := r.indexState(ctx, x.quoted())
			switch {
			case errors.Is(err, pgx.ErrNoRows):
				return 0, skip(x.shown() + " is no longer there: someone dropped it since the plan was made")
			case err != nil:
				return 0, err
			case st.valid:
				return 0, skip(x.shown() + " is valid now: left alone")
			case st.builder != nil:
				return 0, skip(fmt.Sprintf("pid %d is building an index on %s right now: %s may be its copy, left alone", *st.builder, x.tableQuoted(), x.shown()))
			}
			if _, err := r.conn.Exec(ctx, stmt); err != nil {
				return 0, err
			}
			r.freed = st.size
			r.emit(Event{Kind: Progress, Step: i, Done: 1, Total: 1, Unit: "indexes"})
			return 0, nil
		},
	}
}

// reindexStep rebuilds one index with REINDEX INDEX CONCURRENTLY (plain
// REINDEX INDEX when blocking, which blocks writers): k of the n rebuilt
// for the table it serves. It reports
// pg_stat_progress_create_index while it runs and the index's bytes before
// → after when done, checks that the index is valid and has a new file,
// and, when the REINDEX fails or is cancelled, drops the invalid copy it
// left. need is what the role needs on the table (see reindexNeed).
func reindexStep(x ixInfo, rootRel string, k, n int, need Need, blocking bool) Step {
	stmt, lock, how := "REINDEX INDEX CONCURRENTLY "+x.quoted(), LockReindexConcurrently, "REINDEX CONCURRENTLY"
	if blocking {
		stmt, lock, how = "REINDEX INDEX "+x.quoted(), LockReindexBlocking, "REINDEX"
	}
	var est *int64
	if _, _, ok := x.bloat(); ok {
		g := x.gain()
		est = &g
	}
	of := fmt.Sprintf("index %d of %d", k, n)
	if x.compressedOf != "" {
		of += ", the compressed data of chunk " + x.compressedOf
	}
	return Step{
		Title:  fmt.Sprintf("REINDEX %s (%s), %s", x.shown(), bloatText(x), of),
		Target: x.tableQuoted(), Statements: []string{stmt}, Lock: lock, Blocking: blocking, EstBytes: est, Unit: "blocks", Table: rootRel,
		needs: needs(x.tableQuoted(), need), Alone: Flags{FlagIndex: x.quoted()},
		run: func(ctx context.Context, r *runner, i int) (int64, error) {
			before, err := r.indexState(ctx, x.quoted())
			switch {
			case errors.Is(err, pgx.ErrNoRows):
				return 0, skip(x.shown() + " is no longer there: dropped since the plan was made (a retention, TimescaleDB's policy)")
			case err != nil:
				return 0, err
			}
			invalidBefore, err := r.invalidIndexes(ctx, before.table)
			if err != nil {
				return 0, err
			}
			stop := r.pollCreateIndex(ctx, i)
			_, err = r.conn.Exec(ctx, stmt)
			stop()
			if err != nil {
				if left := r.dropCopies(i, x.shown(), before.table, invalidBefore); left > 0 && isLockTimeout(err) {
					// Another try would leave another copy behind the same
					// session: stop here, naming it.
					return 0, fmt.Errorf("could not lock %s within %s: %s; not tried again, as each try would leave another invalid copy",
						x.tableQuoted(), r.opts.LockTimeout, r.lockHolders(x.tableQuoted()))
				}
				return 0, err
			}
			// Rebuilt: what follows is read even when the run is being
			// cancelled, so the step says what it did.
			after, err := r.indexState(context.WithoutCancel(ctx), x.quoted())
			switch {
			case err != nil:
				return 0, fmt.Errorf("reading %s after its REINDEX: %w", x.shown(), err)
			case !after.valid:
				return 0, fmt.Errorf("%s is invalid after its %s", x.shown(), how)
			case after.filenode == before.filenode:
				return 0, fmt.Errorf("%s has the same file after its REINDEX: it was not rebuilt", x.shown())
			}
			r.dropCopies(i, x.shown(), before.table, invalidBefore) // none, unless the server left one
			r.freed = max(0, before.size-after.size)
			r.emit(Event{Kind: Log, Step: i, Message: fmt.Sprintf("%s: %s → %s", x.shown(), humanize.IBytes(uint64(before.size)), humanize.IBytes(uint64(after.size)))})
			return 0, nil
		},
	}
}

// indexInfo is an index as a run finds it.
type indexState struct {
	table    uint32 // the relation it indexes
	valid    bool
	size     int64
	filenode uint32
	builder  *int32 // another session building an index on its table
}

func (r *runner) indexState(ctx context.Context, index string) (indexState, error) {
	var s indexState
	err := r.conn.QueryRow(ctx, `SELECT i.indrelid, i.indisvalid, pg_relation_size(c.oid), pg_relation_filenode(c.oid),
		(SELECT min(p.pid) FROM pg_stat_progress_create_index p WHERE p.relid = i.indrelid AND p.pid <> pg_backend_pid())
		FROM pg_class c JOIN pg_index i ON i.indexrelid = c.oid WHERE c.oid = to_regclass($1)`, index).Scan(&s.table, &s.valid, &s.size, &s.filenode, &s.builder)
	return s, err
}

// invalidIndexes are the invalid indexes on a table.
func (r *runner) invalidIndexes(ctx context.Context, table uint32) (map[uint32]bool, error) {
	rows, err := r.conn.Query(ctx, `SELECT indexrelid FROM pg_index WHERE indrelid = $1 AND NOT indisvalid`, table)
	oids, err := collectOIDs(rows, err)
	if err != nil {
		return nil, err
	}
	out := map[uint32]bool{}
	for _, o := range oids {
		out[o] = true
	}
	return out, nil
}

// dropCopies drops the invalid _ccnew/_ccold indexes a REINDEX
// CONCURRENTLY of index left on table — those that were not there before
// it (in before) — even while the run is being cancelled: pgtend cleans
// up its own. What it cannot drop it names, with its size, and counts.
func (r *runner) dropCopies(step int, index string, table uint32, before map[uint32]bool) (left int) {
	ctx, cancel := context.WithTimeout(context.Background(), r.opts.LockTimeout*time.Duration(r.opts.LockRetries+1)+30*time.Second)
	defer cancel()
	rows, err := r.conn.Query(ctx, `SELECT c.oid, quote_ident(n.nspname) || '.' || quote_ident(c.relname), pg_relation_size(c.oid)
		FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE i.indrelid = $1 AND NOT i.indisvalid AND c.relname ~ '_cc(new|old)[0-9]*$'`, table)
	if err != nil {
		r.emit(Event{Kind: Log, Step: step, Message: "could not look for the invalid copy the REINDEX of " + index + " may have left: " + err.Error()})
		return 1
	}
	type copyOf struct {
		oid  uint32
		name string
		size int64
	}
	copies, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (copyOf, error) {
		var c copyOf
		err := row.Scan(&c.oid, &c.name, &c.size)
		return c, err
	})
	if err != nil {
		r.emit(Event{Kind: Log, Step: step, Message: "could not look for the invalid copy the REINDEX of " + index + " may have left: " + err.Error()})
		return 1
	}
	for _, c := range copies {
		if before[c.oid] {
			continue
		}
		var err error
		for try := 0; try <= r.opts.LockRetries; try++ {
			if _, err = r.conn.Exec(ctx, "DROP INDEX CONCURRENTLY "+c.name); !isLockTimeout(err) {
				break
			}
		}
		if err != nil {
			r.emit(Event{Kind: Log, Step: step, Message: fmt.Sprintf("the REINDEX of %s left %s (invalid, %s) and it could not be dropped: %s; pgtend plan reindex offers to drop it",
				index, c.name, humanize.IBytes(uint64(c.size)), strings.TrimSpace(err.Error()))})
			left++
			continue
		}
		r.emit(Event{Kind: Log, Step: step, Message: fmt.Sprintf("dropped %s (invalid, %s), the copy the unfinished REINDEX of %s left", c.name, humanize.IBytes(uint64(c.size)), index)})
	}
	return left
}

// pollCreateIndex reports pg_stat_progress_create_index of the running
// REINDEX from the watch connection until stopped: its phase, blocks and
// tuples done of their totals.
func (r *runner) pollCreateIndex(ctx context.Context, step int) (stop func()) {
	return r.poll(ctx, 200*time.Millisecond, func(ctx context.Context) {
		var phase string
		var blocks, blocksTotal, tuples, tuplesTotal int64
		err := r.watch.QueryRow(ctx, `SELECT phase, coalesce(blocks_done, 0), coalesce(blocks_total, 0), coalesce(tuples_done, 0), coalesce(tuples_total, 0)
			FROM pg_stat_progress_create_index WHERE pid = $1`, r.pid).Scan(&phase, &blocks, &blocksTotal, &tuples, &tuplesTotal)
		if err != nil {
			return
		}
		if tuplesTotal > 0 {
			phase += fmt.Sprintf(", %s of %s tuples", humanize.Comma(tuples), humanize.Comma(tuplesTotal))
		}
		r.emit(Event{Kind: Progress, Step: step, Done: blocks, Total: blocksTotal, Unit: "blocks", Message: phase})
	})
}
