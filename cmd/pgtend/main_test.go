package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pgtend/pgtend/ops/cluster"
	"github.com/pgtend/pgtend/ops/pgtest"
)

// binary is pgtend built once for the package: these tests run the real
// program, as a user or a cron job would.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "pgtend-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "pgtend")
	out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "building pgtend: %v\n%s", err, out)
		os.Exit(1)
	}
	// One role must give a password, so the wrong-password path is real.
	code := pgtest.MainWith(m, cluster.Options{HBA: []string{"local all pw_user scram-sha-256"}})
	os.RemoveAll(dir)
	os.Exit(code)
}

type result struct {
	stdout, stderr string
	code           int
}

func pgtend(t *testing.T, env []string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	// A clean environment: nothing of the developer's libpq settings leaks in.
	cmd.Env = append([]string{"HOME=" + t.TempDir(), "PATH=" + os.Getenv("PATH"), "XDG_CONFIG_HOME=" + t.TempDir(),
		"PGTEND_SYSTEM_CONFIG=" + filepath.Join(t.TempDir(), "none.toml")}, env...) // the host's /etc/pgtend stays out
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{stdout.String(), stderr.String(), code}
}

// oneClearLine asserts a failure: the exit status, a single "pgtend: ..."
// line holding every wanted fragment, and no Go stack trace.
func (r result) oneClearLine(t *testing.T, code int, want ...string) {
	t.Helper()
	if r.code != code {
		t.Errorf("exit %d, want %d; stderr: %s", r.code, code, r.stderr)
	}
	lines := strings.Split(strings.TrimRight(r.stderr, "\n"), "\n")
	if len(lines) != 1 || !strings.HasPrefix(lines[0], "pgtend: ") {
		t.Errorf("want one line starting \"pgtend: \", got %q", r.stderr)
	}
	for _, w := range want {
		if !strings.Contains(r.stderr, w) {
			t.Errorf("stderr %q does not say %q", r.stderr, w)
		}
	}
	if strings.Contains(r.stderr, "goroutine") || strings.Contains(r.stderr, "panic") {
		t.Errorf("stack trace in output: %s", r.stderr)
	}
}

func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"--version"}} {
		r := pgtend(t, nil, args...)
		if r.code != 0 || r.stdout != "pgtend dev\n" {
			t.Errorf("%v: %+v", args, r)
		}
	}
	// What goreleaser stamps.
	bin := filepath.Join(t.TempDir(), "pgtend")
	ldflags := "-X main.version=1.2.3 -X main.commit=0123456789abcdef -X main.date=2026-01-02T03:04:05Z"
	if out, err := exec.Command("go", "build", "-ldflags", ldflags, "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "version").Output()
	if want := "pgtend 1.2.3 (commit 0123456, built 2026-01-02T03:04:05Z)\n"; err != nil || string(out) != want {
		t.Errorf("stamped version: %q, %v; want %q", out, err, want)
	}
}

func TestUsageErrors(t *testing.T) {
	pgtend(t, nil, "frobnicate").oneClearLine(t, 2, `unknown command "frobnicate"`)
	pgtend(t, nil, "report", "--refresh", "1ms").oneClearLine(t, 2, "--refresh 1ms is too short")
	pgtend(t, nil, "report", "stray").oneClearLine(t, 2, `unexpected argument "stray"`)
	pgtend(t, nil, "report", "--bogus").oneClearLine(t, 2, "unknown flag: --bogus")
	pgtend(t, nil, "report", "--refresh", "soon").oneClearLine(t, 2, `invalid argument "soon" for "--refresh"`)
	pgtend(t, nil, "report", "--dsn").oneClearLine(t, 2, "flag needs an argument: --dsn")
	pgtend(t, nil, "plan").oneClearLine(t, 2, "pgtend plan needs an action")
	pgtend(t, nil, "run", "vacuum", "stray").oneClearLine(t, 2, `unexpected argument "stray"`)
	pgtend(t, nil, "config").oneClearLine(t, 2, "config needs a subcommand")
	pgtend(t, nil, "config", "frobnicate").oneClearLine(t, 2, `unknown config subcommand "frobnicate"`)
	pgtend(t, nil, "config", "check").oneClearLine(t, 2, "usage: pgtend config check FILE")
	pgtend(t, nil, "completion", "bash", "stray").oneClearLine(t, 2, `unknown command "stray"`)
	// --help and help show the commands as well as the flags, on stdout.
	for _, args := range [][]string{{"--help"}, {"help"}, {"-h"}} {
		res := pgtend(t, nil, args...)
		if res.code != 0 || res.stderr != "" {
			t.Errorf("pgtend %v: exit %d, stderr %q", args, res.code, res.stderr)
		}
		for _, want := range []string{"pgtend demo", "demo", "report", "plan ACTION", "run ACTION", "history", "config", "version", "completion", "--dsn", "--refresh"} {
			if !strings.Contains(res.stdout, want) {
				t.Errorf("pgtend %v does not show %q:\n%s", args, want, res.stdout)
			}
		}
	}
	// Every command has its own --help, with its own flags.
	for cmd, flag := range map[string]string{"demo": "--keep", "report": "--json", "plan": "--table", "run": "--batch-size", "history": "--limit", "config show": "--target", "version": "--help"} {
		res := pgtend(t, nil, append(strings.Fields(cmd), "--help")...)
		if res.code != 0 || !strings.Contains(res.stdout, "pgtend "+cmd) || !strings.Contains(res.stdout, flag) {
			t.Errorf("pgtend %s --help: exit %d, want its usage and %s:\n%s%s", cmd, res.code, flag, res.stdout, res.stderr)
		}
	}
}

func TestBadDSN(t *testing.T) {
	r := pgtend(t, nil, "report", "--dsn", "host=/tmp port=notaport password=hunter2")
	r.oneClearLine(t, 1, "invalid connection string", "port")
	if strings.Contains(r.stderr, "hunter2") {
		t.Errorf("password in output: %s", r.stderr)
	}
	r = pgtend(t, nil, "report", "--dsn", "postgres://u:hunter2@[::1/db")
	r.oneClearLine(t, 1, "invalid connection string")
	if strings.Contains(r.stderr, "hunter2") {
		t.Errorf("password in output: %s", r.stderr)
	}
}

func TestUnreachableServer(t *testing.T) {
	pgtend(t, nil, "report", "--dsn", "host=/nonexistent-socket-dir port=5999 user=ops dbname=oi").
		oneClearLine(t, 1, "cannot connect to host=/nonexistent-socket-dir port=5999 user=ops database=oi", "no server is listening")
	pgtend(t, nil, "report", "--dsn", "host=127.0.0.1 port=1 user=ops dbname=oi connect_timeout=3").
		oneClearLine(t, 1, "host=127.0.0.1 port=1 user=ops database=oi", "connection refused")
	// A name that does not resolve: sslmode=prefer tries twice, and pgx
	// joins the two failures with a newline.
	pgtend(t, nil, "report", "--dsn", "host=nosuchhost.invalid user=ops password=s3cret dbname=oi connect_timeout=3").
		oneClearLine(t, 1, "host=nosuchhost.invalid", "nosuchhost.invalid")
}

func TestWrongPassword(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(context.Background(), "CREATE ROLE pw_user LOGIN PASSWORD 'right-secret'"); err != nil {
		t.Fatal(err)
	}
	conn.Close(context.Background())
	c := pgtest.Cluster
	base := fmt.Sprintf("host=%s port=%d user=pw_user dbname=postgres", c.SocketDir(), c.Port)

	r := pgtend(t, nil, "report", "--dsn", base+" password=wrong-secret")
	r.oneClearLine(t, 1, "user=pw_user", "password authentication failed")
	if strings.Contains(r.stderr, "wrong-secret") {
		t.Errorf("password in output: %s", r.stderr)
	}
	// The libpq environment works too, and the right password gets in.
	r = pgtend(t, []string{"PGHOST=" + c.SocketDir(), fmt.Sprintf("PGPORT=%d", c.Port), "PGUSER=pw_user", "PGDATABASE=postgres", "PGPASSWORD=right-secret"}, "report")
	if r.code != 0 || strings.Contains(r.stdout+r.stderr, "right-secret") {
		t.Errorf("report via libpq environment: exit %d, stderr %q", r.code, r.stderr)
	}
	// DATABASE_URL when there is no --dsn.
	r = pgtend(t, []string{"DATABASE_URL=" + c.DSN("postgres")}, "report", "--json")
	if r.code != 0 || !strings.Contains(r.stdout, `"database": "postgres"`) {
		t.Errorf("report via DATABASE_URL: exit %d, stderr %q", r.code, r.stderr)
	}
}

func TestMissingServerBinaries(t *testing.T) {
	pgtend(t, []string{cluster.BinDirEnv + "=" + t.TempDir()}, "demo", "--no-console").
		oneClearLine(t, 1, "apt-get install -y postgresql")
}

func writeFile(t *testing.T, name, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestMalformedConfigRefusesToStart(t *testing.T) {
	bad := writeFile(t, "bad.toml", "[tables.option_chain_snapshots]\ntime_column = \"timestamp\"\nretention = \"-5d\"\n\n[tables.trade_history]\npermanent = true\nretention = \"30d\"\n")
	dsn := pgtest.Cluster.DSN("postgres")
	r := pgtend(t, nil, "report", "--dsn", dsn, "--config", bad)
	if r.code != 1 || r.stdout != "" {
		t.Errorf("exit %d, stdout %q: a bad config must stop pgtend before it reports", r.code, r.stdout)
	}
	for _, want := range []string{bad + ":3: tables.option_chain_snapshots.retention", bad + ":7: tables.trade_history.retention"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr %q does not name %q", r.stderr, want)
		}
	}
	// The same file through `config check`, and a bad file in the XDG location.
	if r := pgtend(t, nil, "config", "check", bad); r.code != 1 || !strings.Contains(r.stderr, ":3:") {
		t.Errorf("config check of a bad file: %+v", r)
	}
	xdg := t.TempDir()
	os.MkdirAll(filepath.Join(xdg, "pgtend"), 0o755)
	os.WriteFile(filepath.Join(xdg, "pgtend", "pgtend.toml"), []byte("[tables.x]\nretension = \"9d\"\n"), 0o644)
	r = pgtend(t, []string{"XDG_CONFIG_HOME=" + xdg}, "config", "show")
	r.oneClearLine(t, 1, "pgtend.toml:2", "retension")
	pgtend(t, nil, "report", "--config", filepath.Join(t.TempDir(), "nope.toml")).oneClearLine(t, 1, "nope.toml", "no such file")
}

func TestConfigShowAndTargets(t *testing.T) {
	r := pgtend(t, nil, "config", "show")
	if r.code != 0 {
		t.Fatalf("config show: %+v", r)
	}
	for _, want := range []string{"# source: built-in default", "[tables.option_chain_snapshots]", `retention = "90d"`, "[tables.trade_history]", "permanent = true"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("config show lacks %q:\n%s", want, r.stdout)
		}
	}
	// What config show prints is a valid config.
	if c := pgtend(t, nil, "config", "check", writeFile(t, "shown.toml", r.stdout)); c.code != 0 {
		t.Errorf("config show output does not check: %+v", c)
	}
	cfg := writeFile(t, "targets.toml", `[targets.prod]
dsn = "`+pgtest.Cluster.DSN("postgres")+`"
[targets.prod.tables.only_in_prod]
retention = "30d"
time_column = "ts"
`)
	r = pgtend(t, nil, "config", "show", "--config", cfg, "--target", "prod")
	if r.code != 0 || !strings.Contains(r.stdout, "only_in_prod") || strings.Contains(r.stdout, "option_chain_snapshots") {
		t.Errorf("target policy: %+v", r)
	}
	pgtend(t, nil, "report", "--config", cfg, "--target", "staging").oneClearLine(t, 1, `unknown target "staging"`, "prod")
	r = pgtend(t, nil, "report", "--json", "--config", cfg, "--target", "prod")
	if r.code != 0 || !strings.Contains(r.stdout, `"name": "only_in_prod"`) || !strings.Contains(r.stdout, `"missing": true`) {
		t.Errorf("report on target prod should list the missing policy table: exit %d %s", r.code, r.stderr)
	}
}
