package maint

import (
	"cmp"
	"context"
	"fmt"

	"github.com/dustin/go-humanize"
	"github.com/jackc/pgx/v5"
	"github.com/pgtend/pgtend/ops/config"
	"github.com/pgtend/pgtend/ops/report"
)

// PlanDecompress plans decompressing the one chunk --chunk names (of
// table, when given). It is refused when the data directory's filesystem
// has less free than the chunk's uncompressed size plus [disk] keep_free,
// with the numbers: decompression has filled disks
// (timescale/timescaledb#6196).
func PlanDecompress(ctx context.Context, conn *pgx.Conn, policy config.Policy, table string) (*Plan, error) {
	name := FlagsOf(ctx)[FlagChunk]
	if name == "" {
		return nil, fmt.Errorf("decompress needs --chunk CHUNK: the compressed chunk to decompress (schema.name, as the Chunks pane and pgtend report --json name it)")
	}
	api, err := detectAPI(ctx, conn)
	if err != nil {
		return nil, err
	}
	if api == nil {
		return nil, fmt.Errorf("TimescaleDB is not installed in this database: there is no compressed chunk to decompress")
	}
	var c struct {
		htSchema, ht, schema, chunk string
		compressed                  bool
	}
	err = conn.QueryRow(ctx, `SELECT hypertable_schema::text, hypertable_name::text, chunk_schema::text, chunk_name::text, is_compressed
		FROM timescaledb_information.chunks
		WHERE chunk_schema || '.' || chunk_name = $1 OR quote_ident(chunk_schema) || '.' || quote_ident(chunk_name) = $1
		   OR (chunk_name = $1 AND strpos($1, '.') = 0)`, name).Scan(&c.htSchema, &c.ht, &c.schema, &c.chunk, &c.compressed)
	if err == pgx.ErrNoRows {
		return nil, fmt.Errorf("no chunk %q of a hypertable in the database", name)
	}
	if err != nil {
		return nil, fmt.Errorf("looking up chunk %q: %w", name, err)
	}
	chunk := pgx.Identifier{c.schema, c.chunk}.Sanitize()
	rel := pgx.Identifier{c.htSchema, c.ht}.Sanitize()
	switch {
	case !c.compressed:
		return nil, fmt.Errorf("%s is not compressed: nothing to decompress", chunk)
	case table != "" && table != c.ht && table != c.htSchema+"."+c.ht:
		return nil, fmt.Errorf("%s is a chunk of %s.%s, not of %s", chunk, c.htSchema, c.ht, table)
	}
	r, err := report.Collect(ctx, conn, policy)
	if err != nil {
		return nil, err
	}
	var before, after int64
	if err := conn.QueryRow(ctx, `SELECT coalesce(before_compression_total_bytes, 0), coalesce(after_compression_total_bytes, 0) FROM `+api.stats+`($1::regclass)
		WHERE chunk_schema = $2 AND chunk_name = $3`, rel, c.schema, c.chunk).Scan(&before, &after); err != nil {
		return nil, fmt.Errorf("%s: reading its compression figures: %w", chunk, err)
	}
	keep := policy.Disk.Effective().KeepFreeBytes
	p := &Plan{Target: c.htSchema + "." + c.ht + ", chunk " + chunk, Created: r.GeneratedAt}
	switch total, free, ok := r.Disk.Space(); {
	case !ok:
		p.Notes = append(p.Notes, "free disk not checked: "+cmp.Or(r.Disk.Reason, "the data directory's filesystem is not visible")+
			fmt.Sprintf("; decompressing writes ~%s back (and as much WAL)", humanize.IBytes(uint64(before))))
	case free < before+keep:
		return nil, fmt.Errorf("%s: decompressing it needs ~%s free (its uncompressed size %s, and [disk] keep_free %s); the data directory's filesystem has %s of %s: refused",
			chunk, humanize.IBytes(uint64(before+keep)), humanize.IBytes(uint64(before)), humanize.IBytes(uint64(keep)), humanize.IBytes(uint64(free)), humanize.IBytes(uint64(total)))
	default:
		p.Notes = append(p.Notes, fmt.Sprintf("free disk: %s of %s; decompressing needs ~%s (its uncompressed size) and [disk] keep_free %s",
			humanize.IBytes(uint64(free)), humanize.IBytes(uint64(total)), humanize.IBytes(uint64(before)), humanize.IBytes(uint64(keep))))
	}
	p.Notes = append(p.Notes, "TimescaleDB's compression policy, if the table has one, compresses the chunk again on a later run; pgtend run compress does too once it is past compress_after")
	grows := before - after
	stmt := fmt.Sprintf(api.decompress, report.Literal(chunk)+"::regclass")
	run := fmt.Sprintf(api.decompress, "$1::regclass")
	p.Steps = []Step{{
		Title:  fmt.Sprintf("decompress %s of %s.%s (%s compressed → ~%s)", chunk, c.htSchema, c.ht, humanize.IBytes(uint64(after)), humanize.IBytes(uint64(before))),
		Target: chunk, Statements: []string{stmt}, Lock: LockCompressChunk, Unit: "chunks", Table: rel,
		needs: needs(rel, NeedOwner),
		run: func(ctx context.Context, r *runner, i int) (int64, error) {
			compressed, ok, err := r.chunkState(ctx, c.schema, c.chunk)
			switch {
			case err != nil:
				return 0, err
			case !ok:
				return 0, skip(chunk + " no longer exists: dropped since the plan was made")
			case !compressed:
				return 0, skip(chunk + " is not compressed any more: someone decompressed it since the plan was made")
			}
			if _, err := r.conn.Exec(ctx, run, chunk); err != nil {
				return 0, err
			}
			var size int64
			_ = r.conn.QueryRow(context.WithoutCancel(ctx), "SELECT pg_total_relation_size($1::regclass)", chunk).Scan(&size)
			r.emit(Event{Kind: Progress, Step: i, Done: 1, Total: 1, Unit: "chunks"})
			r.emit(Event{Kind: Log, Step: i, Message: fmt.Sprintf("%s.%s: %s compressed → %s", c.schema, c.chunk, humanize.IBytes(uint64(after)), humanize.IBytes(uint64(size)))})
			return 0, nil
		},
	}}
	p.Tables = []TableSummary{{Table: c.htSchema + "." + c.ht, Kind: report.KindHypertable, TimeZone: "UTC", Locks: []string{LockCompressChunk}, Steps: []int{0},
		ForeignKeys: []ForeignKey{}, Findings: []string{fmt.Sprintf("the database grows by ~%s", humanize.IBytes(uint64(max(grows, 0))))}}}
	return p, nil
}
