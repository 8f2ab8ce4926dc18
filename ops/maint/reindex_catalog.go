package maint

import (
	"context"
	"fmt"
	"math"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/pgtend/pgtend/ops/report"
)

// ixInfo is one index as a REINDEX plan sees it: what it indexes, what
// that serves (the hypertable of a chunk, the partitioned table of a
// partition), its size, its bloat.
type ixInfo struct {
	oid                 uint32
	schema, name        string // the index
	tableOID            uint32
	tableSchema, table  string // the relation it indexes: a chunk, a partition, a table, a compressed chunk's relation
	rootOID             uint32
	rootSchema, root    string // what it serves
	rootKind            string // report.Kind*
	compressedOf        string // a compressed chunk's relation: the chunk whose data it holds (schema.name)
	chunkCompressed     bool   // a chunk whose data lives in its compressed relation: its own indexes are empty
	method              string // btree, gin, …
	valid               bool
	exclusion           bool   // backs an exclusion constraint: no CONCURRENTLY
	locked              bool   // someone holds or awaits ACCESS EXCLUSIVE on it or its table
	builder             *int32 // a session building an index on its table right now
	bytes               int64  // 0 when locked (not measured)
	relpages            int64
	reltuples           float64
	fillfactor          int
	cols, colsWithStats int
	width               float64 // the key's average width from pg_stats
	nulls               bool

	// Filled in by the plan:
	estimated  *float64 // bloat share from statistics (0–1), nil when it cannot be told
	noEstimate string   // why not
	measured   *float64 // bloat share from pgstatindex, nil when not measured
}

// quoted is the index's name as SQL writes it.
func (x ixInfo) quoted() string { return pgx.Identifier{x.schema, x.name}.Sanitize() }

// shown is schema.name.
func (x ixInfo) shown() string { return x.schema + "." + x.name }

// tableQuoted is the indexed relation's name as SQL writes it.
func (x ixInfo) tableQuoted() string { return pgx.Identifier{x.tableSchema, x.table}.Sanitize() }

// rootShown is what the index serves, schema.name.
func (x ixInfo) rootShown() string { return x.rootSchema + "." + x.root }

// leftover is "ccnew" or "ccold" for an invalid index a failed or
// cancelled REINDEX CONCURRENTLY left behind (PostgreSQL names the copy
// <index>_ccnew, the old index <index>_ccold, numbered when taken).
func (x ixInfo) leftover() string {
	if x.valid {
		return ""
	}
	for _, suffix := range []string{"ccnew", "ccold"} {
		i := strings.LastIndex(x.name, "_"+suffix)
		if i >= 0 && strings.Trim(x.name[i+len(suffix)+1:], "0123456789") == "" {
			return suffix
		}
	}
	return ""
}

// bloat is the share of the index a rebuild would free: measured when it
// was, else estimated; ok is false when neither is known.
func (x ixInfo) bloat() (share float64, measured, ok bool) {
	switch {
	case x.measured != nil:
		return *x.measured, true, true
	case x.estimated != nil:
		return *x.estimated, false, true
	}
	return 0, false, false
}

// gain is the bytes a rebuild would free, as far as can be told.
func (x ixInfo) gain() int64 {
	if share, _, ok := x.bloat(); ok {
		return int64(share * float64(x.bytes))
	}
	return 0
}

// estimate is the bloat share from the planner's statistics: the pages a
// freshly built btree of reltuples entries of the key's average width
// would take at its fillfactor, against the pages it takes (relpages, as
// of the last VACUUM or ANALYZE). Deduplication (PostgreSQL 13+) packs
// repeated keys tighter than this assumes, so it errs towards less bloat.
func (x *ixInfo) estimate(blockSize int) {
	switch {
	case x.method != "btree":
		x.noEstimate = "a " + x.method + " index: no estimate (pgstatindex measures btree only)"
	case x.reltuples < 0:
		x.noEstimate = "never analyzed: no statistics (ANALYZE " + x.tableQuoted() + ")"
	case x.reltuples == 0 && x.relpages > 1: // empty, so without column statistics: all but the metapage is bloat
		share := 1 - 1/float64(x.relpages)
		x.estimated = &share
	case x.cols == 0 || x.colsWithStats < x.cols:
		x.noEstimate = "no column statistics for its key (ANALYZE " + x.tableQuoted() + ", or the role may not read them)"
	case x.relpages <= 1:
		zero := 0.0
		x.estimated = &zero
	default:
		const align, pageHeader, btreeOpaque, linePointer = 8, 24, 16, 4
		up := func(n float64) float64 { return math.Ceil(n/align) * align }
		header := 8.0 // IndexTupleData
		if x.nulls {
			header += 4 // the null bitmap
		}
		tuple := up(header) + up(x.width) + linePointer
		perPage := math.Floor(float64(blockSize-pageHeader-btreeOpaque) * float64(x.fillfactor) / 100 / tuple)
		if perPage < 1 {
			x.noEstimate = "keys too wide to estimate"
			return
		}
		leaves := math.Ceil(x.reltuples / perPage)
		pages := 1 + leaves + math.Ceil(leaves/perPage) // the metapage, the leaves, the levels above
		share := max(0, 1-pages/float64(x.relpages))
		x.estimated = &share
	}
}

// excludedSchemas are never touched: the system's, and TimescaleDB's
// catalog and configuration (timescale/timescaledb#7590).
var excludedSchemas = []string{"pg_catalog", "information_schema", "_timescaledb_catalog", "_timescaledb_config",
	"_timescaledb_cache", "_timescaledb_functions", "timescaledb_information", "timescaledb_experimental"}

// indexesQuery lists the indexes of user tables with their relation,
// what it serves, their size and the statistics an estimate needs.
// Skipped: system schemas and TimescaleDB's own, extension members,
// temporary tables, partitioned indexes (their partitions' indexes are
// listed) and hypertables' own indexes (templates on an empty root; each
// chunk has its own). TOAST indexes are listed only when invalid. An
// index or table someone holds or awaits ACCESS EXCLUSIVE on is listed
// as locked, not measured. $1: the OID of the table served (0 for all),
// $2: indexes asked for (empty for all).
func indexesQuery(timescale bool) string {
	chunkJoin := `NULL::text AS chunk_root_schema, NULL::text AS chunk_root, NULL::text AS compressed_of, false AS chunk_compressed, false AS is_hypertable`
	chunkFrom := ""
	if timescale {
		chunkJoin = `coalesce(hp.schema_name, h.schema_name)::text AS chunk_root_schema, coalesce(hp.table_name, h.table_name)::text AS chunk_root,
		       CASE WHEN cp.id IS NOT NULL THEN cp.schema_name || '.' || cp.table_name END AS compressed_of,
		       (ch.compressed_chunk_id IS NOT NULL AND ch.status & 8 = 0) AS chunk_compressed,
		       hr.id IS NOT NULL AS is_hypertable`
		chunkFrom = `
		LEFT JOIN _timescaledb_catalog.chunk ch ON ch.schema_name = o.nspname AND ch.table_name = o.relname
		LEFT JOIN _timescaledb_catalog.hypertable h ON h.id = ch.hypertable_id
		LEFT JOIN _timescaledb_catalog.hypertable hp ON hp.compressed_hypertable_id = h.id
		LEFT JOIN _timescaledb_catalog.chunk cp ON cp.compressed_chunk_id = ch.id
		LEFT JOIN _timescaledb_catalog.hypertable hr ON hr.schema_name = o.nspname AND hr.table_name = o.relname`
	}
	return `
WITH db AS (SELECT oid FROM pg_database WHERE datname = current_database()),
locked AS (
	SELECT DISTINCT l.relation FROM pg_locks l, db
	WHERE l.locktype = 'relation' AND l.mode = 'AccessExclusiveLock' AND l.database = db.oid
	  AND l.pid IS DISTINCT FROM pg_backend_pid()),
building AS (
	SELECT p.relid, min(p.pid) AS pid FROM pg_stat_progress_create_index p, db
	WHERE p.datid = db.oid AND p.pid <> pg_backend_pid() GROUP BY p.relid),
idx AS (
	SELECT i.indexrelid, i.indrelid, ci.relname AS iname, ni.nspname AS ischema, ct.relname AS tname, nt.nspname AS tschema,
	       am.amname, i.indisvalid, i.indnatts, i.indkey, ci.relpages, ci.reltuples,
	       coalesce((SELECT substring(opt FROM '^fillfactor=([0-9]+)$')::int FROM unnest(ci.reloptions) opt WHERE opt LIKE 'fillfactor=%'), 90) AS ff,
	       coalesce(tt.oid, ct.oid) AS owner_oid,
	       EXISTS (SELECT 1 FROM pg_constraint x WHERE x.conindid = i.indexrelid AND x.contype = 'x') AS exclusion,
	       (ci.oid IN (SELECT relation FROM locked) OR ct.oid IN (SELECT relation FROM locked)) AS locked
	FROM pg_index i
	JOIN pg_class ci ON ci.oid = i.indexrelid AND ci.relkind = 'i'
	JOIN pg_namespace ni ON ni.oid = ci.relnamespace
	JOIN pg_class ct ON ct.oid = i.indrelid AND ct.relpersistence <> 't'
	JOIN pg_namespace nt ON nt.oid = ct.relnamespace
	JOIN pg_am am ON am.oid = ci.relam
	LEFT JOIN pg_class tt ON ct.relkind = 't' AND tt.reltoastrelid = ct.oid
	WHERE nt.nspname <> ALL ($3::text[]) AND nt.nspname !~ '^pg_temp_' AND nt.nspname !~ '^pg_toast_temp_'
	  AND (nt.nspname <> 'pg_toast' OR (NOT i.indisvalid AND tt.oid IS NOT NULL))
	  AND (cardinality($2::oid[]) = 0 OR i.indexrelid = ANY ($2::oid[]))
),
served AS (
	SELECT idx.*, o.relname AS oname, o.nspname AS oschema, o.relkind AS okind, o.relispartition,
	       ` + chunkJoin + `
	FROM idx
	JOIN (SELECT c.oid, c.relname, n.nspname, c.relkind, c.relispartition FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace) o ON o.oid = idx.owner_oid` + chunkFrom + `
	WHERE o.nspname <> ALL ($3::text[])
	  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = idx.owner_oid AND d.deptype = 'e')
),
rooted AS (
	SELECT s.*,
	       CASE WHEN s.chunk_root IS NOT NULL THEN 'hypertable' WHEN s.relispartition THEN 'partitioned' ELSE 'table' END AS root_kind,
	       CASE WHEN s.chunk_root IS NOT NULL THEN to_regclass(quote_ident(s.chunk_root_schema) || '.' || quote_ident(s.chunk_root))::oid
	            WHEN s.relispartition THEN pg_partition_root(s.owner_oid)::oid
	            ELSE s.owner_oid END AS root_oid
	FROM served s
	WHERE NOT s.is_hypertable
)
SELECT r.indexrelid, r.ischema::text, r.iname::text, r.indrelid, r.tschema::text, r.tname::text,
       r.root_oid, rn.nspname::text, rc.relname::text, r.root_kind, coalesce(r.compressed_of, ''), r.chunk_compressed,
       r.amname::text, r.indisvalid, r.exclusion, r.locked, b.pid,
       CASE WHEN r.locked THEN 0 ELSE pg_relation_size(r.indexrelid) END,
       r.relpages::bigint, r.reltuples::float8, r.ff,
       st.cols, st.with_stats, coalesce(st.width, 0), coalesce(st.nulls, false)
FROM rooted r
JOIN pg_class rc ON rc.oid = r.root_oid
JOIN pg_namespace rn ON rn.oid = rc.relnamespace
LEFT JOIN building b ON b.relid = r.indrelid
CROSS JOIN LATERAL (
	SELECT count(*)::int AS cols, count(coalesce(s1.avg_width, s2.avg_width))::int AS with_stats,
	       sum((1 - coalesce(s1.null_frac, s2.null_frac, 0)) * coalesce(s1.avg_width, s2.avg_width))::float8 AS width,
	       bool_or(coalesce(s1.null_frac, s2.null_frac, 0) > 0) AS nulls
	FROM generate_series(0, r.indnatts - 1) AS k
	LEFT JOIN pg_attribute a ON r.indkey[k] <> 0 AND a.attrelid = r.indrelid AND a.attnum = r.indkey[k]
	LEFT JOIN pg_attribute ia ON r.indkey[k] = 0 AND ia.attrelid = r.indexrelid AND ia.attnum = k + 1
	LEFT JOIN pg_stats s1 ON a.attname IS NOT NULL AND s1.schemaname = r.tschema AND s1.tablename = r.tname AND s1.attname = a.attname AND NOT s1.inherited
	LEFT JOIN pg_stats s2 ON ia.attname IS NOT NULL AND s2.schemaname = r.ischema AND s2.tablename = r.iname AND s2.attname = ia.attname
) st
WHERE $1::oid = 0 OR r.root_oid = $1::oid
ORDER BY rn.nspname, rc.relname, r.tschema, r.tname, r.iname`
}

// readIndexes lists the indexes of indexesQuery: of the table served by
// root (0 for every table), or only those of oids.
func readIndexes(ctx context.Context, conn *pgx.Conn, timescale bool, root uint32, oids []uint32) ([]ixInfo, error) {
	if oids == nil {
		oids = []uint32{}
	}
	rows, err := conn.Query(ctx, indexesQuery(timescale), root, oids, excludedSchemas)
	if err != nil {
		return nil, fmt.Errorf("reading the indexes: %w", err)
	}
	defer rows.Close()
	var out []ixInfo
	for rows.Next() {
		var x ixInfo
		if err := rows.Scan(&x.oid, &x.schema, &x.name, &x.tableOID, &x.tableSchema, &x.table,
			&x.rootOID, &x.rootSchema, &x.root, &x.rootKind, &x.compressedOf, &x.chunkCompressed,
			&x.method, &x.valid, &x.exclusion, &x.locked, &x.builder,
			&x.bytes, &x.relpages, &x.reltuples, &x.fillfactor,
			&x.cols, &x.colsWithStats, &x.width, &x.nulls); err != nil {
			return nil, fmt.Errorf("reading the indexes: %w", err)
		}
		out = append(out, x)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading the indexes: %w", err)
	}
	return out, nil
}

// namedIndexes resolves --index: one index, a partitioned index (its
// partitions' indexes) or a hypertable's index (each chunk's copy of it,
// which TimescaleDB names <chunk>_<index>). It returns the indexes to plan
// and the OID of the table they serve.
func namedIndexes(ctx context.Context, conn *pgx.Conn, timescale bool, name string) ([]uint32, uint32, error) {
	var oid, table uint32
	var kind string
	var hypertable bool
	q := `SELECT c.oid, c.relkind::text, i.indrelid, false FROM pg_class c JOIN pg_index i ON i.indexrelid = c.oid WHERE c.oid = to_regclass($1)`
	if timescale {
		q = `SELECT c.oid, c.relkind::text, i.indrelid, EXISTS (SELECT 1 FROM _timescaledb_catalog.hypertable h JOIN pg_namespace n ON n.nspname = h.schema_name
		        JOIN pg_class t ON t.relnamespace = n.oid AND t.relname = h.table_name WHERE t.oid = i.indrelid)
		     FROM pg_class c JOIN pg_index i ON i.indexrelid = c.oid WHERE c.oid = to_regclass($1)`
	}
	err := conn.QueryRow(ctx, q, name).Scan(&oid, &kind, &table, &hypertable)
	if err == pgx.ErrNoRows {
		return nil, 0, fmt.Errorf("no index %q in the database", name)
	}
	if err != nil {
		return nil, 0, fmt.Errorf("looking up index %q: %w", name, err)
	}
	var oids []uint32
	switch {
	case kind == "I":
		rows, err := conn.Query(ctx, `SELECT relid::oid FROM pg_partition_tree($1::oid::regclass) WHERE isleaf`, oid)
		if oids, err = collectOIDs(rows, err); err != nil {
			return nil, 0, err
		}
	case hypertable:
		// REINDEX INDEX on a hypertable's index is refused by TimescaleDB:
		// its chunks' copies, each named <chunk>_<index> (cut at 63 bytes).
		rows, err := conn.Query(ctx, `
			SELECT ci.oid FROM _timescaledb_catalog.hypertable h
			JOIN pg_namespace hn ON hn.nspname = h.schema_name JOIN pg_class ht ON ht.relnamespace = hn.oid AND ht.relname = h.table_name
			JOIN _timescaledb_catalog.chunk ch ON ch.hypertable_id = h.id
			JOIN pg_namespace cn ON cn.nspname = ch.schema_name JOIN pg_class ct ON ct.relnamespace = cn.oid AND ct.relname = ch.table_name
			JOIN pg_index i ON i.indrelid = ct.oid JOIN pg_class ci ON ci.oid = i.indexrelid
			WHERE ht.oid = $1 AND ci.relname = left(ch.table_name || '_' || (SELECT relname FROM pg_class WHERE oid = $2), 63)`, table, oid)
		if oids, err = collectOIDs(rows, err); err != nil {
			return nil, 0, err
		}
		if len(oids) == 0 {
			return nil, 0, fmt.Errorf("%s is a hypertable's index and no chunk has a copy of it", name)
		}
	default:
		oids = []uint32{oid}
	}
	return oids, table, nil
}

func collectOIDs(rows pgx.Rows, err error) ([]uint32, error) {
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[uint32])
}

// kindOf is the report's kind for an ixInfo's root kind.
func kindOf(k string) string {
	switch k {
	case "hypertable":
		return report.KindHypertable
	case "partitioned":
		return report.KindPartitioned
	}
	return report.KindTable
}
