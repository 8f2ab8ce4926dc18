package config

import (
	"reflect"
	"testing"
	"time"
)

// The built-in policy, restated independently of default.toml.
func TestDefault(t *testing.T) {
	if _, err := Parse(DefaultSource, defaultTOML); err != nil {
		t.Fatalf("default.toml does not parse: %v", err)
	}
	c := Default()
	const MB, KB = 1_000_000, 1_000
	compressed := func(tp TablePolicy) TablePolicy {
		tp.CompressAfterDays = 7
		tp.SegmentBy = []string{"exchange"}
		return tp
	}
	want := &Config{
		Source: "built-in default",
		Policy: Policy{
			Source: "built-in default",
			Tables: []TablePolicy{ // sorted by name
				{Name: "macro_signals", TimeColumn: "timestamp", RetentionDays: 180, ExpectedGrowthPerDay: 1 * MB},
				compressed(TablePolicy{Name: "ml_features", TimeColumn: "timestamp", RetentionDays: 120, ExpectedGrowthPerDay: 30 * MB}),
				{Name: "multi_resolution_bars", TimeColumn: "bar_time", RetentionDays: 60, ExpectedGrowthPerDay: 10 * MB},
				compressed(TablePolicy{Name: "option_chain_snapshots", TimeColumn: "timestamp", RetentionDays: 90, ExpectedGrowthPerDay: 50 * MB}),
				{Name: "trade_history", Permanent: true, ExpectedGrowthPerDay: 100 * KB},
				{Name: "vix_term_structure", TimeColumn: "timestamp", RetentionDays: 90, ExpectedGrowthPerDay: 500 * KB},
			},
			Connection: Connection{StatementTimeout: 30 * time.Second, LockTimeout: 2 * time.Second, MaintenanceLockTimeout: 5 * time.Second},
			Backup:     Backup{Dir: "/var/backups/pgtend", KeepDaily: 7, Format: "custom", ColdAfterDays: 30},
			Archive:    Archive{Dirs: []string{"models/"}, MonthlyDirs: []string{"trade_logs/"}, Dest: "/var/backups/pgtend/archive"},
		},
		Targets: map[string]Target{},
	}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("Default() =\n%+v\nwant\n%+v", c, want)
	}
	if c.Policy.Connection != DefaultConnection {
		t.Errorf("default.toml [connection] %+v disagrees with DefaultConnection %+v", c.Policy.Connection, DefaultConnection)
	}
	// Each call is a fresh copy.
	c.Policy.Tables[0].Name = "changed"
	if Default().Policy.Tables[0].Name != "macro_signals" {
		t.Error("Default() returns shared state")
	}
}
