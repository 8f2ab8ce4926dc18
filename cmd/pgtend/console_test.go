package main

import (
	"encoding/json"
	"fmt"
	"github.com/pgtend/pgtend/tui/text"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/pgtend/pgtend/ops/demo"
	"github.com/pgtend/pgtend/ops/pgtest"
	"github.com/pgtend/pgtend/ops/report"
)

// screen drives the real binary in tmux, as a user in an SSH session would.
type screen struct {
	t    *testing.T
	name string
}

func startScreen(t *testing.T, w, h int, env []string, args ...string) *screen {
	t.Helper()
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("SKIPPED: tmux is not installed (.ci/run installs it); the console's end-to-end test needs it")
	}
	s := &screen{t: t, name: fmt.Sprintf("pgtend-test-%d", time.Now().UnixNano())}
	cmdline := "env " + strings.Join(env, " ") + " " + binary + " " + strings.Join(args, " ")
	out, err := exec.Command("tmux", "new-session", "-d", "-s", s.name, "-x", fmt.Sprint(w), "-y", fmt.Sprint(h), cmdline+"; sleep 30").CombinedOutput()
	if err != nil {
		t.Fatalf("tmux: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("tmux", "kill-session", "-t", s.name).Run() })
	return s
}

func (s *screen) capture() string {
	out, _ := exec.Command("tmux", "capture-pane", "-p", "-t", s.name).Output()
	return string(out)
}

func (s *screen) keys(keys ...string) {
	exec.Command("tmux", append([]string{"send-keys", "-t", s.name}, keys...)...).Run()
}

// waitFor polls the screen until it contains every string.
func (s *screen) waitFor(want ...string) string {
	s.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		scr := s.capture()
		missing := ""
		for _, w := range want {
			if !strings.Contains(scr, w) {
				missing = w
				break
			}
		}
		if missing == "" {
			return scr
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("screen never showed %q:\n%s", missing, scr)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestConsoleShowsTheReportFigures(t *testing.T) {
	mode := demo.Native
	if pgtest.Cluster.Timescale {
		mode = demo.Timescale
	}
	dsn, _ := seededDemo(t, mode)
	res := pgtend(t, nil, "report", "--json", "--dsn", dsn)
	var r report.Report
	if err := json.Unmarshal([]byte(res.stdout), &r); err != nil {
		t.Fatalf("%v: %s", err, res.stderr)
	}
	stateDir := t.TempDir()
	s := startScreen(t, 160, 48, []string{"LANG=C.UTF-8", "TERM=xterm-256color", "HOME=" + t.TempDir(), "XDG_STATE_HOME=" + stateDir}, "--dsn", "'"+dsn+"'", "--refresh", "60s")
	scr := s.waitFor("connected", "option_chain_snapshots", "trade_history")
	var largest report.Table
	for _, tb := range r.Tables {
		line := ""
		for _, l := range strings.Split(scr, "\n") {
			if strings.Contains(l, " "+tb.Name+" ") {
				line = l
			}
		}
		want := text.Bytes(tb.TotalBytes)
		if line == "" || !strings.Contains(line, " "+want+" ") {
			t.Errorf("%s: want total %s on its line, got %q", tb.Name, want, line)
		}
		if largest.TotalBytes == nil || *tb.TotalBytes > *largest.TotalBytes {
			largest = tb
		}
	}
	// The cursor starts on the largest table (sorted by size): Enter shows its chunks.
	s.keys("Enter")
	s.waitFor(largest.Name, fmt.Sprintf("%d chunks", largest.Chunks))
	s.keys("4")
	s.waitFor("Maintenance calendar", "VACUUM ANALYZE", "Retention cleanup")
	// Tick off a manual task with a note; the history records it.
	s.keys("j", "j", "j", "t")
	s.waitFor("note:")
	s.keys("-l", "logs clean")
	s.keys("Enter")
	s.waitFor("recorded: review_logs done")
	res = pgtend(t, []string{"XDG_STATE_HOME=" + stateDir}, "report", "--json", "--dsn", dsn)
	if err := json.Unmarshal([]byte(res.stdout), &r); err != nil {
		t.Fatal(err)
	}
	for _, c := range r.Calendar {
		if (c.Task == "review_logs") != (c.LastRun != nil) {
			t.Errorf("calendar after the tick-off: %s last run %v", c.Task, c.LastRun)
		}
	}
	s.keys("q")
	deadline := time.Now().Add(5 * time.Second)
	for strings.Contains(s.capture(), "Maintenance calendar") {
		if time.Now().After(deadline) {
			t.Fatal("q did not quit the console")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestConsoleRetentionPlanConfirmRun: d on a table shows the plan, runs
// only after its name is typed, and the data past retention is gone.
func TestConsoleRetentionPlanConfirmRun(t *testing.T) {
	dsn, conn := seededDemo(t, demo.Native)
	cfg := writeFile(t, "pgtend.toml", shortRetention)
	before := count(t, conn, "SELECT count(*) FROM option_chain_snapshots")
	s := startScreen(t, 100, 30, []string{"LANG=C.UTF-8", "TERM=xterm-256color", "HOME=" + t.TempDir(), "XDG_STATE_HOME=" + t.TempDir()},
		"--dsn", "'"+dsn+"'", "--config", cfg, "--refresh", "60s")
	s.waitFor("connected", "option_chain_snapshots")
	s.keys("/")
	s.keys("-l", "option_chain")
	s.keys("Enter")
	s.keys("d")
	s.waitFor("retention cleanup of option_chain_snapshots", "goes", "stays", "This plan deletes data")
	s.keys("x") // the statements, one key away
	s.waitFor("DETACH PARTITION")
	if count(t, conn, "SELECT count(*) FROM option_chain_snapshots") != before {
		t.Fatal("showing the plan changed data")
	}
	s.keys("y")
	s.keys("-l", "option_chain_snapshot") // one letter short: refused
	s.keys("Enter")
	time.Sleep(500 * time.Millisecond)
	if count(t, conn, "SELECT count(*) FROM option_chain_snapshots") != before {
		t.Fatal("a wrong name ran the plan")
	}
	s.keys("-l", "s")
	s.keys("Enter")
	s.waitFor("retention cleanup of option_chain_snapshots: ok", "freed")
	if n := count(t, conn, `SELECT count(*) FROM option_chain_snapshots WHERE "timestamp" < now() - interval '21 days'`); n != 0 {
		t.Errorf("%d rows past retention left", n)
	}
	if n := count(t, conn, `SELECT count(*) FROM pgtend.history WHERE task = 'retention_cleanup' AND outcome = 'ok'`); n != 1 {
		t.Errorf("%d history entries", n)
	}
	s.keys("Enter")
	s.waitFor("sorted by size")
	s.keys("q")
}

// The demo's continuous aggregate in the console: listed as cagg with its
// refresh in its notes, its chunks in the Chunks pane, and the footer
// reconciling the database's size.
func TestConsoleShowsAContinuousAggregate(t *testing.T) {
	pgtest.RequireTimescale(t)
	dsn := pgtest.NewDatabase(t)
	conn := pgtest.Connect(t, dsn)
	seedExtras(t, conn, demo.Timescale)
	s := startScreen(t, 160, 48, []string{"LANG=C.UTF-8", "TERM=xterm-256color", "HOME=" + t.TempDir(), "XDG_STATE_HOME=" + t.TempDir()}, "--dsn", "'"+dsn+"'", "--refresh", "60s")
	s.waitFor("connected", "option_chain_daily     cagg", "continuous aggregates: option_chain_daily (of option_chain_snapshots)", "listed tables", "= database")
	s.keys("/")
	s.keys("-l", "daily")
	s.keys("Enter")
	s.waitFor(`1 table, sorted by size, filter "daily"`, "option_chain_daily: continuous aggregate of option_chain_snapshots,", "refreshed every 01:00:00")
	s.keys("Enter")
	s.waitFor("option_chain_daily  ", "chunks: ")
}
