package triage

import (
	"context"
	"fmt"
	"math"

	"github.com/dustin/go-humanize"
	"github.com/jackc/pgx/v5"
	"github.com/pgtend/pgtend/ops/config"
	"github.com/pgtend/pgtend/ops/maint"
	"github.com/pgtend/pgtend/ops/report"
)

// Bloat worth an option: at least this much of the table and this many
// bytes (below it, a rewrite's cost outweighs the gain).
const (
	minBloatShare = 0.2
	minBloatBytes = 1 << 20
	// maxMeasured bounds the pgstattuple_approx calls of one triage read.
	maxMeasured = 20
)

// worth: bytes of a heap of heap bytes are enough bloat for an option.
func worth(bytes, heap int64) bool {
	return bytes >= minBloatBytes && float64(bytes) >= minBloatShare*float64(heap)
}

// bloatRow is what the statistics say of one plain table.
type bloatRow struct {
	oid                   uint32
	heap                  int64
	reltuples             float64
	width                 float64
	dead, live            int64
	blockSize, fillfactor int
	free, deadLen         int64
}

// bloat lists, for the plain tables, what VACUUM makes reusable (the dead
// rows: reuse only) and what a rewrite would return to the filesystem (the
// heap beyond what its live rows need), estimated from the statistics
// (pg_class, pg_stats, pg_stat_all_tables) or, where pgstattuple is
// installed, from pgstattuple_approx. The rewrite — pg_repack where it is
// installed, else VACUUM FULL — is offered only when the filesystem has the
// room it needs; else it is shown blocked, with the numbers.
func bloat(ctx context.Context, conn *pgx.Conn, r *report.Report, policy config.Policy, repack *maint.RepackTool, repackWhy string) ([]Option, error) {
	byOID := map[uint32]report.Table{}
	var oids []uint32
	for _, t := range r.Tables {
		if !t.Missing && t.Kind != nil && *t.Kind == report.KindTable && !t.Locked && t.TableBytes != nil && *t.TableBytes >= minBloatBytes {
			byOID[t.OID()] = t
			oids = append(oids, t.OID())
		}
	}
	if len(oids) == 0 {
		return nil, nil
	}
	// pgstattuple_approx, named with the extension's schema.
	approxFn := ""
	if schema, err := report.ExtensionSchema(ctx, conn, "pgstattuple"); err == nil && schema != "" {
		fn := pgx.Identifier{schema, "pgstattuple_approx"}.Sanitize()
		var may bool
		if err := conn.QueryRow(ctx, `SELECT has_function_privilege($1, 'EXECUTE')`, fn+"(regclass)").Scan(&may); err == nil && may {
			approxFn = fn
		}
	}
	rows, err := conn.Query(ctx, `
		SELECT c.oid, pg_relation_size(c.oid), c.reltuples::float8,
		       coalesce((SELECT sum(s.avg_width) FROM pg_stats s WHERE s.schemaname = n.nspname AND s.tablename = c.relname), 0)::float8,
		       coalesce(st.n_dead_tup, 0), coalesce(st.n_live_tup, 0), current_setting('block_size')::int,
		       coalesce((SELECT option_value::int FROM pg_options_to_table(c.reloptions) WHERE option_name = 'fillfactor'), 100)
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace LEFT JOIN pg_stat_all_tables st ON st.relid = c.oid
		WHERE c.oid = ANY($1)`, oids)
	if err != nil {
		return nil, fmt.Errorf("reading the tables' statistics: %w", err)
	}
	stats, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (bloatRow, error) {
		var b bloatRow
		err := row.Scan(&b.oid, &b.heap, &b.reltuples, &b.width, &b.dead, &b.live, &b.blockSize, &b.fillfactor)
		return b, err
	})
	if err != nil {
		return nil, fmt.Errorf("reading the tables' statistics: %w", err)
	}
	_, free, seen := r.Disk.Space()
	walKept, err := maint.ReadWALKept(ctx, conn)
	if err != nil {
		return nil, err
	}
	var out []Option
	measured := 0
	for _, b := range stats {
		t := byOID[b.oid]
		tuple := b.width + 24 + 4 // the row, its header and its line pointer
		reuse, rewrite := int64(float64(b.dead)*tuple), int64(0)
		basis := "estimated from the statistics (pg_class.reltuples, pg_stats.avg_width, pg_stat_all_tables.n_dead_tup)"
		if b.reltuples >= 0 {
			perPage := float64(b.blockSize-24) * float64(b.fillfactor) / 100 / tuple
			need := int64(math.Ceil(b.reltuples/math.Max(math.Floor(perPage), 1))) * int64(b.blockSize)
			rewrite = max(b.heap-need, 0)
		}
		// pgstattuple_approx reads the pages the visibility map does not
		// vouch for: only for the tables the statistics point at (or know
		// nothing of), and a bounded number of them per read.
		if approxFn != "" && measured < maxMeasured && (b.reltuples < 0 || worth(reuse, b.heap) || worth(rewrite, b.heap)) {
			measured++
			if err := conn.QueryRow(ctx, "SELECT approx_free_space, dead_tuple_len FROM "+approxFn+"($1::oid::regclass)", b.oid).Scan(&b.free, &b.deadLen); err == nil {
				reuse, rewrite = b.deadLen, b.free+b.deadLen
				basis = "estimated by pgstattuple_approx (free space from the visibility map and free space map, dead rows counted)"
			}
		}
		if worth(reuse, b.heap) {
			out = append(out, Option{Kind: KindBloat, Schema: ptr(t.Schema), Table: ptr(t.Name), Object: "dead rows (VACUUM)",
				Bytes: reuse, Frees: FreesReuseOnly, Estimate: true, Locks: maint.LockShareUpdateExclusive + " (reads and writes go on)",
				Run:    &Run{Action: "vacuum", Table: t.Key()},
				Detail: fmt.Sprintf("%s dead rows: VACUUM makes their space reusable by the table's new rows; the filesystem gains nothing", humanize.Comma(b.dead)),
				Basis:  basis})
		}
		if !worth(rewrite, b.heap) {
			continue
		}
		o := Option{Kind: KindBloat, Schema: ptr(t.Schema), Table: ptr(t.Name), Bytes: rewrite, Estimate: true, Basis: basis,
			NeedsFreeBytes: maint.RewriteNeed(t, policy, walKept), Run: &Run{Action: "rewrite", Table: t.Key()}}
		if repack != nil {
			o.Object, o.Locks = "rewrite (pg_repack)", maint.LockRepack
			o.Detail = "pg_repack rewrites it and its indexes beside the old copy, locking only briefly, and returns the space at once (the heap's free space counted; what the rebuilt indexes shrink comes on top)"
		} else {
			o.Object, o.Locks = "rewrite (VACUUM FULL)", maint.LockVacuumFull
			o.Detail = "VACUUM FULL rewrites it and its indexes, the table locked throughout, and returns the space at once (the heap's free space counted; what the rebuilt indexes shrink comes on top; pg_repack would not lock it: " + repackWhy + ")"
		}
		switch {
		case !seen:
			o.Frees, o.Run = FreesNeedsFreeSpace, nil
			o.Blocked = fmt.Sprintf("needs %s free, and the filesystem is not visible to pgtend: %s", humanize.IBytes(uint64(o.NeedsFreeBytes)), r.Disk.Reason)
		case free < o.NeedsFreeBytes:
			o.Frees, o.Run = FreesNeedsFreeSpace, nil
			o.Blocked = fmt.Sprintf("blocked: needs %s free (the table and its indexes, %s, the WAL the rewrite writes, plus [disk] keep_free %s), the filesystem has %s",
				humanize.IBytes(uint64(o.NeedsFreeBytes)), humanize.IBytes(uint64(derefOr(t.TotalBytes))), humanize.IBytes(uint64(policy.Disk.Effective().KeepFreeBytes)), humanize.IBytes(uint64(free)))
		default:
			o.Frees = FreesNow
		}
		out = append(out, o)
	}
	return out, nil
}
