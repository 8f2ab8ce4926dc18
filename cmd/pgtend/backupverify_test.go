package main

import (
	"strings"
	"testing"

	"github.com/pgtend/pgtend/ops/backup"
	"github.com/pgtend/pgtend/ops/demo"
	"github.com/pgtend/pgtend/ops/pgtest"
)

// backup verify --local restores into a throwaway cluster of this
// machine: it works with --read-only, owners with awkward names restore
// (their roles made there first), and nothing is created on the server.
func TestBackupVerifyLocal(t *testing.T) {
	pgtest.EachMode(t, demo.Native, demo.Timescale, func(t *testing.T, mode demo.Mode) {
		dsn, conn := seededDemo(t, mode)
		pgtest.Exec(t, conn, `DO $$ BEGIN
				IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'desk "ops"') THEN CREATE ROLE "desk ""ops""" NOLOGIN; END IF; END $$;
				CREATE TABLE desk_notes (id int PRIMARY KEY, note text);
				INSERT INTO desk_notes SELECT g, 'n' || g FROM generate_series(1, 7) g;
				ALTER TABLE desk_notes OWNER TO "desk ""ops""";
				GRANT SELECT ON desk_notes TO "desk ""ops""";`)
		dir := t.TempDir()
		cfg := writeFile(t, "pgtend.toml", "[backup]\ndir = \""+dir+"\"\nkeep_daily = 3\n")
		for _, format := range []string{"custom", "plain"} {
			if r := pgtend(t, nil, "backup", "--dsn", dsn, "--config", cfg, "--format", format); r.code != 0 {
				t.Fatalf("backup --format %s: exit %d\n%s%s", format, r.code, r.stdout, r.stderr)
			}
		}
		l, err := backup.List(dir)
		if err != nil || len(l.Entries) != 2 {
			t.Fatalf("listed %+v, %v", l.Entries, err)
		}
		for _, e := range l.Entries {
			r := pgtend(t, nil, "backup", "verify", e.Path, "--local", "--read-only", "--dsn", dsn, "--config", cfg)
			if r.code != 0 || !strings.Contains(r.stdout, "every table's rows match") || !strings.Contains(r.stdout, "dropped a throwaway local cluster") ||
				!strings.Contains(r.stdout, "public.desk_notes") {
				t.Errorf("backup verify --local %s: exit %d\n%s%s", e.Name, r.code, r.stdout, r.stderr)
			}
		}
		var scratch int
		pgtest.QueryRow(t, conn, "SELECT count(*) FROM pg_database WHERE datname LIKE 'pgtend_verify%'").Scan(&scratch)
		if scratch != 0 {
			t.Errorf("%d scratch databases on the server", scratch)
		}
		// Without --local, --read-only refuses the scratch database.
		r := pgtend(t, nil, "backup", "verify", l.Entries[0].Path, "--read-only", "--dsn", dsn, "--config", cfg)
		if r.code == 0 || !strings.Contains(r.stderr, "--local restores into a throwaway cluster instead") {
			t.Errorf("--read-only without --local: exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
	})
}
