package report

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dustin/go-humanize"
	"github.com/jackc/pgx/v5"
	"github.com/pgtend/pgtend/ops/config"
	"github.com/pgtend/pgtend/ops/pgtest"
)

// A TimescaleDB retention policy tighter than pgtend's wins silently: the
// report names it on the table and warns.
func TestTimescaleRetentionPolicyIsShownAndDisagreementWarned(t *testing.T) {
	pgtest.RequireTimescale(t)
	conn := connect(t, pgtest.NewDatabase(t))
	exec(t, conn, `
		CREATE EXTENSION timescaledb;
		CREATE TABLE metrics (ts timestamptz NOT NULL, v int);
		SELECT create_hypertable('metrics', 'ts', chunk_time_interval => interval '1 day');
		INSERT INTO metrics SELECT g, 1 FROM generate_series(now() - interval '40 days', now(), interval '1 hour') g;
		CREATE TABLE monthly (ts timestamptz NOT NULL, v int);
		SELECT create_hypertable('monthly', 'ts', chunk_time_interval => interval '1 day');
		CREATE TABLE ledger (ts timestamptz NOT NULL, v int);
		SELECT create_hypertable('ledger', 'ts', chunk_time_interval => interval '1 day');
		CREATE TABLE unmanaged (ts timestamptz NOT NULL, v int);
		SELECT create_hypertable('unmanaged', 'ts', chunk_time_interval => interval '1 day');`)
	var metricsJob, monthlyJob, ledgerJob int
	pgtest.QueryRow(t, conn, `SELECT add_retention_policy('metrics', INTERVAL '30 days')`).Scan(&metricsJob)
	pgtest.QueryRow(t, conn, `SELECT add_retention_policy('monthly', INTERVAL '1 month')`).Scan(&monthlyJob)
	pgtest.QueryRow(t, conn, `SELECT add_retention_policy('ledger', INTERVAL '7 days')`).Scan(&ledgerJob)
	exec(t, conn, `SELECT alter_job($1, scheduled => false)`, monthlyJob)
	policy := config.Policy{Tables: []config.TablePolicy{
		{Name: "metrics", RetentionDays: 90}, {Name: "monthly", RetentionDays: 10},
		{Name: "ledger", Permanent: true}, {Name: "unmanaged", RetentionDays: 5},
	}}
	r := collect(t, conn, policy)

	m := find(t, r, "public", "metrics")
	if len(m.RetentionManagedBy) != 1 {
		t.Fatalf("metrics managed by %+v, want its retention policy", m.RetentionManagedBy)
	}
	got := m.RetentionManagedBy[0]
	if got.By != ManagerTimescale || got.Setting != "drop_after" || got.Retention != "30 days" || got.RetentionDays == nil || *got.RetentionDays != 30 ||
		got.JobID == nil || *got.JobID != metricsJob || got.Schedule == nil || *got.Schedule != "1 day" || !got.Active || got.KeepTable != nil {
		t.Errorf("metrics' manager: %s", jsonOf(t, got))
	}
	mo := find(t, r, "public", "monthly").RetentionManagedBy
	if len(mo) != 1 || mo[0].Retention != "1 mon" || mo[0].RetentionDays != nil || mo[0].Active {
		t.Errorf("monthly's manager (1 month, paused): %s", jsonOf(t, mo))
	}
	if u := find(t, r, "public", "unmanaged"); u.RetentionManagedBy == nil || len(u.RetentionManagedBy) != 0 {
		t.Errorf("unmanaged: %#v, want an empty list", u.RetentionManagedBy)
	}

	wantWarnings := map[string]string{
		"metrics": fmt.Sprintf("TimescaleDB's retention policy (job %d, drop_after 30 days) is tighter than pgtend's 90d: it wins, silently", metricsJob),
		"monthly": fmt.Sprintf("TimescaleDB's retention policy (job %d, paused, drop_after 1 mon) is looser than pgtend's 10d: pgtend's retention run drops more, and theirs finds nothing left to drop", monthlyJob),
		"ledger":  fmt.Sprintf("pgtend's policy keeps this table for good, but TimescaleDB's retention policy (job %d, drop_after 7 days) drops its data older than 7 days", ledgerJob),
	}
	codes := map[string]string{"metrics": WarnRetentionTighter, "monthly": WarnRetentionLooser, "ledger": WarnPermanentManaged}
	for name, text := range wantWarnings {
		ws := r.WarningsFor(find(t, r, "public", name))
		if len(ws) != 1 || ws[0].Text != text || ws[0].Code != codes[name] {
			t.Errorf("%s: warnings %s\nwant %q (%s)", name, jsonOf(t, ws), text, codes[name])
		}
	}
	if len(r.Warnings) != len(wantWarnings) {
		t.Errorf("warnings: %s", jsonOf(t, r.Warnings))
	}
}

// pg_partman: its retention on each set, the partitions it detached and
// kept (in the parent's schema or its retention_schema) with their sizes,
// wherever the extension lives (pg_partman 4.x cannot live in a schema whose name needs quoting), in 4.x and 5.x.
func TestPartmanRetentionAndKeptTablesAreShown(t *testing.T) {
	conn := connect(t, pgtest.NewDatabase(t))
	pgtest.RequireExtension(t, conn, "pg_partman")
	major := installPartman(t, conn, "tools")
	daily, hundred := "p_type => 'native', p_interval => 'daily'", "p_type => 'native', p_interval => '100'"
	if major >= 5 {
		daily, hundred = "p_interval => '1 day'", "p_interval => '100'"
	}
	exec(t, conn, `
		CREATE SCHEMA archive;
		CREATE TABLE events (ts timestamptz NOT NULL, v text) PARTITION BY RANGE (ts);
		CREATE TABLE quotes (ts timestamptz NOT NULL, v text) PARTITION BY RANGE (ts);
		CREATE TABLE odd (ts timestamptz NOT NULL, v text) PARTITION BY RANGE (ts);
		CREATE TABLE ids (id bigint NOT NULL, v text) PARTITION BY RANGE (id);
		CREATE TABLE events_p2001_01_01 (ts timestamptz, v text); -- not a partition of anything: looks kept
		CREATE TABLE eventsx_p2001_01_01 (ts timestamptz, v text); -- another table's name
		CREATE TABLE events_pending (ts timestamptz, v text);      -- not a partition's name`)
	for _, parent := range []string{"public.events", "public.quotes", "public.odd"} {
		exec(t, conn, `SELECT tools.create_parent(p_parent_table => '`+parent+`', p_control => 'ts', `+daily+`,
			p_start_partition => (now() - interval '10 days')::text)`)
	}
	exec(t, conn, `SELECT tools.create_parent(p_parent_table => 'public.ids', p_control => 'id', `+hundred+`)`)
	exec(t, conn, `
		INSERT INTO events SELECT g, repeat('e', 200) FROM generate_series(now() - interval '10 days', now(), interval '5 minutes') g;
		INSERT INTO quotes SELECT g, repeat('q', 200) FROM generate_series(now() - interval '10 days', now(), interval '5 minutes') g;
		UPDATE tools.part_config SET retention = '5 days', retention_keep_table = true WHERE parent_table = 'public.events';
		UPDATE tools.part_config SET retention = '2 days', retention_keep_table = true, retention_schema = 'archive' WHERE parent_table = 'public.quotes';
		UPDATE tools.part_config SET retention = 'soon' WHERE parent_table = 'public.odd';
		UPDATE tools.part_config SET retention = '300', retention_keep_table = false WHERE parent_table = 'public.ids';
		SELECT tools.run_maintenance(p_parent_table => 'public.events');
		SELECT tools.run_maintenance(p_parent_table => 'public.quotes');
		ANALYZE;`)
	policy := config.Policy{Tables: []config.TablePolicy{
		{Name: "events", RetentionDays: 3}, {Name: "quotes", RetentionDays: 30}, {Name: "odd", RetentionDays: 3},
	}}
	r := collect(t, conn, policy)
	var version string
	pgtest.QueryRow(t, conn, `SELECT extversion FROM pg_extension WHERE extname = 'pg_partman'`).Scan(&version)
	if r.Server.PgPartman == nil || *r.Server.PgPartman != version {
		t.Errorf("server.pg_partman = %v, want %s", r.Server.PgPartman, version)
	}

	type want struct {
		retention string
		days      *int
		keep      bool
		schema    *string
	}
	for name, w := range map[string]want{
		"events": {"5 days", ptrTo(5), true, nil}, "quotes": {"2 days", ptrTo(2), true, ptrTo("archive")},
		"odd": {"soon", nil, true, nil}, "ids": {"300", nil, false, nil},
	} {
		ms := find(t, r, "public", name).RetentionManagedBy
		if len(ms) != 1 {
			t.Errorf("%s managed by %s, want pg_partman", name, jsonOf(t, ms))
			continue
		}
		m := ms[0]
		if m.By != ManagerPartman || m.Setting != "retention" || m.Retention != w.retention || !equalPtr(m.RetentionDays, w.days) ||
			m.KeepTable == nil || *m.KeepTable != w.keep || !equalPtr(m.RetentionSchema, w.schema) || m.JobID != nil || m.Schedule != nil || !m.Active {
			t.Errorf("%s: %s, want %+v", name, jsonOf(t, m), w)
		}
	}

	// Kept tables, against the catalog: every table named as the set's
	// partitions and attached to nothing.
	catalog := map[string]int64{}
	rows, err := conn.Query(context.Background(), `
		SELECT n.nspname || '.' || c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE c.relkind = 'r' AND NOT c.relispartition AND n.nspname IN ('public', 'archive')
		  AND (c.relname ~ '^events_p[0-9]{4}_[0-9]{2}_[0-9]{2}$' OR c.relname ~ '^quotes_p[0-9]{4}_?[0-9]{2}_?[0-9]{2}$'
		       OR c.relname ~ '^events_p[0-9]{8}$')`)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		schema, name, _ := strings.Cut(k, ".")
		catalog[k] = pgtest.MeasureTable(t, conn, schema, name, KindTable).Total
	}
	got := map[string]int64{}
	for _, d := range r.DetachedTables {
		if d.By != ManagerPartman || d.TotalBytes == nil || d.ParentSchema != "public" || !strings.HasPrefix(d.Name, d.Parent+"_p") {
			t.Errorf("detached table %s", jsonOf(t, d))
			continue
		}
		got[d.Key()] = *d.TotalBytes
	}
	var inArchive, fromEvents int
	for k := range catalog {
		if strings.HasPrefix(k, "archive.quotes_p") {
			inArchive++
		}
		if strings.HasPrefix(k, "public.events_p") && k != "public.events_p2001_01_01" {
			fromEvents++
		}
	}
	if inArchive < 7 || fromEvents < 4 || len(got) != len(catalog) {
		t.Errorf("detached tables %v\ncatalog %v (%d in archive, %d from events)", got, catalog, inArchive, fromEvents)
	}
	for k, n := range catalog {
		if got[k] != n {
			t.Errorf("%s: report %d bytes, catalog %d", k, got[k], n)
		}
	}
	if _, ok := got["public.eventsx_p2001_01_01"]; ok {
		t.Error("eventsx_p2001_01_01 belongs to no set")
	}

	var eventsKept int64
	for k, n := range got {
		if strings.HasPrefix(k, "public.events_") {
			eventsKept += n
		}
	}
	ws := r.WarningsFor(find(t, r, "public", "events"))
	texts := make([]string, len(ws))
	for i, w := range ws {
		texts[i] = w.Code + ": " + w.Text
	}
	wantEvents := []string{
		"retention_looser: pg_partman's retention (5 days) is looser than pgtend's 3d: pgtend's retention run drops more, and theirs finds nothing left to drop",
		"detached_tables_kept: pg_partman kept the " + strconv.Itoa(len(got)-inArchive) + " partitions it detached (retention_keep_table): " + humanize.IBytes(uint64(eventsKept)) + " still on disk, outside the partition set",
	}
	if !slices.Equal(texts, wantEvents) {
		t.Errorf("events warnings:\n%s\nwant\n%s", strings.Join(texts, "\n"), strings.Join(wantEvents, "\n"))
	}
	qs := r.WarningsFor(find(t, r, "public", "quotes"))
	if len(qs) != 2 || qs[0].Code != WarnRetentionTighter || qs[0].Text != "pg_partman's retention (2 days) is tighter than pgtend's 30d: it wins, silently" {
		t.Errorf("quotes warnings: %s", jsonOf(t, qs))
	}
	if ow := r.WarningsFor(find(t, r, "public", "odd")); len(ow) != 0 {
		t.Errorf("odd (retention no interval): %s", jsonOf(t, ow))
	}

	// The first frame's estimate names them too.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	est, err := Estimate(ctx, conn, policy)
	if err != nil {
		t.Fatal(err)
	}
	if len(find(t, est, "public", "events").RetentionManagedBy) != 1 || len(est.DetachedTables) != len(got) {
		t.Errorf("estimate: managers %s, %d detached tables", jsonOf(t, find(t, est, "public", "events").RetentionManagedBy), len(est.DetachedTables))
	}
}

// A role that may not read part_config (no USAGE on pg_partman's schema,
// or no SELECT on the table) still gets its report, with a warning that
// pg_partman's retention is not shown.
func TestPartmanUnreadableIsSkippedWithAWarning(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	conn := connect(t, dsn)
	pgtest.RequireExtension(t, conn, "pg_partman")
	major := installPartman(t, conn, "partman")
	daily := "p_type => 'native', p_interval => 'daily'"
	if major >= 5 {
		daily = "p_interval => '1 day'"
	}
	exec(t, conn, `
		CREATE TABLE events (ts timestamptz NOT NULL, v text) PARTITION BY RANGE (ts);
		SELECT partman.create_parent(p_parent_table => 'public.events', p_control => 'ts', `+daily+`);
		UPDATE partman.part_config SET retention = '5 days';
		CREATE ROLE nogrant LOGIN;
		CREATE ROLE selectonly LOGIN;
		GRANT SELECT ON partman.part_config TO selectonly;
		CREATE ROLE granted LOGIN;
		GRANT USAGE ON SCHEMA partman TO granted;
		GRANT SELECT ON partman.part_config TO granted;`)
	for role, readable := range map[string]bool{"nogrant": false, "selectonly": false, "granted": true} {
		r := collect(t, pgtest.ConnectAs(t, dsn, role), config.Policy{})
		managed := len(find(t, r, "public", "events").RetentionManagedBy) == 1
		warned := len(r.DatabaseWarnings()) == 1 && r.DatabaseWarnings()[0].Code == WarnManagersUnreadable &&
			r.DatabaseWarnings()[0].Text == `pg_partman is installed, but this role may not read partman.part_config: the tables it manages are not shown as managed`
		if managed != readable || warned == readable || len(r.Warnings) != len(r.DatabaseWarnings()) {
			t.Errorf("%s: managers %s, warnings %s; readable %v", role, jsonOf(t, find(t, r, "public", "events").RetentionManagedBy), jsonOf(t, r.Warnings), readable)
		}
	}
}

// Without either extension the new fields are empty lists, never null.
func TestNoManagersMeansEmptyLists(t *testing.T) {
	conn := connect(t, pgtest.NewDatabase(t))
	exec(t, conn, `CREATE TABLE plain (ts timestamptz, v int)`)
	r := collect(t, conn, config.Policy{Tables: []config.TablePolicy{{Name: "plain", RetentionDays: 3}, {Name: "ghost", RetentionDays: 3}}})
	out, err := r.JSON()
	if err != nil {
		t.Fatal(err)
	}
	var raw struct {
		Server struct {
			PgPartman *string `json:"pg_partman"`
		} `json:"server"`
		Warnings       []json.RawMessage `json:"warnings"`
		DetachedTables []json.RawMessage `json:"detached_tables"`
		Tables         []struct {
			Managers []json.RawMessage `json:"retention_managed_by"`
		} `json:"tables"`
	}
	if err := json.Unmarshal(out, &raw); err != nil {
		t.Fatal(err)
	}
	for _, field := range []string{`"warnings": []`, `"detached_tables": []`, `"retention_managed_by": []`, `"pg_partman": null`} {
		if !strings.Contains(string(out), field) {
			t.Errorf("report JSON lacks %s", field)
		}
	}
	if strings.Contains(string(out), `"retention_managed_by": null`) || len(raw.Tables) != 2 {
		t.Errorf("report JSON: %s", out)
	}
}

// installPartman creates pg_partman in schema (a quoted identifier) and
// returns its major version.
func installPartman(t testing.TB, conn *pgx.Conn, schema string) int {
	t.Helper()
	exec(t, conn, `CREATE SCHEMA `+schema+`; CREATE EXTENSION pg_partman SCHEMA `+schema)
	return int(pgtest.Count(t, conn, `SELECT split_part(extversion, '.', 1)::int FROM pg_extension WHERE extname = 'pg_partman'`))
}

func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func ptrTo[T any](v T) *T { return &v }

func equalPtr[T comparable](a, b *T) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }

// BenchmarkReadManagers is what other retention managers add to a report
// at the benchmark's scale (25 hypertables of 200 chunks with retention
// policies, 175 plain tables) plus 5 pg_partman sets of 30 partitions,
// some detached and kept: `go test ./ops/report -run XXX -bench ReadManagers`.
func BenchmarkReadManagers(b *testing.B) {
	pgtest.RequireTimescale(b)
	dsn := pgtest.NewDatabase(b)
	conn := connect(b, dsn)
	pgtest.RequireExtension(b, conn, "pg_partman")
	setup := strings.NewReplacer("{plain}", strconv.Itoa(benchPlain), "{chunked}", strconv.Itoa(benchChunked),
		"{last}", strconv.Itoa(benchDays-1)).Replace(benchPlainTables + `
CREATE EXTENSION timescaledb;
DO $$ BEGIN
  FOR t IN 1..{chunked} LOOP
    EXECUTE format('CREATE TABLE %I (ts timestamptz NOT NULL, k text, v double precision)', 'c' || lpad(t::text, 2, '0'));
    PERFORM create_hypertable(format('%I', 'c' || lpad(t::text, 2, '0')), 'ts', chunk_time_interval => interval '1 day');
    EXECUTE format('INSERT INTO %I SELECT g, ''k'', random() FROM generate_series(current_date - {last}, current_date + interval ''23 hours'', interval ''6 hours'') g', 'c' || lpad(t::text, 2, '0'));
    PERFORM add_retention_policy(format('%I', 'c' || lpad(t::text, 2, '0')), interval '300 days');
  END LOOP;
END $$;`)
	exec(b, conn, setup)
	major := installPartman(b, conn, "partman")
	daily := "p_type => 'native', p_interval => 'daily'"
	if major >= 5 {
		daily = "p_interval => '1 day'"
	}
	for i := range 5 {
		name := fmt.Sprintf("pm%d", i)
		exec(b, conn, `CREATE TABLE `+name+` (ts timestamptz NOT NULL, v int) PARTITION BY RANGE (ts);
			SELECT partman.create_parent(p_parent_table => 'public.`+name+`', p_control => 'ts', `+daily+`, p_start_partition => (now() - interval '26 days')::text);
			UPDATE partman.part_config SET retention = '20 days' WHERE parent_table = 'public.`+name+`';
			SELECT partman.run_maintenance(p_parent_table => 'public.`+name+`');`)
	}
	exec(b, conn, `ANALYZE`)
	r := collect(b, conn, benchPolicy)
	ctx := context.Background()
	f, err := DetectFeatures(ctx, conn)
	if err != nil {
		b.Fatal(err)
	}
	if len(find(b, r, "public", "c01").RetentionManagedBy) != 1 || len(r.DetachedTables) < 5*5 {
		b.Fatalf("managers of c01 %v, %d detached tables", find(b, r, "public", "c01").RetentionManagedBy, len(r.DetachedTables))
	}
	b.Run("warm", func(b *testing.B) {
		for b.Loop() {
			if err := readManagers(ctx, conn, f, r); err != nil {
				b.Fatal(err)
			}
			r.Warnings, r.DetachedTables = r.Warnings[:0], r.DetachedTables[:0]
		}
	})
	b.Run("cold", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			c := connect(b, dsn)
			b.StartTimer()
			if err := readManagers(ctx, c, f, r); err != nil {
				b.Fatal(err)
			}
			r.Warnings, r.DetachedTables = r.Warnings[:0], r.DetachedTables[:0]
			b.StopTimer()
			c.Close(ctx)
			b.StartTimer()
		}
	})
}

// Features are detected without naming a schema the role may not use:
// a role with no USAGE on pgtend's own schema still gets its report
// (without the history's last runs).
func TestRoleWithoutUsageOnPgtendSchemaGetsAReport(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	conn := connect(t, dsn)
	exec(t, conn, `
		CREATE SCHEMA pgtend;
		CREATE TABLE pgtend.history (task text, finished_at timestamptz, outcome text);
		INSERT INTO pgtend.history VALUES ('vacuum_analyze', now(), 'ok');
		CREATE TABLE public.t (ts timestamptz); -- not in "$user", the test's role's own schema
		CREATE ROLE outsider LOGIN;`)
	r := collect(t, pgtest.ConnectAs(t, dsn, "outsider"), config.Policy{})
	if find(t, r, "public", "t").TotalBytes == nil {
		t.Error("no sizes for t")
	}
	lastVacuum := func(r *Report) *time.Time {
		for _, c := range r.Calendar {
			if c.Task == "vacuum_analyze" {
				return c.LastRun
			}
		}
		t.Fatal("no vacuum task in the calendar")
		return nil
	}
	if owner := collect(t, conn, config.Policy{}); lastVacuum(owner) == nil || lastVacuum(r) != nil {
		t.Errorf("last vacuum from the history: %v for its owner, %v for the outsider (who may not read it)", lastVacuum(owner), lastVacuum(r))
	}
}
