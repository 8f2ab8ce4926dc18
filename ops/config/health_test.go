package config

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestHealthSection(t *testing.T) {
	c := mustParse(t, doc(
		`[health]`,
		`connections_warn = "70%"`,
		`idle_in_transaction_warn = "30s"`,
		`dead_tuples_warn = "500%"`,
		`disk_full_critical = "2w"`,
		`backup_max_age = "50h"`,
	))
	h := c.Policy.Health
	want := DefaultHealth
	want.ConnectionsWarn, want.IdleInTransactionWarn, want.DeadTuplesWarn, want.DiskFullCriticalDays, want.BackupMaxAge = 70, 30*time.Second, 500, 14, 50*time.Hour
	if h != want {
		t.Errorf("[health] = %+v\nwant %+v", h, want)
	}
	// No section: the zero value, whose Effective thresholds are the defaults.
	none := mustParse(t, doc(`time_zone = "UTC"`)).Policy.Health
	if none != (Health{}) || none.Effective() != DefaultHealth {
		t.Errorf("no [health]: %+v, effective %+v", none, none.Effective())
	}
	// A target's [health] replaces the top-level one.
	tc := mustParse(t, doc(`[health]`, `lock_wait_warn = "2m"`, `[targets.p]`, `dsn = "x"`, `[targets.p.health]`, `lock_wait_critical = "20m"`))
	if got := tc.Targets["p"].Policy.Health; got.LockWaitWarn != DefaultHealth.LockWaitWarn || got.LockWaitCritical != 20*time.Minute {
		t.Errorf("target [health] = %+v", got)
	}
	// Encode writes every threshold of a policy that has the section, and
	// reads back equal.
	var buf bytes.Buffer
	if err := c.Policy.Encode(&buf); err != nil {
		t.Fatal(err)
	}
	for _, k := range healthKeys {
		if !strings.Contains(buf.String(), "\n"+k+" = ") {
			t.Errorf("Encode leaves out %s:\n%s", k, buf.String())
		}
	}
	if got := roundTrip(t, c.Policy); !reflect.DeepEqual(got.Health, c.Policy.Health) {
		t.Errorf("round trip: %+v, want %+v", got.Health, c.Policy.Health)
	}
	buf.Reset()
	if err := mustParse(t, doc(`time_zone = "UTC"`)).Policy.Encode(&buf); err != nil || strings.Contains(buf.String(), "[health]") {
		t.Errorf("a policy without [health] encodes one (%v):\n%s", err, buf.String())
	}
}

func TestHealthErrors(t *testing.T) {
	_, err := Parse("test.toml", doc(
		`[health]`,
		`connections_warn = "120%"`,
		`idle_in_transaction_warn = "soon"`,
		`lock_wait_warn = "0s"`,
		`disk_full_warn = "3 months"`,
		`xid_age_warn = 80`,
		`bogus = "1"`,
		`[targets.p]`,
		`dsn = "x"`,
		`[targets.p.health]`,
		`long_transaction_warn = "7h"`,
	))
	errs := configErrors(t, err)
	want := []struct {
		line int
		key  string
		msg  string
	}{
		{2, "health.connections_warn", "must be 1% to 100%"},
		{3, "health.idle_in_transaction_warn", `bad duration "soon"`},
		{4, "health.lock_wait_warn", "greater than zero"},
		{5, "health.disk_full_warn", "months are ambiguous"},
		{6, "health.xid_age_warn", "must be a string"},
		{7, "health.bogus", "unknown key"},
		{11, "targets.p.health.long_transaction_warn", "must not be past long_transaction_critical"},
	}
	if len(errs) != len(want) {
		t.Fatalf("got %d errors, want %d: %v", len(errs), len(want), err)
	}
	for i, w := range want {
		e := errs[i]
		if e.Line != w.line || e.Key != w.key || !strings.Contains(e.Msg, w.msg) {
			t.Errorf("error %d: line %d key %s: %s; want line %d key %s: …%s…", i, e.Line, e.Key, e.Msg, w.line, w.key, w.msg)
		}
	}
}
