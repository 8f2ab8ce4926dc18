package maint

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"

	"github.com/jackc/pgx/v5"
	"github.com/pgtend/pgtend/ops/config"
)

// repackWorkRe names pg_repack's work tables in schema repack: the copy
// (table_<oid>) and the log of changes (log_<oid>) of the table with that
// oid.
var repackWorkRe = regexp.MustCompile(`^(table|log)_([0-9]+)$`)

// RepackRunning says why a pg_repack may be running in this database now
// ("" when none seems to be): a session with pg_repack's
// application_name, or another session holding a lock on a table of
// schema repack (its work tables). Its work tables must then stay.
func RepackRunning(ctx context.Context, q querier) (string, error) {
	var pid *int32
	var how string
	err := q.QueryRow(ctx, `
		SELECT pid, how FROM (
			SELECT pid, 'application_name pg_repack' AS how FROM pg_stat_activity
			 WHERE application_name = 'pg_repack' AND datname = current_database() AND pid <> pg_backend_pid()
			UNION ALL
			SELECT l.pid, 'a lock on ' || format('repack.%I', c.relname) FROM pg_locks l
			  JOIN pg_class c ON c.oid = l.relation JOIN pg_namespace n ON n.oid = c.relnamespace
			 WHERE n.nspname = 'repack' AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
			   AND l.pid <> pg_backend_pid()
			UNION ALL
			SELECT pid, 'its advisory lock' FROM pg_locks
			 WHERE locktype = 'advisory' AND classid = 16185446 AND granted
			   AND database = (SELECT oid FROM pg_database WHERE datname = current_database())) x
		ORDER BY pid LIMIT 1`).Scan(&pid, &how)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("looking for a running pg_repack: %w", err)
	}
	return fmt.Sprintf("a pg_repack is running in this database (%s, %s): its work tables stay", slotHolder(pid), how), nil
}

// PlanDropRepackLeftover plans dropping the work tables a pg_repack that
// died left in schema repack (--table one of them; none: all). It is
// refused while a pg_repack runs (RepackRunning), and for any table that
// is not such a work table. A log table's trigger on the table being
// repacked (repack_trigger, which writes into it) goes in the same
// transaction: without it every write to that table would fail. The plan
// is destructive: confirmed by the table's name typed, or --yes.
func PlanDropRepackLeftover(ctx context.Context, conn *pgx.Conn, _ config.Policy, table string) (*Plan, error) {
	var tables []leftTable
	if table != "" {
		t, err := findTable(ctx, conn, table)
		if err != nil {
			return nil, err
		}
		tables = []leftTable{t}
	} else {
		rows, err := conn.Query(ctx, `SELECT format('repack.%s', c.relname) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
			WHERE n.nspname = 'repack' AND c.relkind = 'r' AND c.relname ~ '^(table|log)_[0-9]+$' ORDER BY c.relname`)
		if err != nil {
			return nil, err
		}
		names, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return nil, err
		}
		for _, n := range names {
			t, err := findTable(ctx, conn, n)
			if err != nil {
				return nil, err
			}
			tables = append(tables, t)
		}
	}
	for _, t := range tables {
		if t.Schema != "repack" || t.Kind != "r" || !repackWorkRe.MatchString(t.Name) {
			return nil, fmt.Errorf("%s is not a work table of pg_repack (repack.table_<oid> or repack.log_<oid>): refused", t.key())
		}
	}
	if why, err := RepackRunning(ctx, conn); err != nil || why != "" {
		if err == nil {
			err = errors.New(why + "; refused")
		}
		return nil, err
	}
	recheck := func(ctx context.Context, q querier) error {
		why, err := RepackRunning(ctx, q)
		if err == nil && why != "" {
			err = errors.New(why + " since the plan was made: not dropped")
		}
		return err
	}
	var steps []Step
	p := leftPlan("pg_repack's work tables", tables, nil)
	for _, t := range tables {
		m := repackWorkRe.FindStringSubmatch(t.Name)
		var before, after []string
		if m[1] == "log" {
			after = []string{"DROP TYPE IF EXISTS " + pgx.Identifier{"repack", "pk_" + m[2]}.Sanitize()}
			trig, err := repackTrigger(ctx, conn, m[2])
			if err != nil {
				return nil, err
			}
			if trig != "" {
				before = append(before, "DROP TRIGGER repack_trigger ON "+trig)
				p.Notes = append(p.Notes, trig+" still has pg_repack's trigger writing into "+t.key()+": it is dropped with it, or every write to "+trig+" would fail")
			}
		}
		steps = append(steps, dropTableStep(t, fmt.Sprintf("drop pg_repack's work table %s (%s)", t.key(), bkBytes(t.Bytes)), before, after, recheck))
	}
	p.Steps = steps
	if len(steps) == 0 {
		p.Notes = append(p.Notes, "no work table of pg_repack is left in schema repack")
	}
	p.Notes = append(p.Notes, "a pg_repack that died leaves these behind; pg_repack's own clean-up is DROP EXTENSION pg_repack CASCADE; CREATE EXTENSION pg_repack, which drops them all")
	return p, nil
}

// repackTrigger is the table (quoted) with the given oid when it still has
// pg_repack's repack_trigger, "" otherwise.
func repackTrigger(ctx context.Context, conn *pgx.Conn, oid string) (string, error) {
	n, err := strconv.ParseUint(oid, 10, 32)
	if err != nil {
		return "", nil // no table has such an oid
	}
	var rel string
	err = conn.QueryRow(ctx, `SELECT format('%I.%I', ns.nspname, c.relname) FROM pg_trigger g JOIN pg_class c ON c.oid = g.tgrelid
		JOIN pg_namespace ns ON ns.oid = c.relnamespace WHERE g.tgrelid = $1::oid AND g.tgname = 'repack_trigger'`, uint32(n)).Scan(&rel)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	return rel, err
}
