package maint

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// leftTable is a table triage found left behind (a detached partition, a
// pg_repack work table), resolved in the catalog.
type leftTable struct {
	OID          uint32
	Schema, Name string
	Kind         string // relkind: r or p
	Bytes        int64  // pg_total_relation_size
}

func (t leftTable) key() string { return t.Schema + "." + t.Name }
func (t leftTable) rel() string { return pgx.Identifier{t.Schema, t.Name}.Sanitize() }

// findTable resolves --table as the planners of policy tables do: schema.name,
// or a name the search_path sees; two tables answering to it are refused.
func findTable(ctx context.Context, conn *pgx.Conn, table string) (leftTable, error) {
	rows, err := conn.Query(ctx, `
		SELECT c.oid, n.nspname::text, c.relname::text, c.relkind::text, pg_total_relation_size(c.oid)
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE c.relkind IN ('r', 'p') AND (n.nspname || '.' || c.relname = $1 OR c.relname = $1 AND pg_table_is_visible(c.oid))`, table)
	if err != nil {
		return leftTable{}, err
	}
	found, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (leftTable, error) {
		var t leftTable
		err := r.Scan(&t.OID, &t.Schema, &t.Name, &t.Kind, &t.Bytes)
		return t, err
	})
	switch {
	case err != nil:
		return leftTable{}, err
	case len(found) == 0:
		return leftTable{}, fmt.Errorf("no table %q in the database", table)
	case len(found) > 1:
		return leftTable{}, fmt.Errorf("%q names %s and %s: give the table as schema.name", table, found[0].key(), found[1].key())
	}
	return found[0], nil
}

// sameTable refuses when t's name no longer names the table the plan was
// made for (renamed, dropped, another made in its place).
func sameTable(ctx context.Context, q querier, t leftTable) error {
	var oid *uint32
	if err := q.QueryRow(ctx, `SELECT to_regclass($1)::oid`, t.rel()).Scan(&oid); err != nil {
		return err
	}
	if oid == nil || *oid != t.OID {
		return fmt.Errorf("%s is no longer the table the plan was made for (renamed, dropped or replaced since): not dropped", t.key())
	}
	return nil
}

// dropTableStep drops a table triage found left behind: destructive (the
// console confirms it by the table's name, pgtend run by --yes), its
// bytes measured again when it runs and counted as freed. One
// transaction: the table locked first (nothing attaches, renames or
// replaces it meanwhile), then checked to be the planned one and again by
// recheck, which refuses (an error) what changed since the plan, then the
// statements before, the DROP and the statements after.
func dropTableStep(t leftTable, title string, before, after []string, recheck func(ctx context.Context, q querier) error) Step {
	rel := t.rel()
	stmts := append(append(append([]string{}, before...), "DROP TABLE "+rel), after...)
	size := t.Bytes
	return Step{Title: title, Target: rel, Table: rel, Statements: stmts, Lock: LockAccessExclusive + " on the table, briefly (DROP TABLE)",
		Destructive: true, EstBytes: &size, Unit: "tables", needs: needs(rel, NeedOwner),
		Affected: []Affected{{Name: rel, Bytes: &size}},
		run: func(ctx context.Context, r *runner, i int) (int64, error) {
			var now int64
			err := pgx.BeginFunc(ctx, r.conn, func(tx pgx.Tx) error {
				if _, err := tx.Exec(ctx, "LOCK TABLE "+rel+" IN ACCESS EXCLUSIVE MODE"); err != nil {
					return err
				}
				if err := sameTable(ctx, tx, t); err != nil {
					return err
				}
				if err := recheck(ctx, tx); err != nil {
					return err
				}
				if err := tx.QueryRow(ctx, `SELECT pg_total_relation_size($1::oid)`, t.OID).Scan(&now); err != nil {
					return err
				}
				for _, s := range stmts {
					if _, err := tx.Exec(ctx, s); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				return 0, err
			}
			r.mu.Lock()
			r.freed = now
			r.mu.Unlock()
			r.emit(Event{Kind: Log, Step: i, Message: fmt.Sprintf("dropped %s (%s)", rel, bkBytes(now))})
			r.emit(Event{Kind: Progress, Step: i, Done: 1, Total: 1, Unit: "tables"})
			return 0, nil
		}}
}

// leftPlan is the plan of dropping left-behind tables: one summary per
// table, with its size as what goes.
func leftPlan(target string, tables []leftTable, steps []Step) *Plan {
	p := &Plan{Target: target, Created: time.Now(), Refused: []Refusal{}, Tables: []TableSummary{}, Steps: steps}
	for _, t := range tables {
		size := t.Bytes
		var idx []int
		for i, s := range steps {
			if s.Table == t.rel() || s.Target == t.rel() {
				idx = append(idx, i)
			}
		}
		p.Tables = append(p.Tables, TableSummary{Table: t.key(), Kind: "table", TimeZone: "UTC", Goes: Portion{Bytes: &size},
			Locks: []string{LockAccessExclusive + " (DROP TABLE)"}, Steps: idx, ForeignKeys: []ForeignKey{}, Findings: []string{}, Aggregates: []AggregateCheck{}})
	}
	return p
}
