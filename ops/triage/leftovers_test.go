package triage

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/pgtend/pgtend/ops/config"
	"github.com/pgtend/pgtend/ops/maint"
	"github.com/pgtend/pgtend/ops/pg"
	"github.com/pgtend/pgtend/ops/pgtest"
)

func planOf(conn *pgx.Conn, policy config.Policy, action, table string) (*maint.Plan, error) {
	a, _ := maint.Default().Action(action)
	return a.Plan(context.Background(), conn, policy, table)
}

// A half-detached partition is offered drop-detached, confirmed by its
// name: the plan finishes the detach, drops it, and the filesystem gains
// what triage said.
func TestDetachedPartitionIsDroppedAsTriageSays(t *testing.T) {
	dsn, conn := setup(t)
	part := pgtest.PendingDetach(t, dsn, conn, "hist", 300000)
	tr := collect(t, conn, config.Policy{})
	o := find(tr, KindDetachedPartition, part)
	if o == nil || o.Run == nil || o.Action == nil || *o.Action != "pgtend run drop-detached --table public."+part || o.Run.Confirm != "" || o.Frees != FreesNow {
		t.Fatalf("detached partition: %+v", o)
	}
	p, err := planOf(conn, config.Policy{}, "drop-detached", o.Run.Table)
	if err != nil {
		t.Fatal(err)
	}
	if !p.Destructive() || len(p.Steps) != 2 || !strings.Contains(p.Steps[0].Statements[0], "FINALIZE") ||
		p.Steps[1].Statements[0] != `DROP TABLE "public"."`+part+`"` || p.Steps[1].EstBytes == nil || *p.Steps[1].EstBytes != o.Bytes {
		t.Fatalf("plan: %+v", p.Steps)
	}
	ranWithin(t, dsn, conn, config.Policy{}, o, "drop-detached")
	if n := pgtest.Count(t, conn, `SELECT count(*) FROM pg_class WHERE relname = $1`, part); n != 0 {
		t.Error("the detached partition is still there")
	}
}

// Only a detached table is dropped: an attached partition, a table never
// a partition, one the policy marks permanent, one a foreign key
// references and one a view reads are refused when planned.
func TestDropDetachedRefusesWhatIsNotALeftover(t *testing.T) {
	dsn, conn := setup(t)
	perm := pgtest.PendingDetach(t, dsn, conn, "keepme", 1000)
	refd := pgtest.PendingDetach(t, dsn, conn, "pointed", 1000)
	viewed := pgtest.PendingDetach(t, dsn, conn, "viewed", 1000)
	pgtest.Exec(t, conn, `CREATE VIEW old_rows AS SELECT * FROM `+viewed)
	pgtest.Exec(t, conn, `CREATE TABLE live (ts timestamptz NOT NULL) PARTITION BY RANGE (ts); CREATE TABLE live_2020 PARTITION OF live FOR VALUES FROM ('2020-01-01') TO ('2021-01-01')`)
	pgtest.Exec(t, conn, `CREATE TABLE plain (v int)`)
	pgtest.Exec(t, conn, `CREATE UNIQUE INDEX ON `+refd+` (v); CREATE TABLE refs (v int REFERENCES `+refd+` (v))`)
	policy := config.Policy{Tables: []config.TablePolicy{{Name: perm, Permanent: true}}}
	for table, want := range map[string]string{
		"live_2020": "still attached", "plain": "not a detached partition", "live": "partitions or inheritance children of its own",
		perm: "permanent", refd: "foreign key", viewed: "view old_rows", "nosuch": "no table",
	} {
		if _, err := planOf(conn, policy, "drop-detached", table); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("drop-detached --table %s: %v, want a refusal saying %q", table, err, want)
		}
	}
	if n := pgtest.Count(t, conn, `SELECT count(*) FROM pg_inherits WHERE inhdetachpending`); n != 3 {
		t.Errorf("planning changed the pending detaches: %d left", n)
	}
}

// pg_repack's leftovers — a copy and a log fed by a trigger on the table
// being repacked, as a killed pg_repack leaves them — are offered
// drop-repack-leftover; refused while a pg_repack seems to run; the log's
// drop takes its trigger along, so writes to the table go on.
func TestRepackLeftoversAreDropped(t *testing.T) {
	dsn, conn := setup(t)
	if _, err := conn.Exec(context.Background(), `CREATE EXTENSION pg_repack`); err != nil {
		t.Skipf("SKIPPED: pg_repack is not installed on this machine (postgresql-NN-repack): %v", err)
	}
	pgtest.Exec(t, conn, `CREATE TABLE orig (id int PRIMARY KEY, payload text)`)
	pgtest.Exec(t, conn, `INSERT INTO orig SELECT g, md5(g::text) || md5((g * 3)::text) FROM generate_series(1, 200000) g`)
	var oid uint32
	pgtest.QueryRow(t, conn, `SELECT 'orig'::regclass::oid`).Scan(&oid)
	copyT, logT := fmt.Sprintf("table_%d", oid), fmt.Sprintf("log_%d", oid)
	pgtest.Exec(t, conn, fmt.Sprintf(`CREATE TABLE repack.%s AS SELECT * FROM orig;
		CREATE TYPE repack.pk_%d AS (id int);
		CREATE TABLE repack.%s (id bigserial PRIMARY KEY, pk repack.pk_%d, row orig);
		CREATE FUNCTION public.feed_log() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN INSERT INTO repack.%s (pk, row) VALUES (ROW(NEW.id), NEW); RETURN NULL; END $$;
		CREATE TRIGGER repack_trigger AFTER INSERT OR UPDATE ON orig FOR EACH ROW EXECUTE FUNCTION public.feed_log();
		INSERT INTO orig SELECT g, 'x' FROM generate_series(200001, 201000) g`, copyT, oid, logT, oid, logT))

	// A session named as pg_repack names itself: blocked, and refused.
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	cfg.RuntimeParams["application_name"] = "pg_repack"
	running, err := pgx.ConnectConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	tr := collect(t, conn, config.Policy{})
	if o := find(tr, KindRepackLeftover, copyT); o == nil || o.Run != nil || !strings.Contains(o.Blocked, "pg_repack is running") {
		t.Errorf("a leftover while pg_repack runs: %+v", o)
	}
	if _, err := planOf(conn, config.Policy{}, "drop-repack-leftover", "repack."+copyT); err == nil || !strings.Contains(err.Error(), "application_name pg_repack") {
		t.Errorf("drop while pg_repack runs: %v", err)
	}
	running.Close(context.Background())
	// A session holding a lock on a work table: refused too.
	locker := pgtest.Connect(t, dsn)
	pgtest.Exec(t, locker, `BEGIN; LOCK TABLE repack.`+logT+` IN ACCESS SHARE MODE`)
	if _, err := planOf(conn, config.Policy{}, "drop-repack-leftover", ""); err == nil || !strings.Contains(err.Error(), "a lock on repack."+logT) {
		t.Errorf("drop while a session locks a work table: %v", err)
	}
	pgtest.Exec(t, locker, `ROLLBACK`)
	if _, err := planOf(conn, config.Policy{}, "drop-repack-leftover", "public.orig"); err == nil || !strings.Contains(err.Error(), "not a work table") {
		t.Errorf("drop of a table outside schema repack: %v", err)
	}

	tr = collect(t, conn, config.Policy{})
	logO, copyO := find(tr, KindRepackLeftover, logT), find(tr, KindRepackLeftover, copyT)
	if copyO == nil || copyO.Action == nil || *copyO.Action != "pgtend run drop-repack-leftover --table repack."+copyT || logO == nil || logO.Run == nil {
		t.Fatalf("leftovers: %+v %+v", copyO, logO)
	}
	p, err := planOf(conn, config.Policy{}, "drop-repack-leftover", logO.Run.Table)
	if err != nil {
		t.Fatal(err)
	}
	if st := p.Steps[0].Statements; !p.Destructive() || len(st) != 3 || st[0] != `DROP TRIGGER repack_trigger ON public.orig` || !strings.HasPrefix(st[2], `DROP TYPE IF EXISTS "repack"."pk_`) {
		t.Fatalf("the log's plan: %+v", p.Steps)
	}
	runOption(t, dsn, conn, config.Policy{}, logO)
	pgtest.Exec(t, conn, `INSERT INTO orig VALUES (300000, 'after')`) // the trigger went with the log
	ranWithin(t, dsn, conn, config.Policy{}, copyO, "drop-repack-leftover")
	if n := pgtest.Count(t, conn, `SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'repack' AND c.relname ~ '^(table|log|pk)_'`); n != 0 {
		t.Errorf("%d of pg_repack's work objects left", n)
	}
}

// A partition pg_partman detached and kept (retention_keep_table) is
// offered drop-detached too, and frees what triage says.
func TestPartmanKeptTableIsDroppedAsTriageSays(t *testing.T) {
	dsn, conn := setup(t)
	pgtest.RequireExtension(t, conn, "pg_partman")
	pgtest.Exec(t, conn, `CREATE SCHEMA tools; CREATE EXTENSION pg_partman SCHEMA tools`)
	daily := "p_type => 'native', p_interval => 'daily'"
	if pgtest.Count(t, conn, `SELECT split_part(extversion, '.', 1)::int FROM pg_extension WHERE extname = 'pg_partman'`) >= 5 {
		daily = "p_interval => '1 day'"
	}
	pgtest.Exec(t, conn, `CREATE TABLE events (ts timestamptz NOT NULL, payload text) PARTITION BY RANGE (ts)`)
	pgtest.Exec(t, conn, `SELECT tools.create_parent(p_parent_table => 'public.events', p_control => 'ts', `+daily+`, p_start_partition => (now() - interval '10 days')::text)`)
	pgtest.Exec(t, conn, `INSERT INTO events SELECT g, md5(g::text) || md5(g::text || 'x') FROM generate_series(now() - interval '10 days', now(), interval '2 seconds') g`)
	pgtest.Exec(t, conn, `UPDATE tools.part_config SET retention = '5 days', retention_keep_table = true WHERE parent_table = 'public.events';
		SELECT tools.run_maintenance(p_parent_table => 'public.events'); ANALYZE`)
	tr := collect(t, conn, config.Policy{})
	var o *Option
	for i := range tr.Options {
		if tr.Options[i].Kind == KindDetachedPartition && tr.Options[i].Object == "public.events" {
			o = &tr.Options[i]
			break
		}
	}
	if o == nil || o.Run == nil || o.Run.Action != "drop-detached" || o.Bytes <= 0 {
		t.Fatalf("kept table: %+v in %+v", o, tr.Options)
	}
	ranWithin(t, dsn, conn, config.Policy{}, o, "drop-detached (pg_partman's)")
	if n := pgtest.Count(t, conn, `SELECT count(*) FROM pg_class WHERE relname = $1`, *o.Table); n != 0 {
		t.Errorf("%s is still there", *o.Table)
	}
	// A table named as a partition of the set, being loaded to be attached:
	// its rows are current, so it is no leftover and is not dropped.
	pgtest.Exec(t, conn, `CREATE TABLE events_p2099_01_01 (LIKE events); INSERT INTO events_p2099_01_01 VALUES (now(), 'loading')`)
	if _, err := planOf(conn, config.Policy{}, "drop-detached", "events_p2099_01_01"); err == nil || !strings.Contains(err.Error(), "holds rows newer than public.events's retention") {
		t.Errorf("a table being loaded: %v", err)
	}
}

// Between the plan and the run the detached table is renamed and another
// takes its name, attached to its parent again: the run drops neither —
// it checks, under the lock the DROP takes, that the name still names the
// planned table.
func TestDropDetachedRefusesAPendingTableSwappedSinceThePlan(t *testing.T) {
	dsn, conn := setup(t)
	part := pgtest.PendingDetach(t, dsn, conn, "swap", 1000)
	p, err := planOf(conn, config.Policy{}, "drop-detached", part)
	if err != nil {
		t.Fatal(err)
	}
	pgtest.Exec(t, conn, `ALTER TABLE swap DETACH PARTITION `+part+` FINALIZE`)
	pgtest.Exec(t, conn, `ALTER TABLE `+part+` RENAME TO `+part+`_moved`)
	pgtest.Exec(t, conn, `CREATE TABLE `+part+` PARTITION OF swap FOR VALUES FROM ('2020-01-01') TO ('2021-01-01')`)
	pgtest.Exec(t, conn, `INSERT INTO swap VALUES ('2020-06-01', 1, 'kept')`)
	p.Confirm()
	res, err := maint.Run(context.Background(), dsn, pg.Settings{}, p, maint.Options{}, func(maint.Event) {})
	if err == nil && res.Outcome == maint.OutcomeOK {
		t.Fatalf("ran: %+v", res)
	}
	if n := pgtest.Count(t, conn, `SELECT count(*) FROM swap`); n != 1 {
		t.Errorf("the partition now in the name's place lost its rows: %d left", n)
	}
	if n := pgtest.Count(t, conn, `SELECT count(*) FROM pg_class WHERE relname = $1`, part+"_moved"); n != 1 {
		t.Error("the renamed table was dropped")
	}
}
