package report

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// hypertableChunksQuery lists TimescaleDB's chunks with their ranges; sizes
// come from the members already measured, matched by the chunk's OID. The
// view gives a timestamp or date dimension's bounds as their wall-clock
// times in UTC, whatever the session's zone, as partition bounds are read
// below; readLocalTimes reads them in the table's zone.
//
// A continuous aggregate's chunks are listed under its view's name, not
// its materialization hypertable's.
const hypertableChunksQuery = `
SELECT coalesce(ca.user_view_schema, ch.hypertable_schema)::text, coalesce(ca.user_view_name, ch.hypertable_name)::text,
       ch.chunk_schema::text, ch.chunk_name::text,
       rc.oid,
       ch.range_start, ch.range_end, ch.range_start_integer, ch.range_end_integer,
       coalesce(ch.is_compressed, false), ch.chunk_schema::text, ch.chunk_name::text, false
FROM timescaledb_information.chunks ch
LEFT JOIN pg_namespace n ON n.nspname = ch.chunk_schema
LEFT JOIN pg_class rc ON rc.relnamespace = n.oid AND rc.relname = ch.chunk_name
LEFT JOIN _timescaledb_catalog.hypertable mh ON mh.schema_name = ch.hypertable_schema AND mh.table_name = ch.hypertable_name
LEFT JOIN _timescaledb_catalog.continuous_agg ca ON ca.mat_hypertable_id = mh.id
ORDER BY 1, 2, ch.range_start NULLS FIRST, ch.range_start_integer NULLS FIRST, 4`

// partitionsQuery lists the leaf partitions of every partitioned table with
// their range bounds. pg_get_expr renders bounds as literals of the key's
// type (bigint ones quoted, integer ones bare); those of a single
// time-typed column are cast back to timestamptz (timestamp and date read as
// wall-clock times in UTC, which readLocalTimes then reads in the table's
// zone), integer keys to bigint; anything else (lists, hashes, multi-column
// keys, MINVALUE/MAXVALUE) stays null. A leaf of a multi-level tree takes
// the range of its ancestor one level below the root. pg_get_expr gets
// relid 0: bounds hold no column references, and a relid would lock.
// The CTEs are MATERIALIZED so each regexp and key lookup runs once per
// leaf, not once per reference (10x the cost at 5,000 partitions). A leaf
// whose direct partition is the DEFAULT one says so. The children of an
// inheritance parent, at every level (each holds rows of its own), come
// without ranges: readInheritedRanges reads them from their CHECK
// constraints once the policy names the time column.
func partitionsQuery(f Features) string {
	return catalogCTEs(f) + `,
leaves AS MATERIALIZED (
	SELECT r.schema, r.name, ln.nspname::text AS leaf_schema, lc.relname::text AS leaf, lc.oid AS leaf_oid,
	       bn.nspname::text AS top_schema, bc.relname::text AS top,
	       (SELECT a.atttypid::regtype FROM pg_partitioned_table pt
	          JOIN pg_attribute a ON a.attrelid = pt.partrelid AND a.attnum = pt.partattrs[0]
	         WHERE pt.partrelid = r.oid AND pt.partstrat = 'r' AND pt.partnatts = 1) AS keytype,
	       regexp_match(pg_get_expr(bc.relpartbound, 0),
	                    $re$^FOR VALUES FROM \('?([^')]*)'?\) TO \('?([^')]*)'?\)$$re$) AS b,
	       bc.oid IN (SELECT pt.partdefid FROM pg_partitioned_table pt) AS is_default
	FROM rels r
	JOIN ptree p ON p.root = r.oid
	JOIN pg_class lc ON lc.oid = p.relid AND lc.relkind <> 'p'
	JOIN pg_namespace ln ON ln.oid = lc.relnamespace
	JOIN pg_class bc ON bc.oid = p.top
	JOIN pg_namespace bn ON bn.oid = bc.relnamespace
	WHERE r.kind = 'partitioned' OR (r.kind = 'inherited' AND p.relid <> r.oid)
),
bounds AS MATERIALIZED (
	SELECT l.*,
	       CASE WHEN b[1] IN ('MINVALUE', 'MAXVALUE', 'infinity', '-infinity') THEN NULL ELSE b[1] END AS lo,
	       CASE WHEN b[2] IN ('MINVALUE', 'MAXVALUE', 'infinity', '-infinity') THEN NULL ELSE b[2] END AS hi
	FROM leaves l
)
SELECT schema, name, leaf_schema, leaf, leaf_oid,
       CASE keytype WHEN 'timestamptz'::regtype THEN lo::timestamptz
                    WHEN 'timestamp'::regtype THEN lo::timestamp AT TIME ZONE 'UTC'
                    WHEN 'date'::regtype THEN lo::date::timestamp AT TIME ZONE 'UTC' END,
       CASE keytype WHEN 'timestamptz'::regtype THEN hi::timestamptz
                    WHEN 'timestamp'::regtype THEN hi::timestamp AT TIME ZONE 'UTC'
                    WHEN 'date'::regtype THEN hi::date::timestamp AT TIME ZONE 'UTC' END,
       CASE WHEN keytype IN ('smallint'::regtype, 'integer'::regtype, 'bigint'::regtype) THEN lo::bigint END,
       CASE WHEN keytype IN ('smallint'::regtype, 'integer'::regtype, 'bigint'::regtype) THEN hi::bigint END,
       false, top_schema, top, is_default
FROM bounds
ORDER BY 1, 2, 6 NULLS FIRST, 8 NULLS FIRST, 4`
}

// compressionStatsQuery reads before/after figures once per hypertable
// (chunk_columnstore_stats, or chunk_compression_stats before 2.18), only
// for hypertables with compression on and nothing locked.
func compressionStatsQuery(f Features) string {
	return `SELECT s.chunk_schema::text, s.chunk_name::text, s.before_compression_total_bytes, s.after_compression_total_bytes
FROM unnest($1::oid[]) AS h(relid), LATERAL ` + f.ChunkStatsFunc + `(h.relid::regclass) s
WHERE s.before_compression_total_bytes IS NOT NULL`
}

func readChunks(ctx context.Context, conn *pgx.Conn, f Features, tables []tableRow, chunkBytes map[uint32]chunkFigures) ([]Chunk, error) {
	var out []Chunk
	queries := []string{partitionsQuery(f)}
	if f.Timescale {
		queries = append([]string{hypertableChunksQuery}, queries...)
	}
	for _, q := range queries {
		rows, err := conn.Query(ctx, q)
		if err != nil {
			return nil, fmt.Errorf("reading chunks: %w", err)
		}
		for rows.Next() {
			var c Chunk
			var oid *uint32
			if err := rows.Scan(&c.TableSchema, &c.Table, &c.ChunkSchema, &c.Chunk, &oid,
				&c.RangeStart, &c.RangeEnd, &c.RangeStartInteger, &c.RangeEndInteger, &c.Compressed, &c.TopSchema, &c.Top, &c.Default); err != nil {
				rows.Close()
				return nil, fmt.Errorf("reading chunks: %w", err)
			}
			if oid != nil {
				if n, ok := chunkBytes[*oid]; ok {
					c.TotalBytes, c.RowEstimate = &n.bytes, n.rows
				}
			}
			out = append(out, c)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("reading chunks: %w", err)
		}
	}
	return out, addCompressionStats(ctx, conn, f, tables, out)
}

func addCompressionStats(ctx context.Context, conn *pgx.Conn, f Features, tables []tableRow, chunks []Chunk) error {
	if f.ChunkStatsFunc == "" {
		return nil
	}
	var hts []uint32
	for _, t := range tables {
		if (t.Kind == KindHypertable || t.Kind == KindContinuousAggregate) && t.Compression && !t.Locked {
			hts = append(hts, t.Store)
		}
	}
	if len(hts) == 0 {
		return nil
	}
	rows, err := conn.Query(ctx, compressionStatsQuery(f), hts)
	if err != nil {
		return fmt.Errorf("reading compression stats: %w", err)
	}
	defer rows.Close()
	type figures struct{ before, after *int64 }
	stats := map[[2]string]figures{}
	for rows.Next() {
		var schema, name string
		var fg figures
		if err := rows.Scan(&schema, &name, &fg.before, &fg.after); err != nil {
			return fmt.Errorf("reading compression stats: %w", err)
		}
		stats[[2]string{schema, name}] = fg
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("reading compression stats: %w", err)
	}
	for i := range chunks {
		if fg, ok := stats[[2]string{chunks[i].ChunkSchema, chunks[i].Chunk}]; ok && chunks[i].Compressed {
			chunks[i].BeforeBytes, chunks[i].AfterBytes = fg.before, fg.after
		}
	}
	return nil
}
