package pgtest

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
)

// Sizes is a table's size split, measured independently of pgtend's report.
type Sizes struct{ Total, Table, Index, Toast int64 }

// MeasureTable measures a table of any kind with other catalog functions
// than the report uses: it lists the relations holding the table's data
// itself (the table; every descendant of a partitioned table or an
// inheritance parent via pg_inherits; a hypertable's root, chunks and compressed chunks via
// TimescaleDB's catalog) and sums pg_table_size (heap + TOAST) minus the
// TOAST table's total, pg_indexes_size, and the TOAST table's own total.
func MeasureTable(t testing.TB, conn *pgx.Conn, schema, name, kind string) Sizes {
	t.Helper()
	rel := pgx.Identifier{schema, name}.Sanitize()
	var rels string
	switch kind {
	case "hypertable":
		rels = `SELECT '` + rel + `'::regclass::oid
		UNION ALL SELECT format('%I.%I', c.schema_name, c.table_name)::regclass::oid
		  FROM _timescaledb_catalog.chunk c JOIN _timescaledb_catalog.hypertable h ON h.id = c.hypertable_id
		 WHERE format('%I.%I', h.schema_name, h.table_name)::regclass = '` + rel + `'::regclass
		UNION ALL SELECT format('%I.%I', cc.schema_name, cc.table_name)::regclass::oid
		  FROM _timescaledb_catalog.chunk c JOIN _timescaledb_catalog.hypertable h ON h.id = c.hypertable_id
		  JOIN _timescaledb_catalog.chunk cc ON cc.id = c.compressed_chunk_id
		 WHERE format('%I.%I', h.schema_name, h.table_name)::regclass = '` + rel + `'::regclass`
	case "partitioned", "inherited":
		rels = `WITH RECURSIVE t(r) AS (SELECT '` + rel + `'::regclass::oid
			UNION ALL SELECT i.inhrelid FROM pg_inherits i JOIN t ON i.inhparent = t.r) SELECT r FROM t`
	default:
		rels = `SELECT '` + rel + `'::regclass::oid`
	}
	var s Sizes
	err := conn.QueryRow(context.Background(), `
		SELECT coalesce(sum(pg_total_relation_size(r)),0)::bigint,
		       coalesce(sum(pg_table_size(r) - coalesce(pg_total_relation_size(NULLIF(c.reltoastrelid,0)),0)),0)::bigint,
		       coalesce(sum(pg_indexes_size(r)),0)::bigint,
		       coalesce(sum(coalesce(pg_total_relation_size(NULLIF(c.reltoastrelid,0)),0)),0)::bigint
		FROM (`+rels+`) x(r) JOIN pg_class c ON c.oid = x.r`).Scan(&s.Total, &s.Table, &s.Index, &s.Toast)
	if err != nil {
		t.Fatalf("measuring %s: %v", rel, err)
	}
	return s
}

// ChunkSizes is a chunk or partition measured independently: its relation
// plus its compressed relation, and the compression figures TimescaleDB
// recorded in its catalog (nil unless compressed).
type ChunkSizes struct {
	Total         int64
	Before, After *int64
}

// MeasureChunk measures one chunk (timescale) or partition.
func MeasureChunk(t testing.TB, conn *pgx.Conn, schema, name string, timescale bool) ChunkSizes {
	t.Helper()
	var s ChunkSizes
	var err error
	if !timescale {
		err = conn.QueryRow(context.Background(), `SELECT pg_total_relation_size($1::regclass)`, pgx.Identifier{schema, name}.Sanitize()).Scan(&s.Total)
	} else {
		err = conn.QueryRow(context.Background(), `
			SELECT pg_total_relation_size(format('%I.%I', c.schema_name, c.table_name)::regclass)
			       + CASE WHEN cc.id IS NULL THEN 0 ELSE pg_total_relation_size(format('%I.%I', cc.schema_name, cc.table_name)::regclass) END,
			       s.uncompressed_heap_size + s.uncompressed_toast_size + s.uncompressed_index_size,
			       s.compressed_heap_size + s.compressed_toast_size + s.compressed_index_size
			FROM _timescaledb_catalog.chunk c
			LEFT JOIN _timescaledb_catalog.chunk cc ON cc.id = c.compressed_chunk_id
			LEFT JOIN _timescaledb_catalog.compression_chunk_size s ON s.chunk_id = c.id
			WHERE c.schema_name = $1 AND c.table_name = $2`, schema, name).Scan(&s.Total, &s.Before, &s.After)
	}
	if err != nil {
		t.Fatalf("measuring chunk %s.%s: %v", schema, name, err)
	}
	return s
}
