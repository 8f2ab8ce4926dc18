package main

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pgtend/pgtend/ops/pgtest"
)

// healthPolicy is a policy whose backups are fine (a fresh file in a
// directory of the test's) and whose thresholds a test reaches in seconds;
// the disk's share used is left out of it (the test machine's own).
// healthPolicy is a policy whose [backup] dir holds a verified backup of
// the database at dsn, made by pgtend backup: the backups finding is well.
func healthPolicy(t *testing.T, dsn, extra string) string {
	t.Helper()
	dir := t.TempDir()
	cfg := writeFile(t, "pgtend.toml", fmt.Sprintf(`[backup]
dir = %q
keep_daily = 1

[health]
idle_in_transaction_warn = "1s"
disk_used_warn = "99%%"
disk_used_critical = "100%%"
%s`, dir, extra))
	if r := pgtend(t, nil, "backup", "--dsn", dsn, "--config", cfg); r.code != 0 {
		t.Fatalf("pgtend backup: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	return cfg
}

var doctorKeys = []string{"generated_at", "database", "role", "server_version", "status", "sees_all_sessions", "findings"}
var findingKeys = []string{"check", "title", "status", "summary", "meaning", "action", "evidence", "items"}
var itemKeys = []string{"kind", "status", "name", "text", "evidence", "session", "table", "fix", "no_fix"}
var checks = []string{"connections", "idle_in_transaction", "long_transactions", "locks", "xmin_horizon", "slot_wal", "dead_tuples",
	"autovacuum", "wraparound", "compression", "backups", "disk"}

func keysOf(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func sameKeys(t *testing.T, what string, m map[string]any, want []string) {
	t.Helper()
	w := slices.Clone(want)
	slices.Sort(w)
	if got := keysOf(m); !slices.Equal(got, w) {
		t.Errorf("%s keys %v, want %v", what, got, w)
	}
}

// doctorJSON runs `pgtend doctor --json` and checks the contract's shape.
func doctorJSON(t *testing.T, args ...string) (map[string]any, int) {
	t.Helper()
	res := pgtend(t, []string{"XDG_STATE_HOME=" + t.TempDir()}, append([]string{"doctor", "--json"}, args...)...)
	var r map[string]any
	if err := json.Unmarshal([]byte(res.stdout), &r); err != nil {
		t.Fatalf("doctor --json (exit %d): %v\n%s%s", res.code, err, res.stdout, res.stderr)
	}
	if res.stderr != "" {
		t.Errorf("doctor --json wrote to stderr: %s", res.stderr)
	}
	sameKeys(t, "report", r, doctorKeys)
	var got []string
	for _, f := range r["findings"].([]any) {
		fm := f.(map[string]any)
		sameKeys(t, "finding "+fm["check"].(string), fm, findingKeys)
		got = append(got, fm["check"].(string))
		for _, e := range fm["evidence"].([]any) {
			if src := e.(map[string]any)["source"]; src == "" {
				t.Errorf("%s: a figure without its source: %v", fm["check"], e)
			}
		}
		for _, it := range fm["items"].([]any) {
			sameKeys(t, "item of "+fm["check"].(string), it.(map[string]any), itemKeys)
		}
	}
	if !slices.Equal(got, checks) {
		t.Errorf("checks %v, want %v", got, checks)
	}
	return r, res.code
}

func findingOf(r map[string]any, check string) map[string]any {
	for _, f := range r["findings"].([]any) {
		if fm := f.(map[string]any); fm["check"] == check {
			return fm
		}
	}
	return nil
}

// TestDoctorJSONAndExitStatuses: all well exits 0; an idle-in-transaction
// session past the warning threshold exits 1 and is named; past the
// critical one, 2; no connection, 2.
func TestDoctorJSONAndExitStatuses(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	cfg := healthPolicy(t, dsn, "")
	r, code := doctorJSON(t, "--dsn", dsn, "--config", cfg)
	if code != 0 || r["status"] != "ok" {
		var bad []string
		for _, f := range r["findings"].([]any) {
			if fm := f.(map[string]any); fm["status"] != "ok" {
				bad = append(bad, fmt.Sprintf("%s: %s", fm["check"], fm["summary"]))
			}
		}
		t.Fatalf("an idle database: exit %d, status %v: %v", code, r["status"], bad)
	}

	victim := pgtest.ConnectAs(t, dsn+"&application_name=invoice-worker", "")
	pgtest.Exec(t, victim, "BEGIN; SELECT 1")
	pid := victim.PgConn().PID()
	time.Sleep(1500 * time.Millisecond)
	r, code = doctorJSON(t, "--dsn", dsn, "--config", cfg)
	f := findingOf(r, "idle_in_transaction")
	if code != 1 || r["status"] != "warning" || f["status"] != "warning" {
		t.Fatalf("idle in transaction: exit %d, status %v, finding %v", code, r["status"], f)
	}
	it := f["items"].([]any)[0].(map[string]any)
	s := it["session"].(map[string]any)
	if s["pid"] != float64(pid) || s["application"] != "invoice-worker" || it["fix"] != "terminate" || s["state"] != "idle in transaction" {
		t.Errorf("item %v", it)
	}
	res := pgtend(t, []string{"XDG_STATE_HOME=" + t.TempDir()}, "doctor", "--dsn", dsn, "--config", cfg)
	for _, want := range []string{"Health of ", ": WARNING", "WARNING   idle in transaction: 1 session, the longest pid",
		fmt.Sprintf("fix: terminate pid %d: in the console's Health pane (pgtend, then 6), K", pid),
		"idle_in_transaction_session_timeout", "(pg_settings (0: never))", "OK        connections:"} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("doctor does not say %q:\n%s", want, res.stdout)
		}
	}
	if res.code != 1 || res.stderr != "" {
		t.Errorf("doctor: exit %d, stderr %q", res.code, res.stderr)
	}

	critical := healthPolicy(t, dsn, `idle_in_transaction_critical = "2s"`+"\n")
	time.Sleep(time.Second)
	if r, code = doctorJSON(t, "--dsn", dsn, "--config", critical); code != 2 || r["status"] != "critical" {
		t.Errorf("past idle_in_transaction_critical: exit %d, status %v", code, r["status"])
	}

	pgtend(t, nil, "doctor", "--dsn", "host=/nonexistent port=5432 user=x dbname=y").oneClearLine(t, 2, "cannot connect", "no server is listening")
}
