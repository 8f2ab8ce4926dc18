package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pgtend/pgtend/ops/backup"
	"github.com/pgtend/pgtend/ops/demo"
)

// pgtend backup, as an operator runs it: the dump verified and listed,
// its restore check, and weekly backing up too.
func TestBackupCommand(t *testing.T) {
	dsn, _ := seededDemo(t, demo.Native)
	dir := filepath.Join(t.TempDir(), "backups")
	cfg := writeFile(t, "pgtend.toml", shortRetention+"\n[backup]\ndir = \""+dir+"\"\nkeep_daily = 3\n")

	r := pgtend(t, nil, "backup", "--dsn", dsn, "--config", cfg)
	if r.code != 0 || !strings.Contains(r.stdout, "verified by a full read") || !strings.Contains(r.stdout, "backup: ok") {
		t.Fatalf("backup: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = pgtend(t, nil, "backup", "--dsn", dsn, "--config", cfg, "--format", "plain", "--dir", dir)
	if r.code != 0 {
		t.Fatalf("backup --format plain: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = pgtend(t, nil, "backup", "list", "--config", cfg, "--json")
	var l backup.Listing
	if err := json.Unmarshal([]byte(r.stdout), &l); r.code != 0 || err != nil {
		t.Fatalf("backup list --json: exit %d, %v\n%s%s", r.code, err, r.stdout, r.stderr)
	}
	formats := map[backup.Format]string{}
	for _, e := range l.Entries {
		if e.State != backup.StateVerified || e.Checksum != backup.ChecksumRecorded {
			t.Errorf("listed %+v", e)
		}
		formats[e.Format] = e.Path
	}
	if len(formats) != 2 {
		t.Fatalf("listed %+v", l.Entries)
	}
	for _, path := range formats {
		r = pgtend(t, nil, "backup", "verify", path, "--dsn", dsn, "--config", cfg)
		if r.code != 0 || !strings.Contains(r.stdout, "every table's rows match") || !strings.Contains(r.stdout, "dropped the scratch database") {
			t.Errorf("backup verify %s: exit %d\n%s%s", path, r.code, r.stdout, r.stderr)
		}
	}
	r = pgtend(t, nil, "backup", "--format", "tar", "--dsn", dsn)
	r.oneClearLine(t, 2, "--format tar")
	// The history counts it as the calendar's "verify the backup".
	r = pgtend(t, nil, "history", "--dsn", dsn, "--config", cfg)
	if !strings.Contains(r.stdout, "verify_backup") {
		t.Errorf("history:\n%s", r.stdout)
	}
}
