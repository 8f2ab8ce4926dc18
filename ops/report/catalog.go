package report

import "github.com/jackc/pgx/v5"

// The catalog queries share these CTEs. None of them opens a relation: a
// relation under an ACCESS EXCLUSIVE lock (DDL, VACUUM FULL, drop_chunks,
// REINDEX) would make any query that opens it wait.

// systemSchemas are never reported: the catalogs, TimescaleDB's own, and
// pgtend's (its history table).
const systemSchemas = `'pg_catalog','information_schema','_timescaledb_internal','_timescaledb_catalog',
	'_timescaledb_config','_timescaledb_cache','_timescaledb_functions','_timescaledb_debug',
	'timescaledb_information','timescaledb_experimental','toolkit_experimental',
	'pgtend'`

// partitionTree walks pg_inherits from every partitioned root and every
// inheritance parent (a table with children that is no one's child, not a
// hypertable), giving each descendant its root and its ancestor one level
// below the root (the level partitioned by the root's key). A child of
// several parents (multiple inheritance) belongs to its first one's tree
// only. pg_partition_tree would do the same but locks every partition.
const partitionTree = `
ptree(root, relid, top) AS (
	SELECT c.oid, c.oid, NULL::oid FROM pg_class c
	WHERE (c.relkind = 'p' AND NOT c.relispartition)
	   OR (c.relkind = 'r' AND c.relhassubclass AND NOT EXISTS (SELECT 1 FROM pg_inherits i WHERE i.inhrelid = c.oid)
	       AND c.oid NOT IN (SELECT relid FROM tsparents))
	UNION ALL
	SELECT t.root, i.inhrelid, coalesce(t.top, i.inhrelid) FROM ptree t JOIN pg_inherits i ON i.inhparent = t.relid AND i.inhseqno = 1
)`

// hypertablesCTE: ht lists hypertables with their time column; caggs the
// continuous aggregates (relid: the view) with the materialization
// hypertable holding their rows (store) and its time column; tsparents
// every relation TimescaleDB keeps chunks under (hypertables and their
// internal compressed hypertables), so that chunks, children of those, are
// told from tables; tschunks maps each compressed chunk to its compressed
// relation. Only compressed chunks are matched by name (through
// pg_class's name index), not every chunk: a hash over all of pg_class,
// paid by every statement using these CTEs. Empty without TimescaleDB.
func hypertablesCTE(f Features) string {
	// The rows a compressed chunk held before compression, from the
	// catalog: counting them needs no relation opened (approximate_row_count
	// opens every chunk).
	preRows, preJoin := `NULL::bigint`, ``
	if f.PreCompressionRows {
		preRows = `s.numrows_pre_compression::bigint`
		preJoin = `
	LEFT JOIN _timescaledb_catalog.compression_chunk_size s ON s.chunk_id = c.id`
	}
	if !f.Timescale {
		return `ht AS (SELECT NULL::oid AS relid, NULL::text AS time_col, false AS compression WHERE false),
caggs AS (SELECT NULL::oid AS relid, NULL::oid AS store, NULL::text AS time_col, false AS compression WHERE false),
tsparents AS (SELECT NULL::oid AS relid WHERE false),
tschunks AS (SELECT NULL::oid AS relid, NULL::oid AS compressed, NULL::bigint AS pre_rows WHERE false)`
	}
	// to_regclass, not ::regclass: the cast resolves names against the
	// latest catalog, and errors out on a hypertable dropped meanwhile.
	return `ht AS (
	SELECT to_regclass(format('%I.%I', h.hypertable_schema, h.hypertable_name))::oid AS relid,
	       (SELECT d.column_name::text FROM timescaledb_information.dimensions d
	         WHERE d.hypertable_schema = h.hypertable_schema AND d.hypertable_name = h.hypertable_name
	         ORDER BY d.dimension_number LIMIT 1) AS time_col,
	       coalesce(h.compression_enabled, false) AS compression
	FROM timescaledb_information.hypertables h),
caggs AS MATERIALIZED (
	SELECT vc.oid AS relid, mc.oid AS store,
	       (SELECT d.column_name::text FROM _timescaledb_catalog.dimension d
	         WHERE d.hypertable_id = mh.id ORDER BY d.id LIMIT 1) AS time_col,
	       mh.compressed_hypertable_id IS NOT NULL AS compression
	FROM _timescaledb_catalog.continuous_agg ca
	JOIN pg_namespace vn ON vn.nspname = ca.user_view_schema
	JOIN pg_class vc ON vc.relnamespace = vn.oid AND vc.relname = ca.user_view_name
	JOIN _timescaledb_catalog.hypertable mh ON mh.id = ca.mat_hypertable_id
	JOIN pg_namespace mn ON mn.nspname = mh.schema_name
	JOIN pg_class mc ON mc.relnamespace = mn.oid AND mc.relname = mh.table_name),
tsparents AS MATERIALIZED (
	SELECT rc.oid AS relid
	FROM _timescaledb_catalog.hypertable h
	JOIN pg_namespace n ON n.nspname = h.schema_name
	JOIN pg_class rc ON rc.relnamespace = n.oid AND rc.relname = h.table_name),
tschunks AS MATERIALIZED (
	SELECT rc.oid AS relid, rcc.oid AS compressed, ` + preRows + ` AS pre_rows
	FROM _timescaledb_catalog.chunk c
	JOIN _timescaledb_catalog.chunk cc ON cc.id = c.compressed_chunk_id
	JOIN pg_namespace n ON n.nspname = c.schema_name
	JOIN pg_class rc ON rc.relnamespace = n.oid AND rc.relname = c.table_name
	JOIN pg_namespace ncc ON ncc.nspname = cc.schema_name
	JOIN pg_class rcc ON rcc.relnamespace = ncc.oid AND rcc.relname = cc.table_name` + preJoin + `)`
}

// relsCTE selects the tables pgtend reports: ordinary and partitioned
// tables outside the system schemas, excluding partitions, chunks and
// inheritance children (they are reported under their parent, or root);
// and the materialized views, continuous aggregates included, by their
// view's name. store is the relation holding the rows: the table itself,
// or a continuous aggregate's materialization hypertable (never reported
// on its own).
const relsCTE = `
rels AS MATERIALIZED (
	SELECT c.oid, n.nspname::text AS schema, c.relname::text AS name,
	       CASE WHEN c.oid IN (SELECT relid FROM ht) THEN 'hypertable'
	            WHEN c.relkind = 'p' THEN 'partitioned'
	            WHEN c.relhassubclass AND EXISTS (SELECT 1 FROM pg_inherits i WHERE i.inhparent = c.oid) THEN 'inherited'
	            ELSE 'table' END AS kind,
	       c.oid AS store
	FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
	WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
	  AND n.nspname NOT IN (` + systemSchemas + `)
	  AND n.nspname !~ '^pg_(temp|toast)'
	  AND NOT EXISTS (SELECT 1 FROM pg_inherits i WHERE i.inhrelid = c.oid)
	UNION ALL
	SELECT c.oid, n.nspname::text, c.relname::text,
	       CASE WHEN ca.relid IS NOT NULL THEN 'continuous_aggregate' ELSE 'materialized_view' END,
	       coalesce(ca.store, c.oid)
	FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
	LEFT JOIN caggs ca ON ca.relid = c.oid
	WHERE (c.relkind = 'm' OR (c.relkind = 'v' AND ca.relid IS NOT NULL))
	  AND n.nspname NOT IN (` + systemSchemas + `)
	  AND n.nspname !~ '^pg_(temp|toast)'
)`

func catalogCTEs(f Features) string {
	return "WITH RECURSIVE " + partitionTree + ",\n" + hypertablesCTE(f) + ",\n" + relsCTE
}

func qualified(schema, name string) string { return pgx.Identifier{schema, name}.Sanitize() }
