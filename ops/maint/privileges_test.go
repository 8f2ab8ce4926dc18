package maint

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/pgtend/pgtend/ops/config"
	"github.com/pgtend/pgtend/ops/pg"
	"github.com/pgtend/pgtend/ops/pgtest"
	"github.com/pgtend/pgtend/ops/report"
)

// asRole is dsn for another login role of the test cluster.
func asRole(t *testing.T, dsn, role string) string {
	t.Helper()
	out := strings.Replace(dsn, "pgtend@", role+"@", 1)
	if out == dsn {
		t.Fatalf("cannot derive %s's DSN from %s", role, dsn)
	}
	return out
}

// vacuumDue reads the calendar's VACUUM ANALYZE status from a report.
func vacuumDue(t *testing.T, conn *pgx.Conn) string {
	t.Helper()
	r, err := report.Collect(context.Background(), conn, config.Policy{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range r.Calendar {
		if c.Task == "vacuum_analyze" {
			return c.Status
		}
	}
	t.Fatal("no vacuum_analyze in the calendar")
	return ""
}

// A monitoring role that reads every table but owns one: the plan marks
// the VACUUMs it may not do with what would allow them, the run skips
// them and says so, the history records "skipped" and the calendar's
// VACUUM stays due; as the owner the same run is ok and moves it.
func TestStepsTheRoleMayNotDoAreForeseenAndSkipped(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	admin := connect(t, dsn)
	exec(t, admin, `CREATE TABLE quotes (ts timestamptz NOT NULL); INSERT INTO quotes SELECT now() FROM generate_series(1, 10);
		CREATE ROLE monitor LOGIN; GRANT SELECT ON quotes TO monitor; GRANT CREATE ON SCHEMA public TO monitor`)
	mon := pgtest.ConnectAs(t, dsn, "monitor")
	exec(t, mon, `CREATE TABLE mine (ts timestamptz NOT NULL); INSERT INTO mine VALUES (now())`)
	policy := config.Policy{Tables: []config.TablePolicy{{Name: "quotes", TimeColumn: "ts"}, {Name: "mine", TimeColumn: "ts"}}}
	vacuum := registryAction(t, "vacuum")

	plan, err := vacuum.Plan(context.Background(), mon, policy, "")
	if err != nil {
		t.Fatal(err)
	}
	var denied []Step
	for _, s := range plan.Steps {
		if s.Denied != "" {
			denied = append(denied, s)
		}
	}
	if len(denied) != 1 || !strings.Contains(denied[0].Target, "quotes") || !strings.Contains(denied[0].Denied, "GRANT") || !strings.Contains(denied[0].Denied, "owned by pgtend") {
		t.Fatalf("denied steps: %+v", denied)
	}
	// Only quotes: nothing can run, the plan is refused and says why.
	if _, err := vacuum.Plan(context.Background(), mon, policy, "quotes"); !IsDenied(err) || !strings.Contains(err.Error(), "role monitor may do none of this plan") {
		t.Errorf("a plan of nothing allowed: %v", err)
	}
	res, err := Run(context.Background(), asRole(t, dsn, "monitor"), pg.Settings{}, plan, Options{Confirmed: true, Policy: policy}, func(Event) {})
	if err != nil || res.Outcome != OutcomeSkipped || len(res.Skipped) != 1 || !strings.Contains(res.Skipped[0], "quotes") {
		t.Fatalf("run as monitor: %v %+v", err, res)
	}
	if _, err := Record(context.Background(), admin, Entry(plan, res, nil, "db", "monitor"), nil); err != nil {
		t.Fatal(err)
	}
	if st := vacuumDue(t, admin); st == "ok" {
		t.Errorf("a VACUUM that skipped a table counts as done")
	}
	// The owner's run of the same plan is ok and moves the calendar.
	plan, err = vacuum.Plan(context.Background(), admin, policy, "")
	if err != nil {
		t.Fatal(err)
	}
	res, err = Run(context.Background(), dsn, pg.Settings{}, plan, Options{Confirmed: true, Policy: policy}, func(Event) {})
	if err != nil || res.Outcome != OutcomeOK {
		t.Fatalf("run as owner: %v %+v", err, res)
	}
	if _, err := Record(context.Background(), admin, Entry(plan, res, nil, "db", "pgtend"), nil); err != nil {
		t.Fatal(err)
	}
	if st := vacuumDue(t, admin); st != "ok" {
		t.Errorf("the owner's VACUUM does not count: %s", st)
	}
}

// A table that changes hands between the plan and the run: the server's
// "skipping" warning makes the step skipped, in the server's words.
func TestVacuumTheServerSkipsIsSkipped(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	admin := connect(t, dsn)
	exec(t, admin, `CREATE ROLE worker LOGIN; CREATE ROLE other; GRANT CREATE ON SCHEMA public TO worker`)
	w := pgtest.ConnectAs(t, dsn, "worker")
	exec(t, w, `CREATE TABLE jobs (ts timestamptz NOT NULL); INSERT INTO jobs VALUES (now())`)
	policy := config.Policy{Tables: []config.TablePolicy{{Name: "jobs", TimeColumn: "ts"}}}
	plan, err := registryAction(t, "vacuum").Plan(context.Background(), w, policy, "jobs")
	if err != nil {
		t.Fatal(err)
	}
	exec(t, admin, `ALTER TABLE jobs OWNER TO other`)
	res, err := Run(context.Background(), asRole(t, dsn, "worker"), pg.Settings{}, plan, Options{Confirmed: true, Policy: policy}, func(Event) {})
	if err != nil || res.Outcome != OutcomeSkipped || len(res.Skipped) != 1 || !strings.Contains(res.Skipped[0], `skipping "jobs"`) {
		t.Errorf("vacuum the server skipped: %v %+v", err, res)
	}
}

// drop_chunks whose chunks someone dropped since the plan: skipped, with
// the reason, and nothing else touched.
func TestDropChunksOfChunksAlreadyGoneIsSkipped(t *testing.T) {
	pgtest.RequireTimescale(t)
	dsn, conn := fkDatabase(t, "hypertable")
	exec(t, conn, feedDDL("ticks", "hypertable", 0))
	policy := config.Policy{Tables: []config.TablePolicy{{Name: "ticks", TimeColumn: "ts", RetentionDays: 10}}}
	plan, err := planOf(t, conn, policy, "ticks")
	if err != nil {
		t.Fatal(err)
	}
	exec(t, conn, "SELECT drop_chunks('ticks', older_than => now() - interval '10 days')")
	left := count(t, conn, "SELECT count(*) FROM ticks")
	res := runPlan(t, dsn, plan, policy)
	if res.Outcome != OutcomeSkipped || len(res.Skipped) != 1 || !strings.Contains(res.Skipped[0], "none of the planned chunks") {
		t.Errorf("run: %+v", res)
	}
	if n := count(t, conn, "SELECT count(*) FROM ticks"); n != left {
		t.Errorf("rows %d → %d", left, n)
	}
}
