package config

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

const oneTable = "[tables.only]\nretention = \"3d\"\n"

func TestDefaultPath(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", "/xdg")
	if got := DefaultPath(); got != filepath.Join("/xdg", "pgtend", "pgtend.toml") {
		t.Errorf("DefaultPath with XDG_CONFIG_HOME = %q", got)
	}
	home := t.TempDir()
	t.Setenv("HOME", home)
	for _, xdg := range []string{"", "relative/dir"} { // relative values are ignored per the XDG spec
		t.Setenv("XDG_CONFIG_HOME", xdg)
		if got, want := DefaultPath(), filepath.Join(home, ".config", "pgtend", "pgtend.toml"); got != want {
			t.Errorf("DefaultPath with XDG_CONFIG_HOME=%q = %q, want %q", xdg, got, want)
		}
	}
}

func TestLoadPrecedence(t *testing.T) {
	xdg := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", xdg)
	xdgFile := filepath.Join(xdg, "pgtend", "pgtend.toml")

	// Nothing on disk: the built-in default.
	c, err := Load("")
	if err != nil || c.Source != "built-in default" || len(c.Policy.Tables) != 6 {
		t.Fatalf("Load with no file = %+v, %v; want the built-in default", c, err)
	}

	// The XDG file when it exists.
	writeFile(t, xdgFile, oneTable)
	c, err = Load("")
	if err != nil || c.Source != xdgFile || len(c.Policy.Tables) != 1 || c.Policy.Tables[0].Name != "only" {
		t.Fatalf("Load with XDG file = %+v, %v", c, err)
	}

	// Without a file of the user's, the host's (the packages install it).
	os.Remove(xdgFile)
	system := filepath.Join(t.TempDir(), "etc-pgtend.toml")
	writeFile(t, system, "[tables.host_wide]\n")
	defer func(p string) { SystemPath = p }(SystemPath)
	SystemPath = system
	c, err = Load("")
	if err != nil || c.Source != system || c.Policy.Tables[0].Name != "host_wide" {
		t.Fatalf("Load with only the system file = %+v, %v", c, err)
	}
	writeFile(t, xdgFile, oneTable) // the user's wins over the host's
	if c, err = Load(""); err != nil || c.Source != xdgFile {
		t.Fatalf("Load with both = %+v, %v", c, err)
	}

	// An explicit path wins over the XDG file.
	explicit := filepath.Join(t.TempDir(), "mine.toml")
	writeFile(t, explicit, "[tables.explicit]\n")
	c, err = Load(explicit)
	if err != nil || c.Source != explicit || c.Policy.Tables[0].Name != "explicit" {
		t.Fatalf("Load(explicit) = %+v, %v", c, err)
	}
}

func TestLoadExplicitMustExist(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	missing := filepath.Join(t.TempDir(), "nope.toml")
	c, err := Load(missing)
	if c != nil || err == nil {
		t.Fatalf("Load(missing) = %+v, %v; want an error", c, err)
	}
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "cannot read config file "+missing) || strings.Count(err.Error(), missing) != 1 {
		t.Errorf("error = %q; want it to name the path once and wrap fs.ErrNotExist", err)
	}
}

// A file that exists but is bad is an error, never a silent fall back to the
// built-in policy.
func TestLoadBadFileIsAnError(t *testing.T) {
	xdg := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", xdg)
	xdgFile := filepath.Join(xdg, "pgtend", "pgtend.toml")

	writeFile(t, xdgFile, "[tables.x]\nretention = \"3 months\"\n")
	c, err := Load("")
	if c != nil || err == nil || !strings.HasPrefix(err.Error(), xdgFile+":2: tables.x.retention: ") {
		t.Errorf("Load with bad XDG file = %+v, %v", c, err)
	}
	c, err = Load(xdgFile)
	if c != nil || err == nil {
		t.Errorf("Load(bad explicit) = %+v, %v", c, err)
	}

	// Unreadable (here: a directory where the file should be).
	if err := os.Remove(xdgFile); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(xdgFile, 0o755); err != nil {
		t.Fatal(err)
	}
	c, err = Load("")
	if c != nil || err == nil || !strings.Contains(err.Error(), "cannot read config file "+xdgFile) {
		t.Errorf("Load with unreadable XDG file = %+v, %v", c, err)
	}
}

func TestLoadFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p.toml")
	writeFile(t, path, oneTable)
	c, err := LoadFile(path)
	if err != nil || c.Source != path || c.Policy.Source != path {
		t.Errorf("LoadFile = %+v, %v", c, err)
	}
}
