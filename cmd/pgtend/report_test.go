package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pgtend/pgtend/ops/cluster"
	"github.com/pgtend/pgtend/ops/demo"
	"github.com/pgtend/pgtend/ops/pgtest"
	"github.com/pgtend/pgtend/ops/report"
)

var demoTables = []string{"option_chain_snapshots", "ml_features", "multi_resolution_bars", "macro_signals", "trade_history", "vix_term_structure"}

// seededDemo seeds the demo data into a fresh database of the test cluster.
// seedExtras seeds the demo with its extras on conn; the extras' replication
// slot is the cluster's, not the test database's: it is dropped after the
// test, so no later test finds it among its own findings.
func seedExtras(t *testing.T, conn *pgx.Conn, mode demo.Mode) {
	t.Helper()
	t.Cleanup(func() { // before conn's own cleanup closes it
		pgtest.Exec(t, conn, "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1 AND NOT active", demo.IdleSlot)
	})
	if _, err := demo.Seed(context.Background(), conn, demo.Options{Days: 40, Mode: mode, Extras: true}); err != nil {
		t.Fatal(err)
	}
}

func seededDemo(t *testing.T, mode demo.Mode) (string, *pgx.Conn) {
	t.Helper()
	dsn := pgtest.NewDatabase(t)
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	if _, err := demo.Seed(context.Background(), conn, demo.Options{Days: 40, Mode: mode}); err != nil {
		t.Fatal(err)
	}
	return dsn, conn
}

// TestReportJSONMatchesCatalog runs the real binary on the demo data and
// checks every figure against independent catalog queries, byte for byte.
func TestReportJSONMatchesCatalog(t *testing.T) {
	for _, tc := range []struct {
		name string
		mode demo.Mode
		kind string
	}{{"native", demo.Native, report.KindPartitioned}, {"timescale", demo.Timescale, report.KindHypertable}} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.mode == demo.Timescale {
				pgtest.RequireTimescale(t)
			}
			dsn, conn := seededDemo(t, tc.mode)
			// Byte for byte: autovacuum must not add a visibility map or
			// free space map between the report and the catalog's figures.
			pgtest.Exec(t, conn, "VACUUM")
			res := pgtend(t, nil, "report", "--json", "--dsn", dsn)
			if res.code != 0 {
				t.Fatalf("report: %s", res.stderr)
			}
			if !strings.Contains(res.stdout, `"measured_by": "files"`) {
				t.Errorf("a superuser's report is not measured by files (measured_by)")
			}
			var r report.Report
			if err := json.Unmarshal([]byte(res.stdout), &r); err != nil {
				t.Fatal(err)
			}
			for _, name := range demoTables {
				var tb *report.Table
				for i := range r.Tables {
					if r.Tables[i].Name == name {
						tb = &r.Tables[i]
					}
				}
				if tb == nil || tb.Kind == nil || tb.TotalBytes == nil {
					t.Fatalf("%s missing or unmeasured in the report", name)
				}
				want := tc.kind
				if name == "trade_history" {
					want = report.KindTable
				}
				if *tb.Kind != want {
					t.Errorf("%s: kind %s, want %s", name, *tb.Kind, want)
				}
				got := pgtest.Sizes{Total: *tb.TotalBytes, Table: *tb.TableBytes, Index: *tb.IndexBytes, Toast: *tb.ToastBytes}
				if exp := pgtest.MeasureTable(t, conn, tb.Schema, tb.Name, *tb.Kind); got != exp {
					t.Errorf("%s: report %+v, catalog %+v", name, got, exp)
				}
				// The maintenance guide's query reports chunked tables as
				// almost empty; pgtend must not.
				var naive int64
				pgtest.QueryRow(t, conn, "SELECT pg_total_relation_size($1::regclass)", name).Scan(&naive)
				if want != report.KindTable && *tb.TotalBytes < 20*naive {
					t.Errorf("%s: %d bytes is not far above the root's own %d", name, *tb.TotalBytes, naive)
				}
			}
			checkChunks(t, conn, r, tc.mode == demo.Timescale)
		})
	}
}

// The whole demo, its extras included (option_chain_daily, open_orders, a
// replication slot): the aggregate listed by its name, and every byte
// accounted for — the listed tables and the unlisted groups are the
// database's size, exactly.
func TestReportOfTheWholeDemoAccountsEveryByte(t *testing.T) {
	pgtest.EachMode(t, demo.Native, demo.Timescale, func(t *testing.T, mode demo.Mode) {
		dsn := pgtest.NewDatabase(t)
		conn := pgtest.Connect(t, dsn)
		seedExtras(t, conn, mode)
		res := pgtend(t, nil, "report", "--json", "--dsn", dsn)
		if res.code != 0 {
			t.Fatalf("report: %s", res.stderr)
		}
		var r report.Report
		if err := json.Unmarshal([]byte(res.stdout), &r); err != nil {
			t.Fatal(err)
		}
		checkDemoAggregate(t, conn, r, mode == demo.Timescale)
		var groups int64
		for _, g := range r.Unlisted {
			groups += g.Bytes
		}
		if r.ListedBytes()+r.UnlistedBytes != r.Server.DatabaseBytes || groups != r.UnlistedBytes || r.UnlistedBytes <= 0 {
			t.Errorf("listed %d + unlisted %d (groups %d) != database %d", r.ListedBytes(), r.UnlistedBytes, groups, r.Server.DatabaseBytes)
		}
		text := pgtend(t, nil, "report", "--dsn", dsn)
		if !strings.Contains(text.stdout, "Every byte: listed tables") || !strings.Contains(text.stdout, "system catalogs: pg_catalog, information_schema") {
			t.Errorf("the text report does not reconcile the database:\n%s", text.stdout)
		}
	})
}

// checkDemoAggregate: the demo's option_chain_daily is listed by its name,
// a continuous aggregate measured as its materialization hypertable (or,
// native, a materialized view), and no chunk is listed under an internal
// hypertable's name.
func checkDemoAggregate(t *testing.T, conn *pgx.Conn, r report.Report, timescale bool) {
	t.Helper()
	var daily *report.Table
	for i := range r.Tables {
		if r.Tables[i].Name == "option_chain_daily" {
			daily = &r.Tables[i]
		}
	}
	if daily == nil || daily.Kind == nil || daily.TotalBytes == nil {
		t.Fatal("option_chain_daily missing or unmeasured in the report")
	}
	var want int64
	if !timescale {
		pgtest.QueryRow(t, conn, "SELECT pg_total_relation_size('option_chain_daily')").Scan(&want)
		if *daily.Kind != report.KindMaterializedView || *daily.TotalBytes != want {
			t.Errorf("option_chain_daily: %s of %d bytes, want a materialized_view of %d", *daily.Kind, *daily.TotalBytes, want)
		}
		return
	}
	pgtest.QueryRow(t, conn, `SELECT total_bytes FROM hypertable_detailed_size((SELECT format('%I.%I', materialization_hypertable_schema, materialization_hypertable_name)
		FROM timescaledb_information.continuous_aggregates WHERE view_name = 'option_chain_daily')::regclass)`).Scan(&want)
	if *daily.Kind != report.KindContinuousAggregate || *daily.TotalBytes != want || daily.Chunks == 0 ||
		daily.Aggregate == nil || daily.Aggregate.Source != "public.option_chain_snapshots" || daily.Aggregate.Refresh == nil {
		t.Errorf("option_chain_daily: %s of %d bytes (%d chunks), aggregate %+v; want a continuous_aggregate of %d", *daily.Kind, *daily.TotalBytes, daily.Chunks, daily.Aggregate, want)
	}
	for _, c := range r.Chunks {
		if strings.HasPrefix(c.Table, "_materialized_hypertable") {
			t.Errorf("chunk %s listed under %s", c.Chunk, c.Table)
		}
	}
}

func checkChunks(t *testing.T, conn *pgx.Conn, r report.Report, timescale bool) {
	t.Helper()
	compressed := 0
	for _, c := range r.Chunks {
		m := pgtest.MeasureChunk(t, conn, c.ChunkSchema, c.Chunk, timescale)
		total, before, after := m.Total, m.Before, m.After
		if c.TotalBytes == nil {
			t.Errorf("%s: unmeasured, catalog %d", c.Chunk, total)
		} else if *c.TotalBytes != total {
			t.Errorf("%s: %d bytes, catalog %d", c.Chunk, *c.TotalBytes, total)
		}
		if c.Compressed {
			compressed++
			if c.BeforeBytes == nil || c.AfterBytes == nil || *c.BeforeBytes != *before || *c.AfterBytes != *after {
				t.Errorf("%s: before/after %v/%v, catalog %v/%v", c.Chunk, c.BeforeBytes, c.AfterBytes, before, after)
			}
		} else if c.BeforeBytes != nil || c.AfterBytes != nil {
			t.Errorf("%s: before/after on an uncompressed chunk", c.Chunk)
		}
	}
	if timescale && compressed == 0 {
		t.Error("no compressed chunks in the timescale demo")
	}
	if len(r.Chunks) < 5*40 {
		t.Errorf("only %d chunks for five 40-day tables", len(r.Chunks))
	}
}

// TestDemoWithoutTerminal runs `pgtend demo` the way the README's first
// command does when there is no terminal: it seeds, prints the report and
// removes its cluster.
func TestDemoWithoutTerminal(t *testing.T) {
	res := pgtend(t, nil, "demo", "--days", "15")
	if res.code != 0 {
		t.Fatalf("demo: exit %d\n%s", res.code, res.stderr)
	}
	for _, name := range append(demoTables, "instruments", "open_orders") {
		if !strings.Contains(res.stdout, name) {
			t.Errorf("demo report lacks %s:\n%s", name, res.stdout)
		}
	}
	if !regexp.MustCompile(`backup \S+/backups/pgtend_demo_\d{8}_\d{6}\.dump`).MatchString(res.stderr) {
		t.Errorf("demo did not say where its backup is:\n%s", res.stderr)
	}
	m := clusterIn.FindStringSubmatch(res.stderr)
	if m == nil {
		t.Fatalf("no cluster directory in %q", res.stderr)
	}
	if _, err := os.Stat(m[1]); !os.IsNotExist(err) {
		t.Errorf("demo left its cluster behind in %s", m[1])
	}
}

// TestDemoHelpListsItsObjects: everything the demo makes on purpose is in
// its --help, so nobody takes it for a problem of theirs; --scale is
// checked before any cluster starts.
func TestDemoHelpListsItsObjects(t *testing.T) {
	res := pgtend(t, nil, "demo", "--help")
	for _, o := range demo.Objects {
		if res.code != 0 || !strings.Contains(res.stdout, o.Name+": ") {
			t.Errorf("demo --help lacks %s:\n%s", o.Name, res.stdout)
		}
	}
	if !strings.Contains(res.stdout, "--scale") {
		t.Errorf("demo --help lacks --scale:\n%s", res.stdout)
	}
	pgtend(t, nil, "demo", "--scale", "0").oneClearLine(t, 2, "--scale 0: use 0.01 to 100")
}

// TestKeptDemo: `demo --keep` leaves the seeded cluster and the demo's
// policy file it prints; with them the report shows the demo's backup and
// the retention cleanup runs on the demo's tables.
func TestKeptDemo(t *testing.T) {
	// 95 days: multi_resolution_bars (60 days) and option_chain_snapshots
	// (90) have rows past their retention.
	res := pgtend(t, nil, "demo", "--keep", "--no-console", "--days", "95", "--scale", "0.25")
	stop := regexp.MustCompile(`kill -INT (\d+) && sleep 2 && rm -rf '([^']+)'`).FindStringSubmatch(res.stdout)
	if stop == nil {
		t.Fatalf("demo --keep did not say how to stop it: exit %d\n%s\n%s", res.code, res.stdout, res.stderr)
	}
	// Registered before any other check: a kept demo whose report then
	// failed is still running.
	t.Cleanup(func() {
		// The server this test's pgtend left running, by the pid it printed.
		pid, _ := strconv.Atoi(stop[1])
		_ = syscall.Kill(pid, syscall.SIGINT)
		for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
			if _, err := os.Stat(filepath.Join(stop[2], "data", "postmaster.pid")); os.IsNotExist(err) {
				break
			}
		}
		os.RemoveAll(stop[2])
	})
	if res.code != 0 {
		t.Fatalf("demo --keep: exit %d\n%s\n%s", res.code, res.stdout, res.stderr)
	}
	dsn := regexp.MustCompile(`\n  (postgres://\S+)\n`).FindStringSubmatch(res.stdout)
	cfg := regexp.MustCompile(`--config (\S+)`).FindStringSubmatch(res.stdout)
	if dsn == nil || cfg == nil || !strings.HasPrefix(cfg[1], stop[2]) {
		t.Fatalf("demo --keep did not print its DSN and policy file:\n%s", res.stdout)
	}
	rep := pgtend(t, nil, "report", "--json", "--dsn", dsn[1], "--config", cfg[1])
	var r report.Report
	if err := json.Unmarshal([]byte(rep.stdout), &r); err != nil {
		t.Fatalf("report: %v\n%s", err, rep.stderr)
	}
	if r.Disk.BackupDir != filepath.Join(stop[2], "backups") || r.Disk.BackupBytes == nil || *r.Disk.BackupBytes == 0 {
		t.Errorf("kept demo's report: backup dir %q, %v bytes; want the demo's backup", r.Disk.BackupDir, r.Disk.BackupBytes)
	}
	run := pgtend(t, nil, "run", "retention", "--yes", "--dsn", dsn[1], "--config", cfg[1])
	if run.code != 0 || !strings.Contains(run.stdout, "option_chain_snapshots") || !strings.Contains(run.stdout, "multi_resolution_bars") {
		t.Errorf("retention cleanup on the kept demo: exit %d\n%s\n%s", run.code, run.stdout, run.stderr)
	}
}

// TestDemoRemovesItsClusterOnASignal: SIGTERM while the demo seeds stops
// the server and removes its directory.
var clusterIn = regexp.MustCompile(`cluster in (\S+)`)

// startDemo starts the built binary's demo and returns the cluster
// directory it names on stderr (the rest of stderr is drained).
func startDemo(t *testing.T, env []string, stdout io.Writer, args ...string) (*exec.Cmd, string) {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"demo"}, args...)...)
	cmd.Env, cmd.Stdout = env, stdout
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var said []string
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		said = append(said, sc.Text())
		if m := clusterIn.FindStringSubmatch(sc.Text()); m != nil {
			go io.Copy(io.Discard, stderr)
			return cmd, m[1]
		}
	}
	cmd.Process.Kill()
	cmd.Wait()
	t.Fatalf("the demo never said where its cluster is: %q", said)
	return nil, ""
}

// A demo stopped by a signal while seeding removes its cluster, with
// --keep too: only a seeded demo is kept.
func TestDemoRemovesItsClusterOnASignal(t *testing.T) {
	for _, args := range [][]string{{"--days", "200"}, {"--days", "200", "--keep"}} {
		var stdout strings.Builder
		cmd, dir := startDemo(t, []string{"HOME=" + t.TempDir(), "PATH=" + os.Getenv("PATH")}, &stdout, args...)
		time.Sleep(300 * time.Millisecond)
		cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(60 * time.Second):
			cmd.Process.Kill()
			t.Fatalf("demo %v did not stop within 60 s of SIGTERM", args)
		}
		if _, err := os.Stat(dir); !os.IsNotExist(err) {
			t.Errorf("demo %v: cluster directory %s left behind after SIGTERM", args, dir)
		}
		if strings.Contains(stdout.String(), "left running") {
			t.Errorf("demo %v: an unseeded demo said it was left running", args)
		}
	}
}

// A pgtend killed with SIGKILL cannot remove its cluster: the server quits
// (it dies with pgtend) and the directory stays, until the next cluster
// started from the same temp dir sweeps it.
func TestClusterOfAKilledPgtendIsSweptByTheNext(t *testing.T) {
	tmp := pgtest.SharedTempDir(t, "sweep-test-")
	cmd, dir := startDemo(t, append(os.Environ(), "TMPDIR="+tmp), nil, "--days", "15", "--native")
	cmd.Process.Kill()
	cmd.Wait()
	// The server follows pgtend down.
	pidFile := filepath.Join(dir, "data", "postmaster.pid")
	for deadline := time.Now().Add(30 * time.Second); ; {
		if _, err := os.Stat(pidFile); os.IsNotExist(err) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the server outlived the killed pgtend (%s remains)", pidFile)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("expected the killed pgtend's directory to remain until swept: %v", err)
	}

	t.Setenv("TMPDIR", tmp)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	next, err := cluster.Start(ctx, cluster.Options{NoTimescale: true})
	if err != nil {
		t.Fatal(err)
	}
	defer next.Destroy()
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("the next cluster did not sweep %s: %v", dir, err)
	}
}
