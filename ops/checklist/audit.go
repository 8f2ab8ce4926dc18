package checklist

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// auditRows is how many of the largest tables and oldest XIDs are listed.
const auditRows = 10

// userSchemas leaves out the catalogues and TimescaleDB's own schemas
// (its chunks count under their hypertables).
const userSchemas = `n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
	AND n.nspname NOT LIKE 'pg\_temp\_%' AND n.nspname NOT LIKE 'pg\_toast\_temp\_%'
	AND n.nspname NOT LIKE '\_timescaledb\_%' AND n.nspname NOT LIKE 'timescaledb\_%'`

// Audit is the quarterly performance audit sheet.
type Audit struct {
	Largest     []AuditTable       `json:"largest"`
	Unused      []AuditIndex       `json:"unused"` // never scanned since the statistics were reset
	Duplicates  []DuplicateIndexes `json:"duplicates"`
	NeverVacuum []AuditTable       `json:"never_vacuum"` // holding rows, never vacuumed by hand or by autovacuum
	StatsReset  *time.Time         `json:"stats_reset"`  // when the counters behind Unused began
	XID         XIDAge             `json:"xid"`
}

// AuditTable is a table with its size (its chunks' or partitions' with it).
type AuditTable struct {
	Table string `json:"table"`
	Bytes int64  `json:"bytes"`
	Rows  int64  `json:"rows"`
}

// AuditIndex is an index never scanned.
type AuditIndex struct {
	Index string `json:"index"`
	Table string `json:"table"`
	Bytes int64  `json:"bytes"`
}

// DuplicateIndexes are indexes of one table on the same columns, operator
// classes, expressions and predicate: all but one are dead weight.
type DuplicateIndexes struct {
	Table   string   `json:"table"`
	Indexes []string `json:"indexes"`
	Bytes   int64    `json:"bytes"` // of all but the first
}

// XIDAge is how close the database is to an anti-wraparound vacuum.
type XIDAge struct {
	Database     int64      `json:"database"`       // age(datfrozenxid)
	FreezeMaxAge int64      `json:"freeze_max_age"` // autovacuum_freeze_max_age
	Oldest       []AuditXID `json:"oldest"`
}

// AuditXID is a table's age(relfrozenxid).
type AuditXID struct {
	Table string `json:"table"`
	Age   int64  `json:"age"`
}

// ReadAudit reads the audit sheet from the catalogue and the statistics.
func ReadAudit(ctx context.Context, conn *pgx.Conn) (*Audit, error) {
	a := &Audit{}
	var err error
	// Top-level tables, each with the relations that inherit from it (a
	// hypertable's chunks, a partitioned table's partitions).
	a.Largest, err = collectAudit(ctx, conn, `
		SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname),
		       (pg_total_relation_size(c.oid) + coalesce((SELECT sum(pg_total_relation_size(i.inhrelid)) FROM pg_inherits i WHERE i.inhparent = c.oid), 0))::bigint AS bytes,
		       greatest(c.reltuples, 0)::bigint + coalesce((SELECT sum(greatest(k.reltuples, 0)) FROM pg_inherits i JOIN pg_class k ON k.oid = i.inhrelid WHERE i.inhparent = c.oid), 0)::bigint
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE c.relkind IN ('r', 'p', 'm') AND NOT c.relispartition
		  AND NOT EXISTS (SELECT 1 FROM pg_inherits i WHERE i.inhrelid = c.oid) AND `+userSchemas+`
		ORDER BY bytes DESC LIMIT $1`, func(r pgx.CollectableRow) (AuditTable, error) {
		var t AuditTable
		return t, r.Scan(&t.Table, &t.Bytes, &t.Rows)
	}, auditRows)
	if err != nil {
		return nil, fmt.Errorf("reading the largest tables: %w", err)
	}
	// Unique indexes enforce something, scanned or not; a hypertable's own
	// indexes are scanned on its chunks, so they are left out.
	a.Unused, err = collectAudit(ctx, conn, `
		SELECT quote_ident(s.schemaname) || '.' || quote_ident(s.indexrelname), quote_ident(s.schemaname) || '.' || quote_ident(s.relname),
		       pg_relation_size(s.indexrelid)
		FROM pg_stat_user_indexes s JOIN pg_index x ON x.indexrelid = s.indexrelid
		JOIN pg_class c ON c.oid = s.relid JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE s.idx_scan = 0 AND NOT x.indisunique AND NOT x.indisprimary AND `+userSchemas+`
		  AND NOT EXISTS (SELECT 1 FROM pg_inherits i WHERE i.inhparent = c.oid)
		ORDER BY pg_relation_size(s.indexrelid) DESC, 1`, func(r pgx.CollectableRow) (AuditIndex, error) {
		var i AuditIndex
		return i, r.Scan(&i.Index, &i.Table, &i.Bytes)
	})
	if err != nil {
		return nil, fmt.Errorf("reading the unused indexes: %w", err)
	}
	a.Duplicates, err = collectAudit(ctx, conn, `
		SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname),
		       array_agg(quote_ident(ni.nspname) || '.' || quote_ident(ic.relname) ORDER BY x.indisprimary DESC, x.indisunique DESC, ic.relname),
		       (sum(pg_relation_size(x.indexrelid)) - min(pg_relation_size(x.indexrelid)))::bigint
		FROM pg_index x JOIN pg_class c ON c.oid = x.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace
		JOIN pg_class ic ON ic.oid = x.indexrelid JOIN pg_namespace ni ON ni.oid = ic.relnamespace
		WHERE `+userSchemas+`
		GROUP BY n.nspname, c.relname, x.indrelid, x.indkey::text, x.indclass::text, x.indcollation::text,
		         coalesce(pg_get_expr(x.indexprs, x.indrelid), ''), coalesce(pg_get_expr(x.indpred, x.indrelid), '')
		HAVING count(*) > 1 ORDER BY 1`, func(r pgx.CollectableRow) (DuplicateIndexes, error) {
		var d DuplicateIndexes
		return d, r.Scan(&d.Table, &d.Indexes, &d.Bytes)
	})
	if err != nil {
		return nil, fmt.Errorf("reading the duplicate indexes: %w", err)
	}
	a.NeverVacuum, err = collectAudit(ctx, conn, `
		SELECT quote_ident(s.schemaname) || '.' || quote_ident(s.relname), pg_total_relation_size(s.relid),
		       greatest(c.reltuples::bigint, s.n_live_tup + s.n_dead_tup)
		FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE s.last_vacuum IS NULL AND s.last_autovacuum IS NULL AND greatest(c.reltuples::bigint, s.n_live_tup + s.n_dead_tup) > 0 AND `+userSchemas+`
		ORDER BY 2 DESC, 1`, func(r pgx.CollectableRow) (AuditTable, error) {
		var t AuditTable
		return t, r.Scan(&t.Table, &t.Bytes, &t.Rows)
	})
	if err != nil {
		return nil, fmt.Errorf("reading the tables never vacuumed: %w", err)
	}
	err = conn.QueryRow(ctx, `SELECT age(d.datfrozenxid), current_setting('autovacuum_freeze_max_age')::bigint, s.stats_reset
		FROM pg_database d LEFT JOIN pg_stat_database s ON s.datid = d.oid WHERE d.datname = current_database()`).
		Scan(&a.XID.Database, &a.XID.FreezeMaxAge, &a.StatsReset)
	if err != nil {
		return nil, fmt.Errorf("reading the transaction-ID age: %w", err)
	}
	// Every table counts here, chunks and TOAST included: wraparound comes
	// from the oldest of them.
	a.XID.Oldest, err = collectAudit(ctx, conn, `
		SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname), age(c.relfrozenxid)
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE c.relkind IN ('r', 'm', 't') AND c.relfrozenxid <> '0'::xid
		ORDER BY 2 DESC, 1 LIMIT $1`, func(r pgx.CollectableRow) (AuditXID, error) {
		var x AuditXID
		return x, r.Scan(&x.Table, &x.Age)
	}, auditRows)
	if err != nil {
		return nil, fmt.Errorf("reading the tables' transaction-ID age: %w", err)
	}
	return a, nil
}

func collectAudit[T any](ctx context.Context, conn *pgx.Conn, sql string, scan func(pgx.CollectableRow) (T, error), args ...any) ([]T, error) {
	rows, err := conn.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	out, err := pgx.CollectRows(rows, scan)
	if out == nil {
		out = []T{}
	}
	return out, err
}
