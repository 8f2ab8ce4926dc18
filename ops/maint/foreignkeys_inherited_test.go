package maint

import (
	"strings"
	"testing"
	"time"

	"github.com/pgtend/pgtend/ops/config"
)

// Foreign keys declared on legacy inheritance children (PostgreSQL does
// not inherit them from the parent, so people declare them child by
// child) take part in the cleaning order and the guards like the parent's:
//   - ticks_a, a child of ticks, references orders (RESTRICT): ticks is
//     cleaned before orders, though the policy lists orders first, so one
//     run removes the old rows of both;
//   - ticks_c references its sibling ticks_b: ticks_c deletes first, so
//     ticks_b's old rows go too;
//   - audit, permanent, references one old row of ticks_b: it stays.
//
// No newer row is touched and no step fails on a foreign key.
func TestInheritanceChildForeignKeysOrderTheCleanup(t *testing.T) {
	dsn, conn := fkDatabase(t, "plain")
	exec(t, conn, feedDDL("orders", "plain", 0)+`;
		CREATE TABLE ticks (id int NOT NULL, ts timestamptz NOT NULL, order_id int, order_ts timestamptz);
		CREATE TABLE ticks_a (FOREIGN KEY (order_id, order_ts) REFERENCES orders ON DELETE RESTRICT) INHERITS (ticks);
		CREATE TABLE ticks_b (UNIQUE (id, ts)) INHERITS (ticks);
		CREATE TABLE ticks_c (FOREIGN KEY (order_id, order_ts) REFERENCES ticks_b (id, ts) ON DELETE NO ACTION) INHERITS (ticks);
		INSERT INTO ticks_a SELECT id, ts, id, ts FROM orders;
		INSERT INTO ticks_b SELECT 1000 + id, ts FROM orders;
		INSERT INTO ticks_c SELECT 2000 + id, ts, 1000 + id, ts FROM orders;
		CREATE TABLE audit (tick_id int, tick_ts timestamptz, FOREIGN KEY (tick_id, tick_ts) REFERENCES ticks_b (id, ts) ON DELETE RESTRICT);
		INSERT INTO audit SELECT id, ts FROM ticks_b ORDER BY ts LIMIT 1;
		ANALYZE`)
	policy := config.Policy{Tables: []config.TablePolicy{
		{Name: "orders", TimeColumn: "ts", RetentionDays: 10},
		{Name: "ticks", TimeColumn: "ts", RetentionDays: 10},
		{Name: "audit", Permanent: true}}}
	plan, err := planOf(t, conn, policy, "")
	if err != nil {
		t.Fatal(err)
	}
	cutoff := plan.Created.Add(-10 * 24 * time.Hour)
	var order []string
	for _, s := range plan.Steps {
		if s.Destructive {
			order = append(order, strings.TrimPrefix(s.Target, `"public".`))
		}
	}
	if strings.Join(order, " ") != `"ticks_a" "ticks_c" "ticks_b" "orders"` {
		t.Errorf("destructive steps on %v; want ticks_a, ticks_c (which references ticks_b), ticks_b, then orders (which ticks_a references)", order)
	}
	sum := summaryOf(t, plan, "public.ticks")
	var held []string
	for _, f := range sum.ForeignKeys {
		if !f.Incoming {
			held = append(held, f.From+" → "+f.To)
		}
	}
	if j := strings.Join(held, ", "); !strings.Contains(j, "public.ticks_a → public.orders") || !strings.Contains(j, "public.ticks_c → public.ticks_b") {
		t.Errorf("ticks' summary does not show the foreign keys its children hold: %v", held)
	}

	before := map[string][2]int64{}
	for _, rel := range []string{"orders", "ticks"} {
		before[rel] = fingerprint(t, conn, rel, cutoff)
	}
	auditRows := count(t, conn, "SELECT count(*) FROM audit")
	res := runPlan(t, dsn, plan, policy)
	if res.Outcome != OutcomeOK || len(res.Failed) > 0 {
		t.Fatalf("run: %+v", res)
	}
	for _, rel := range []string{"orders", "ticks"} {
		if after := fingerprint(t, conn, rel, cutoff); after != before[rel] {
			t.Errorf("%s: rows newer than the cutoff %v before, %v after", rel, before[rel], after)
		}
	}
	if n := count(t, conn, "SELECT count(*) FROM audit"); n != auditRows {
		t.Errorf("audit (permanent): %d rows before, %d after", auditRows, n)
	}
	if n := count(t, conn, "SELECT count(*) FROM orders WHERE ts < now() - interval '10 days'"); n != 0 {
		t.Errorf("%d old orders left after one run: their ticks_a references were not cleaned first", n)
	}
	var left []string
	rows, err := conn.Query(t.Context(), "SELECT tableoid::regclass::text FROM ticks WHERE ts < now() - interval '10 days' ORDER BY 1")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var s string
		_ = rows.Scan(&s)
		left = append(left, s)
	}
	if rows.Err() != nil || strings.Join(left, " ") != "ticks_b" {
		t.Errorf("old ticks left: %v (%v); want audit's one row of ticks_b", left, rows.Err())
	}
}

// A child of a permanent inheritance parent that references orders ON
// DELETE CASCADE protects the orders it references: the plan refuses to
// delete them, naming the permanent table, and the run keeps every row of
// the child.
func TestCascadeFromAPermanentParentsChildIsRefused(t *testing.T) {
	dsn, conn := fkDatabase(t, "plain")
	exec(t, conn, feedDDL("orders", "plain", 0)+`;
		CREATE TABLE fills (id int NOT NULL, ts timestamptz NOT NULL, order_id int, order_ts timestamptz);
		CREATE TABLE fills_2026 (FOREIGN KEY (order_id, order_ts) REFERENCES orders ON DELETE CASCADE) INHERITS (fills);
		INSERT INTO fills_2026 SELECT id, ts, id, ts FROM orders WHERE id % 3 = 0;
		ANALYZE`)
	policy := config.Policy{Tables: []config.TablePolicy{
		{Name: "orders", TimeColumn: "ts", RetentionDays: 10},
		{Name: "fills", TimeColumn: "ts", Permanent: true}}}
	_, err := planOf(t, conn, policy, "orders")
	if err == nil || !strings.Contains(err.Error(), "fills_2026 is permanent in the policy") {
		t.Fatalf("plan of orders: %v; want a refusal naming the permanent parent's child", err)
	}
	plan, err := planOf(t, conn, policy, "")
	if err != nil {
		t.Fatal(err)
	}
	fills := count(t, conn, "SELECT count(*) FROM fills")
	runPlan(t, dsn, plan, policy)
	if n := count(t, conn, "SELECT count(*) FROM fills"); n != fills {
		t.Errorf("fills: %d rows before, %d after", fills, n)
	}
}

// An inheritance child whose old rows a permanent table holds (ON DELETE
// CASCADE into it) keeps them, while its sibling's old rows go: the
// partitions of orders the kept rows reference stay too, the plan says
// why, and the run fails no DETACH on a foreign key.
func TestHeldChildRowsKeepThePartitionsTheyReference(t *testing.T) {
	dsn, conn := fkDatabase(t, "plain")
	exec(t, conn, feedDDL("orders", "partitioned", 0)+`;
		CREATE TABLE ticks (id int NOT NULL, ts timestamptz NOT NULL, order_id int, order_ts timestamptz);
		CREATE TABLE ticks_a (UNIQUE (id, ts), FOREIGN KEY (order_id, order_ts) REFERENCES orders ON DELETE RESTRICT) INHERITS (ticks);
		INSERT INTO ticks_a SELECT id, ts, id, ts FROM orders;
		CREATE TABLE ticks_b () INHERITS (ticks);
		INSERT INTO ticks_b SELECT 1000 + id, ts FROM orders;
		CREATE TABLE keep (tick_id int, tick_ts timestamptz, FOREIGN KEY (tick_id, tick_ts) REFERENCES ticks_a (id, ts) ON DELETE CASCADE);
		INSERT INTO keep SELECT id, ts FROM ticks_a ORDER BY ts LIMIT 3;
		ANALYZE`)
	policy := config.Policy{Tables: []config.TablePolicy{
		{Name: "orders", TimeColumn: "ts", RetentionDays: 10},
		{Name: "ticks", TimeColumn: "ts", RetentionDays: 10},
		{Name: "keep", Permanent: true}}}
	plan, err := planOf(t, conn, policy, "")
	if err != nil {
		t.Fatal(err)
	}
	old := count(t, conn, "SELECT count(*) FROM orders WHERE ts < now() - interval '11 days'")
	oldTicks := count(t, conn, "SELECT count(*) FROM ticks WHERE ts < now() - interval '11 days'")
	res := runPlan(t, dsn, plan, policy)
	if res.Outcome != OutcomeOK && res.Outcome != OutcomeSkipped || len(res.Failed) > 0 {
		t.Fatalf("run: %+v", res)
	}
	if n := count(t, conn, "SELECT count(*) FROM ticks WHERE ts < now() - interval '11 days'"); n != oldTicks/2 {
		t.Errorf("old ticks: %d before, %d after; want ticks_a's half kept (a permanent table's cascade holds them), ticks_b's gone", oldTicks, n)
	}
	if n := count(t, conn, "SELECT count(*) FROM orders WHERE ts < now() - interval '11 days'"); n != old {
		t.Errorf("old orders: %d before, %d after; the old ticks that stay reference them", old, n)
	}
	if r := strings.Join(plan.Remarks(), "\n"); !strings.Contains(r, "keep is permanent in the policy") || !strings.Contains(r, "public.ticks_a's own retention keeps them") {
		t.Errorf("the plan does not say why ticks_a's rows stay:\n%s", r)
	}
}
