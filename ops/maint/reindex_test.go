package maint

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pgtend/pgtend/ops/config"
	"github.com/pgtend/pgtend/ops/pg"
	"github.com/pgtend/pgtend/ops/pgtest"
)

// lowThreshold makes indexes of a few MB candidates, as 10 MB of bloat
// would need tables too big for a test.
var lowThreshold = config.Reindex{MinBloatPercent: 30, MinBloatBytes: 512 << 10}

// bloated makes table (id, ts, tag) with n rows and indexes on (tag) and
// (ts), then deletes all but one row in keep and vacuums it: the heap's
// space is reusable, but each index keeps its pages, mostly empty.
func bloated(t *testing.T, conn *pgx.Conn, table string, n, keep int) {
	t.Helper()
	exec(t, conn, `CREATE TABLE `+table+` (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, ts timestamptz NOT NULL, tag text NOT NULL);
		CREATE INDEX `+table+`_tag ON `+table+` (tag); CREATE INDEX `+table+`_ts ON `+table+` (ts)`)
	exec(t, conn, `INSERT INTO `+table+` (ts, tag) SELECT now() - g * interval '1 second', md5(g::text) FROM generate_series(1, $1::int) g`, n)
	exec(t, conn, `DELETE FROM `+table+` WHERE id % $1 <> 0`, keep)
	exec(t, conn, `VACUUM ANALYZE `+table)
}

// filenodes are the relfilenodes of the table's indexes (by index name).
func filenodes(t *testing.T, conn *pgx.Conn, where string) map[string]uint32 {
	t.Helper()
	rows, err := conn.Query(context.Background(), `SELECT c.relname::text, coalesce(pg_relation_filenode(c.oid), 0) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
		JOIN pg_class t ON t.oid = i.indrelid JOIN pg_namespace n ON n.oid = t.relnamespace WHERE `+where)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]uint32{}
	for rows.Next() {
		var name string
		var node uint32
		if err := rows.Scan(&name, &node); err != nil {
			t.Fatal(err)
		}
		out[name] = node
	}
	return out
}

func invalidIndexCount(t *testing.T, conn *pgx.Conn) int64 {
	t.Helper()
	return pgtest.Count(t, conn, `SELECT count(*) FROM pg_index WHERE NOT indisvalid`)
}

func planReindex(t *testing.T, conn *pgx.Conn, policy config.Policy, table string, flags Flags) *Plan {
	t.Helper()
	plan, err := registryAction(t, "reindex").Plan(WithFlags(context.Background(), flags), conn, policy, table)
	if err != nil {
		t.Fatal(err)
	}
	if plan.Action != "reindex" || plan.Task != "reindex" {
		t.Errorf("plan of action %q task %q", plan.Action, plan.Task)
	}
	return plan
}

// An index bloated on purpose (mass DELETE) is found by the estimate,
// ranked first, and measured by pgstatindex when asked; a tidy index of
// the same size is left alone.
func TestReindexRanksABloatedIndexFirst(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	conn := connect(t, dsn)
	bloated(t, conn, "fills", 120_000, 20)
	exec(t, conn, `CREATE TABLE tidy (id int PRIMARY KEY, tag text); INSERT INTO tidy SELECT g, md5(g::text) FROM generate_series(1, 120000) g;
		CREATE INDEX tidy_tag ON tidy (tag); ANALYZE tidy`)
	policy := config.Policy{Reindex: lowThreshold}
	plan := planReindex(t, conn, policy, "", nil)
	if len(plan.Steps) == 0 || !strings.Contains(plan.Steps[0].Title, "fills_tag") {
		t.Fatalf("the bloated tag index is not first: %v", titles(plan))
	}
	var prev int64 = 1 << 62
	for _, s := range plan.Steps {
		if strings.Contains(s.Title, "tidy") {
			t.Errorf("a tidy index is planned: %s", s.Title)
		}
		if !strings.Contains(s.Title, "bloat estimated") || s.EstBytes == nil || *s.EstBytes > prev {
			t.Errorf("step %q: not an estimate, or not biggest gain first (est %v after %d)", s.Title, s.EstBytes, prev)
		}
		prev = *s.EstBytes
		if len(s.Statements) != 1 || !strings.HasPrefix(s.Statements[0], "REINDEX INDEX CONCURRENTLY ") || s.Denied != "" {
			t.Errorf("step %q: %q, denied %q", s.Title, s.Statements, s.Denied)
		}
	}
	if len(plan.Tables) != 1 || plan.Tables[0].Table != "public.fills" || len(plan.Tables[0].Steps) != len(plan.Steps) || plan.Tables[0].Goes.Bytes == nil {
		t.Errorf("summaries: %+v", plan.Tables)
	}
	if !strings.Contains(strings.Join(plan.Remarks(), "\n"), "estimates from the planner's statistics") {
		t.Errorf("the plan does not say its figures are estimates: %v", plan.Remarks())
	}

	// Measured: pgstatindex reads each index whole, and the plan says so.
	exec(t, conn, "CREATE EXTENSION pgstattuple")
	measured := planReindex(t, conn, policy, "fills", Flags{FlagMeasure: "true"})
	if len(measured.Steps) != len(plan.Steps) || !strings.Contains(measured.Steps[0].Title, "fills_tag") {
		t.Fatalf("measured plan: %v", titles(measured))
	}
	for _, s := range measured.Steps {
		if !strings.Contains(s.Title, "bloat measured") {
			t.Errorf("step %q is not measured", s.Title)
		}
	}
	var density float64
	pgtest.QueryRow(t, conn, "SELECT avg_leaf_density FROM pgstatindex('fills_tag')").Scan(&density)
	if density > 20 {
		t.Errorf("fills_tag is %.0f%% full: the test did not bloat it", density)
	}
	if !strings.Contains(strings.Join(measured.Notes, "\n"), "read whole") {
		t.Errorf("the measured plan does not say it read the indexes whole: %v", measured.Notes)
	}

	// The run: every index valid, with a new file, smaller.
	before := filenodes(t, conn, "t.relname = 'fills'")
	sizeBefore := pgtest.Count(t, conn, "SELECT pg_indexes_size('fills')")
	rec := &recorder{}
	res, err := Run(context.Background(), dsn, pg.Settings{}, measured, Options{Confirmed: true}, rec.emit)
	if err != nil || res.Outcome != OutcomeOK {
		t.Fatalf("run: %v %+v", err, res)
	}
	after := filenodes(t, conn, "t.relname = 'fills'")
	for name, node := range before {
		if after[name] == node && strings.Contains(strings.Join(titles(measured), " "), name) {
			t.Errorf("%s kept its file %d", name, node)
		}
	}
	if n := invalidIndexCount(t, conn); n != 0 {
		t.Errorf("%d invalid indexes after the run", n)
	}
	var freed int64
	for _, e := range rec.events {
		if e.Kind == StepFinished {
			freed += e.Bytes
		}
	}
	if sizeAfter := pgtest.Count(t, conn, "SELECT pg_indexes_size('fills')"); freed <= 0 || sizeBefore-sizeAfter != freed {
		t.Errorf("indexes %d → %d bytes, the steps say %d freed", sizeBefore, sizeAfter, freed)
	}
	if !hasLog(rec, "→") {
		t.Error("no step said its index's bytes before → after")
	}
}

func titles(p *Plan) []string {
	var out []string
	for _, s := range p.Steps {
		out = append(out, s.Title)
	}
	return out
}

func hasLog(rec *recorder, part string) bool {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	for _, e := range rec.events {
		if e.Kind == Log && strings.Contains(e.Message, part) {
			return true
		}
	}
	return false
}

// REINDEX INDEX CONCURRENTLY on a plain table and partition by partition
// on a partitioned one, while a writer inserts: no writer error, each
// rebuilt index valid with a new file, never the partitioned index itself.
func TestReindexConcurrentlyWhileWriting(t *testing.T) {
	for _, kind := range []string{"plain", "partitioned"} {
		t.Run(kind, func(t *testing.T) {
			dsn := pgtest.NewDatabase(t)
			conn := connect(t, dsn)
			insert := `INSERT INTO fills (ts, tag) VALUES (now(), 'tick')`
			if kind == "plain" {
				bloated(t, conn, "fills", 120_000, 20)
			} else {
				exec(t, conn, `CREATE TABLE fills (id bigint GENERATED ALWAYS AS IDENTITY, ts timestamptz NOT NULL, tag text NOT NULL) PARTITION BY RANGE (ts);
					CREATE TABLE fills_old PARTITION OF fills FOR VALUES FROM ('2000-01-01') TO ('2020-01-01');
					CREATE TABLE fills_new PARTITION OF fills FOR VALUES FROM ('2020-01-01') TO ('2100-01-01');
					CREATE INDEX fills_tag ON fills (tag)`)
				exec(t, conn, `INSERT INTO fills (ts, tag) SELECT CASE WHEN g % 2 = 0 THEN '2010-01-01'::timestamptz ELSE now() END, md5(g::text) FROM generate_series(1, 160000) g`)
				exec(t, conn, `DELETE FROM fills WHERE id % 20 <> 0`)
				exec(t, conn, `VACUUM ANALYZE fills`)
			}
			plan := planReindex(t, conn, config.Policy{Reindex: lowThreshold}, "fills", nil)
			want := 3 // tag, ts, pkey
			if kind == "partitioned" {
				want = 2 // fills_tag's copy on each partition
			}
			if len(plan.Steps) != want {
				t.Fatalf("%d steps, want %d: %v", len(plan.Steps), want, titles(plan))
			}
			for _, s := range plan.Steps {
				if strings.Contains(s.Statements[0], `"fills_tag"`) && kind == "partitioned" {
					t.Errorf("the partitioned index itself is rebuilt: %s", s.Statements[0])
				}
			}
			before := filenodes(t, conn, "t.relname LIKE 'fills%'")
			w := startWriter(t, dsn, insert)
			time.Sleep(150 * time.Millisecond)
			res, err := Run(context.Background(), dsn, pg.Settings{}, plan, Options{Confirmed: true}, func(Event) {})
			time.Sleep(150 * time.Millisecond)
			n, worst, errs := w.finish()
			if err != nil || res.Outcome != OutcomeOK {
				t.Fatalf("run: %v %+v", err, res)
			}
			if len(errs) > 0 || n < 4 {
				t.Errorf("writer: %d inserts, errors %v", n, errs)
			}
			t.Logf("%s: %d inserts during the reindex, worst latency %v", kind, n, worst)
			after := filenodes(t, conn, "t.relname LIKE 'fills%'")
			changed := 0
			for name, node := range before {
				if after[name] != node {
					changed++
				}
			}
			if changed != want || invalidIndexCount(t, conn) != 0 {
				t.Errorf("%d indexes got a new file (want %d), %d invalid", changed, want, invalidIndexCount(t, conn))
			}
		})
	}
}

// holdWriter opens a transaction that inserts into table and stays open:
// a REINDEX CONCURRENTLY of its indexes waits for it before building.
func holdWriter(t *testing.T, dsn, insert string) (release func()) {
	t.Helper()
	c := connect(t, dsn)
	exec(t, c, "BEGIN")
	exec(t, c, insert)
	var once sync.Once
	return func() { once.Do(func() { exec(t, c, "ROLLBACK") }) }
}

// waitPhase waits until a session's CREATE INDEX / REINDEX reports a
// phase containing part.
func waitPhase(t *testing.T, conn *pgx.Conn, part string) int32 {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		var pid int32
		err := conn.QueryRow(context.Background(), `SELECT pid FROM pg_stat_progress_create_index WHERE phase LIKE '%' || $1 || '%'`, part).Scan(&pid)
		if err == nil {
			return pid
		}
	}
	t.Fatalf("no REINDEX reached the phase %q", part)
	return 0
}

// A REINDEX CONCURRENTLY cancelled by someone else leaves an invalid
// _ccnew copy: the plan finds it with its size and drops it. One pgtend's
// own run cancels, pgtend drops itself, and says so.
func TestCancelledReindexLeavesACopyThatIsFoundAndDropped(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	conn := connect(t, dsn)
	bloated(t, conn, "fills", 40_000, 2)
	insert := `INSERT INTO fills (ts, tag) VALUES (now(), 'held')`

	// Someone else's REINDEX, cancelled while it waits for a writer.
	release := holdWriter(t, dsn, insert)
	other := connect(t, dsn)
	failed := make(chan error, 1)
	go func() {
		_, err := other.Exec(context.Background(), "REINDEX INDEX CONCURRENTLY fills_tag")
		failed <- err
	}()
	pid := waitPhase(t, conn, "waiting for writers")
	exec(t, conn, "SELECT pg_cancel_backend($1)", pid)
	if err := <-failed; err == nil {
		t.Fatal("the REINDEX was not cancelled")
	}
	release()
	if n := pgtest.Count(t, conn, `SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE NOT i.indisvalid AND c.relname = 'fills_tag_ccnew'`); n != 1 {
		t.Fatalf("the cancelled REINDEX left %d fills_tag_ccnew", n)
	}
	plan := planReindex(t, conn, config.Policy{}, "fills", nil) // default threshold: only the leftover
	if len(plan.Steps) != 1 || plan.Steps[0].Statements[0] != `DROP INDEX CONCURRENTLY "public"."fills_tag_ccnew"` || plan.Steps[0].EstBytes == nil {
		t.Fatalf("plan: %v %+v", titles(plan), plan.Steps)
	}
	if !strings.Contains(strings.Join(plan.Tables[0].Findings, "\n"), "leftover index") {
		t.Errorf("findings: %v", plan.Tables[0].Findings)
	}
	res, err := Run(context.Background(), dsn, pg.Settings{}, plan, Options{Confirmed: true}, func(Event) {})
	if err != nil || res.Outcome != OutcomeOK || invalidIndexCount(t, conn) != 0 {
		t.Fatalf("run: %v %+v, %d invalid indexes left", err, res, invalidIndexCount(t, conn))
	}

	// pgtend's own run, cancelled while its REINDEX waits for the writer:
	// once the writer is gone, the copy it left is dropped.
	plan = planReindex(t, conn, config.Policy{}, "", Flags{FlagIndex: "fills_tag"})
	release = holdWriter(t, dsn, insert)
	ctx, cancel := context.WithCancel(context.Background())
	rec := &recorder{}
	emit := func(e Event) {
		rec.emit(e)
		if e.Kind == Progress && strings.Contains(e.Message, "waiting for writers") {
			cancel()
			go func() { time.Sleep(300 * time.Millisecond); release() }()
		}
	}
	res, err = Run(ctx, dsn, pg.Settings{}, plan, Options{Confirmed: true, LockTimeout: 20 * time.Second}, emit)
	cancel()
	release()
	if err != nil || res.Outcome != OutcomeCancelled || rec.count(StepCancelled) != 1 {
		t.Fatalf("cancelled run: %v %+v", err, res)
	}
	if !hasLog(rec, "dropped") || invalidIndexCount(t, conn) != 0 {
		t.Errorf("the cancelled run left %d invalid indexes; its log: %v", invalidIndexCount(t, conn), rec.events)
	}
}

// Without room on the data directory's filesystem for the new copy and
// its WAL, plus keep_free, a rebuild is refused with the numbers.
func TestReindexRefusedWithoutDiskRoom(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	conn := connect(t, dsn)
	bloated(t, conn, "fills", 40_000, 20)
	policy := config.Policy{Reindex: config.Reindex{MinBloatPercent: 30, MinBloatBytes: 1}, Disk: config.Disk{KeepFreeBytes: 1 << 60}}
	plan := planReindex(t, conn, policy, "fills", nil)
	if strings.Contains(strings.Join(plan.Notes, " "), "free disk not checked") {
		t.Skipf("pgtend cannot see the test cluster's disk: %v", plan.Notes)
	}
	if len(plan.Steps) != 0 || len(plan.Refused) != 3 {
		t.Fatalf("steps %v, refused %+v", titles(plan), plan.Refused)
	}
	for _, r := range plan.Refused {
		if !strings.Contains(r.Reason, "needs ~") || !strings.Contains(r.Reason, "keep_free 1.2 EB") || !strings.Contains(r.Reason, "filesystem has") {
			t.Errorf("refusal without the numbers: %s", r.Reason)
		}
	}
	policy.Disk = config.Disk{}
	if plan := planReindex(t, conn, policy, "fills", nil); len(plan.Steps) != 3 {
		t.Errorf("with room: %v", titles(plan))
	}
}

// A role that does not own the table: its REINDEX steps are marked with
// what would allow them, and a plan of nothing it may do is refused.
func TestReindexStepsTheRoleMayNotDoAreMarked(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	admin := connect(t, dsn)
	bloated(t, admin, "fills", 40_000, 20)
	exec(t, admin, `CREATE ROLE reindexer LOGIN; GRANT SELECT ON fills TO reindexer; GRANT CREATE ON SCHEMA public TO reindexer`)
	mon := pgtest.ConnectAs(t, dsn, "reindexer")
	bloated(t, mon, "mine", 40_000, 20)
	policy := config.Policy{Reindex: config.Reindex{MinBloatPercent: 30, MinBloatBytes: 1}}
	plan := planReindex(t, mon, policy, "", nil)
	var denied, allowed int
	for _, s := range plan.Steps {
		switch {
		case s.Denied != "" && strings.Contains(s.Target, "fills") && strings.Contains(s.Denied, "GRANT") && strings.Contains(s.Denied, "pgtend"):
			denied++
		case s.Denied == "" && strings.Contains(s.Target, "mine"):
			allowed++
		default:
			t.Errorf("step %q on %s: denied %q", s.Title, s.Target, s.Denied)
		}
	}
	if denied != 3 || allowed != 3 {
		t.Errorf("%d denied, %d allowed: %v", denied, allowed, titles(plan))
	}
	_, err := registryAction(t, "reindex").Plan(context.Background(), mon, policy, "fills")
	var d *DeniedError
	if !errors.As(err, &d) {
		t.Errorf("a plan of nothing allowed: %v", err)
	}
	res, err := Run(context.Background(), asRole(t, dsn, "reindexer"), pg.Settings{}, plan, Options{Confirmed: true}, func(Event) {})
	if err != nil || res.Outcome != OutcomeSkipped || len(res.Skipped) != 3 {
		t.Errorf("run as reindexer: %v %+v", err, res)
	}
}

// The registry: reindex and compress have their console keys and tasks,
// and monthly runs them — compression before VACUUM ANALYZE, the indexes
// last, on fresh statistics.
func TestMonthlyCompressesAndRebuildsIndexes(t *testing.T) {
	reg := Default()
	for name, want := range map[string][2]string{"reindex": {"i", "reindex"}, "compress": {"c", "compression_check"}} {
		a, ok := reg.Action(name)
		if !ok || a.Key != want[0] || a.Task != want[1] || a.Help == "" || a.Planner == nil || a.Destructive {
			t.Errorf("%s: %+v", name, a)
		}
	}
	s, _ := reg.Script("monthly")
	if got := strings.Join(s.Actions, ","); got != "retention,compress,archive,vacuum,reindex" {
		t.Errorf("monthly runs %s", got)
	}
}

// A transaction that stays open on the table holds REINDEX CONCURRENTLY
// up past the lock timeout: the step fails naming why, after the retries,
// and what it could not clean up (the writer holds that up too) it names,
// for the next plan to drop.
func TestReindexHeldUpByAnOpenTransaction(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	conn := connect(t, dsn)
	bloated(t, conn, "fills", 40_000, 2)
	plan := planReindex(t, conn, config.Policy{}, "", Flags{FlagIndex: "fills_tag"})
	release := holdWriter(t, dsn, `INSERT INTO fills (ts, tag) VALUES (now(), 'held')`)
	rec := &recorder{}
	res, err := Run(context.Background(), dsn, pg.Settings{}, plan, Options{Confirmed: true, LockTimeout: 300 * time.Millisecond, LockRetries: 1}, rec.emit)
	release()
	if err != nil || res.Outcome != OutcomeFailed || len(res.Failed) != 1 {
		t.Fatalf("run: %v %+v", err, res)
	}
	// Held up before building, then its copy's DROP held up by the same
	// session: one copy left, said, and no second try leaving another.
	if !strings.Contains(res.Failed[0], "idle in transaction") || !strings.Contains(res.Failed[0], "not tried again") {
		t.Errorf("the failure does not name the session: %s", res.Failed[0])
	}
	if left := invalidIndexCount(t, conn); left != 1 || !hasLog(rec, "left public.fills_tag_ccnew (invalid") {
		t.Errorf("%d invalid indexes left; log %v", left, rec.events)
	}
	next := planReindex(t, conn, config.Policy{}, "fills", nil)
	if len(next.Steps) != 1 || next.Steps[0].Statements[0] != `DROP INDEX CONCURRENTLY "public"."fills_tag_ccnew"` {
		t.Errorf("the next plan: %v", titles(next))
	}
}
