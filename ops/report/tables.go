package report

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// tableRow is one table as the catalogs describe it, before the policy is
// applied.
type tableRow struct {
	OID                                     uint32
	Store                                   uint32 // the relation holding the rows: OID, or a continuous aggregate's materialization hypertable
	Schema, Name, Kind                      string
	Locked                                  bool
	Parts                                   int
	Total, TableB, Index, Toast             *int64
	Rows, Dead                              int64
	LastVacuum, LastAutovacuum, LastAnalyze *time.Time
	DetectedTimeColumn                      *string  // hypertable dimension or single-column range partition key
	TimeColumns                             []string // columns of a time type (timestamptz, timestamp, date)
	TimeColumnTypes                         []string // their types, as format_type spells them (see TypeTimestamp)
	ReadableTimeColumns                     []string // those this role may SELECT
	Compression                             bool     // a hypertable (or continuous aggregate) with compression enabled
	HasLeaves                               bool     // a partitioned table with leaf partitions
}

// rootsQuery describes each reported table from the catalog.
func rootsQuery(f Features) string {
	return catalogCTEs(f) + `
SELECT r.oid, r.store, r.schema, r.name, r.kind,
       coalesce((SELECT ht.compression FROM ht WHERE ht.relid = r.oid), (SELECT ca.compression FROM caggs ca WHERE ca.relid = r.oid), false),
       coalesce((SELECT ht.time_col FROM ht WHERE ht.relid = r.oid),
                (SELECT ca.time_col FROM caggs ca WHERE ca.relid = r.oid),
                (SELECT a.attname::text FROM pg_partitioned_table pt
                   JOIN pg_attribute a ON a.attrelid = pt.partrelid AND a.attnum = pt.partattrs[0]
                  WHERE pt.partrelid = r.oid AND pt.partstrat = 'r' AND pt.partnatts = 1)),
       coalesce((SELECT array_agg(a.attname::text ORDER BY a.attnum) FROM pg_attribute a
                  WHERE a.attrelid = r.oid AND a.attnum > 0 AND NOT a.attisdropped
                    AND a.atttypid IN ('timestamptz'::regtype, 'timestamp'::regtype, 'date'::regtype)), '{}'),
       coalesce((SELECT array_agg(format_type(a.atttypid, NULL) ORDER BY a.attnum) FROM pg_attribute a
                  WHERE a.attrelid = r.oid AND a.attnum > 0 AND NOT a.attisdropped
                    AND a.atttypid IN ('timestamptz'::regtype, 'timestamp'::regtype, 'date'::regtype)), '{}'),
       coalesce((SELECT array_agg(a.attname::text) FROM pg_attribute a
                  WHERE a.attrelid = r.oid AND a.attnum > 0 AND NOT a.attisdropped
                    AND a.atttypid IN ('timestamptz'::regtype, 'timestamp'::regtype, 'date'::regtype)
                    AND has_column_privilege(r.oid, a.attnum, 'SELECT')), '{}'),
       l.root IS NOT NULL
FROM rels r
LEFT JOIN (SELECT DISTINCT p.root FROM ptree p JOIN pg_class pc ON pc.oid = p.relid WHERE pc.relkind <> 'p') l ON l.root = r.oid
ORDER BY r.schema, r.name`
}

// readTables measures every table: members first, then the roots.
// databaseBytes is the database's size when the members were measured by
// files (nil otherwise).
// The relations no listed table holds are measured with them, and summed
// by group (unlisted, with how many got no size).
func readTables(ctx context.Context, conn *pgx.Conn, f Features, locked map[uint32]bool, estimate bool) (
	tables []tableRow, chunkBytes map[uint32]chunkFigures, databaseBytes *int64, unlisted []UnlistedGroup, unmeasured int, err error) {
	members, databaseBytes, err := measureMembers(ctx, conn, f, locked, estimate)
	if err != nil {
		return nil, nil, nil, nil, 0, err
	}
	sums, chunkBytes := rollUp(members, locked)
	unlisted, unmeasured = unlistedGroups(members)
	rows, err := conn.Query(ctx, rootsQuery(f))
	if err != nil {
		return nil, nil, nil, nil, 0, fmt.Errorf("reading tables: %w", err)
	}
	defer rows.Close()
	var out []tableRow
	for rows.Next() {
		var t tableRow
		if err := rows.Scan(&t.OID, &t.Store, &t.Schema, &t.Name, &t.Kind, &t.Compression, &t.DetectedTimeColumn, &t.TimeColumns, &t.TimeColumnTypes, &t.ReadableTimeColumns, &t.HasLeaves); err != nil {
			return nil, nil, nil, nil, 0, fmt.Errorf("reading tables: %w", err)
		}
		if s := sums[t.OID]; s != nil {
			t.Locked, t.Parts, t.Rows, t.Dead = s.locked, s.parts, s.rows, s.dead
			t.LastVacuum, t.LastAutovacuum, t.LastAnalyze = s.lastVacuum, s.lastAutovacuum, s.lastAnalyze
			if !s.locked {
				total := s.table + s.index + s.toast
				t.Total, t.TableB, t.Index, t.Toast = &total, &s.table, &s.index, &s.toast
			}
		} else if t.Kind == KindPartitioned && !t.HasLeaves { // a partitioned table without partitions
			zero := int64(0)
			t.Locked = locked[t.OID]
			if !t.Locked {
				t.Total, t.TableB, t.Index, t.Toast = &zero, &zero, &zero, &zero
			}
		} else {
			continue // created after the tables were measured: the next report has it
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, nil, nil, 0, fmt.Errorf("reading tables: %w", err)
	}
	return out, chunkBytes, databaseBytes, unlisted, unmeasured, nil
}
