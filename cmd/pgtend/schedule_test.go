package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pgtend/pgtend/ops/cronspec"
)

// `schedule print --crontab` is a valid crontab: comments, and lines of
// five schedule fields cron (and pgtend's parser) accept, then a command in
// which every % is escaped; they fire when the units' timers do (Sundays
// at 03:00; days 1-7 at 03:00, going on on the Saturday only); and run by
// sh as cron runs them, they start pgtend with the units' arguments, its
// output to the journal's logger.
func TestSchedulePrintCrontab(t *testing.T) {
	fake := filepath.Join(t.TempDir(), "pgtend")
	bin := t.TempDir()
	logged := filepath.Join(t.TempDir(), "logged")
	writeExec(t, fake, "#!/bin/sh\necho \"pgtend $*\"\n")
	writeExec(t, filepath.Join(bin, "logger"), "#!/bin/sh\necho \"logger $*: $(cat)\" >> "+logged+"\n")
	res := pgtend(t, nil, "schedule", "print", "--crontab", "--binary", fake)
	if res.code != 0 {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	var lines []string
	for _, l := range strings.Split(strings.TrimRight(res.stdout, "\n"), "\n") {
		if strings.HasPrefix(l, "#") || strings.TrimSpace(l) == "" {
			continue
		}
		lines = append(lines, l)
	}
	if len(lines) != 2 {
		t.Fatalf("%d crontab lines, want weekly and monthly:\n%s", len(lines), res.stdout)
	}
	fire := map[string]time.Time{}
	for i, l := range lines {
		f := strings.Fields(l)
		if len(f) < 6 {
			t.Fatalf("line %d has no command: %q", i, l)
		}
		sc, err := cronspec.Parse(strings.Join(f[:5], " "))
		if err != nil {
			t.Fatalf("line %d: %v", i, err)
		}
		cmd := strings.TrimSpace(strings.SplitN(l, " ", 6)[5])
		if strings.Contains(strings.ReplaceAll(cmd, `\%`, ""), "%") {
			t.Errorf("line %d has an unescaped %% (cron's line break): %s", i, cmd)
		}
		fire[[]string{"weekly", "monthly"}[i]] = sc.Next(time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC))

		// As cron runs it: sh -c, % unescaped.
		sh := exec.Command("sh", "-c", strings.ReplaceAll(cmd, `\%`, "%"))
		sh.Env = []string{"PATH=" + bin + ":" + os.Getenv("PATH")}
		out, err := sh.CombinedOutput()
		if err != nil {
			t.Errorf("line %d under sh: %v\n%s", i, err, out)
		}
	}
	if want := time.Date(2026, 11, 29, 3, 0, 0, 0, time.UTC); !fire["weekly"].Equal(want) {
		t.Errorf("the weekly line next fires %s, want Sunday %s", fire["weekly"], want)
	}
	if want := time.Date(2026, 12, 1, 3, 0, 0, 0, time.UTC); !fire["monthly"].Equal(want) {
		t.Errorf("the monthly line next fires %s, want the first of the month %s (then its test waits for the Saturday)", fire["monthly"], want)
	}
	if !strings.Contains(lines[1], `[ "$(date +\%w)" = 6 ] || exit 0;`) {
		t.Errorf("the monthly line does not wait for the Saturday: %s", lines[1])
	}
	b, _ := os.ReadFile(logged)
	if !strings.Contains(string(b), "logger -t pgtend-weekly: pgtend run weekly --config /etc/pgtend/pgtend.toml") {
		t.Errorf("the weekly line ran %q", b)
	}
	if time.Now().Weekday() != time.Saturday && strings.Contains(string(b), "pgtend-monthly") {
		t.Errorf("the monthly line ran on a %s: %q", time.Now().Weekday(), b)
	}
}

func writeExec(t *testing.T, path, body string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
}

// `schedule print --systemd` prints the packages' own unit files (the
// files in packaging/, byte for byte but for the binary), and they pass
// systemd-analyze verify where it exists.
func TestSchedulePrintSystemdUnits(t *testing.T) {
	res := pgtend(t, nil, "schedule", "print", "--systemd", "--binary", binary)
	if res.code != 0 {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	dir := t.TempDir()
	parts := strings.Split(res.stdout, "\n# ---- /etc/systemd/system/")
	if len(parts) != 5 {
		t.Fatalf("%d units printed:\n%s", len(parts)-1, res.stdout)
	}
	var files []string
	for _, p := range parts[1:] {
		name, body, _ := strings.Cut(p, "\n")
		want, err := os.ReadFile(filepath.Join("packaging", name))
		if err != nil {
			t.Fatal(err)
		}
		want = bytes.ReplaceAll(want, []byte("ExecStart=/usr/bin/pgtend "), []byte("ExecStart="+binary+" "))
		if body != string(want) {
			t.Errorf("%s is not packaging/%s:\n%s", name, name, body)
		}
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, path)
	}
	if _, err := exec.LookPath("systemd-analyze"); err != nil {
		t.Log("systemd-analyze is not here: the units are not verified")
		return
	}
	cmd := exec.Command("systemd-analyze", append([]string{"verify", "--man=no"}, files...)...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	// systemd-analyze also speaks of the host's own units; only ours matter.
	if err != nil || strings.Contains(string(out), "pgtend") {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}

// `schedule install --systemd` shows the files, writes them (here under a
// staging root, with --yes), leaves alone what is there and the same, keeps
// the operator's policy, and refuses, writing nothing, when a unit
// differs from pgtend's; without --systemd or (on /) root, it refuses.
func TestScheduleInstallSystemd(t *testing.T) {
	root := t.TempDir()
	policy := filepath.Join(root, "etc/pgtend/pgtend.toml")
	if err := os.MkdirAll(filepath.Dir(policy), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(policy, []byte("# mine\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if res := pgtend(t, nil, "schedule", "install", "--root", root); res.code != 2 || !strings.Contains(res.stderr, "--systemd") {
		t.Errorf("without --systemd: %d %s", res.code, res.stderr)
	}
	// No terminal to ask on and no --yes: nothing written.
	if res := pgtend(t, nil, "schedule", "install", "--systemd", "--root", root); res.code != 2 || !strings.Contains(res.stderr, "--yes") {
		t.Errorf("without --yes: %d %s", res.code, res.stderr)
	}
	if _, err := os.Stat(filepath.Join(root, "etc/systemd/system/pgtend-weekly.timer")); err == nil {
		t.Fatal("a unit was written without confirmation")
	}
	res := pgtend(t, nil, "schedule", "install", "--systemd", "--yes", "--root", root, "--binary", "/opt/pgtend/bin/pgtend")
	if res.code != 0 {
		t.Fatalf("install: %d %s", res.code, res.stderr)
	}
	for _, n := range unitNames {
		b, err := os.ReadFile(filepath.Join(root, "etc/systemd/system", n))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(res.stdout, "# ---- "+filepath.Join(root, "etc/systemd/system", n)) {
			t.Errorf("%s was not shown before it was written", n)
		}
		if strings.HasSuffix(n, ".service") && !strings.Contains(string(b), "ExecStart=/opt/pgtend/bin/pgtend run ") {
			t.Errorf("%s does not run --binary", n)
		}
	}
	if b, _ := os.ReadFile(policy); string(b) != "# mine\n" || !strings.Contains(res.stdout, "there already (yours): kept") {
		t.Errorf("the operator's policy: %q\n%s", b, res.stdout)
	}
	if fi, err := os.Stat(filepath.Join(root, "etc/pgtend/pgtend.env")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("pgtend.env: %v %v", fi, err)
	}
	if !strings.Contains(res.stdout, "systemctl daemon-reload && systemctl enable --now pgtend-weekly.timer pgtend-monthly.timer") {
		t.Errorf("install does not say how to enable them:\n%s", res.stdout)
	}
	// Again: nothing to do.
	if res := pgtend(t, nil, "schedule", "install", "--systemd", "--yes", "--root", root, "--binary", "/opt/pgtend/bin/pgtend"); res.code != 0 || !strings.Contains(res.stdout, "nothing to write") {
		t.Errorf("again: %d %s %s", res.code, res.stdout, res.stderr)
	}
	// An edited unit is the operator's: refused, nothing written.
	timer := filepath.Join(root, "etc/systemd/system/pgtend-weekly.timer")
	if err := os.WriteFile(timer, []byte("[Timer]\nOnCalendar=daily\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(root, "etc/systemd/system/pgtend-monthly.timer")); err != nil {
		t.Fatal(err)
	}
	res = pgtend(t, nil, "schedule", "install", "--systemd", "--yes", "--root", root, "--binary", "/opt/pgtend/bin/pgtend")
	if res.code != 1 || !strings.Contains(res.stderr, "pgtend-weekly.timer differ from pgtend's units (edited?): nothing written") {
		t.Errorf("an edited unit: %d %s", res.code, res.stderr)
	}
	if b, _ := os.ReadFile(timer); string(b) != "[Timer]\nOnCalendar=daily\n" {
		t.Error("the edited unit was overwritten")
	}
	if _, err := os.Stat(filepath.Join(root, "etc/systemd/system/pgtend-monthly.timer")); err == nil {
		t.Error("a unit was written although another was refused")
	}
	// On the real /, as a user: refused with the reason.
	if os.Geteuid() != 0 {
		if res := pgtend(t, nil, "schedule", "install", "--systemd", "--yes"); res.code != 1 || !strings.Contains(res.stderr, "run it as root") {
			t.Errorf("as a user: %d %s", res.code, res.stderr)
		}
	}
}
