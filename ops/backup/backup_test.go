package backup

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pgtend/pgtend/ops/cluster"
	"github.com/pgtend/pgtend/ops/pgtest"
)

// One role must give a password, so the password's path is real.
func TestMain(m *testing.M) {
	os.Exit(pgtest.MainWith(m, cluster.Options{HBA: []string{"local all pw_user scram-sha-256"}}))
}

func serverTools(t *testing.T, conn *pgx.Conn) Tools {
	t.Helper()
	var num int
	var version string
	pgtest.QueryRow(t, conn, "SELECT current_setting('server_version_num')::int, current_setting('server_version')").Scan(&num, &version)
	tools, err := FindTools(context.Background(), num, version, pgtest.Cluster.BinDir)
	if err != nil {
		t.Fatal(err)
	}
	if tools.Major != num/10000 || tools.Note != "" {
		t.Fatalf("tools %+v for server %d", tools, num)
	}
	return tools
}

func connOf(t *testing.T, dsn string) Conn {
	t.Helper()
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	return ConnOf(cfg)
}

// seed makes a plain table, a partitioned one and a sequence.
func seed(t *testing.T, conn *pgx.Conn, rows int) {
	t.Helper()
	pgtest.Exec(t, conn, `
		CREATE TABLE trades (id bigserial PRIMARY KEY, symbol text NOT NULL, qty int, note text);
		INSERT INTO trades (symbol, qty, note) SELECT 'SYM' || (i % 50), i % 100, md5(i::text) FROM generate_series(1, `+strconv.Itoa(rows)+`) i;
		CREATE TABLE bars (ts date NOT NULL, v float8) PARTITION BY RANGE (ts);
		CREATE TABLE bars_a PARTITION OF bars FOR VALUES FROM ('2026-01-01') TO ('2026-02-01');
		CREATE TABLE bars_b PARTITION OF bars FOR VALUES FROM ('2026-02-01') TO ('2026-03-01');
		INSERT INTO bars SELECT date '2026-01-01' + (i % 59), i FROM generate_series(1, 5000) i;
		CREATE SEQUENCE counter START 42;`)
}

// restoreCheck restores a backup into a fresh database and compares every
// table's rows with the source.
func restoreCheck(t *testing.T, tools Tools, src *pgx.Conn, srcDSN, path string, f Format, timescale string) *pgx.Conn {
	t.Helper()
	dstDSN := pgtest.NewDatabase(t)
	dst := pgtest.Connect(t, dstDSN)
	if err := Restore(context.Background(), path, f, RestoreOptions{Tools: tools, Target: connOf(t, dstDSN), Conn: dst, Timescale: timescale}); err != nil {
		t.Fatal(err)
	}
	counts, err := CompareCounts(context.Background(), src, dst, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(counts) < 2 {
		t.Fatalf("only %d tables compared: %+v", len(counts), counts)
	}
	for _, c := range counts {
		if !c.Equal() || c.Estimated {
			t.Errorf("%s: %+v", c.Table, c)
		}
	}
	return dst
}

func TestEveryFormatVerifiedByAFullReadAndRestores(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	conn := pgtest.Connect(t, dsn)
	seed(t, conn, 20000)
	tools := serverTools(t, conn)
	for _, f := range []Format{Custom, Plain, Directory} {
		t.Run(string(f), func(t *testing.T) {
			dir := t.TempDir()
			var phases sync.Map
			made, err := Make(context.Background(), Options{Tools: tools, Conn: connOf(t, dsn), Dir: dir, Format: f, Jobs: 2, DatabaseBytes: 1 << 20,
				Progress: func(p Progress) { phases.Store(p.Phase, true) }})
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := phases.Load(PhaseVerifying); !ok {
				t.Error("no verifying progress")
			}
			if !strings.HasSuffix(made.Name, "."+f.Ext()) || filepath.Dir(made.Path) != dir {
				t.Errorf("made %+v", made)
			}
			l, err := List(dir)
			if err != nil {
				t.Fatal(err)
			}
			if len(l.Entries) != 1 || l.Other != 0 {
				t.Fatalf("listing %+v", l)
			}
			e := l.Entries[0]
			if e.State != StateVerified || e.Checksum != ChecksumRecorded || e.Format != f || e.Bytes != made.Bytes || e.DatabaseBytes != 1<<20 {
				t.Errorf("entry %+v", e)
			}
			// The sidecar is sha256sum's: the operator can check it by hand.
			cmd := exec.Command("sha256sum", "--check", "--strict", made.Name+SidecarExt)
			cmd.Dir = dir
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("sha256sum --check: %v\n%s", err, out)
			}
			if f == Directory {
				if _, err := os.Stat(filepath.Join(made.Path, "toc.dat")); err == nil {
					t.Error("toc.dat is left uncompressed")
				}
				if out, err := exec.Command(tools.PgRestore, "--list", made.Path).CombinedOutput(); err != nil || !strings.Contains(string(out), "TABLE DATA") {
					t.Errorf("pg_restore --list of the gzipped TOC: %v\n%s", err, out)
				}
				// Parallel restore reads it too.
				par := pgtest.NewDatabase(t)
				cmd, done, err := connOf(t, par).command(context.Background(), tools.PgRestore, append([]string{"--jobs=2", "--exit-on-error"}, connOf(t, par).Args()...)...)
				if err != nil {
					t.Fatal(err)
				}
				cmd.Args = append(cmd.Args, made.Path)
				out, err := cmd.CombinedOutput()
				done()
				var n int
				pgtest.QueryRow(t, pgtest.Connect(t, par), "SELECT count(*) FROM trades").Scan(&n)
				if err != nil || n != 20000 {
					t.Errorf("pg_restore --jobs=2: %v, %d rows\n%s", err, n, out)
				}
			}
			restoreCheck(t, tools, conn, dsn, made.Path, f, "")
		})
	}
}

func TestTimescaleDumpRestoresWithItsChunks(t *testing.T) {
	pgtest.RequireTimescale(t)
	dsn := pgtest.NewDatabase(t)
	conn := pgtest.Connect(t, dsn)
	pgtest.Exec(t, conn, `
		CREATE EXTENSION timescaledb;
		CREATE TABLE ticks (ts timestamptz NOT NULL, symbol text, price float8);
		SELECT create_hypertable('ticks', 'ts', chunk_time_interval => interval '1 day');
		INSERT INTO ticks SELECT now() - i * interval '1 minute', 'S' || (i % 7), i FROM generate_series(1, 20000) i;
		ALTER TABLE ticks SET (timescaledb.compress, timescaledb.compress_segmentby = 'symbol');
		SELECT compress_chunk(c) FROM show_chunks('ticks', older_than => interval '3 days') c;
		CREATE TABLE plain_one (id int PRIMARY KEY);
		INSERT INTO plain_one SELECT generate_series(1, 100);`)
	// A continuous aggregate: pg_dump then warns of the catalog's circular
	// foreign keys, and the dump still restores.
	pgtest.Exec(t, conn, `CREATE MATERIALIZED VIEW ticks_daily WITH (timescaledb.continuous) AS
		SELECT time_bucket('1 day', ts) AS day, symbol, avg(price) FROM ticks GROUP BY 1, 2 WITH NO DATA`)
	pgtest.Exec(t, conn, `CALL refresh_continuous_aggregate('ticks_daily', NULL, NULL)`)
	var version string
	pgtest.QueryRow(t, conn, "SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'").Scan(&version)
	tools := serverTools(t, conn)
	var logs []string
	made, err := Make(context.Background(), Options{Tools: tools, Conn: connOf(t, dsn), Dir: t.TempDir(), Format: Custom,
		Meta: map[string]string{"timescaledb": version}, Log: func(s string) { logs = append(logs, s) }})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(logs, "\n"), "TimescaleDB keeps a hypertable's rows in its chunks") {
		t.Errorf("the hypertable NOTICE is not explained: %q", logs)
	}
	if !strings.Contains(strings.Join(logs, "\n"), "catalog table continuous_agg: harmless") {
		t.Errorf("the catalog's circular foreign keys are not explained: %q", logs)
	}
	dst := restoreCheck(t, tools, conn, dsn, made.Path, Custom, version)
	const chunks = "SELECT count(*) FILTER (WHERE is_compressed), count(*) FROM timescaledb_information.chunks WHERE hypertable_name = 'ticks'"
	var srcCompressed, srcAll, dstCompressed, dstAll int64
	pgtest.QueryRow(t, conn, chunks).Scan(&srcCompressed, &srcAll)
	pgtest.QueryRow(t, dst, chunks).Scan(&dstCompressed, &dstAll)
	if srcAll < 10 || srcCompressed == 0 || dstAll != srcAll || dstCompressed != srcCompressed {
		t.Errorf("chunks: source %d (%d compressed), restored %d (%d compressed)", srcAll, srcCompressed, dstAll, dstCompressed)
	}
	// Compared by estimates (every table over a limit of one byte), the
	// compressed chunks' rows count too.
	counts, err := CompareCounts(context.Background(), conn, dst, 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range counts {
		near := func(n int64) bool { return n > 19000 && n < 21000 } // an estimate: within 5%
		if c.Table == "public.ticks" && (!c.Estimated || !near(c.Source) || !near(c.Restored)) {
			t.Errorf("estimated rows of ticks: %+v, want about 20000 on both sides", c)
		}
	}
}

// Estimates reach every level of partitions.
func TestEstimatedRowsOfSubpartitions(t *testing.T) {
	conn := pgtest.Connect(t, pgtest.NewDatabase(t))
	pgtest.Exec(t, conn, `
		CREATE TABLE m (ts date NOT NULL, k int NOT NULL) PARTITION BY RANGE (ts);
		CREATE TABLE m_2026 PARTITION OF m FOR VALUES FROM ('2026-01-01') TO ('2027-01-01') PARTITION BY LIST (k);
		CREATE TABLE m_2026_a PARTITION OF m_2026 FOR VALUES IN (1);
		CREATE TABLE m_2026_b PARTITION OF m_2026 FOR VALUES IN (2);
		INSERT INTO m SELECT date '2026-01-01' + i % 300, 1 + i % 2 FROM generate_series(1, 3000) i;`)
	n, err := rowsOf(context.Background(), conn, "public.m", true)
	if err != nil || n != 3000 {
		t.Fatalf("estimated %d rows (%v), want 3000", n, err)
	}
}

// A custom dump cut at 60% keeps its table of contents: pg_restore --list
// passes it. The full read does not.
func TestTruncatedDumpsFailVerification(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	conn := pgtest.Connect(t, dsn)
	seed(t, conn, 50000)
	tools := serverTools(t, conn)
	for _, f := range []Format{Custom, Plain, Directory} {
		t.Run(string(f), func(t *testing.T) {
			dir := t.TempDir()
			made, err := Make(context.Background(), Options{Tools: tools, Conn: connOf(t, dsn), Dir: dir, Format: f})
			if err != nil {
				t.Fatal(err)
			}
			cut := made.Path
			if f == Directory { // its largest data file
				var biggest int64
				filepath.WalkDir(made.Path, func(p string, d os.DirEntry, err error) error {
					if fi, _ := d.Info(); fi != nil && !d.IsDir() && strings.HasSuffix(p, ".dat.gz") && fi.Size() > biggest {
						cut, biggest = p, fi.Size()
					}
					return nil
				})
			}
			fi, _ := os.Stat(cut)
			if err := os.Truncate(cut, fi.Size()*6/10); err != nil {
				t.Fatal(err)
			}
			if f == Custom {
				if out, err := exec.Command(tools.PgRestore, "--list", made.Path).CombinedOutput(); err != nil {
					t.Fatalf("pg_restore --list fails on the cut dump too (%v): the test shows nothing\n%s", err, out)
				}
			}
			if _, err := Verify(context.Background(), tools, made.Path, f, nil); err == nil {
				t.Fatal("a dump cut at 60% verified")
			} else {
				t.Logf("verification: %v", err)
			}
			l, _ := List(dir)
			if e := l.Entries[0]; e.Checksum != ChecksumChanged {
				t.Errorf("the cut file lists as %+v", e)
			}
		})
	}
}

// A pg_dump that fails (here: a table it cannot lock in time) leaves no
// backup: its file is kept aside as .failed, never listed as good.
func TestFailedDumpKeptAside(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	conn := pgtest.Connect(t, dsn)
	seed(t, conn, 100)
	tools := serverTools(t, conn)
	holder := pgtest.Connect(t, dsn)
	pgtest.Exec(t, holder, "BEGIN; LOCK TABLE trades IN ACCESS EXCLUSIVE MODE")
	dir := t.TempDir()
	_, err := Make(context.Background(), Options{Tools: tools, Conn: connOf(t, dsn), Dir: dir, Format: Custom, LockWait: 200 * time.Millisecond})
	var be *Error
	if !errors.As(err, &be) || be.Stage != "pg_dump" || be.Kept == "" || !strings.Contains(err.Error(), "timeout") {
		t.Fatalf("err = %v", err)
	}
	l, _ := List(dir)
	if len(l.Entries) != 1 || l.Entries[0].State != StateFailed || l.Entries[0].Path != be.Kept {
		t.Fatalf("listing %+v", l.Entries)
	}
	if _, ok := l.Newest(l.Entries[0].Database); ok {
		t.Error("a failed dump counts as the newest backup")
	}
}

// Cancelled midway, pg_dump is killed (its whole process group) and the
// partial file removed.
func TestCancelKillsPgDumpAndRemovesThePartialFile(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	conn := pgtest.Connect(t, dsn)
	pgtest.Exec(t, conn, `CREATE TABLE big AS SELECT i, md5(i::text) || md5((i+1)::text) AS v FROM generate_series(1, 1500000) i`)
	tools := serverTools(t, conn)
	for _, f := range []Format{Custom, Directory, Plain} {
		t.Run(string(f), func(t *testing.T) {
			dir := t.TempDir()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var pid int
			var once sync.Once
			var dump *exec.Cmd
			sawPartial := false
			_, err := Make(ctx, Options{Tools: tools, Conn: connOf(t, dsn), Dir: dir, Format: f,
				started: func(c *exec.Cmd) { dump = c },
				Progress: func(p Progress) {
					if p.Phase == PhaseDumping && p.Bytes > 0 {
						once.Do(func() {
							des, _ := os.ReadDir(dir)
							for _, d := range des {
								sawPartial = sawPartial || strings.HasSuffix(d.Name(), partialExt)
							}
							pid = dump.Process.Pid
							cancel()
						})
					}
				}})
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("err = %v", err)
			}
			if !sawPartial || pid == 0 {
				t.Fatalf("the dump was not caught midway (partial file %v, pg_dump pid %d)", sawPartial, pid)
			}
			if des, _ := os.ReadDir(dir); len(des) != 0 {
				t.Errorf("left behind: %v", des)
			}
			if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
				t.Errorf("pg_dump %d still runs (%v)", pid, err)
			}
		})
	}
}

// The password reaches pg_dump through a 0600 passfile, removed after:
// never in its arguments, so never in any process's command line.
func TestPasswordNeverInTheProcessList(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	conn := pgtest.Connect(t, dsn)
	seed(t, conn, 100)
	const secret = "s3cr:et\\pw"
	pgtest.Exec(t, conn, `DO $$ BEGIN
		IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'pw_user') THEN CREATE ROLE pw_user LOGIN SUPERUSER; END IF;
		END $$`)
	pgtest.Exec(t, conn, "ALTER ROLE pw_user PASSWORD '"+strings.ReplaceAll(secret, "'", "''")+"'")
	cfg, _ := pgx.ParseConfig(dsn)
	cfg.User, cfg.Password = "pw_user", secret
	pwDSN := strings.Replace(dsn, "postgres://pgtend@", "postgres://pw_user:"+strings.NewReplacer(":", "%3A", "\\", "%5C").Replace(secret)+"@", 1)
	pcfg, err := pgx.ParseConfig(pwDSN)
	if err != nil || pcfg.Password != secret {
		t.Fatalf("DSN %q: %v (password %q)", pwDSN, err, pcfg.Password)
	}
	tools := serverTools(t, conn)
	// Someone holds a table for a second: pg_dump waits on it, and the
	// process list is read meanwhile.
	holder := pgtest.Connect(t, dsn)
	pgtest.Exec(t, holder, "BEGIN; LOCK TABLE trades IN ACCESS EXCLUSIVE MODE")
	committed := make(chan struct{})
	go func() {
		defer close(committed)
		time.Sleep(1500 * time.Millisecond)
		holder.Exec(context.Background(), "COMMIT")
	}()
	t.Cleanup(func() { <-committed }) // before the holder's connection is closed (cleanups run last first)
	var args, env []string
	var passfile string
	var passMode os.FileMode
	seen := 0
	_, err = Make(context.Background(), Options{Tools: tools, Conn: ConnOf(pcfg), Dir: t.TempDir(), Format: Custom,
		started: func(c *exec.Cmd) {
			args, env = c.Args, c.Env
			for _, kv := range c.Env {
				if v, ok := strings.CutPrefix(kv, "PGPASSFILE="); ok {
					passfile = v
					if fi, err := os.Stat(v); err == nil {
						passMode = fi.Mode().Perm()
					}
				}
			}
		},
		Progress: func(p Progress) {
			if p.Phase != PhaseDumping {
				return
			}
			procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
			for _, p := range procs {
				b, _ := os.ReadFile(p)
				if strings.Contains(string(b), "pg_dump") {
					seen++
				}
				if strings.Contains(string(b), secret) || strings.Contains(string(b), "s3cr") {
					t.Errorf("%s holds the password: %q", p, b)
				}
			}
		}})
	if err != nil {
		t.Fatal(err) // the password did reach pg_dump
	}
	if seen == 0 {
		t.Error("the process list was never read while pg_dump ran")
	}
	for _, a := range args {
		if strings.Contains(a, "s3cr") {
			t.Errorf("argv holds the password: %q", args)
		}
	}
	for _, kv := range env {
		if strings.HasPrefix(kv, "PGPASSWORD=") {
			t.Errorf("PGPASSWORD in the environment: %q", kv)
		}
	}
	if passfile == "" || passMode != 0o600 {
		t.Errorf("passfile %q, mode %v", passfile, passMode)
	}
	if _, err := os.Stat(passfile); !os.IsNotExist(err) {
		t.Errorf("the passfile %s outlived pg_dump (%v)", passfile, err)
	}
}

// A pg_dump older than the server is refused, naming both versions.
func TestOlderClientRefused(t *testing.T) {
	dir := t.TempDir()
	for _, p := range []string{"pg_dump", "pg_restore"} {
		script := "#!/bin/sh\necho '" + p + " (PostgreSQL) 13.4 (Debian 13.4-1)'\n"
		if err := os.WriteFile(filepath.Join(dir, p), []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	_, err := FindTools(context.Background(), 150020, "15.20", dir)
	if err == nil || !strings.Contains(err.Error(), "13.4") || !strings.Contains(err.Error(), "15.20") || !strings.Contains(err.Error(), "older") {
		t.Fatalf("err = %v", err)
	}
	// The same pair is taken for a server it matches.
	tools, err := FindTools(context.Background(), 130004, "13.4", dir)
	if err != nil || tools.Version != "13.4" || tools.PgDump != filepath.Join(dir, "pg_dump") {
		t.Fatalf("tools %+v, %v", tools, err)
	}
}

func TestWithoutPassword(t *testing.T) {
	for in, want := range map[string]string{
		"":                                     "",
		"host=/tmp port=5432 password=x":       "host='/tmp' port='5432'",
		"password='a b\\' c' dbname=d":         "dbname='d'",
		"user=u sslpassword=k sslmode=require": "user='u' sslmode='require'",
		"postgres://u:pw@h:5/db?sslmode=disable&password=q": "postgres://u@h:5/db?sslmode=disable",
	} {
		if got := withoutPassword(in); got != want {
			t.Errorf("withoutPassword(%q) = %q, want %q", in, got, want)
		}
	}
}

// A config copied for another database reaches that database, never the
// one its connection string names.
func TestConnOfFollowsTheDatabase(t *testing.T) {
	for _, dsn := range []string{"postgres://u@h:5/src?sslmode=disable", "host=h dbname=src user=u"} {
		cfg, err := pgx.ParseConfig(dsn)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Database = "scratch"
		args := strings.Join(ConnOf(cfg).Args(), " ")
		if strings.Contains(args, "src") && !strings.Contains(args, "dbname='scratch'") || !strings.Contains(args, "scratch") {
			t.Errorf("%s → %s", dsn, args)
		}
	}
}

// A filesystem that fills up: pg_dump is stopped (plain, where pgtend
// writes) or fails (custom, where it writes), and the partial file is
// removed, not kept aside to keep the filesystem full.
func TestFullFilesystemRemovesThePartialBackup(t *testing.T) {
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("SKIPPED: cannot mount a small tmpfs to fill up (%v: %s); needs root", err, out)
	}
	defer exec.Command("umount", dir).Run()
	dsn := pgtest.NewDatabase(t)
	conn := pgtest.Connect(t, dsn)
	seed(t, conn, 50000)
	// More than the members pgtend holds in memory (45 MB of SQL): the
	// disk's refusal comes while pg_dump still runs.
	pgtest.Exec(t, conn, "CREATE TABLE big AS SELECT i, md5(i::text) AS h FROM generate_series(1, 1000000) i")
	tools := serverTools(t, conn)
	for _, f := range []Format{Plain, Custom} {
		t.Run(string(f), func(t *testing.T) {
			_, err := Make(context.Background(), Options{Tools: tools, Conn: connOf(t, dsn), Dir: dir, Format: f})
			if err == nil || !strings.Contains(err.Error(), "partial backup was removed") {
				t.Fatalf("a backup into a full filesystem: %v", err)
			}
			t.Logf("%v", err)
			if f == Plain && !strings.Contains(err.Error(), "pg_dump stopped") {
				t.Errorf("pg_dump was not stopped: %v", err)
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 0 {
				t.Errorf("left in the full filesystem: %v", entries)
			}
		})
	}
}
