package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/pgtend/pgtend/ops/pgtest"
)

// The rows past retention in a DEFAULT partition, as a user meets them:
// the plan counts them and says they stay, --include-default plans and
// runs their batched DELETE, the report counts them past retention; the
// flag is refused for actions that do not take it.
func TestIncludeDefault(t *testing.T) {
	dsn, conn, cfg := defaultPartitionTable(t)
	type summary struct {
		Findings []string `json:"findings"`
		Goes     struct {
			RowsPastCutoff *int64 `json:"rows_past_cutoff"`
		} `json:"goes"`
		Stays struct {
			RowsPastCutoff *int64 `json:"rows_past_cutoff"`
		} `json:"stays"`
	}
	type plan struct {
		Tables []summary `json:"tables"`
		Steps  []struct {
			Target string `json:"target"`
			Unit   string `json:"unit"`
		} `json:"steps"`
	}
	planOf := func(args ...string) plan {
		t.Helper()
		r := pgtend(t, nil, append([]string{"plan", "retention", "--json", "--dsn", dsn, "--config", cfg}, args...)...)
		var p plan
		if r.code != 0 || json.Unmarshal([]byte(r.stdout), &p) != nil || len(p.Tables) != 1 {
			t.Fatalf("plan retention %v: %d\n%s%s", args, r.code, r.stdout, r.stderr)
		}
		return p
	}
	p := planOf()
	if s := p.Tables[0]; s.Stays.RowsPastCutoff == nil || *s.Stays.RowsPastCutoff < 100 || !strings.Contains(strings.Join(s.Findings, " "), "rows past retention stay in public.dp_default") {
		t.Errorf("without --include-default: %+v", s)
	}
	past := *p.Tables[0].Stays.RowsPastCutoff
	p = planOf("--include-default")
	if s := p.Tables[0]; s.Goes.RowsPastCutoff == nil || *s.Goes.RowsPastCutoff != past || s.Stays.RowsPastCutoff != nil {
		t.Errorf("with --include-default: %+v", s)
	}
	if len(p.Steps) != 3 || p.Steps[1].Target != `"public"."dp_default"` || p.Steps[1].Unit != "rows" {
		t.Errorf("steps: %+v", p.Steps)
	}
	if r := pgtend(t, nil, "plan", "vacuum", "--include-default", "--dsn", dsn, "--config", cfg); r.code != 2 || !strings.Contains(r.stderr, "--include-default is a flag of retention") {
		t.Errorf("plan vacuum --include-default: %d %s", r.code, r.stderr)
	}
	r := pgtend(t, nil, "run", "retention", "--yes", "--include-default", "--dsn", dsn, "--config", cfg)
	if r.code != 0 {
		t.Fatalf("run: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if n := pgtest.Count(t, conn, "SELECT count(*) FROM dp WHERE ts < now() - interval '30 days'"); n != 0 {
		t.Errorf("%d rows past retention left", n)
	}
	if n := pgtest.Count(t, conn, "SELECT count(*) FROM dp_default"); n == 0 {
		t.Error("the DEFAULT partition's newer rows are gone")
	}
	r = pgtend(t, nil, "report", "--json", "--dsn", dsn, "--config", cfg)
	if r.code != 0 || !strings.Contains(r.stdout, `"default": true`) || !strings.Contains(r.stdout, `"partly_expired_bytes"`) {
		t.Errorf("report: %d %s", r.code, r.stderr)
	}
}

// defaultPartitionTable is the table dp: dp_old (MINVALUE → 60 days
// ago), dp_recent (20 days ago → tomorrow) and a DEFAULT partition holding
// the rows between, a row every 6 hours; with a policy of 30 days' retention.
func defaultPartitionTable(t *testing.T) (dsn string, conn *pgx.Conn, cfg string) {
	t.Helper()
	dsn = pgtest.NewDatabase(t)
	conn = pgtest.Connect(t, dsn)
	pgtest.Exec(t, conn, `CREATE TABLE dp (ts timestamptz NOT NULL, v int) PARTITION BY RANGE (ts);
		DO $$ BEGIN
		  EXECUTE format('CREATE TABLE dp_old PARTITION OF dp FOR VALUES FROM (MINVALUE) TO (%L)', date_trunc('day', now()) - interval '60 days');
		  EXECUTE format('CREATE TABLE dp_recent PARTITION OF dp FOR VALUES FROM (%L) TO (%L)', date_trunc('day', now()) - interval '20 days', date_trunc('day', now()) + interval '1 day');
		END $$;
		CREATE TABLE dp_default PARTITION OF dp DEFAULT;
		INSERT INTO dp SELECT now() - g * interval '6 hours', 1 FROM generate_series(0, 280) g;
		ANALYZE dp`)
	cfg = writeFile(t, "pgtend.toml", "[tables.dp]\ntime_column = \"ts\"\nretention = \"30d\"\n")
	return dsn, conn, cfg
}
