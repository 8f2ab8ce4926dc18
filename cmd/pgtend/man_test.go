package main

import (
	"bytes"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/pgtend/pgtend/ops/maint"
)

// TestManPage: `pgtend man` prints a roff page that man renders without
// warnings, naming every command, the registry's actions and the flags.
func TestManPage(t *testing.T) {
	r := pgtend(t, nil, "man")
	if r.code != 0 || !strings.HasPrefix(r.stdout, ".") {
		t.Fatalf("pgtend man: exit %d, stderr %q, stdout starts %q", r.code, r.stderr, r.stdout[:min(len(r.stdout), 40)])
	}
	if _, err := exec.LookPath("man"); err != nil {
		t.Skip("SKIPPED: man is not installed (.ci/run installs man-db and groff-base); cannot render pgtend's manual page")
	}
	cmd := exec.Command("man", "--warnings", "-l", "-")
	cmd.Env = []string{"PATH=/usr/bin:/bin:/usr/local/bin", "MANWIDTH=100", "LANG=C.UTF-8", "MANPAGER=cat", "PAGER=cat"}
	cmd.Stdin = strings.NewReader(r.stdout)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("man -l -: %v\n%s", err, stderr.String())
	}
	if stderr.Len() > 0 {
		t.Errorf("man warns:\n%s", stderr.String())
	}
	// Overstrikes (bold, underline) off, as col -b does.
	page := regexp.MustCompile(".\b").ReplaceAllString(stdout.String(), "")
	want := []string{"PGTEND(1)", "NAME", "pgtend - keep a PostgreSQL", "OPTIONS", "COMMANDS", "--dsn", "--refresh", "--table", "--yes", "--batch-size", "--json", "--keep"}
	want = append(want, "demo", "report", "plan ACTION", "run ACTION", "history", "config", "check FILE", "show", "version", "completion", "bash", "zsh", "fish")
	want = append(want, maint.Default().Names(true)...)
	for _, w := range want {
		if !strings.Contains(page, w) {
			t.Errorf("the rendered manual page lacks %q:\n%s", w, page)
		}
	}
}
