package main

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pgtend/pgtend/ops/demo"
	"github.com/pgtend/pgtend/ops/pgtest"
	"github.com/pgtend/pgtend/ops/report"
)

// twinDemos seeds one demo database and copies it (CREATE DATABASE …
// TEMPLATE), so two routines can be run on the very same rows.
func twinDemos(t *testing.T) (a, b string) {
	t.Helper()
	a = pgtest.NewDatabase(t)
	conn := pgtest.Connect(t, a)
	if _, err := demo.Seed(context.Background(), conn, demo.Options{Days: 40, Mode: demo.Native}); err != nil {
		t.Fatal(err)
	}
	conn.Close(context.Background())
	cfg, err := pgx.ParseConfig(a)
	if err != nil {
		t.Fatal(err)
	}
	nameA := cfg.Database
	nameB := nameA[:min(len(nameA), 56)] + "_twin" // within 63 bytes
	admin := adminConn(t, a)
	for try := 0; ; try++ { // an autovacuum worker may still be in the source
		_, err = admin.Exec(context.Background(), fmt.Sprintf("CREATE DATABASE %s TEMPLATE %s",
			pgx.Identifier{nameB}.Sanitize(), pgx.Identifier{nameA}.Sanitize()))
		if err == nil || try == 20 {
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = admin.Exec(context.Background(), "DROP DATABASE IF EXISTS "+pgx.Identifier{nameB}.Sanitize()+" WITH (FORCE)")
	})
	return a, pgtest.Cluster.DSN(nameB)
}

// adminConn is a connection to the cluster's postgres database.
func adminConn(t *testing.T, dsn string) *pgx.Conn {
	t.Helper()
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Database = "postgres"
	conn, err := pgx.ConnectConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// endState is what a routine leaves that must not depend on how it was
// walked: the rows of every table, the history's tasks and outcomes, and
// the calendar's status of each task.
func endState(t *testing.T, dsn, stateDir, cfg string) (rows, history, calendar []string) {
	t.Helper()
	conn := pgtest.Connect(t, dsn)
	tables, err := conn.Query(context.Background(), `SELECT quote_ident(table_schema) || '.' || quote_ident(table_name) FROM information_schema.tables
		WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	names, err := pgx.CollectRows(tables, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		rows = append(rows, fmt.Sprintf("%s %d", n, count(t, conn, "SELECT count(*) FROM "+n)))
	}
	h, err := conn.Query(context.Background(), `SELECT task || ' ' || coalesce(action, '') || ' ' || outcome || ' ' || count(*) FROM pgtend.history GROUP BY task, action, outcome ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	if history, err = pgx.CollectRows(h, pgx.RowTo[string]); err != nil {
		t.Fatal(err)
	}
	res := pgtend(t, []string{"XDG_STATE_HOME=" + stateDir}, "report", "--json", "--dsn", dsn, "--config", cfg)
	var r report.Report
	if err := json.Unmarshal([]byte(res.stdout), &r); err != nil {
		t.Fatalf("%v: %s", err, res.stderr)
	}
	for _, c := range r.Calendar {
		calendar = append(calendar, c.Task+" "+c.Status)
	}
	return rows, history, calendar
}

// TestWizardMatchesHeadlessMonthly walks the monthly checklist twice on the
// same rows: headless (`run monthly --yes`) on one copy, and in the real
// console in tmux on the other, every step confirmed (the manual task
// left, as a headless run leaves it). Both leave the same rows, the same
// history and the same calendar.
func TestWizardMatchesHeadlessMonthly(t *testing.T) {
	a, b := twinDemos(t)
	cfg := writeFile(t, "pgtend.toml", shortRetention)
	stateA, stateB := t.TempDir(), t.TempDir()

	r := pgtend(t, []string{"XDG_STATE_HOME=" + stateA}, "run", "monthly", "--yes", "--dsn", a, "--config", cfg)
	if r.code != 0 || !strings.Contains(r.stdout, "monthly checklist: ok") || !strings.Contains(r.stdout, "TO DO by hand: Retrain models") {
		t.Fatalf("run monthly --yes: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	bcfg, _ := pgx.ParseConfig(b)
	s := startScreen(t, 100, 30, []string{"LANG=C.UTF-8", "TERM=xterm-256color", "HOME=" + t.TempDir(), "XDG_STATE_HOME=" + stateB},
		"--dsn", "'"+b+"'", "--config", cfg, "--refresh", "60s")
	s.waitFor("connected", "option_chain_snapshots")
	s.keys("m")
	s.waitFor("Monthly checklist: step 1 of 6")
	walkChecklist(t, s, "database "+bcfg.Database, "Monthly checklist: summary")
	scr := s.waitFor("monthly checklist: ok", "recorded in pgtend.history", "left to do")
	for _, want := range []string{"ran          Retention cleanup", "not set up   Archive models and trade logs", "filesystem used"} {
		if !strings.Contains(scr, want) {
			t.Errorf("the summary lacks %q:\n%s", want, scr)
		}
	}
	s.keys("Enter")
	s.waitFor("sorted by size")
	s.keys("q")

	rowsA, histA, calA := endState(t, a, stateA, cfg)
	rowsB, histB, calB := endState(t, b, stateB, cfg)
	if !slices.Equal(rowsA, rowsB) {
		t.Errorf("rows left differ:\nheadless %v\nwizard   %v", rowsA, rowsB)
	}
	if !slices.Equal(histA, histB) {
		t.Errorf("history differs:\nheadless %v\nwizard   %v", histA, histB)
	}
	if !slices.Equal(calA, calB) {
		t.Errorf("calendar differs:\nheadless %v\nwizard   %v", calA, calB)
	}
	for _, want := range []string{"retention_cleanup ok", "compression_check ok", "reindex ok", "vacuum_analyze ok"} {
		if !slices.Contains(calB, want) {
			t.Errorf("the calendar does not say %q: %v", want, calB)
		}
	}
	if !slices.Contains(histB, "checklist monthly ok 1") {
		t.Errorf("no summary in the history: %v", histB)
	}
}

// walkChecklist answers every step the console's wizard puts up, as an
// operator confirming each would (typing confirm for destructive plans),
// skipping the manual tasks, until the screen shows done.
func walkChecklist(t *testing.T, s *screen, confirm, done string) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	last := ""
	for time.Now().Before(deadline) {
		scr := s.capture()
		if strings.Contains(scr, done) {
			return
		}
		if scr == last { // the answer to the last key has not come yet
			time.Sleep(100 * time.Millisecond)
			continue
		}
		acted := true
		switch {
		case strings.Contains(scr, "This plan deletes data."):
			s.keys("y")
			s.waitFor("type " + confirm + " to run")
			s.keys("-l", confirm)
			s.keys("Enter")
		case strings.Contains(scr, "Run this plan?"), strings.Contains(scr, "Looked at?"):
			s.keys("y")
		case strings.Contains(scr, "A person's task"):
			s.keys("n")
		case strings.Contains(scr, "next step"):
			s.keys("Enter")
		default:
			acted = false
		}
		if acted {
			last = scr
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("the checklist never reached %q:\n%s", done, s.capture())
}

// The weekly and quarterly checklists headless: their sheets printed and
// counted for their tasks, the server log's state said, the summary
// recorded; plan quarterly lists the sheets and changes nothing.
func TestHeadlessWeeklyAndQuarterly(t *testing.T) {
	dsn, conn := seededDemo(t, demo.Native)
	backups := t.TempDir()
	cfg := writeFile(t, "pgtend.toml", shortRetention+fmt.Sprintf("\n[backup]\ndir = %q\nkeep_daily = 2\ncold_after = \"1w\"\n", backups))
	state := []string{"XDG_STATE_HOME=" + t.TempDir()}

	r := pgtend(t, state, "plan", "quarterly", "--dsn", dsn, "--config", cfg)
	if r.code != 0 || !strings.Contains(r.stdout, "then the sheet Performance audit") {
		t.Fatalf("plan quarterly: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = pgtend(t, state, "run", "quarterly", "--dsn", dsn, "--config", cfg)
	for _, want := range []string{"Retention policy review", "older than 7 days ([backup] cold_after)", "Storage capacity forecast",
		"Largest tables", "Transaction-ID age", "quarterly checklist: ok"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("run quarterly does not say %q", want)
		}
	}
	if r.code != 0 {
		t.Fatalf("run quarterly: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = pgtend(t, state, "run", "weekly", "--dsn", dsn, "--config", cfg)
	if r.code != 0 || !strings.Contains(r.stdout, "The server log cannot be read") || !strings.Contains(r.stdout, "weekly checklist: ok") {
		t.Fatalf("run weekly: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// check_sizes and archive_backups are counted; the reviews are a
	// person's, printed and left for the console's checklist.
	if n := count(t, conn, `SELECT count(*) FROM pgtend.history WHERE task IN ('check_sizes', 'archive_backups') AND outcome = 'ok'`); n != 2 {
		t.Errorf("%d sheets recorded as looked at, want 2", n)
	}
	if n := count(t, conn, `SELECT count(*) FROM pgtend.history WHERE task IN ('review_logs', 'performance_audit', 'review_retention', 'capacity_planning')`); n != 0 {
		t.Errorf("%d reviews counted done by a headless run", n)
	}
	if !strings.Contains(r.stdout, "printed      Server log") {
		t.Errorf("run weekly does not say the log was only printed:\n%s", r.stdout)
	}
	if n := count(t, conn, `SELECT count(*) FROM pgtend.history WHERE task = 'checklist'`); n != 2 {
		t.Errorf("%d checklist summaries, want 2", n)
	}
	r = pgtend(t, state, "run", "weekly", "--json", "--dsn", dsn, "--config", cfg)
	if !strings.Contains(r.stdout, `"kind":"sheet","name":"logs"`) || !strings.Contains(r.stdout, `"kind":"checklist"`) || !strings.Contains(r.stdout, `"kind":"report"`) {
		t.Errorf("run weekly --json:\n%s", r.stdout)
	}
}

// TestConsoleChecklistResumes: leaving the wizard after its first step and
// opening it again starts at the second, as the calendar now counts the
// first done this month.
func TestConsoleChecklistResumes(t *testing.T) {
	dsn, _ := seededDemo(t, demo.Native)
	cfg := writeFile(t, "pgtend.toml", shortRetention)
	c, _ := pgx.ParseConfig(dsn)
	s := startScreen(t, 100, 30, []string{"LANG=C.UTF-8", "TERM=xterm-256color", "HOME=" + t.TempDir(), "XDG_STATE_HOME=" + t.TempDir()},
		"--dsn", "'"+dsn+"'", "--config", cfg, "--refresh", "60s")
	s.waitFor("connected", "option_chain_snapshots")
	s.keys("m")
	s.waitFor("Monthly checklist: step 1 of 6", "This plan deletes data.")
	s.keys("y")
	s.waitFor("type database " + c.Database + " to run")
	s.keys("-l", "database "+c.Database)
	s.keys("Enter")
	s.waitFor("enter/esc next step")
	s.keys("Enter")
	s.waitFor("step 2 of 6, Compression check")
	s.keys("Escape")
	s.waitFor("sorted by size")
	s.keys("4")
	s.waitFor("Maintenance calendar")
	s.keys("m")
	s.waitFor("step 2 of 6, Compression check", "✓ retention")
	s.keys("Escape")
	s.keys("q")
}
