package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pgtend/pgtend/ops/demo"
	"github.com/pgtend/pgtend/ops/pgtest"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// slotHoldingWAL makes an inactive physical slot that holds WAL back,
// dropped when the test ends (slots belong to the cluster, not the test's
// database).
func slotHoldingWAL(t *testing.T, dsn string) string {
	t.Helper()
	conn := pgtest.Connect(t, dsn)
	name := fmt.Sprintf("gone_replica_%d", time.Now().UnixNano()%1000000)
	pgtest.Exec(t, conn, `SELECT pg_create_physical_replication_slot($1, true)`, name)
	t.Cleanup(func() {
		c := pgtest.Connect(t, dsn)
		pgtest.Exec(t, c, `SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1`, name)
	})
	pgtest.Exec(t, conn, `CREATE TABLE wal_filler AS SELECT md5(g::text) AS payload FROM generate_series(1, 100000) g`)
	pgtest.Exec(t, conn, `SELECT pg_switch_wal()`)
	return name
}

// pgtend triage --json is the monitoring contract: exactly the keys of
// issue 12, every option's kind and frees from the documented sets, and an
// action that is a pgtend run command or null.
func TestTriageJSONContract(t *testing.T) {
	dsn, _ := seededDemo(t, demo.Native)
	slot := slotHoldingWAL(t, dsn)
	cfg := writeFile(t, "pgtend.toml", shortRetention)
	r := pgtend(t, nil, "triage", "--json", "--dsn", dsn, "--config", cfg)
	if r.code != 0 {
		t.Fatalf("triage --json: exit %d\n%s", r.code, r.stderr)
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatalf("%v\n%s", err, r.stdout)
	}
	keys := func(m map[string]json.RawMessage) []string {
		var k []string
		for n := range m {
			k = append(k, n)
		}
		slices.Sort(k)
		return k
	}
	if got := keys(doc); !slices.Equal(got, []string{"days_until_full", "filesystem", "options"}) {
		t.Errorf("top-level keys %v", got)
	}
	var fs map[string]json.RawMessage
	json.Unmarshal(doc["filesystem"], &fs)
	if got := keys(fs); !slices.Equal(got, []string{"free_bytes", "path", "total_bytes"}) {
		t.Errorf("filesystem keys %v", got)
	}
	if d := string(doc["days_until_full"]); d != "null" && strings.Trim(d, "0123456789.e+-") != "" {
		t.Errorf("days_until_full is %s: a number or null", d)
	}
	var opts []map[string]json.RawMessage
	if err := json.Unmarshal(doc["options"], &opts); err != nil || len(opts) == 0 {
		t.Fatalf("options: %v %s", err, doc["options"])
	}
	want := []string{"action", "bytes", "estimate", "frees", "kind", "locks", "needs_free_bytes", "object", "schema", "table"}
	kinds := []string{"expired_chunks", "expired_partitions", "expired_rows", "compress", "backups", "replication_slot", "archiver",
		"detached_partition", "invalid_index", "repack_leftover", "temp_files", "server_logs", "bloat"}
	seen := map[string]bool{}
	for _, o := range opts {
		if got := keys(o); !slices.Equal(got, want) {
			t.Errorf("option keys %v, want %v", got, want)
		}
		var kind, frees, object string
		var action *string
		var bytes int64
		json.Unmarshal(o["kind"], &kind)
		json.Unmarshal(o["frees"], &frees)
		json.Unmarshal(o["object"], &object)
		json.Unmarshal(o["action"], &action)
		json.Unmarshal(o["bytes"], &bytes)
		seen[kind] = true
		if !slices.Contains(kinds, kind) || !slices.Contains([]string{"now", "checkpoint", "reuse_only", "needs_free_space"}, frees) {
			t.Errorf("kind %q frees %q", kind, frees)
		}
		if action != nil && !strings.HasPrefix(*action, "pgtend run ") {
			t.Errorf("action %q", *action)
		}
		if kind == "replication_slot" && object == slot && (action == nil || *action != "pgtend run drop-slot --slot "+slot || bytes <= 0 || frees != "checkpoint") {
			t.Errorf("the inactive slot: %s", mustJSON(o))
		}
	}
	if !seen["expired_partitions"] || !seen["replication_slot"] {
		t.Errorf("kinds found %v: want the demo's expired partitions and the slot", seen)
	}

	text := pgtend(t, nil, "triage", "--dsn", dsn, "--config", cfg)
	if text.code != 0 || !strings.Contains(text.stdout, "Storage triage of") || !strings.Contains(text.stdout, "pgtend run drop-slot --slot "+slot) {
		t.Errorf("triage: exit %d\n%s%s", text.code, text.stdout, text.stderr)
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// pgtend report --prometheus FILE writes a textfile-collector file that
// parses by the exposition format's rules, with the figures promised, and
// leaves no temporary file behind.
func TestReportPrometheusFile(t *testing.T) {
	dsn, _ := seededDemo(t, demo.Native)
	slotHoldingWAL(t, dsn)
	cfg := writeFile(t, "pgtend.toml", shortRetention)
	dir := t.TempDir()
	path := filepath.Join(dir, "pgtend.prom")
	os.WriteFile(path, []byte("stale"), 0o644)       // replaced whole
	env := []string{"XDG_STATE_HOME=" + t.TempDir()} // the history the last successful runs come from
	if r := pgtend(t, env, "run", "vacuum", "--dsn", dsn, "--config", cfg); r.code != 0 {
		t.Fatalf("run vacuum: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r := pgtend(t, env, "report", "--prometheus", path, "--dsn", dsn, "--config", cfg)
	if r.code != 0 || r.stdout != "" {
		t.Fatalf("report --prometheus: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p := expfmt.NewTextParser(model.LegacyValidation) // the classic rules node_exporter reads by
	families, err := p.TextToMetricFamilies(f)
	if err != nil {
		t.Fatalf("the file does not parse: %v", err)
	}
	for _, name := range []string{"pgtend_report_timestamp_seconds", "pgtend_table_bytes", "pgtend_table_expired_bytes",
		"pgtend_filesystem_size_bytes", "pgtend_filesystem_free_bytes", "pgtend_reclaimable_bytes", "pgtend_last_success_timestamp_seconds"} {
		if _, ok := families[name]; !ok {
			t.Errorf("no %s", name)
		}
		if !model.LegacyValidation.IsValidMetricName(name) {
			t.Errorf("%s is not a valid metric name", name)
		}
	}
	var slotBytes float64
	for _, m := range families["pgtend_reclaimable_bytes"].GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() == "kind" && l.GetValue() == "replication_slot" {
				slotBytes = m.GetGauge().GetValue()
			}
		}
	}
	var vacuumed bool
	for _, m := range families["pgtend_last_success_timestamp_seconds"].GetMetric() {
		for _, l := range m.GetLabel() {
			vacuumed = vacuumed || l.GetName() == "task" && l.GetValue() == "vacuum_analyze" && m.GetGauge().GetValue() > float64(time.Now().Add(-time.Hour).Unix())
		}
	}
	if !vacuumed {
		t.Error("the VACUUM just run is not the last successful vacuum_analyze")
	}
	if slotBytes <= 0 {
		t.Error("reclaimable bytes of the replication slot not written")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("the directory holds %d files: a temporary one was left", len(entries))
	}
}

// Dropping a slot is destructive: without --yes nothing is dropped.
func TestRunDropSlotNeedsYes(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	slot := slotHoldingWAL(t, dsn)
	r := pgtend(t, nil, "run", "drop-slot", "--slot", slot, "--dsn", dsn)
	if r.code != 2 {
		t.Fatalf("run drop-slot without --yes: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	conn := pgtest.Connect(t, dsn)
	if pgtest.Count(t, conn, `SELECT count(*) FROM pg_replication_slots WHERE slot_name = $1`, slot) != 1 {
		t.Fatal("dropped without --yes")
	}
	r = pgtend(t, nil, "run", "drop-slot", "--slot", slot, "--dsn", dsn, "--yes")
	if r.code != 0 || pgtest.Count(t, conn, `SELECT count(*) FROM pg_replication_slots WHERE slot_name = $1`, slot) != 0 {
		t.Fatalf("run drop-slot --yes: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}
