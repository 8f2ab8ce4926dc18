package report

import (
	"cmp"
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// inheritedConstraintsQuery lists the validated CHECK constraints of each
// given relation ($1, quoted) that involve its column $2, with the column
// as pg_get_constraintdef quotes it. pg_get_constraintdef locks the
// relation: those someone holds or awaits an ACCESS EXCLUSIVE lock on ($3)
// are left out.
const inheritedConstraintsQuery = `
SELECT k.i, quote_ident(k.col), pg_get_constraintdef(con.oid)
FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS k(rel, col, i)
JOIN pg_constraint con ON con.conrelid = to_regclass(k.rel) AND con.contype = 'c' AND con.convalidated
JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attname = k.col AND a.attnum = ANY (con.conkey)
WHERE NOT con.conrelid = ANY ($3::oid[])
ORDER BY k.i, con.conname`

// readInheritedRanges gives the children of every inheritance parent with
// a time column the range their CHECK constraints prove on it: the bounds
// their comparisons of the column with constants set (a side no
// constraint bounds stays open, nil), read as the partition bounds are (a
// timestamp or date as a wall-clock time in UTC, which readLocalTimes then
// reads in the table's zone). The parent's PartitionColumn becomes its
// time column, and its children are put in range order. A child that
// someone locks, or a lock taken meanwhile (55P03), leaves ranges unknown,
// never the report unread.
func readInheritedRanges(ctx context.Context, conn *pgx.Conn, r *Report, locked map[uint32]bool) error {
	type want struct {
		chunk int // index in r.Chunks
		col   string
		typ   string
	}
	var wants []want
	var rels, cols []string
	for i := range r.Tables {
		t := &r.Tables[i]
		if t.Kind == nil || *t.Kind != KindInherited || t.TimeColumn == nil || t.TimeType() == "" {
			continue
		}
		col := *t.TimeColumn
		t.PartitionColumn = &col
		for j, c := range r.Chunks {
			if c.TableSchema == t.Schema && c.Table == t.Name {
				wants = append(wants, want{j, col, t.TimeType()})
				rels, cols = append(rels, qualified(c.ChunkSchema, c.Chunk)), append(cols, col)
			}
		}
	}
	if len(wants) == 0 {
		return nil
	}
	rows, err := conn.Query(ctx, inheritedConstraintsQuery, rels, cols, oidList(locked))
	if err != nil {
		return fmt.Errorf("reading the CHECK constraints of inheritance children: %w", err)
	}
	type found struct {
		want
		b bound
	}
	var bounds []found
	for rows.Next() {
		var i int
		var quoted, def string
		if err := rows.Scan(&i, &quoted, &def); err != nil {
			rows.Close()
			return fmt.Errorf("reading the CHECK constraints of inheritance children: %w", err)
		}
		for _, b := range checkBounds(def, quoted, wants[i-1].typ) {
			bounds = append(bounds, found{wants[i-1], b})
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		if isGone(err) {
			return nil // locked (or dropped) since: their ranges stay unknown this time
		}
		return fmt.Errorf("reading the CHECK constraints of inheritance children: %w", err)
	}
	if len(bounds) > 0 {
		lits, typs, incl := make([]string, len(bounds)), make([]string, len(bounds)), make([]bool, len(bounds))
		for i, f := range bounds {
			lits[i], typs[i], incl[i] = f.b.lit, f.typ, f.b.upper && f.b.inclusive
		}
		// The server reads its own literals back (whatever its DateStyle);
		// an inclusive upper bound ends one step later.
		rows, err := conn.Query(ctx, `
			SELECT CASE x.t WHEN 'timestamp with time zone' THEN x.l::timestamptz
			                WHEN 'timestamp without time zone' THEN x.l::timestamp AT TIME ZONE 'UTC'
			                ELSE x.l::date::timestamp AT TIME ZONE 'UTC' END
			       + CASE WHEN NOT x.incl THEN interval '0' WHEN x.t = 'date' THEN interval '1 day' ELSE interval '1 microsecond' END
			FROM unnest($1::text[], $2::text[], $3::bool[]) WITH ORDINALITY AS x(l, t, incl, i) ORDER BY x.i`, lits, typs, incl)
		if err != nil {
			return fmt.Errorf("reading the CHECK constraints of inheritance children: %w", err)
		}
		at, err := pgx.CollectRows(rows, pgx.RowTo[time.Time])
		if err != nil {
			return fmt.Errorf("reading the CHECK constraints of inheritance children: %w", err)
		}
		for i, f := range bounds {
			c := &r.Chunks[f.chunk]
			v := at[i].UTC()
			switch {
			case f.b.upper && (c.RangeEnd == nil || v.Before(*c.RangeEnd)):
				c.RangeEnd = &v
			case !f.b.upper && (c.RangeStart == nil || v.After(*c.RangeStart)):
				c.RangeStart = &v
			}
		}
	}
	sortInherited(r)
	return nil
}

// sortInherited puts the children of each inheritance parent (listed
// together) in range order, those of no known start first, as partitions
// are listed.
func sortInherited(r *Report) {
	inherited := map[string]bool{}
	for _, t := range r.Tables {
		if t.Kind != nil && *t.Kind == KindInherited {
			inherited[t.Key()] = true
		}
	}
	for i := 0; i < len(r.Chunks); {
		j := i + 1
		for j < len(r.Chunks) && r.Chunks[j].TableKey() == r.Chunks[i].TableKey() {
			j++
		}
		if inherited[r.Chunks[i].TableKey()] {
			slices.SortStableFunc(r.Chunks[i:j], func(a, b Chunk) int {
				switch {
				case a.RangeStart == nil && b.RangeStart != nil:
					return -1
				case a.RangeStart != nil && b.RangeStart == nil:
					return 1
				case a.RangeStart != nil && !a.RangeStart.Equal(*b.RangeStart):
					return a.RangeStart.Compare(*b.RangeStart)
				}
				return cmp.Compare(a.ChunkSchema+"."+a.Chunk, b.ChunkSchema+"."+b.Chunk)
			})
		}
		i = j
	}
}

// bound is one side a CHECK constraint sets on a column: the constant as
// the definition spells it, whether it bounds from above, and whether the
// constant itself is allowed.
type bound struct {
	lit              string
	upper, inclusive bool
}

// checkBounds reads what a CHECK constraint's definition (as
// pg_get_constraintdef gives it) bounds the column col (quoted as it
// quotes identifiers) to: each conjunct of its top-level AND that compares
// the column with a constant of the column's type typ (`col >= '…'::typ`,
// or the other way round). Anything else — an OR, a function of the
// column, another type's constant, a NOT VALID constraint — proves nothing
// and sets nothing; conjuncts only narrow, so ignoring one is sound.
func checkBounds(def, col, typ string) []bound {
	s, ok := strings.CutPrefix(def, "CHECK ")
	if !ok || strings.HasSuffix(s, " NOT VALID") {
		return nil
	}
	s = strings.TrimSuffix(s, " NO INHERIT")
	lit := `'((?:[^']|'')*)'::` + regexp.QuoteMeta(typ)
	c := regexp.QuoteMeta(col)
	direct := regexp.MustCompile(`^` + c + ` (>=|>|<=|<|=) ` + lit + `$`)
	reverse := regexp.MustCompile(`^` + lit + ` (>=|>|<=|<|=) ` + c + `$`)
	var out []bound
	for _, atom := range conjuncts(s) {
		var op, v string
		if m := direct.FindStringSubmatch(atom); m != nil {
			op, v = m[1], m[2]
		} else if m := reverse.FindStringSubmatch(atom); m != nil {
			op, v = flip[m[2]], m[1]
		} else {
			continue
		}
		v = strings.ReplaceAll(v, "''", "'")
		if v == "infinity" || v == "-infinity" {
			continue
		}
		switch op {
		case "=":
			out = append(out, bound{lit: v, inclusive: true}, bound{lit: v, upper: true, inclusive: true})
		default:
			out = append(out, bound{lit: v, upper: op[0] == '<', inclusive: strings.HasSuffix(op, "=")})
		}
	}
	return out
}

// flip turns `'c' op col` into `col flip[op] 'c'`.
var flip = map[string]string{">=": "<=", ">": "<", "<=": ">=", "<": ">", "=": "="}

// conjuncts splits an expression as PostgreSQL deparses it into the terms
// of its top-level AND, each without its enclosing parentheses.
func conjuncts(s string) []string {
	s = strings.TrimSpace(s)
	for enclosed(s) {
		s = strings.TrimSpace(s[1 : len(s)-1])
	}
	var parts []string
	depth, quoted, start := 0, false, 0
	for i := 0; i < len(s); i++ {
		switch ch := s[i]; {
		case ch == '\'':
			quoted = !quoted // '' inside a literal toggles twice
		case quoted:
		case ch == '(':
			depth++
		case ch == ')':
			depth--
		case depth == 0 && strings.HasPrefix(s[i:], " AND "):
			parts = append(parts, s[start:i])
			start = i + len(" AND ")
			i = start - 1
		}
	}
	if len(parts) == 0 {
		return []string{s}
	}
	var out []string
	for _, p := range append(parts, s[start:]) {
		out = append(out, conjuncts(p)...)
	}
	return out
}

// enclosed: s is one parenthesised expression, "(…)" whose first
// parenthesis closes at its end.
func enclosed(s string) bool {
	if len(s) < 2 || s[0] != '(' || s[len(s)-1] != ')' {
		return false
	}
	depth, quoted := 0, false
	for i := 0; i < len(s); i++ {
		switch ch := s[i]; {
		case ch == '\'':
			quoted = !quoted
		case quoted:
		case ch == '(':
			depth++
		case ch == ')':
			depth--
			if depth == 0 && i < len(s)-1 {
				return false
			}
		}
	}
	return depth == 0
}
