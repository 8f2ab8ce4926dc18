// Package cluster starts a throwaway PostgreSQL cluster from the server
// binaries installed on this machine. The tests use it (one cluster per test
// package) and so does `pgtend demo`, so the demo always runs on exactly the
// code path the tests exercise.
package cluster

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// ErrNoServer is returned when no PostgreSQL server binaries can be found.
var ErrNoServer = errors.New("no PostgreSQL server binaries (initdb, postgres) found in `pg_config --bindir`, /usr/lib/postgresql/*/bin or PATH: install them, e.g. `apt-get install -y postgresql` on Debian/Ubuntu, or point " + BinDirEnv + " at them")

// BinDirEnv names the environment variable that pins the server binaries'
// directory, for installations none of the usual places find.
const BinDirEnv = "PGTEND_PG_BINDIR"

// FindBinDir returns the directory holding initdb and postgres: $PGTEND_PG_BINDIR
// when set, else pg_config's answer, then the newest Debian-style versioned
// directory, then PATH (Debian puts only client wrappers on PATH).
func FindBinDir() (string, error) {
	if dir := os.Getenv(BinDirEnv); dir != "" {
		if hasServer(dir) {
			return dir, nil
		}
		return "", fmt.Errorf("%s=%s holds no initdb and postgres: %w", BinDirEnv, dir, ErrNoServer)
	}
	var candidates []string
	if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
		candidates = append(candidates, strings.TrimSpace(string(out)))
	}
	candidates = append(candidates, debianBinDirs()...)
	if p, err := exec.LookPath("initdb"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			candidates = append(candidates, filepath.Dir(real))
		}
		candidates = append(candidates, filepath.Dir(p))
	}
	for _, dir := range candidates {
		if hasServer(dir) {
			return dir, nil
		}
	}
	return "", ErrNoServer
}

func hasServer(dir string) bool {
	for _, name := range []string{"initdb", "postgres"} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
			return false
		}
	}
	return true
}

// debianBinDirs lists /usr/lib/postgresql/<major>/bin, newest major first.
func debianBinDirs() []string {
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	major := func(p string) float64 {
		v, _ := strconv.ParseFloat(filepath.Base(filepath.Dir(p)), 64)
		return v
	}
	sort.Slice(matches, func(i, j int) bool { return major(matches[i]) > major(matches[j]) })
	return matches
}

func describe(cmd *exec.Cmd, out []byte, err error) error {
	msg := strings.TrimSpace(string(out))
	if len(msg) > 2000 {
		msg = msg[len(msg)-2000:]
	}
	return fmt.Errorf("%s: %v\n%s", filepath.Base(cmd.Path), err, msg)
}
