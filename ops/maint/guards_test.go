package maint

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/pgtend/pgtend/ops/config"
	"github.com/pgtend/pgtend/ops/pg"
	"github.com/pgtend/pgtend/ops/pgtest"
)

// dailyFeed makes the table feed, partitioned by day from `from` to `to`
// days from today, and inserts hourly rows over the SQL range rows.
func dailyFeed(t *testing.T, conn *pgx.Conn, from, to int, rows string) {
	t.Helper()
	exec(t, conn, fmt.Sprintf(`CREATE TABLE feed (ts timestamptz NOT NULL, v int) PARTITION BY RANGE (ts);
	DO $$ BEGIN
	  FOR d IN %d..%d LOOP
	    EXECUTE format('CREATE TABLE %%I PARTITION OF feed FOR VALUES FROM (%%L) TO (%%L)', 'feed_' || (d + 100), current_date + d, current_date + d + 1);
	  END LOOP;
	END $$;
	INSERT INTO feed SELECT g, 1 FROM generate_series(%s, interval '1 hour') g;`, from, to, rows))
}

// Empty partitions made ahead of time must not hide that every row is old.
func TestEmptyFuturePartitionsDoNotHideDeletingEverything(t *testing.T) {
	conn := connect(t, pgtest.NewDatabase(t))
	dailyFeed(t, conn, -60, 5, "current_date - 60, current_date - 40")
	policy := config.Policy{Tables: []config.TablePolicy{{Name: "feed", TimeColumn: "ts", RetentionDays: 30}}}
	_, err := PlanRetention(context.Background(), conn, policy, "feed", RetentionOptions{})
	if err == nil || !strings.Contains(err.Error(), "refusing to delete everything") {
		t.Fatalf("ingestion stopped 40 days ago, retention 30 days: %v", err)
	}
}

func TestRetentionOnlyByThePartitionColumn(t *testing.T) {
	conn := connect(t, pgtest.NewDatabase(t))
	exec(t, conn, `CREATE TABLE feed (ts timestamptz NOT NULL, received timestamptz NOT NULL) PARTITION BY RANGE (ts);
		CREATE TABLE feed_a PARTITION OF feed FOR VALUES FROM ('2020-01-01') TO ('2040-01-01');
		INSERT INTO feed VALUES (now(), now())`)
	policy := config.Policy{Tables: []config.TablePolicy{{Name: "feed", TimeColumn: "received", RetentionDays: 30}}}
	if _, err := PlanRetention(context.Background(), conn, policy, "feed", RetentionOptions{}); err == nil || !strings.Contains(err.Error(), "not the column the table is partitioned by") {
		t.Errorf("policy column differs from the partition key: %v", err)
	}
}

// A partition detached by someone else between plan and run is left alone.
func TestDetachedPartitionIsLeftAlone(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	conn := connect(t, dsn)
	dailyFeed(t, conn, -10, 1, "current_date - 10, current_date + interval '12 hours'")
	policy := config.Policy{Tables: []config.TablePolicy{{Name: "feed", TimeColumn: "ts", RetentionDays: 5}}}
	plan, err := PlanRetention(context.Background(), conn, policy, "feed", RetentionOptions{})
	if err != nil || len(plan.Steps) < 2 {
		t.Fatalf("plan: %v %+v", err, plan)
	}
	exec(t, conn, `ALTER TABLE feed DETACH PARTITION feed_90; ALTER TABLE feed_90 RENAME TO feed_archive`)
	exec(t, conn, `CREATE TABLE feed_90 (LIKE feed)`) // an unrelated table takes the name
	rec := &recorder{}
	res, err := Run(context.Background(), dsn, pg.Settings{}, plan, Options{Confirmed: true, Policy: policy}, rec.emit)
	// The step of the partition left alone did nothing: the run says so.
	if err != nil || res.Outcome != OutcomeSkipped || len(res.Skipped) != 1 || !strings.Contains(res.Skipped[0], "feed_90") {
		t.Fatalf("run: %v %+v", err, res)
	}
	var exists, archived bool
	pgtest.QueryRow(t, conn, `SELECT to_regclass('feed_90') IS NOT NULL, to_regclass('feed_archive') IS NOT NULL`).Scan(&exists, &archived)
	if !exists || !archived {
		t.Errorf("a table that was no longer the plan's partition was dropped (feed_90 %v, archive %v)", exists, archived)
	}
	// The step of the partition left alone removed nothing, and says so.
	for _, e := range rec.events {
		if e.Kind == StepFinished && strings.Contains(plan.Steps[e.Step].Target, "feed_90") && e.Bytes != 0 {
			t.Errorf("the step that left feed_90 alone reports %d bytes removed", e.Bytes)
		}
	}
}

// Chunks that appear after the plan (a late backfill) stop the drop.
func TestDropChunksRefusesChunksThePlanDidNotList(t *testing.T) {
	pgtest.RequireTimescale(t)
	dsn := pgtest.NewDatabase(t)
	conn := connect(t, dsn)
	exec(t, conn, `CREATE EXTENSION timescaledb;
		CREATE TABLE m (time timestamptz NOT NULL, v int);
		SELECT create_hypertable('m', 'time', chunk_time_interval => interval '1 day');
		INSERT INTO m SELECT g, 1 FROM generate_series(now() - interval '20 days', now(), interval '1 hour') g`)
	policy := config.Policy{Tables: []config.TablePolicy{{Name: "m", TimeColumn: "time", RetentionDays: 10}}}
	plan, err := PlanRetention(context.Background(), conn, policy, "m", RetentionOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var before int64
	pgtest.QueryRow(t, conn, "SELECT count(*) FROM m").Scan(&before)
	exec(t, conn, `INSERT INTO m VALUES (now() - interval '40 days', 2)`) // backfill: a new old chunk
	res, err := Run(context.Background(), dsn, pg.Settings{}, plan, Options{Confirmed: true, Policy: policy}, func(Event) {})
	if err != nil || res.Outcome != OutcomeFailed || len(res.Failed) == 0 || !strings.Contains(res.Failed[0], "appeared since the plan") {
		t.Fatalf("run: %v %+v", err, res)
	}
	var after int64
	pgtest.QueryRow(t, conn, "SELECT count(*) FROM m").Scan(&after)
	if after != before+1 {
		t.Errorf("%d rows, had %d + 1: something was dropped", after, before)
	}
	// Planned again, it goes through.
	plan, err = PlanRetention(context.Background(), conn, policy, "m", RetentionOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res, err := Run(context.Background(), dsn, pg.Settings{}, plan, Options{Confirmed: true, Policy: policy}, func(Event) {}); err != nil || res.Outcome != OutcomeOK {
		t.Fatalf("second run: %v %+v", err, res)
	}
	var old int64
	pgtest.QueryRow(t, conn, "SELECT count(*) FROM m WHERE time < now() - interval '11 days'").Scan(&old)
	if old != 0 {
		t.Errorf("%d old rows left", old)
	}
}

// A plan that deletes data runs only once confirmed (Options.Confirmed for
// --yes, Plan.Confirm for the console's typed name): ops refuses it
// otherwise, whatever the UI did, and nothing is deleted.
func TestUnconfirmedDestructivePlanIsRefused(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	conn := connect(t, dsn)
	dailyFeed(t, conn, -60, 5, "current_date - 60, now()")
	policy := config.Policy{Tables: []config.TablePolicy{{Name: "feed", TimeColumn: "ts", RetentionDays: 30}}}
	p, err := PlanRetention(context.Background(), conn, policy, "feed", RetentionOptions{})
	if err != nil || !p.NeedsConfirmation() {
		t.Fatalf("plan: %v", err)
	}
	var before int64
	pgtest.QueryRow(t, conn, "SELECT count(*) FROM feed").Scan(&before)
	res, err := Run(context.Background(), dsn, pg.Settings{}, p, Options{Policy: policy}, func(Event) {})
	if !errors.Is(err, ErrNotConfirmed) || res.Outcome != OutcomeFailed || !strings.Contains(err.Error(), "deletes data and was not confirmed") {
		t.Fatalf("unconfirmed: %s, %v", res.Outcome, err)
	}
	var after int64
	pgtest.QueryRow(t, conn, "SELECT count(*) FROM feed").Scan(&after)
	if after != before {
		t.Errorf("rows %d → %d without confirmation", before, after)
	}
	p.Confirm() // the console's typed name
	if res, err := Run(context.Background(), dsn, pg.Settings{}, p, Options{Policy: policy}, func(Event) {}); err != nil || res.Outcome != OutcomeOK {
		t.Errorf("confirmed: %s, %v", res.Outcome, err)
	}
}

// A rewrite by VACUUM FULL locks the table, reads too, for the whole
// rewrite: its plan needs the operator's confirmation. pg_repack, which
// needs a primary key (or a unique index on NOT NULL columns), is not
// offered for a table without one.
func TestRewriteByVacuumFullNeedsConfirmation(t *testing.T) {
	conn := connect(t, pgtest.NewDatabase(t))
	if _, err := conn.Exec(context.Background(), "CREATE EXTENSION IF NOT EXISTS pg_repack"); err != nil {
		t.Skipf("SKIPPED: pg_repack is not installed (Debian: postgresql-NN-repack): %v", err)
	}
	exec(t, conn, `CREATE TABLE keyless (v int, pad text); INSERT INTO keyless SELECT g, repeat('x', 100) FROM generate_series(1, 1000) g;
		CREATE TABLE keyed (id int PRIMARY KEY, pad text); INSERT INTO keyed SELECT g, repeat('x', 100) FROM generate_series(1, 1000) g`)
	p, err := PlanRewrite(context.Background(), conn, config.Policy{}, "keyless")
	if err != nil {
		t.Fatal(err)
	}
	if p.Steps[0].Lock != LockVacuumFull || !p.NeedsConfirmation() || !strings.Contains(strings.Join(p.Notes, " "), "no primary key nor unique index on NOT NULL columns") {
		t.Errorf("keyless: lock %q, needs confirmation %v, notes %q", p.Steps[0].Lock, p.NeedsConfirmation(), p.Notes)
	}
	p, err = PlanRewrite(context.Background(), conn, config.Policy{}, "keyed")
	if err != nil {
		t.Fatal(err)
	}
	if _, why, _ := FindRepack(context.Background(), conn); why == "" && (p.Steps[0].Lock != LockRepack || p.NeedsConfirmation()) {
		t.Errorf("keyed, with pg_repack: lock %q, needs confirmation %v", p.Steps[0].Lock, p.NeedsConfirmation())
	}
}
