package config

import (
	"cmp"
	_ "embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// DefaultSource is Config.Source for the built-in policy.
const DefaultSource = "built-in default"

//go:embed default.toml
var defaultTOML []byte

// Default returns the built-in policy. It goes through Parse like any file,
// so the default can never drift from what the parser accepts; a fresh value
// is returned each time so callers may modify it freely.
func Default() *Config {
	c, err := Parse(DefaultSource, defaultTOML)
	if err != nil {
		panic("config: built-in default.toml is invalid: " + err.Error()) // caught by TestDefault
	}
	return c
}

// LoadFile reads and parses the policy file at path.
func LoadFile(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, readError(path, err)
	}
	return Parse(path, data)
}

// readError names the path once (os errors repeat it) and keeps the cause
// for errors.Is(err, fs.ErrNotExist).
func readError(path string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return fmt.Errorf("cannot read config file %s: %w", path, err)
}

// DefaultPath is $XDG_CONFIG_HOME/pgtend/pgtend.toml, with XDG_CONFIG_HOME
// defaulting to ~/.config (also on macOS, where os.UserConfigDir would pick
// ~/Library; a terminal tool's users expect ~/.config). It returns "" when
// no home directory is known.
func DefaultPath() string {
	dir := os.Getenv("XDG_CONFIG_HOME")
	if dir == "" || !filepath.IsAbs(dir) { // the XDG spec says to ignore relative paths
		home, err := os.UserHomeDir()
		if err != nil || home == "" {
			return ""
		}
		dir = filepath.Join(home, ".config")
	}
	return filepath.Join(dir, "pgtend", "pgtend.toml")
}

// SystemPath is the host's policy, the one the packages install and their
// systemd units use: read when the user has none of their own.
// PGTEND_SYSTEM_CONFIG names another (tests keep the host's out).
var SystemPath = cmp.Or(os.Getenv("PGTEND_SYSTEM_CONFIG"), "/etc/pgtend/pgtend.toml")

// Load finds the policy: explicitPath when given (it must exist), else
// DefaultPath if that file exists, else SystemPath if it exists, else
// Default(). A file that exists but cannot be read or parsed is an error,
// never a silent fall back to the default: the default policy deletes data
// the user may have meant to keep.
func Load(explicitPath string) (*Config, error) {
	if explicitPath != "" {
		return LoadFile(explicitPath)
	}
	for _, path := range []string{DefaultPath(), SystemPath} {
		if path == "" {
			continue
		}
		c, err := LoadFile(path)
		if !errors.Is(err, fs.ErrNotExist) {
			return c, err
		}
	}
	return Default(), nil
}
