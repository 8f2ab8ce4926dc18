package maint

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pgtend/pgtend/ops/config"
	"github.com/pgtend/pgtend/ops/report"
)

// detachedState is where a table stands in pg_inherits.
type detachedState struct {
	parents  []string // the tables it is attached to, quoted
	pending  string   // the parent an interrupted DETACH CONCURRENTLY left it half detached from, quoted; "" for none
	children int      // tables attached to it
	deps     []string // what would keep DROP TABLE from running: views, rules, other tables' foreign keys
}

func readDetachedState(ctx context.Context, q querier, oid uint32) (detachedState, error) {
	var s detachedState
	var rel string
	err := q.QueryRow(ctx, `
		SELECT coalesce((SELECT array_agg(format('%I.%I', pn.nspname, p.relname)) FROM pg_inherits i
		                   JOIN pg_class p ON p.oid = i.inhparent JOIN pg_namespace pn ON pn.oid = p.relnamespace
		                  WHERE i.inhrelid = $1 AND NOT i.inhdetachpending), '{}'),
		       coalesce((SELECT format('%I.%I', pn.nspname, p.relname) FROM pg_inherits i
		                   JOIN pg_class p ON p.oid = i.inhparent JOIN pg_namespace pn ON pn.oid = p.relnamespace
		                  WHERE i.inhrelid = $1 AND i.inhdetachpending), ''),
		       (SELECT count(*) FROM pg_inherits WHERE inhparent = $1)::int,
		       $1::oid::regclass::text`, oid).
		Scan(&s.parents, &s.pending, &s.children, &rel)
	if err != nil {
		return s, err
	}
	s.deps, err = dependents(ctx, q, rel)
	return s, err
}

// refusal says why the table must not be dropped as a detached partition,
// "" when nothing stops it.
func (s detachedState) refusal(key string) string {
	switch {
	case len(s.parents) > 0:
		return fmt.Sprintf("%s is still attached to %s: it is a partition (or inheritance child) in use, not a detached one; refused", key, strings.Join(s.parents, ", "))
	case s.children > 0:
		return fmt.Sprintf("%s has %d partitions or inheritance children of its own: DROP TABLE would need CASCADE; refused", key, s.children)
	case len(s.deps) > 0:
		return fmt.Sprintf("%s is still used by %s (a view, a rule or another table's foreign key), and DROP TABLE would fail; refused (drop those first if they are leftovers too)", key, strings.Join(s.deps, ", "))
	}
	return ""
}

// PlanDropDetached plans dropping one detached partition (--table), as
// triage finds them: a table pg_partman detached and kept
// (retention_keep_table), or one an interrupted DETACH PARTITION
// CONCURRENTLY left pending (first finished with FINALIZE). Anything else
// is refused — a table still attached, or never a partition; one with
// partitions of its own; one a foreign key references; one the policy
// marks permanent. The plan is destructive: the console confirms it by
// the table's name typed, pgtend run by --yes.
func PlanDropDetached(ctx context.Context, conn *pgx.Conn, policy config.Policy, table string) (*Plan, error) {
	if table == "" {
		return nil, errors.New("name the detached table: --table TABLE (pgtend triage lists the detached partitions)")
	}
	t, err := findTable(ctx, conn, table)
	if err != nil {
		return nil, err
	}
	st, err := readDetachedState(ctx, conn, t.OID)
	if err != nil {
		return nil, err
	}
	if why := st.refusal(t.key()); why != "" {
		return nil, errors.New(why)
	}
	var keptFrom string
	if st.pending == "" {
		r, err := report.Collect(ctx, conn, policy)
		if err != nil {
			return nil, err
		}
		i := slices.IndexFunc(r.DetachedTables, func(d report.DetachedTable) bool { return d.Key() == t.key() })
		if i < 0 {
			return nil, fmt.Errorf("%s is not a detached partition: neither pg_partman kept it (retention_keep_table) nor is a DETACH CONCURRENTLY of it pending; refused", t.key())
		}
		keptFrom = pgx.Identifier{r.DetachedTables[i].ParentSchema, r.DetachedTables[i].Parent}.Sanitize()
		if err := keptPastRetention(ctx, conn, t, r.DetachedTables[i].ParentSchema+"."+r.DetachedTables[i].Parent); err != nil {
			return nil, err
		}
	}
	if t.Kind != "r" {
		return nil, fmt.Errorf("%s is a partitioned table: drop its partitions first; refused", t.key())
	}
	recheck := func(ctx context.Context, q querier) error {
		now, err := readDetachedState(ctx, q, t.OID)
		if err != nil {
			return err
		}
		if now.pending != "" {
			return fmt.Errorf("%s is still pending detach from %s: not dropped", t.key(), now.pending)
		}
		if why := now.refusal(t.key()); why != "" {
			return fmt.Errorf("since the plan was made: %s", why)
		}
		return nil
	}
	var steps []Step
	p := leftPlan("detached table "+t.key(), []leftTable{t}, nil)
	if st.pending != "" {
		stmt := "ALTER TABLE " + st.pending + " DETACH PARTITION " + t.rel() + " FINALIZE"
		steps = append(steps, Step{Title: "finish the interrupted detach of " + t.key() + " from " + st.pending, Target: st.pending, Statements: []string{stmt},
			Lock: LockShareUpdateExclusive + " on " + st.pending + " (reads and writes go on)", Unit: "tables", needs: needs(st.pending, NeedOwner),
			run: func(ctx context.Context, r *runner, i int) (int64, error) {
				if err := sameTable(ctx, r.conn, t); err != nil {
					return 0, err
				}
				if now, err := readDetachedState(ctx, r.conn, t.OID); err != nil || now.pending == "" {
					return 0, err // finished meanwhile: the DROP goes on
				}
				_, err := r.conn.Exec(ctx, stmt)
				return 0, err
			}})
		p.Notes = append(p.Notes, "an interrupted DETACH PARTITION CONCURRENTLY left "+t.key()+" pending: FINALIZE completes it (waiting for older snapshots), then the table is dropped")
	} else {
		p.Notes = append(p.Notes, "pg_partman detached "+t.key()+" from "+keptFrom+" and kept it (retention_keep_table): no partition set reads it now")
	}
	steps = append(steps, dropTableStep(t, fmt.Sprintf("drop the detached table %s (%s)", t.key(), bkBytes(t.Bytes)), nil, nil, recheck))
	p.Steps = steps
	p.Tables[0].Steps = []int{len(steps) - 1}
	p.Notes = append(p.Notes, fmt.Sprintf("DROP TABLE returns its %s to the filesystem at once; its rows are gone for good (a backup made before holds them)", bkBytes(t.Bytes)))
	// Refused here already, not only when it runs: a permanent table.
	if err := refusePermanent(ctx, conn, p, policy); err != nil {
		return nil, err
	}
	return p, nil
}

// keptPastRetention refuses a table named as a partition of a pg_partman
// set that keeps its detached tables unless every row of it is past the
// set's retention: a table so named may be one being loaded to be
// attached, whose rows are current. The set must be time-based (its
// retention an interval, its control column a time): for others pgtend
// cannot tell, and refuses. An empty table loses nothing.
func keptPastRetention(ctx context.Context, conn *pgx.Conn, t leftTable, parent string) error {
	schema, err := report.ExtensionSchema(ctx, conn, "pg_partman")
	if err != nil {
		return err
	}
	if schema == "" {
		return fmt.Errorf("%s looks kept by pg_partman, which is not installed in this database: refused", t.key())
	}
	var control, retention string
	if err := conn.QueryRow(ctx, "SELECT control, coalesce(retention, '') FROM "+pgx.Identifier{schema, "part_config"}.Sanitize()+" WHERE parent_table = $1", parent).Scan(&control, &retention); err != nil {
		return fmt.Errorf("reading pg_partman's set of %s: %w", parent, err)
	}
	var typ string
	if err := conn.QueryRow(ctx, `SELECT format_type(atttypid, NULL) FROM pg_attribute WHERE attrelid = $1 AND attname = $2 AND NOT attisdropped`, t.OID, control).Scan(&typ); err != nil {
		return fmt.Errorf("%s has no column %s, pg_partman's control column of %s: refused", t.key(), control, parent)
	}
	if typ != "timestamp with time zone" && typ != "timestamp without time zone" && typ != "date" {
		return fmt.Errorf("%s: %s's control column %s is a %s, and pgtend tells only a time column's rows past retention: refused (drop it by hand once you have checked it)", t.key(), parent, control, typ)
	}
	var newest *time.Time
	var past *bool
	col := pgx.Identifier{control}.Sanitize()
	err = conn.QueryRow(ctx, "SELECT max("+col+")::timestamptz, max("+col+")::timestamptz < now() - $1::interval FROM "+t.rel(), retention).Scan(&newest, &past)
	if err != nil {
		return fmt.Errorf("%s: reading its newest row against %s's retention %q: %w", t.key(), parent, retention, err)
	}
	if past != nil && !*past {
		return fmt.Errorf("%s holds rows newer than %s's retention (%s; its newest %s): not a partition pg_partman detached past retention — perhaps one being loaded to attach; refused",
			t.key(), parent, retention, newest.UTC().Format("2006-01-02 15:04 UTC"))
	}
	return nil
}
