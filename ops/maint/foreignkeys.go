package maint

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
)

// ForeignKey is a foreign key a retention plan has to reckon with: one
// that references a table it cleans (incoming: deleting or dropping rows
// there reaches the referencing table) or one the table holds.
type ForeignKey struct {
	OID        uint32 `json:"-"`
	Name       string `json:"name"`
	From       string `json:"from"`         // the referencing table, schema.name
	To         string `json:"to"`           // the referenced table (or partition), schema.name
	OnDelete   string `json:"on_delete"`    // CASCADE, SET NULL, SET DEFAULT, RESTRICT, NO ACTION
	ToPart     bool   `json:"to_partition"` // it references one partition or chunk, not the table
	Incoming   bool   `json:"incoming"`     // in a TableSummary: it references that table (else the table holds it)
	fromRel    string // quoted
	toRel      string // quoted
	fromCols   []string
	toCols     []string
	fromOID    uint32
	fromRoot   uint32 // the planned table whose tree holds the referencing relation (see from), or 0
	toOID      uint32 // the relation it references
	toTableOID uint32 // the policy table it reaches (the partition's root for ToPart)
}

// changesOther: a DELETE of referenced rows changes or deletes the
// referencing rows (rather than failing).
func (f ForeignKey) changesOther() bool {
	return f.OnDelete == "CASCADE" || f.OnDelete == "SET NULL" || f.OnDelete == "SET DEFAULT"
}

// from is the table the referencing rows belong to for a plan: the
// planned table whose tree holds the referencing relation (a legacy
// inheritance child's parent: its cleanup decides which of the child's
// rows stay), else that relation itself.
func (f ForeignKey) from() uint32 {
	if f.fromRoot != 0 {
		return f.fromRoot
	}
	return f.fromOID
}

// joinOn is "(r.a, r.b) = (t.x, t.y)": a referencing row r of a row t.
func (f ForeignKey) joinOn(r, t string) string {
	q := func(alias string, cols []string) string {
		out := make([]string, len(cols))
		for i, c := range cols {
			out[i] = alias + "." + pgx.Identifier{c}.Sanitize()
		}
		return "(" + strings.Join(out, ", ") + ")"
	}
	return q(r, f.fromCols) + " = " + q(t, f.toCols)
}

var onDelete = map[string]string{"a": "NO ACTION", "r": "RESTRICT", "c": "CASCADE", "n": "SET NULL", "d": "SET DEFAULT"}

// foreignKeysQuery lists the foreign keys declared (see declaredForeignKey) that reference
// the given tables or any relation of their partition, chunk or
// inheritance trees, or that the tables or any relation of their trees
// hold (a legacy inheritance child's own foreign keys: PostgreSQL does not
// inherit them, so people declare them on each child).
const foreignKeysQuery = `
WITH RECURSIVE tree AS (
	SELECT t.oid AS root, t.oid AS relid FROM unnest($1::oid[]) AS t(oid)
	UNION ALL
	SELECT tree.root, i.inhrelid FROM tree JOIN pg_inherits i ON i.inhparent = tree.relid
)
SELECT DISTINCT c.oid, c.conname::text, c.conrelid, coalesce(src.root, 0)::oid, c.confrelid, coalesce(ref.root, 0)::oid, c.confdeltype::text,
       fn.nspname::text || '.' || fc.relname::text, tn.nspname::text || '.' || tc.relname::text,
       quote_ident(fn.nspname) || '.' || quote_ident(fc.relname), quote_ident(tn.nspname) || '.' || quote_ident(tc.relname),
       ARRAY(SELECT a.attname::text FROM unnest(c.conkey) WITH ORDINALITY k(n, i) JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n ORDER BY k.i),
       ARRAY(SELECT a.attname::text FROM unnest(c.confkey) WITH ORDINALITY k(n, i) JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n ORDER BY k.i)
FROM pg_constraint c
JOIN pg_class fc ON fc.oid = c.conrelid JOIN pg_namespace fn ON fn.oid = fc.relnamespace
JOIN pg_class tc ON tc.oid = c.confrelid JOIN pg_namespace tn ON tn.oid = tc.relnamespace
LEFT JOIN tree ref ON ref.relid = c.confrelid
LEFT JOIN tree src ON src.relid = c.conrelid
WHERE ` + declaredForeignKey + `
  AND (ref.root IS NOT NULL OR src.root IS NOT NULL)
ORDER BY 2`

// declaredForeignKey selects, in pg_constraint c, the foreign keys people
// declared: not the copies PostgreSQL makes for each partition
// (conparentid) nor those TimescaleDB makes for each chunk of a hypertable
// that holds one (same name and target as the hypertable's, on a child).
const declaredForeignKey = `c.contype = 'f' AND c.conparentid = 0
  AND NOT EXISTS (SELECT 1 FROM pg_inherits i JOIN pg_constraint pc ON pc.conrelid = i.inhparent
                  WHERE i.inhrelid = c.conrelid AND pc.contype = 'f' AND pc.conname = c.conname AND pc.confrelid = c.confrelid)`

// readForeignKeys reads the foreign keys of tables (OIDs): incoming ones
// by the table they reach, and those each table holds — itself or any
// relation of its tree.
func readForeignKeys(ctx context.Context, conn *pgx.Conn, tables []uint32) (incoming, held map[uint32][]ForeignKey, err error) {
	rows, err := conn.Query(ctx, foreignKeysQuery, tables)
	if err != nil {
		return nil, nil, fmt.Errorf("reading foreign keys: %w", err)
	}
	defer rows.Close()
	incoming, held = map[uint32][]ForeignKey{}, map[uint32][]ForeignKey{}
	for rows.Next() {
		var f ForeignKey
		var toOID uint32
		var del string
		if err := rows.Scan(&f.OID, &f.Name, &f.fromOID, &f.fromRoot, &toOID, &f.toTableOID, &del, &f.From, &f.To, &f.fromRel, &f.toRel, &f.fromCols, &f.toCols); err != nil {
			return nil, nil, fmt.Errorf("reading foreign keys: %w", err)
		}
		f.OnDelete, f.ToPart, f.toOID = onDelete[del], f.toTableOID != 0 && f.toTableOID != toOID, toOID
		if f.toTableOID != 0 {
			incoming[f.toTableOID] = append(incoming[f.toTableOID], f)
		}
		if f.fromRoot != 0 {
			held[f.fromRoot] = append(held[f.fromRoot], f)
		}
	}
	return incoming, held, rows.Err()
}

// cleaningOrder orders the tables so that a table is cleaned before the
// tables it references (its rows that go no longer hold theirs), keeping
// the given order otherwise. A foreign key held or referenced by a
// relation of a table's tree (a legacy inheritance child) counts as the
// table's. Tables on a cycle of references are returned
// apart, each with the cycle's constraints named.
func cleaningOrder(tables []uint32, incoming map[uint32][]ForeignKey) (order []uint32, cyclic map[uint32]string) {
	in := map[uint32]bool{}
	for _, t := range tables {
		in[t] = true
	}
	// before[t]: the planned tables that reference t, which go first.
	before := map[uint32][]uint32{}
	via := map[[2]uint32]string{}
	for _, t := range tables {
		for _, f := range incoming[t] {
			from := f.from()
			if from != t && in[from] && !slices.Contains(before[t], from) {
				before[t] = append(before[t], from)
				via[[2]uint32{from, t}] = f.Name + " (" + f.From + " → " + f.To + ")"
			}
		}
	}
	done := map[uint32]bool{}
	for len(order)+len(cyclic) < len(tables) {
		progressed := false
		for _, t := range tables {
			if done[t] {
				continue
			}
			ready := true
			for _, b := range before[t] {
				ready = ready && done[b]
			}
			if ready {
				order, done[t], progressed = append(order, t), true, true
			}
		}
		if !progressed { // what is left waits on itself: cycles
			cyclic = map[uint32]string{}
			for _, t := range tables {
				if done[t] {
					continue
				}
				var names []string
				for _, b := range before[t] {
					if !done[b] {
						names = append(names, via[[2]uint32{b, t}])
					}
				}
				cyclic[t] = strings.Join(names, ", ")
			}
			for t := range cyclic {
				done[t] = true
			}
		}
	}
	return order, cyclic
}

// blockingRows counts the rows of f's referencing table that stay (kept,
// an SQL condition on alias r) and reference rows that go (doomed, on
// alias t, a row of the relation rel).
func blockingRows(ctx context.Context, conn *pgx.Conn, f ForeignKey, rel, doomed, kept string) (int64, error) {
	q := fmt.Sprintf("SELECT count(*) FROM %s r JOIN %s t ON %s WHERE (%s) AND (%s)", f.fromRel, rel, f.joinOn("r", "t"), doomed, kept)
	var n int64
	if err := conn.QueryRow(ctx, q).Scan(&n); err != nil {
		return 0, fmt.Errorf("counting the rows of %s that reference %s (%s): %w", f.From, f.To, f.Name, err)
	}
	return n, nil
}

// readDeleteTriggers names the row triggers that fire when rows of rel
// are deleted: they may write elsewhere.
func readDeleteTriggers(ctx context.Context, conn *pgx.Conn, rel string) ([]string, error) {
	rows, err := conn.Query(ctx, `SELECT format('%s (%s DELETE FOR EACH ROW, %s())', t.tgname,
	         CASE WHEN t.tgtype & 2 = 2 THEN 'BEFORE' WHEN t.tgtype & 64 = 64 THEN 'INSTEAD OF' ELSE 'AFTER' END, t.tgfoid::regproc)
		FROM pg_trigger t WHERE t.tgrelid = $1::regclass AND NOT t.tgisinternal AND t.tgtype & 1 = 1 AND t.tgtype & 8 = 8 AND t.tgenabled <> 'D'
		ORDER BY t.tgname`, rel)
	if err != nil {
		return nil, fmt.Errorf("reading the triggers of %s: %w", rel, err)
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// incomingOIDs are the constraint OIDs of fks, sorted: what a run compares
// with the catalog to see that no foreign key was added since the plan.
func incomingOIDs(fks []ForeignKey) []uint32 {
	out := make([]uint32, 0, len(fks))
	for _, f := range fks {
		out = append(out, f.OID)
	}
	slices.Sort(out)
	return out
}
