package maint

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pgtend/pgtend/ops/config"
	"github.com/pgtend/pgtend/ops/pg"
	"github.com/pgtend/pgtend/ops/pgtest"
)

// feedDDL makes name, of kind plain, partitioned (one partition a day) or
// hypertable (1-day chunks), with (id, ts) unique — what a foreign key
// references — and 40 days of rows, one every 6 hours, ids from base.
func feedDDL(name, kind string, base int) string {
	id := pgx.Identifier{name}.Sanitize()
	ddl := fmt.Sprintf("CREATE TABLE %s (id int NOT NULL, ts timestamptz NOT NULL, PRIMARY KEY (id, ts))", id)
	switch kind {
	case "partitioned":
		ddl += fmt.Sprintf(` PARTITION BY RANGE (ts);
		DO $$ BEGIN FOR d IN -45..2 LOOP
		  EXECUTE format('CREATE TABLE %%I PARTITION OF %s FOR VALUES FROM (%%L) TO (%%L)', '%s_' || (d + 100), current_date + d, current_date + d + 1);
		END LOOP; END $$`, id, name)
	case "hypertable":
		ddl += fmt.Sprintf("; SELECT create_hypertable('%s', 'ts', chunk_time_interval => interval '1 day')", name)
	}
	return ddl + fmt.Sprintf(";\nINSERT INTO %s SELECT %d + g, date_trunc('day', now()) - g * interval '6 hours' FROM generate_series(0, 160) g", id, base)
}

func kindsToTest(t *testing.T) []string {
	if pgtest.Cluster != nil && pgtest.Cluster.Timescale {
		return []string{"plain", "partitioned", "hypertable"}
	}
	t.Log("SKIPPED hypertables: TimescaleDB is not installed")
	return []string{"plain", "partitioned"}
}

func fkDatabase(t *testing.T, kind string) (string, *pgx.Conn) {
	t.Helper()
	dsn := pgtest.NewDatabase(t)
	conn := connect(t, dsn)
	if kind == "hypertable" {
		exec(t, conn, "CREATE EXTENSION IF NOT EXISTS timescaledb")
	}
	return dsn, conn
}

func planOf(t *testing.T, conn *pgx.Conn, policy config.Policy, table string) (*Plan, error) {
	t.Helper()
	return registryAction(t, "retention").Plan(context.Background(), conn, policy, table)
}

func runPlan(t *testing.T, dsn string, plan *Plan, policy config.Policy) Result {
	t.Helper()
	res, err := Run(context.Background(), dsn, pg.Settings{}, plan, Options{Confirmed: true, Policy: policy}, func(Event) {})
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	return res
}

// newerThan counts the rows of name at or after the cutoff of days.
func newerThan(t *testing.T, conn *pgx.Conn, name string, days int) int64 {
	return count(t, conn, fmt.Sprintf("SELECT count(*) FROM %s WHERE ts >= now() - interval '%d days'", pgx.Identifier{name}.Sanitize(), days))
}

func count(t *testing.T, conn *pgx.Conn, q string) int64 { return pgtest.Count(t, conn, q) }

// signals (10 days) is referenced ON DELETE CASCADE by fills, which is
// permanent: no plan may reach fills, and a run of the whole policy leaves
// every fill and every recent signal.
func TestCascadeIntoAPermanentTableIsRefused(t *testing.T) {
	for _, kind := range kindsToTest(t) {
		t.Run(kind, func(t *testing.T) {
			dsn, conn := fkDatabase(t, kind)
			exec(t, conn, feedDDL("signals", kind, 0)+`;
				CREATE TABLE fills (id serial PRIMARY KEY, signal_id int, signal_ts timestamptz,
					FOREIGN KEY (signal_id, signal_ts) REFERENCES signals ON DELETE CASCADE);
				INSERT INTO fills (signal_id, signal_ts) SELECT id, ts FROM signals WHERE id % 2 = 0`)
			fills := count(t, conn, "SELECT count(*) FROM fills")
			recent := newerThan(t, conn, "signals", 10)
			policy := config.Policy{Tables: []config.TablePolicy{
				{Name: "signals", TimeColumn: "ts", RetentionDays: 10}, {Name: "fills", Permanent: true}}}
			_, err := planOf(t, conn, policy, "signals")
			if err == nil || !strings.Contains(err.Error(), "signals_fkey") && !strings.Contains(err.Error(), "fills_signal_id_signal_ts_fkey") {
				if kind != "partitioned" { // partitions the fills hold just stay (see below)
					t.Fatalf("plan of signals: %v", err)
				}
			}
			if kind == "plain" && !strings.Contains(err.Error(), "fills is permanent") {
				t.Errorf("the refusal does not say why fills must stay: %v", err)
			}
			plan, err := planOf(t, conn, policy, "")
			if err != nil {
				t.Fatal(err)
			}
			runPlan(t, dsn, plan, policy)
			if n := count(t, conn, "SELECT count(*) FROM fills"); n != fills {
				t.Errorf("fills: %d rows before, %d after", fills, n)
			}
			if n := newerThan(t, conn, "signals", 10); n != recent {
				t.Errorf("signals newer than the cutoff: %d before, %d after", recent, n)
			}
			if kind == "partitioned" {
				// The partitions whose rows fills references stay; the plan said so.
				if !strings.Contains(strings.Join(plan.Remarks(), "\n"), "PostgreSQL would refuse to detach it") {
					t.Errorf("the plan does not say why partitions stay: %q", plan.Remarks())
				}
			}
		})
	}
}

// a_orders and z_legs (which references a_orders) both keep 10 days: one
// run cleans both, the referencing table first, whatever their names.
func TestParentAndChildCleanedInDependencyOrder(t *testing.T) {
	for _, kind := range kindsToTest(t) {
		t.Run(kind, func(t *testing.T) {
			dsn, conn := fkDatabase(t, kind)
			parent := "plain" // a hypertable that a foreign key references cannot drop chunks: the child is the hypertable then
			child := kind
			if kind == "partitioned" {
				parent, child = "partitioned", "plain"
			}
			exec(t, conn, feedDDL("a_orders", parent, 0)+";\n"+feedDDL("z_legs", child, 1000)+`;
				ALTER TABLE z_legs ADD COLUMN order_id int, ADD COLUMN order_ts timestamptz;
				UPDATE z_legs SET order_id = a.id, order_ts = a.ts FROM a_orders a WHERE a.id = z_legs.id - 1000;
				ALTER TABLE z_legs ADD FOREIGN KEY (order_id, order_ts) REFERENCES a_orders`)
			recentOrders, recentLegs := newerThan(t, conn, "a_orders", 10), newerThan(t, conn, "z_legs", 10)
			policy := config.Policy{Tables: []config.TablePolicy{
				{Name: "a_orders", TimeColumn: "ts", RetentionDays: 10}, {Name: "z_legs", TimeColumn: "ts", RetentionDays: 10}}}
			plan, err := planOf(t, conn, policy, "")
			if err != nil {
				t.Fatal(err)
			}
			first := -1
			for i, s := range plan.Steps {
				if s.Destructive && first < 0 {
					first = i
					if !strings.Contains(s.Table, "z_legs") {
						t.Errorf("the first cleanup is %s, want z_legs (it references a_orders)", s.Table)
					}
				}
			}
			if res := runPlan(t, dsn, plan, policy); res.Outcome != OutcomeOK {
				t.Fatalf("one run: %+v", res)
			}
			if n := count(t, conn, "SELECT count(*) FROM a_orders WHERE ts < now() - interval '11 days'"); n != 0 {
				t.Errorf("%d old orders left after one run", n)
			}
			if o, l := newerThan(t, conn, "a_orders", 10), newerThan(t, conn, "z_legs", 10); o != recentOrders || l != recentLegs {
				t.Errorf("recent rows: orders %d → %d, legs %d → %d", recentOrders, o, recentLegs, l)
			}
		})
	}
}

// A RESTRICT reference from a table outside the policy holds the rows it
// references: the plan says they stay, the run deletes the others and
// succeeds.
func TestRestrictReferenceIsForeseen(t *testing.T) {
	dsn, conn := fkDatabase(t, "plain")
	exec(t, conn, feedDDL("quotes", "plain", 0)+`;
		CREATE TABLE audit (quote_id int, quote_ts timestamptz, FOREIGN KEY (quote_id, quote_ts) REFERENCES quotes ON DELETE RESTRICT);
		INSERT INTO audit SELECT id, ts FROM quotes WHERE ts < now() - interval '30 days' LIMIT 3`)
	policy := config.Policy{Tables: []config.TablePolicy{{Name: "quotes", TimeColumn: "ts", RetentionDays: 10}}}
	plan, err := planOf(t, conn, policy, "quotes")
	if err != nil {
		t.Fatal(err)
	}
	notes := strings.Join(plan.Remarks(), "\n")
	if !strings.Contains(notes, "3 rows of public.audit reference stay") || !strings.Contains(notes, "RESTRICT") {
		t.Errorf("the plan does not foresee the RESTRICT: %s", notes)
	}
	if res := runPlan(t, dsn, plan, policy); res.Outcome != OutcomeOK {
		t.Fatalf("run: %+v", res)
	}
	if n := count(t, conn, "SELECT count(*) FROM quotes WHERE ts < now() - interval '10 days'"); n != 3 {
		t.Errorf("%d old quotes left, want the 3 audit references", n)
	}
}

// A foreign key added between the plan and the run is caught in the
// step's transaction (a DELETE batch), or by PostgreSQL itself (a DETACH
// or drop_chunks it would break): nothing of the new referencing table is
// lost, on every kind of table.
func TestForeignKeyAddedAfterThePlanIsCaught(t *testing.T) {
	for _, kind := range kindsToTest(t) {
		t.Run(kind, func(t *testing.T) {
			dsn, conn := fkDatabase(t, kind)
			exec(t, conn, feedDDL("signals", kind, 0))
			policy := config.Policy{Tables: []config.TablePolicy{{Name: "signals", TimeColumn: "ts", RetentionDays: 10}, {Name: "fills", Permanent: true}}}
			plan, err := planOf(t, conn, policy, "signals")
			if err != nil {
				t.Fatal(err)
			}
			exec(t, conn, `CREATE TABLE fills (signal_id int, signal_ts timestamptz, FOREIGN KEY (signal_id, signal_ts) REFERENCES signals ON DELETE CASCADE);
				INSERT INTO fills SELECT id, ts FROM signals`)
			fills := count(t, conn, "SELECT count(*) FROM fills")
			res := runPlan(t, dsn, plan, policy)
			if res.Outcome != OutcomeFailed {
				t.Errorf("run after a new foreign key: %+v", res)
			}
			if kind == "plain" && !strings.Contains(strings.Join(res.Failed, " "), "changed since the plan") {
				t.Errorf("the failure does not say why: %v", res.Failed)
			}
			if n := count(t, conn, "SELECT count(*) FROM fills"); n != fills {
				t.Errorf("fills: %d → %d", fills, n)
			}
		})
	}
}

// A cascade into a table outside the policy is refused like one into a
// permanent table.
func TestCascadeIntoAnUnlistedTableIsRefused(t *testing.T) {
	_, conn := fkDatabase(t, "plain")
	exec(t, conn, feedDDL("signals", "plain", 0)+`;
		CREATE TABLE notes (signal_id int, signal_ts timestamptz, FOREIGN KEY (signal_id, signal_ts) REFERENCES signals ON DELETE SET NULL);
		INSERT INTO notes SELECT id, ts FROM signals WHERE ts < now() - interval '20 days' LIMIT 5`)
	_, err := planOf(t, conn, config.Policy{Tables: []config.TablePolicy{{Name: "signals", TimeColumn: "ts", RetentionDays: 10}}}, "signals")
	if err == nil || !strings.Contains(err.Error(), "ON DELETE SET NULL") || !strings.Contains(err.Error(), "5 rows") || !strings.Contains(err.Error(), "public.notes is not in the policy") {
		t.Errorf("SET NULL into an unlisted table: %v", err)
	}
}

// A foreign key that references one partition: PostgreSQL would refuse to
// drop it, so the plan keeps it and drops the others.
func TestReferencedPartitionStays(t *testing.T) {
	dsn, conn := fkDatabase(t, "partitioned")
	exec(t, conn, feedDDL("feed", "partitioned", 0))
	var part string
	pgtest.QueryRow(t, conn, `SELECT tableoid::regclass::text FROM feed WHERE ts < now() - interval '20 days' ORDER BY ts LIMIT 1`).Scan(&part)
	exec(t, conn, fmt.Sprintf(`CREATE TABLE pinned (id int, ts timestamptz, FOREIGN KEY (id, ts) REFERENCES %s)`, part))
	var viewed string // a view on another old partition holds it too
	pgtest.QueryRow(t, conn, `SELECT tableoid::regclass::text FROM feed WHERE ts < now() - interval '25 days' ORDER BY ts DESC LIMIT 1`).Scan(&viewed)
	exec(t, conn, "CREATE VIEW old_feed AS SELECT * FROM "+viewed)
	policy := config.Policy{Tables: []config.TablePolicy{{Name: "feed", TimeColumn: "ts", RetentionDays: 10}}}
	plan, err := planOf(t, conn, policy, "feed")
	if err != nil {
		t.Fatal(err)
	}
	if r := strings.Join(plan.Remarks(), "\n"); !strings.Contains(r, "partition \"public\".\""+part+"\" stays") || !strings.Contains(r, "pinned") {
		t.Errorf("remarks: %s", r)
	}
	if res := runPlan(t, dsn, plan, policy); res.Outcome != OutcomeOK {
		t.Fatalf("run: %+v", res)
	}
	if n := count(t, conn, "SELECT count(*) FROM feed WHERE ts < now() - interval '11 days'"); n != 8 {
		t.Errorf("%d old rows left, want the referenced and the viewed partitions' 8", n)
	}
	if !strings.Contains(strings.Join(plan.Remarks(), "\n"), "view old_feed") {
		t.Errorf("the view is not named: %v", plan.Remarks())
	}
}

// Rows that other rows of the same table reference (a parent_id chain):
// the newest old ones go, those still referenced by newer rows stay.
func TestSelfReferenceKeepsReferencedRows(t *testing.T) {
	dsn, conn := fkDatabase(t, "plain")
	exec(t, conn, feedDDL("events", "plain", 0)+`;
		ALTER TABLE events ADD COLUMN parent_id int, ADD COLUMN parent_ts timestamptz,
			ADD FOREIGN KEY (parent_id, parent_ts) REFERENCES events ON DELETE CASCADE;
		UPDATE events e SET parent_id = p.id, parent_ts = p.ts FROM events p WHERE p.id = 150 AND e.id = 2`)
	policy := config.Policy{Tables: []config.TablePolicy{{Name: "events", TimeColumn: "ts", RetentionDays: 10}}}
	_, err := planOf(t, conn, policy, "events")
	if err == nil || !strings.Contains(err.Error(), "newer than the cutoff") {
		t.Errorf("a cascade onto a newer row of the same table: %v", err)
	}
	exec(t, conn, "UPDATE events SET parent_id = NULL, parent_ts = NULL")
	exec(t, conn, "UPDATE events e SET parent_id = p.id, parent_ts = p.ts FROM events p WHERE p.id = 150 AND e.id = 140") // both old
	plan, err := planOf(t, conn, policy, "events")
	if err != nil {
		t.Fatal(err)
	}
	runPlan(t, dsn, plan, policy)
	if n := count(t, conn, "SELECT count(*) FROM events WHERE ts < now() - interval '10 days'"); n != 0 {
		t.Errorf("%d old events left", n)
	}
}

func TestForeignKeyCycleIsRefusedWithItsConstraints(t *testing.T) {
	_, conn := fkDatabase(t, "plain")
	exec(t, conn, feedDDL("ping", "plain", 0)+";\n"+feedDDL("pong", "plain", 0)+`;
		ALTER TABLE ping ADD COLUMN pong_id int, ADD COLUMN pong_ts timestamptz, ADD CONSTRAINT ping_pong FOREIGN KEY (pong_id, pong_ts) REFERENCES pong;
		ALTER TABLE pong ADD COLUMN ping_id int, ADD COLUMN ping_ts timestamptz, ADD CONSTRAINT pong_ping FOREIGN KEY (ping_id, ping_ts) REFERENCES ping`)
	policy := config.Policy{Tables: []config.TablePolicy{{Name: "ping", TimeColumn: "ts", RetentionDays: 10}, {Name: "pong", TimeColumn: "ts", RetentionDays: 10}}}
	plan, err := planOf(t, conn, policy, "")
	if err != nil {
		t.Fatal(err)
	}
	notes := strings.Join(plan.Remarks(), "\n")
	if len(plan.Steps) != 0 || !strings.Contains(notes, "cycle") || !strings.Contains(notes, "ping_pong") || !strings.Contains(notes, "pong_ping") {
		t.Errorf("cycle: %d steps, notes:\n%s", len(plan.Steps), notes)
	}
}

func TestDeleteTriggersAreListed(t *testing.T) {
	_, conn := fkDatabase(t, "plain")
	exec(t, conn, feedDDL("ticks", "plain", 0)+`;
		CREATE TABLE ticks_log (id int); CREATE FUNCTION log_tick() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN INSERT INTO ticks_log VALUES (OLD.id); RETURN OLD; END $$;
		CREATE TRIGGER ticks_audit BEFORE DELETE ON ticks FOR EACH ROW EXECUTE FUNCTION log_tick()`)
	plan, err := planOf(t, conn, config.Policy{Tables: []config.TablePolicy{{Name: "ticks", TimeColumn: "ts", RetentionDays: 10}}}, "ticks")
	if err != nil {
		t.Fatal(err)
	}
	if notes := strings.Join(plan.Remarks(), "\n"); !strings.Contains(notes, "ticks_audit (BEFORE DELETE FOR EACH ROW, log_tick())") {
		t.Errorf("trigger not listed: %s", notes)
	}
}

// A table someone holds an ACCESS EXCLUSIVE lock on: the refusal names
// the holder, at once rather than after a lock timeout.
func TestLockedTableNamesItsHolder(t *testing.T) {
	dsn, conn := fkDatabase(t, "plain")
	exec(t, conn, feedDDL("busy", "plain", 0))
	holder := connect(t, dsn)
	exec(t, holder, "BEGIN; LOCK TABLE busy IN ACCESS EXCLUSIVE MODE")
	var pid int
	pgtest.QueryRow(t, holder, "SELECT pg_backend_pid()").Scan(&pid)
	plannerConn, err := pg.Connect(context.Background(), dsn, pg.Settings{LockTimeout: 2 * time.Second, StatementTimeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer plannerConn.Close(context.Background())
	start := time.Now()
	_, err = planOf(t, plannerConn, config.Policy{Tables: []config.TablePolicy{{Name: "busy", TimeColumn: "ts", RetentionDays: 10}}}, "busy")
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("held by pid %d", pid)) || !strings.Contains(err.Error(), "AccessExclusiveLock") {
		t.Errorf("plan of a locked table: %v", err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("the refusal took %s, longer than the lock timeout", took)
	}
	exec(t, holder, "ROLLBACK")
}
