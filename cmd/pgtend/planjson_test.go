package main

import (
	"bufio"
	"encoding/json"
	"strings"
	"testing"

	"github.com/pgtend/pgtend/ops/pgtest"
)

// The JSON contract of plans and runs: a plan with its per-table summary
// (foreign keys included), steps with statements, locks, affected objects
// and estimates, refusals and notes; a run as one object a line, each with
// its kind, the result last.
func TestPlanAndRunJSON(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	conn := pgtest.Connect(t, dsn)
	pgtest.Exec(t, conn, `CREATE TABLE signals (id int PRIMARY KEY, ts timestamptz NOT NULL);
		INSERT INTO signals SELECT g, now() - g * interval '1 hour' FROM generate_series(1, 600) g;
		CREATE TABLE fills (signal_id int REFERENCES signals ON DELETE RESTRICT, qty int);
		INSERT INTO fills VALUES (500, 1)`)
	cfg := writeFile(t, "pgtend.toml", "[tables.signals]\ntime_column = \"ts\"\nretention = \"10d\"\n\n[tables.trade_history]\npermanent = true\n")
	r := pgtend(t, nil, "plan", "retention", "--json", "--dsn", dsn, "--config", cfg)
	if r.code != 0 {
		t.Fatalf("plan --json: %d %s", r.code, r.stderr)
	}
	var plan struct {
		Action      string `json:"action"`
		Destructive bool   `json:"destructive"`
		Tables      []struct {
			Table string `json:"table"`
			Goes  struct {
				Rows *int64 `json:"rows"`
			} `json:"goes"`
			ForeignKeys []struct {
				Name     string `json:"name"`
				From     string `json:"from"`
				OnDelete string `json:"on_delete"`
				Incoming bool   `json:"incoming"`
			} `json:"foreign_keys"`
			Findings []string `json:"findings"`
			Steps    []int    `json:"steps"`
		} `json:"tables"`
		Steps []struct {
			Statements  []string `json:"statements"`
			Lock        string   `json:"lock"`
			Destructive bool     `json:"destructive"`
			EstRows     *int64   `json:"est_rows"`
		} `json:"steps"`
		Refused []struct {
			Table, Reason string
		} `json:"refused"`
		Notes []string `json:"notes"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &plan); err != nil {
		t.Fatalf("plan JSON: %v\n%s", err, r.stdout)
	}
	if plan.Action != "retention" || !plan.Destructive || len(plan.Tables) != 1 || len(plan.Steps) != 2 || plan.Steps[0].EstRows == nil || *plan.Steps[0].EstRows < 360 {
		t.Errorf("plan: %+v", plan)
	}
	if s := plan.Tables[0]; len(s.ForeignKeys) != 1 || s.ForeignKeys[0].From != "public.fills" || s.ForeignKeys[0].OnDelete != "RESTRICT" || !s.ForeignKeys[0].Incoming || len(s.Findings) == 0 {
		t.Errorf("summary: %+v", s)
	}
	if len(plan.Refused) != 1 || !strings.Contains(plan.Refused[0].Reason, "trade_history") {
		t.Errorf("refused: %+v", plan.Refused)
	}
	r = pgtend(t, nil, "run", "retention", "--json", "--yes", "--dsn", dsn, "--config", cfg)
	if r.code != 0 {
		t.Fatalf("run --json: %d %s", r.code, r.stderr)
	}
	var kinds []string
	sc := bufio.NewScanner(strings.NewReader(r.stdout))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var last map[string]any
	for sc.Scan() {
		var obj map[string]any
		if err := json.Unmarshal(sc.Bytes(), &obj); err != nil {
			t.Fatalf("line %q is not JSON: %v", sc.Text(), err)
		}
		kinds = append(kinds, obj["kind"].(string))
		last = obj
	}
	got := strings.Join(kinds, " ")
	if !strings.HasPrefix(got, "plan step_started") || !strings.Contains(got, "step_finished") || kinds[len(kinds)-1] != "result" {
		t.Errorf("kinds: %s", got)
	}
	// Every old row goes but the one fills references.
	if last["outcome"] != "ok" || int64(last["rows"].(float64)) != *plan.Steps[0].EstRows-1 || last["recorded_in"] != "pgtend.history" {
		t.Errorf("result: %v", last)
	}
}

// A role that owns none of the tables: the plan says what it may not do,
// and a run where some steps were skipped exits 1 and says SKIPPED.
func TestSkippedStepsExitOne(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	conn := pgtest.Connect(t, dsn)
	pgtest.Exec(t, conn, `CREATE TABLE theirs (ts timestamptz NOT NULL); INSERT INTO theirs VALUES (now());
		CREATE ROLE monitor2 LOGIN; GRANT SELECT ON theirs TO monitor2; GRANT CREATE ON SCHEMA public TO monitor2`)
	mon := pgtest.ConnectAs(t, dsn, "monitor2")
	pgtest.Exec(t, mon, `CREATE TABLE ours (ts timestamptz NOT NULL); INSERT INTO ours VALUES (now())`)
	cfg := writeFile(t, "pgtend.toml", "[tables.theirs]\ntime_column = \"ts\"\n\n[tables.ours]\ntime_column = \"ts\"\n")
	monDSN := strings.Replace(dsn, "pgtend@", "monitor2@", 1)
	r := pgtend(t, nil, "plan", "vacuum", "--dsn", monDSN, "--config", cfg)
	if r.code != 0 || !strings.Contains(r.stdout, "NOT ALLOWED, will be skipped: monitor2 may not maintain") || !strings.Contains(r.stdout, "GRANT") {
		t.Fatalf("plan: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = pgtend(t, nil, "run", "vacuum", "--dsn", monDSN, "--config", cfg)
	if r.code != 1 || !strings.Contains(r.stdout, "SKIPPED, nothing done") || !strings.Contains(r.stdout, "vacuum: skipped") {
		t.Errorf("run: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}
