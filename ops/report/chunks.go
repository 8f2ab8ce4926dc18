package report

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// The CTEs that call size functions are MATERIALIZED: inlined into a
// join, PostgreSQL may evaluate them once per outer row (minutes at 5,000
// chunks instead of milliseconds).

// hypertableChunksQuery lists every chunk with its size and compression
// figures in one statement. A chunk's size is its own relation plus its
// compressed relation (what chunks_detailed_size reports, measured directly:
// that function costs as much per hypertable as hypertable_detailed_size).
// The stats function runs once per hypertable, and not at all for
// hypertables with a locked chunk.
func hypertableChunksQuery(f Features) string {
	stats := `SELECT NULL::name AS chunk_schema, NULL::name AS chunk_name, NULL::bigint AS before, NULL::bigint AS after WHERE false`
	if f.ChunkStatsFunc != "" {
		stats = `SELECT s.chunk_schema, s.chunk_name, s.before_compression_total_bytes AS before, s.after_compression_total_bytes AS after
		FROM hts, LATERAL ` + f.ChunkStatsFunc + `(hts.relid) s WHERE NOT hts.locked AND hts.compressed`
	}
	return `
WITH ` + lockedRelations + `,
hts AS (
	SELECT c.oid AS relid, h.compression_enabled AS compressed,
	       EXISTS (SELECT 1 FROM pg_inherits i WHERE i.inhparent = c.oid AND i.inhrelid IN (SELECT relid FROM locked))
	         OR c.oid IN (SELECT relid FROM locked) AS locked
	FROM timescaledb_information.hypertables h
	JOIN pg_class c ON c.oid = format('%I.%I', h.hypertable_schema, h.hypertable_name)::regclass
),
chunks AS MATERIALIZED (
	SELECT c.schema_name AS chunk_schema, c.table_name AS chunk_name,
	       to_regclass(format('%I.%I', c.schema_name, c.table_name))::oid AS relid,
	       CASE WHEN cc.id IS NOT NULL THEN to_regclass(format('%I.%I', cc.schema_name, cc.table_name))::oid END AS compressed
	FROM _timescaledb_catalog.chunk c
	LEFT JOIN _timescaledb_catalog.chunk cc ON cc.id = c.compressed_chunk_id
),
sizes AS MATERIALIZED (
	SELECT chunk_schema, chunk_name,
	       pg_total_relation_size(relid) + coalesce(pg_total_relation_size(compressed), 0) AS total_bytes
	FROM chunks
	WHERE relid IS NOT NULL AND relid NOT IN (SELECT relid FROM locked)
	  AND (compressed IS NULL OR compressed NOT IN (SELECT relid FROM locked))
),
stats AS MATERIALIZED (` + stats + `)
SELECT ch.hypertable_schema::text, ch.hypertable_name::text, ch.chunk_schema::text, ch.chunk_name::text,
       ch.range_start, ch.range_end, ch.range_start_integer, ch.range_end_integer,
       coalesce(ch.is_compressed, false), sz.total_bytes, st.before, st.after
FROM timescaledb_information.chunks ch
LEFT JOIN sizes sz ON sz.chunk_schema = ch.chunk_schema AND sz.chunk_name = ch.chunk_name
LEFT JOIN stats st ON st.chunk_schema = ch.chunk_schema AND st.chunk_name = ch.chunk_name
ORDER BY 1, 2, ch.range_start NULLS FIRST, ch.range_start_integer NULLS FIRST, 4`
}

// partitionsQuery lists the leaf partitions of every partitioned table with
// their range bounds. pg_get_expr renders bounds as literals of the key's
// type; the ones of a single time-typed column are cast back to timestamptz
// (timestamp and date read as UTC), single integer keys to bigint, anything
// else (lists, hashes, multi-column keys, MINVALUE/MAXVALUE) stays null.
// Bounds of bigint keys come quoted ('0'), of integer keys bare (0).
const partitionsQuery = `
WITH RECURSIVE ` + lockedRelations + `,
` + partitionTree + `,
roots AS (
	SELECT c.oid, n.nspname::text AS schema, c.relname::text AS name,
	       (SELECT a.atttypid::regtype FROM pg_partitioned_table pt
	          JOIN pg_attribute a ON a.attrelid = pt.partrelid AND a.attnum = pt.partattrs[0]
	         WHERE pt.partrelid = c.oid AND pt.partstrat = 'r' AND pt.partnatts = 1) AS keytype
	FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
	WHERE c.relkind = 'p' AND NOT c.relispartition
	  AND n.nspname NOT IN (` + systemSchemas + `) AND n.nspname !~ '^pg_(temp|toast)'
),
leaves AS (
	-- A leaf of a multi-level tree takes its range from its ancestor one
	-- level below the root, the level partitioned by the root's key.
	SELECT r.schema, r.name, r.keytype, ln.nspname::text AS leaf_schema, lc.relname::text AS leaf, lc.oid AS leaf_oid,
	       regexp_match(pg_get_expr(bc.relpartbound, 0), -- relid 0: bounds hold no column references, and a relid would lock the relation
	                    $re$^FOR VALUES FROM \('?([^')]*)'?\) TO \('?([^')]*)'?\)$$re$) AS b
	FROM roots r
	JOIN ptree p ON p.root = r.oid
	JOIN pg_class lc ON lc.oid = p.relid AND lc.relkind <> 'p'
	JOIN pg_namespace ln ON ln.oid = lc.relnamespace
	JOIN pg_class bc ON bc.oid = p.top
),
bounds AS (
	SELECT l.*,
	       CASE WHEN b[1] IN ('MINVALUE', 'MAXVALUE') THEN NULL ELSE b[1] END AS lo,
	       CASE WHEN b[2] IN ('MINVALUE', 'MAXVALUE') THEN NULL ELSE b[2] END AS hi
	FROM leaves l
)
SELECT schema, name, leaf_schema, leaf,
       CASE keytype WHEN 'timestamptz'::regtype THEN lo::timestamptz
                    WHEN 'timestamp'::regtype THEN lo::timestamp AT TIME ZONE 'UTC'
                    WHEN 'date'::regtype THEN lo::date::timestamp AT TIME ZONE 'UTC' END,
       CASE keytype WHEN 'timestamptz'::regtype THEN hi::timestamptz
                    WHEN 'timestamp'::regtype THEN hi::timestamp AT TIME ZONE 'UTC'
                    WHEN 'date'::regtype THEN hi::date::timestamp AT TIME ZONE 'UTC' END,
       CASE WHEN keytype IN ('smallint'::regtype, 'integer'::regtype, 'bigint'::regtype) THEN lo::bigint END,
       CASE WHEN keytype IN ('smallint'::regtype, 'integer'::regtype, 'bigint'::regtype) THEN hi::bigint END,
       false,
       CASE WHEN leaf_oid IN (SELECT relid FROM locked) THEN NULL ELSE pg_total_relation_size(leaf_oid) END,
       NULL::bigint, NULL::bigint
FROM bounds
ORDER BY 1, 2, 5 NULLS FIRST, 7 NULLS FIRST, 4`

func readChunks(ctx context.Context, conn *pgx.Conn, f Features) ([]Chunk, error) {
	var out []Chunk
	queries := []string{partitionsQuery}
	if f.Timescale {
		queries = append([]string{hypertableChunksQuery(f)}, queries...)
	}
	for _, q := range queries {
		rows, err := conn.Query(ctx, q)
		if err != nil {
			return nil, fmt.Errorf("reading chunks: %w", err)
		}
		for rows.Next() {
			var c Chunk
			if err := rows.Scan(&c.TableSchema, &c.Table, &c.ChunkSchema, &c.Chunk,
				&c.RangeStart, &c.RangeEnd, &c.RangeStartInteger, &c.RangeEndInteger,
				&c.Compressed, &c.TotalBytes, &c.BeforeBytes, &c.AfterBytes); err != nil {
				rows.Close()
				return nil, fmt.Errorf("reading chunks: %w", err)
			}
			if !c.Compressed {
				c.BeforeBytes, c.AfterBytes = nil, nil
			}
			out = append(out, c)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("reading chunks: %w", err)
		}
	}
	return out, nil
}
