package maint

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/pgtend/pgtend/ops/config"
	"github.com/pgtend/pgtend/ops/report"
)

// PlanVacuum plans VACUUM (ANALYZE) of one table ("" for every table of the
// policy): a hypertable chunk by chunk and a partitioned table partition by
// partition, so progress reads "chunk k of n" and each lock is short. Never
// VACUUM FULL: that is a separate action (it locks the table and needs free
// space equal to it).
func PlanVacuum(ctx context.Context, conn *pgx.Conn, policy config.Policy, table string) (*Plan, error) {
	r, tables, err := inventory(ctx, conn, policy, table)
	if err != nil {
		return nil, err
	}
	p := &Plan{Target: targetName(table), Created: r.GeneratedAt}
	for _, t := range tables {
		name := t.Schema + "." + t.Name
		if t.Missing {
			p.Refused = append(p.Refused, Refusal{Table: name, Reason: name + ": not in the database"})
			continue
		}
		sum := TableSummary{Table: name, Kind: *t.Kind, TimeZone: t.Location().String(), Locks: []string{LockShareUpdateExclusive}, ForeignKeys: []ForeignKey{}, Findings: []string{}}
		var rels [][2]string // what to vacuum, in order
		// An inheritance parent holds rows of its own; a materialized view
		// is one relation.
		single := *t.Kind == report.KindTable || *t.Kind == report.KindMaterializedView
		if single || *t.Kind == report.KindInherited {
			rels = append(rels, [2]string{t.Schema, t.Name})
		}
		for _, c := range r.Chunks {
			if c.TableSchema == t.Schema && c.Table == t.Name {
				rels = append(rels, [2]string{c.ChunkSchema, c.Chunk})
			}
		}
		for k, rel := range rels {
			title := "VACUUM (ANALYZE) " + name
			if !single {
				title = fmt.Sprintf("VACUUM (ANALYZE) %s: chunk %d of %d", name, k+1, len(rels))
			}
			sum.Steps = append(sum.Steps, len(p.Steps))
			p.Steps = append(p.Steps, vacuumStep(title, pgx.Identifier{rel[0], rel[1]}.Sanitize(), pgx.Identifier{t.Schema, t.Name}.Sanitize()))
		}
		p.Tables = append(p.Tables, sum)
	}
	if len(p.Steps) == 0 {
		p.Notes = append(p.Notes, "nothing to vacuum")
	}
	return p, nil
}

func vacuumStep(title, target, table string) Step {
	stmt := "VACUUM (ANALYZE) " + target
	return Step{
		Title: title, Target: target, Statements: []string{stmt}, Lock: LockShareUpdateExclusive, Unit: "blocks", Table: table,
		needs: needs(target, NeedMaintain),
		run: func(ctx context.Context, r *runner, i int) (int64, error) {
			stop := r.pollVacuum(ctx, i)
			_, err := r.conn.Exec(ctx, stmt)
			stop()
			// VACUUM of a table the role may not maintain warns and does
			// nothing: that is no "ok".
			for _, n := range r.stepNotices() {
				if strings.Contains(n, "skipping \"") {
					return 0, skip(n)
				}
			}
			var pgErr *pgconn.PgError
			if errors.As(err, &pgErr) && pgErr.Code == "42P01" {
				// Dropped since the plan was made (a retention job, TimescaleDB's
				// own policy): nothing left to vacuum.
				r.emit(Event{Kind: Log, Step: i, Message: target + " no longer exists: skipped"})
				return 0, nil
			}
			return 0, err
		},
	}
}

// pollVacuum reports pg_stat_progress_vacuum of the running VACUUM from the
// watch connection until stopped.
func (r *runner) pollVacuum(ctx context.Context, step int) (stop func()) {
	return r.poll(ctx, 200*time.Millisecond, func(ctx context.Context) {
		var phase string
		var total, scanned int64
		err := r.watch.QueryRow(ctx, `SELECT phase, heap_blks_total, heap_blks_scanned FROM pg_stat_progress_vacuum WHERE pid = $1`, r.pid).Scan(&phase, &total, &scanned)
		if err == nil {
			r.emit(Event{Kind: Progress, Step: step, Done: scanned, Total: total, Unit: "blocks", Message: phase})
		}
	})
}

// poll calls read every period, on a goroutine of its own, until stop is
// called (once or more) or ctx ends; stop returns when read is done: the
// progress views of a running statement, read from the watch connection.
func (r *runner) poll(ctx context.Context, every time.Duration, read func(ctx context.Context)) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				read(ctx)
			}
		}
	}()
	var once sync.Once
	return func() { once.Do(func() { cancel(); <-finished }) }
}

// inventory reads what a plan works from: the report (tables, chunks and
// their exact sizes, read as the console reads them) and the tables chosen.
func inventory(ctx context.Context, conn *pgx.Conn, policy config.Policy, table string) (*report.Report, []report.Table, error) {
	r, err := report.Collect(ctx, conn, policy)
	if err != nil {
		return nil, nil, err
	}
	tables, err := pick(r, table)
	return r, tables, err
}

// pick selects the tables an action works on: one named table (by name or
// schema.name; it must exist), or every table of the policy.
func pick(r *report.Report, table string) ([]report.Table, error) {
	if table == "" {
		var out []report.Table
		for _, t := range r.Tables {
			if t.InPolicy {
				out = append(out, t)
			}
		}
		return out, nil
	}
	// schema.name first; a bare name only when one table has it, so that
	// --table events never picks archive.events for public.events.
	var byName []report.Table
	for _, t := range r.Tables {
		switch {
		case t.Missing:
		case t.Schema+"."+t.Name == table:
			return []report.Table{t}, nil
		case t.Name == table:
			byName = append(byName, t)
		}
	}
	switch len(byName) {
	case 0:
		return nil, fmt.Errorf("no table %q in the database", table)
	case 1:
		return byName, nil
	}
	return nil, fmt.Errorf("%q names %s and %s: give the table as schema.name", table, byName[0].Key(), byName[1].Key())
}

func targetName(table string) string {
	if table == "" {
		return "all tables in the policy"
	}
	return table
}
