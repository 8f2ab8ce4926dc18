// Package state keeps what pgtend remembers between runs on this machine,
// per database: the maintenance history (runs and manual tick-offs, which
// feed the calendar's "last done") and samples of table sizes (which give
// growth per day before pgtend has watched a table for long). Files are
// JSON lines under $XDG_STATE_HOME/pgtend (default ~/.local/state/pgtend),
// appended to, never rewritten in place.
package state

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
)

// Dir is pgtend's state directory.
func Dir() (string, error) {
	if d := os.Getenv("XDG_STATE_HOME"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, "pgtend"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil || home == "" {
		return "", errors.New("no home directory for pgtend's state (set XDG_STATE_HOME)")
	}
	return filepath.Join(home, ".local", "state", "pgtend"), nil
}

var unsafe = regexp.MustCompile(`[^A-Za-z0-9_.-]+`)

// DatabaseKey names a database's state files: readable, and unique per
// host, port and database (a hash keeps socket paths and odd names apart).
func DatabaseKey(host string, port uint16, database string) string {
	sum := sha256.Sum256([]byte(fmt.Sprintf("%s\x00%d\x00%s", host, port, database)))
	name := unsafe.ReplaceAllString(database, "_")
	if len(name) > 40 {
		name = name[:40]
	}
	return name + "-" + hex.EncodeToString(sum[:4])
}

func openAppend(path string) (*os.File, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	return os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
}
