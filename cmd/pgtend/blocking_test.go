package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/pgtend/pgtend/ops/pgtest"
)

// reindex --blocking headless: the plan says it blocks writers and needs
// confirmation (text and JSON), run refuses it without --yes (exit 2,
// nothing rebuilt) and runs it with --yes.
func TestBlockingReindexNeedsYes(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	conn := pgtest.Connect(t, dsn)
	pgtest.Exec(t, conn, `CREATE TABLE slots (id int, EXCLUDE USING btree (id WITH =)); INSERT INTO slots SELECT g FROM generate_series(1, 1000) g; ANALYZE slots`)
	cfg := writeFile(t, "pgtend.toml", "[tables.slots]\npermanent = true\n")
	node := func() int64 { return pgtest.Count(t, conn, "SELECT pg_relation_filenode('slots_id_excl')::bigint") }
	args := []string{"reindex", "--index", "slots_id_excl", "--blocking", "--dsn", dsn, "--config", cfg}

	r := pgtend(t, nil, append([]string{"plan"}, args...)...)
	if r.code != 0 || !strings.Contains(r.stdout, "BLOCKS WRITERS") || !strings.Contains(r.stdout, "[blocks writes]") ||
		!strings.Contains(r.stdout, "ACCESS EXCLUSIVE on the index, SHARE on the table") || !strings.Contains(r.stdout, "REINDEX INDEX public.slots_id_excl") && !strings.Contains(r.stdout, `REINDEX INDEX "public"."slots_id_excl"`) {
		t.Fatalf("plan: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = pgtend(t, nil, append([]string{"plan", "--json"}, args...)...)
	var p struct {
		Destructive       bool `json:"destructive"`
		NeedsConfirmation bool `json:"needs_confirmation"`
		Steps             []struct {
			Blocking bool `json:"blocking"`
		} `json:"steps"`
	}
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &p) != nil || p.Destructive || !p.NeedsConfirmation || len(p.Steps) != 1 || !p.Steps[0].Blocking {
		t.Fatalf("plan --json: exit %d %+v\n%s%s", r.code, p, r.stdout, r.stderr)
	}
	before := node()
	r = pgtend(t, nil, append([]string{"run"}, args...)...)
	if r.code != 2 || !strings.Contains(r.stderr, "blocks the application's writes") || !strings.Contains(r.stderr, "--yes") || node() != before {
		t.Fatalf("run without --yes: exit %d, filenode %d → %d\n%s", r.code, before, node(), r.stderr)
	}
	r = pgtend(t, nil, append([]string{"run", "--yes"}, args...)...)
	if r.code != 0 || node() == before {
		t.Fatalf("run --yes: exit %d, filenode %d → %d\n%s%s", r.code, before, node(), r.stdout, r.stderr)
	}
}
