package pgtest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pgtend/pgtend/ops/cluster"
)

// CronDatabase is the test cluster's cron.database_name: pg_cron keeps its
// jobs in one database per cluster, so the tests that schedule jobs share
// it, one at a time (RequireCron).
const CronDatabase = "pgtend_cron"

// cronMu lets one test at a time use the cron database.
var cronMu sync.Mutex

// prepareCron creates the cron database and the extension in it, so
// pg_cron's launcher finds them.
func prepareCron(ctx context.Context, c *cluster.Cluster) error {
	if !c.Cron {
		return nil
	}
	dsn, err := c.CreateDatabase(ctx, c.CronDatabase)
	if err != nil {
		return err
	}
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, "CREATE EXTENSION IF NOT EXISTS pg_cron")
	return err
}

// RequireCron skips the test, loudly, when pg_cron is not installed; else
// it gives the test the cron database (pg_cron's cron.database_name) to
// itself until it ends, emptied first: no job, no run, no table, view or
// routine in public, no pgtend schema. Tests that call it do not run at
// the same time. (Schema public itself stays: the extension belongs to it.)
func RequireCron(t testing.TB) string {
	t.Helper()
	if Cluster == nil || !Cluster.Cron {
		t.Skip("SKIPPED: pg_cron is not installed on this machine (Debian: postgresql-NN-cron); pg_cron code paths are untested here")
	}
	cronMu.Lock()
	t.Cleanup(cronMu.Unlock)
	dsn := Cluster.DSN(Cluster.CronDatabase)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for _, stmt := range []string{
		"SELECT cron.unschedule(jobid) FROM cron.job",
		"DELETE FROM cron.job_run_details",
		"DROP SCHEMA IF EXISTS pgtend CASCADE",
		`DO $$ DECLARE r record; BEGIN
			FOR r IN SELECT c.oid::regclass AS rel, c.relkind FROM pg_class c
				WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm') AND NOT c.relispartition
				  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
			LOOP
				EXECUTE format('DROP %s IF EXISTS %s CASCADE',
					CASE r.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE 'TABLE' END, r.rel);
			END LOOP;
			FOR r IN SELECT p.oid::regprocedure AS fn, p.prokind FROM pg_proc p WHERE p.pronamespace = 'public'::regnamespace
				AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')
			LOOP
				EXECUTE format('DROP %s IF EXISTS %s CASCADE', CASE r.prokind WHEN 'p' THEN 'PROCEDURE' ELSE 'FUNCTION' END, r.fn);
			END LOOP;
		END $$`,
	} {
		if _, err := conn.Exec(ctx, stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	return dsn
}
