package report

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Member roles: the relations that hold a table's data.
const (
	roleSelf       = "self"       // a plain table, a hypertable's root, an inheritance parent
	rolePart       = "part"       // a leaf partition, a chunk, an inheritance child
	roleUnlisted   = "unlisted"   // a relation (with its indexes and TOAST) of no listed table
	roleCompressed = "compressed" // a chunk's compressed relation
)

// member is one relation holding data of a reported table, measured once:
// the table totals and the chunk sizes are both sums over members, so every
// relation is opened a single time per report.
type member struct {
	Root, Relid, Chunk                      uint32 // Chunk: the chunk or partition this relation belongs to
	Role                                    string
	Group                                   *string // a relation no listed table holds: its unlisted group (Root 0)
	Table, Index, Toast                     *int64  // nil when locked
	Rows, Dead                              int64
	LastVacuum, LastAutovacuum, LastAnalyze *time.Time
	paths                                   *memberPaths // measured by files: where they are
}

func (m member) total() int64 { return *m.Table + *m.Index + *m.Toast }

// membersQuery lists each member with its sizes, measured one of three ways:
//
//   - by the size functions: the heap's four forks, pg_indexes_size, and the
//     TOAST table's total (pg_table_size would measure the TOAST table a
//     second time). The sum equals pg_total_relation_size, and over a
//     hypertable's root, chunks and compressed chunks it equals
//     hypertable_detailed_size to the byte (tests check both) at a fraction
//     of that function's cost.
//   - by files (f.StatFile): the query gives only where each relation's
//     files are, and measureMembers sums them from the database's listing
//     (files.go); the size columns are null.
//   - estimated: from pg_class.relpages of the heap, its indexes and its
//     TOAST table, as of the last VACUUM, ANALYZE or CREATE INDEX, read from
//     the catalog without opening a single relation, so the console can
//     draw its first frame at once on thousands of chunks and replace it
//     with the measured figures a moment later.
//
// Members locked by someone else ($1) get no sizes.
func membersQuery(f Features, estimate bool) string {
	heap := `pg_relation_size(m.relid, 'main') + pg_relation_size(m.relid, 'fsm')
            + pg_relation_size(m.relid, 'vm') + pg_relation_size(m.relid, 'init')`
	index := `pg_indexes_size(m.relid)`
	toast := `coalesce(pg_total_relation_size(NULLIF(c.reltoastrelid, 0)), 0)`
	paths := `NULL::text, NULL::text[], NULL::text, NULL::text[]`
	// Estimated or by files, each member's indexes, TOAST table and TOAST
	// indexes are joined in (hash joins over the catalog), not looked up
	// member by member: at 5,000 chunks that is ~0.1 s less on a new
	// connection.
	ctes, joins := ``, ``
	if estimate || f.StatFile {
		ctes = `,
` + dbCTE + `,
idx AS MATERIALIZED (
	SELECT i.indrelid AS owner, sum(ic.relpages)::bigint AS pages, array_agg(` + relationPath("ic") + `) AS paths
	FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid CROSS JOIN db
	GROUP BY i.indrelid)`
		joins = `
CROSS JOIN db
LEFT JOIN idx mi ON mi.owner = m.relid
LEFT JOIN pg_class tc ON tc.oid = NULLIF(c.reltoastrelid, 0)
LEFT JOIN idx ti ON ti.owner = tc.oid`
	}
	switch {
	case estimate:
		// A vacuumed heap also has a free space map (3 pages when small) and
		// a visibility map (1 page per 32k).
		heap = `(c.relpages::bigint + CASE WHEN c.relpages > 0 THEN 4 + c.relpages / 32768 ELSE 0 END) * current_setting('block_size')::bigint`
		index = `coalesce(mi.pages, 0) * current_setting('block_size')::bigint`
		toast = `(coalesce(tc.relpages, 0) + coalesce(ti.pages, 0)) * current_setting('block_size')::bigint`
	case f.StatFile:
		heap, index, toast = `NULL::bigint`, `NULL::bigint`, `NULL::bigint`
		paths = relationPath("c") + `, coalesce(mi.paths, '{}'),
       CASE WHEN tc.oid IS NOT NULL THEN ` + relationPath("tc") + ` END, coalesce(ti.paths, '{}')`
	}
	return catalogCTEs(f) + ctes + `,
listed AS (
	SELECT r.oid AS root, r.store AS relid, 'self' AS role, r.store AS chunk, NULL::bigint AS pre_rows FROM rels r WHERE r.kind <> 'partitioned'
	UNION ALL
	SELECT r.oid, p.relid, 'part', p.relid, NULL FROM rels r JOIN ptree p ON p.root = r.oid JOIN pg_class pc ON pc.oid = p.relid
	WHERE (r.kind = 'partitioned' AND pc.relkind <> 'p') OR (r.kind = 'inherited' AND p.relid <> r.oid)
	UNION ALL
	SELECT r.oid, i.inhrelid, 'part', i.inhrelid, NULL FROM rels r JOIN pg_inherits i ON i.inhparent = r.store
	WHERE r.kind IN ('hypertable', 'continuous_aggregate')
	UNION ALL
	SELECT r.oid, tc.compressed, 'compressed', i.inhrelid, tc.pre_rows FROM rels r JOIN pg_inherits i ON i.inhparent = r.store
	JOIN tschunks tc ON tc.relid = i.inhrelid
	WHERE r.kind IN ('hypertable', 'continuous_aggregate') AND tc.compressed IS NOT NULL
),
members AS (
	SELECT l.*, NULL::text AS grp FROM listed l
	UNION ALL
	SELECT 0::oid, c.oid, 'unlisted', c.oid, NULL, ` + unlistedGroup + `
	FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
	WHERE c.relkind IN ('r', 'm', 'S') AND NOT c.relisshared AND c.oid NOT IN (SELECT relid FROM listed)
)
SELECT m.root, m.relid, m.chunk, m.role, m.grp,
       CASE WHEN NOT m.relid = ANY($1::oid[]) THEN ` + heap + ` END,
       CASE WHEN NOT m.relid = ANY($1::oid[]) THEN ` + index + ` END,
       CASE WHEN NOT m.relid = ANY($1::oid[]) THEN ` + toast + ` END,
       ` + paths + `,
       CASE WHEN m.role = 'compressed' THEN coalesce(m.pre_rows, 0) ELSE greatest(c.reltuples, 0)::bigint END,
       pg_stat_get_dead_tuples(m.relid),
       pg_stat_get_last_vacuum_time(m.relid),
       pg_stat_get_last_autovacuum_time(m.relid),
       greatest(pg_stat_get_last_analyze_time(m.relid), pg_stat_get_last_autoanalyze_time(m.relid))
FROM members m JOIN pg_class c ON c.oid = m.relid` + joins
}

// dbCTE is what relationPath needs to know of the current database.
const dbCTE = `db AS (SELECT d.oid, d.dattablespace, (SELECT t.oid FROM pg_tablespace t WHERE t.spcname = 'pg_default') AS pg_default
       FROM pg_database d WHERE d.datname = current_database())`

// relationPath is pg_relation_filepath of the pg_class row alias rel, built
// from the row itself for relations in pg_default (base/<database>/<file
// node>, what pg_relation_filepath gives them): pg_relation_filepath looks
// every relation up again, ~4 µs each on a new connection. Mapped
// catalogs, temporary relations and other tablespaces are left to
// pg_relation_filepath. Needs the db CTE.
func relationPath(rel string) string {
	return `CASE WHEN ` + rel + `.relfilenode <> 0 AND ` + rel + `.relpersistence <> 't'
	              AND coalesce(NULLIF(` + rel + `.reltablespace, 0), db.dattablespace) = db.pg_default
	         THEN 'base/' || db.oid || '/' || ` + rel + `.relfilenode
	         ELSE pg_relation_filepath(` + rel + `.oid) END`
}

// readMembers lists every member in one statement.
func readMembers(ctx context.Context, conn *pgx.Conn, f Features, locked map[uint32]bool, estimate bool) ([]member, error) {
	rows, err := conn.Query(ctx, membersQuery(f, estimate), oidList(locked))
	if err != nil {
		return nil, fmt.Errorf("measuring tables: %w", err)
	}
	defer rows.Close()
	byFiles := f.StatFile && !estimate
	var out []member
	for rows.Next() {
		var m member
		var p memberPaths
		if err := rows.Scan(&m.Root, &m.Relid, &m.Chunk, &m.Role, &m.Group, &m.Table, &m.Index, &m.Toast,
			&p.heap, &p.indexes, &p.toast, &p.toastIndexes,
			&m.Rows, &m.Dead, &m.LastVacuum, &m.LastAutovacuum, &m.LastAnalyze); err != nil {
			return nil, fmt.Errorf("measuring tables: %w", err)
		}
		if byFiles {
			m.paths = &p
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("measuring tables: %w", err)
	}
	return out, nil
}

// measureMembers lists and measures every member. By files, three reads
// in this order: the file paths of every relation (before), the listing of
// the database's files, then the members with their paths (after). A
// member measured from the listing must have the same files before and
// after it: a relation rewritten, truncated, compressed or created
// meanwhile has new paths, which may be missing from the listing or listed
// half-written, so it is noticed, not read as empty or short. The read is
// repeated then, twice at most, and a member still unsettled is left
// without sizes (its table shows as locked, as it most likely is). The
// listing also gives the database's size (databaseBytes, nil when not
// measured by files).
func measureMembers(ctx context.Context, conn *pgx.Conn, f Features, locked map[uint32]bool, estimate bool) (members []member, databaseBytes *int64, err error) {
	if estimate || !f.StatFile {
		members, err = readMembers(ctx, conn, f, locked, estimate)
		return members, nil, err
	}
	for attempt := 1; ; attempt++ {
		before, err := readRelationPaths(ctx, conn)
		if err != nil {
			return nil, nil, err
		}
		files, err := readDatabaseFiles(ctx, conn)
		if err != nil {
			return nil, nil, err
		}
		if afterListing != nil {
			afterListing()
		}
		if members, err = readMembers(ctx, conn, f, locked, estimate); err != nil {
			return nil, nil, err
		}
		if files.measure(members, locked, before) || attempt == 3 {
			return members, &files.total, nil
		}
	}
}

// afterListing, when set (by tests only), runs between the listing and the
// reading of the members: where a concurrent change has to land for the
// read to be repeated.
var afterListing func()

// readRelationPaths reads where every relation's files are now.
func readRelationPaths(ctx context.Context, conn *pgx.Conn) (map[string]bool, error) {
	rows, err := conn.Query(ctx, `WITH `+dbCTE+`,
		paths AS (SELECT `+relationPath("c")+` AS path FROM pg_class c CROSS JOIN db)
		SELECT path FROM paths WHERE path IS NOT NULL`)
	paths, err := setOf[string](rows, err)
	if err != nil {
		return nil, fmt.Errorf("reading relation paths: %w", err)
	}
	return paths, nil
}

// memberPaths is where a member's files are (pg_relation_filepath).
type memberPaths struct {
	heap, toast           *string
	indexes, toastIndexes []*string
}

// measure sets each unlocked member's sizes from the listing; false when
// some member's files are not those it had before the listing (before: the
// paths then) or are missing from it; such a member gets no sizes.
func (d databaseFiles) measure(members []member, locked map[uint32]bool, before map[string]bool) bool {
	settled := true
	for i := range members {
		m := &members[i]
		if m.paths == nil || locked[m.Relid] {
			continue
		}
		heap, okHeap := d.size(m.paths.heap, before)
		index, okIndex := d.sizes(m.paths.indexes, before)
		toast, okToast := d.size(m.paths.toast, before)
		toastIndex, okToastIndex := d.sizes(m.paths.toastIndexes, before)
		if !(okHeap && okIndex && okToast && okToastIndex) {
			settled = false
			m.Table, m.Index, m.Toast = nil, nil, nil
			continue
		}
		toast += toastIndex
		m.Table, m.Index, m.Toast = &heap, &index, &toast
	}
	return settled
}

// rollup is a table's figures summed over its members.
type rollup struct {
	locked                                  bool
	parts                                   int
	table, index, toast                     int64
	rows, dead                              int64
	lastVacuum, lastAutovacuum, lastAnalyze *time.Time
}

// chunkFigures are a chunk's (or leaf partition's) bytes and estimated
// rows, summed with its compressed relation's.
type chunkFigures struct{ bytes, rows int64 }

// rollUp sums members per table, and figures per chunk (a chunk plus its
// compressed relation). A table with any locked member is locked as a whole.
func rollUp(members []member, locked map[uint32]bool) (tables map[uint32]*rollup, chunkBytes map[uint32]chunkFigures) {
	tables = map[uint32]*rollup{}
	chunkBytes = map[uint32]chunkFigures{}
	lockedChunk := map[uint32]bool{}
	for _, m := range members {
		if m.Group != nil { // no listed table's
			continue
		}
		r := tables[m.Root]
		if r == nil {
			r = &rollup{locked: locked[m.Root]}
			tables[m.Root] = r
		}
		if m.Table == nil || m.Index == nil || m.Toast == nil { // locked, or dropped mid-read
			r.locked = true
			lockedChunk[m.Chunk] = true
		} else {
			r.table += *m.Table
			r.index += *m.Index
			r.toast += *m.Toast
			f := chunkBytes[m.Chunk]
			f.bytes += m.total()
			f.rows += m.Rows
			chunkBytes[m.Chunk] = f
		}
		if m.Role == rolePart {
			r.parts++
		}
		r.rows += m.Rows // a compressed relation's rows are those it held before compression
		if m.Role != roleCompressed {
			r.dead += m.Dead
			r.lastVacuum = latest(r.lastVacuum, m.LastVacuum)
			r.lastAutovacuum = latest(r.lastAutovacuum, m.LastAutovacuum)
			r.lastAnalyze = latest(r.lastAnalyze, m.LastAnalyze)
		}
	}
	for c := range lockedChunk {
		delete(chunkBytes, c)
	}
	return tables, chunkBytes
}

func latest(a, b *time.Time) *time.Time {
	if a == nil || (b != nil && b.After(*a)) {
		return b
	}
	return a
}
