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
// itself (the table; every descendant of a partitioned table via
// pg_inherits; a hypertable's root, chunks and compressed chunks via
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
	case "partitioned":
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
