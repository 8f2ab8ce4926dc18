package backup

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/pgtend/pgtend/ops/cluster"
)

// Tools are the client programs of one PostgreSQL version: pg_dump,
// pg_restore and psql (restoring plain SQL).
type Tools struct {
	Dir       string
	PgDump    string
	PgRestore string
	Psql      string // "" when that directory has none
	Version   string // "15.20"
	Major     int
	// Note says what the operator should know about this choice (a client
	// newer than the server); "" when it is the server's own version.
	Note string
}

var versionRe = regexp.MustCompile(`\(PostgreSQL\)\s+(\d+)(?:\.(\d+))?`)

// ToolVersion asks a program its version: "pg_dump (PostgreSQL) 15.20
// (Debian …)" gives "15.20" and 15.
func ToolVersion(ctx context.Context, path string) (string, int, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, path, "--version").Output()
	if err != nil {
		return "", 0, fmt.Errorf("%s --version: %w", path, err)
	}
	m := versionRe.FindStringSubmatch(string(out))
	if m == nil {
		return "", 0, fmt.Errorf("%s --version said %q, not a PostgreSQL version", path, strings.TrimSpace(string(out)))
	}
	major, _ := strconv.Atoi(m[1])
	v := m[1]
	if m[2] != "" {
		v += "." + m[2]
	}
	return v, major, nil
}

// FindTools finds the pg_dump and pg_restore to back up a server of
// serverVersionNum (server_version_num, e.g. 150020): the server's own
// major version, looked for in dirs when given, else in $PGTEND_PG_BINDIR,
// /usr/lib/postgresql/<major>/bin, next to the server binaries pgtend
// finds, the other versioned directories and PATH. A newer client is taken
// when no matching one exists (with a note); one older than the server is
// refused, naming both versions: pg_dump cannot dump a newer server.
func FindTools(ctx context.Context, serverVersionNum int, serverVersion string, dirs ...string) (Tools, error) {
	serverMajor := serverVersionNum / 10000
	if len(dirs) == 0 {
		dirs = candidateDirs(serverMajor)
	}
	var newer *Tools
	var older []string
	seen := map[string]bool{}
	for _, dir := range dirs {
		if dir == "" || seen[dir] {
			continue
		}
		seen[dir] = true
		dump, restore := filepath.Join(dir, "pg_dump"), filepath.Join(dir, "pg_restore")
		if !executable(dump) || !executable(restore) {
			continue
		}
		v, major, err := ToolVersion(ctx, dump)
		if err != nil {
			older = append(older, err.Error())
			continue
		}
		rv, _, err := ToolVersion(ctx, restore)
		if err != nil || rv != v {
			continue // a pg_restore of another version beside it: not a pair
		}
		t := Tools{Dir: dir, PgDump: dump, PgRestore: restore, Version: v, Major: major}
		if psql := filepath.Join(dir, "psql"); executable(psql) {
			t.Psql = psql
		}
		switch {
		case major == serverMajor:
			return t, nil
		case major > serverMajor && newer == nil:
			t.Note = fmt.Sprintf("pg_dump %s is newer than the server (PostgreSQL %s): its dumps restore with pg_restore %d or newer", v, serverVersion, major)
			newer = &t
		case major < serverMajor:
			older = append(older, fmt.Sprintf("pg_dump %s (%s)", v, dump))
		}
	}
	if newer != nil {
		return *newer, nil
	}
	if len(older) > 0 {
		return Tools{}, fmt.Errorf("refusing to back up PostgreSQL %s with an older client: %s; pg_dump must be of the server's major version %d (install postgresql-client-%d, or set %s to the server's binaries)",
			serverVersion, strings.Join(older, ", "), serverMajor, serverMajor, cluster.BinDirEnv)
	}
	return Tools{}, errors.New("no pg_dump and pg_restore found (next to the server binaries, in /usr/lib/postgresql/*/bin or on PATH): install the PostgreSQL client programs of the server's version, or set " + cluster.BinDirEnv)
}

func candidateDirs(major int) []string {
	var dirs []string
	if d := os.Getenv(cluster.BinDirEnv); d != "" {
		dirs = append(dirs, d)
	}
	dirs = append(dirs, fmt.Sprintf("/usr/lib/postgresql/%d/bin", major))
	if d, err := cluster.FindBinDir(); err == nil {
		dirs = append(dirs, d)
	}
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	dirs = append(dirs, matches...)
	if p, err := exec.LookPath("pg_dump"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			dirs = append(dirs, filepath.Dir(real))
		}
		dirs = append(dirs, filepath.Dir(p))
	}
	return dirs
}

func executable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0
}
