package main

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/pgtend/pgtend/ops/config"
	"github.com/pgtend/pgtend/ops/maint"
)

// completeScript sources `pgtend completion bash` in a real bash, sets up
// the line as bash does for a TAB at its end and calls the completion
// function cobra registered, then prints what it offers, one a line.
// _get_comp_words_by_ref comes from the bash-completion package; when it is
// not installed, a minimal one (no word splitting on = or :) stands in.
const completeScript = `
[ -r /usr/share/bash-completion/bash_completion ] && source /usr/share/bash-completion/bash_completion
source <(pgtend completion bash) || exit 1
declare -F __start_pgtend >/dev/null || { echo "__start_pgtend is not defined" >&2; exit 1; }
if ! declare -F _get_comp_words_by_ref >/dev/null; then
  _get_comp_words_by_ref() { cur=${COMP_WORDS[COMP_CWORD]}; prev=${COMP_WORDS[COMP_CWORD-1]}; words=("${COMP_WORDS[@]}"); cword=$COMP_CWORD; }
fi
compopt() { :; } # only works inside a real completion
COMP_LINE=$1
COMP_POINT=${#COMP_LINE}
COMP_TYPE=9
COLUMNS=200
read -ra COMP_WORDS <<<"$COMP_LINE"
[[ $COMP_LINE == *" " ]] && COMP_WORDS+=("")
COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
__start_pgtend
printf '%s\n' "${COMPREPLY[@]}"
`

// bashComplete returns what bash offers for a TAB at the end of line
// (descriptions stripped).
func bashComplete(t *testing.T, env []string, line string) []string {
	t.Helper()
	cmd := exec.Command("bash", "-c", completeScript, "bash", line)
	// The binary as `pgtend` on the PATH, as installed.
	cmd.Env = append([]string{"HOME=" + t.TempDir(), "XDG_CONFIG_HOME=" + t.TempDir(), "PATH=" + filepath.Dir(binary) + string(os.PathListSeparator) + os.Getenv("PATH")}, env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("bash completion of %q: %v\n%s", line, err, out)
	}
	var words []string
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if f := strings.Fields(l); len(f) > 0 {
			words = append(words, f[0])
		}
	}
	return words
}

func TestBashCompletion(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("SKIPPED: bash is not installed; the shell completion test needs it")
	}
	// Completions must never connect: every target's DSN points at a
	// listener that counts connections.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var connects atomic.Int32
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			connects.Add(1)
			c.Close()
		}
	}()
	port := ln.Addr().(*net.TCPAddr).Port
	cfg := writeFile(t, "pgtend.toml", fmt.Sprintf(`
[tables.option_chain_snapshots]
time_column = "timestamp"
retention = "20d"

[tables.trade_history]
permanent = true

[targets.prod]
dsn = "host=127.0.0.1 port=%d"
[targets.prod.tables.only_in_prod]
time_column = "ts"
retention = "30d"

[targets.staging]
dsn = "host=127.0.0.1 port=%d"
`, port, port))
	// The listener's DSN is also the environment's, for commands without a target.
	env := []string{fmt.Sprintf("DATABASE_URL=postgres://u@127.0.0.1:%d/db", port)}

	expect := func(line string, want []string) {
		t.Helper()
		got := bashComplete(t, env, line)
		slices.Sort(got)
		want = slices.Sorted(slices.Values(want))
		if !slices.Equal(got, want) {
			t.Errorf("%q offers %q, want %q", line, got, want)
		}
	}
	reg := maint.Default()
	names := reg.Names(true)
	expect("pgtend run ", names)
	expect("pgtend plan ", names)
	expect("pgtend plan --table x ", names) // flags first
	expect("pgtend run "+names[0][:2], []string{names[0]})
	expect("pgtend run "+names[0]+" ", nil) // one action only

	loaded, err := config.LoadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for _, tp := range loaded.Policy.Tables {
		tables = append(tables, tp.Name)
	}
	expect("pgtend run "+names[0]+" --config "+cfg+" --table ", tables)
	expect("pgtend plan --config "+cfg+" --table ", tables)
	expect("pgtend run "+names[0]+" --config "+cfg+" --target prod --table ", []string{"only_in_prod"})
	expect("pgtend run --config "+cfg+" --target ", loaded.TargetNames())
	expect("pgtend report --config "+cfg+" --target st", []string{"staging"})
	expect("pgtend --config "+cfg+" --target ", loaded.TargetNames())
	// Without --config: the default policy (the XDG file is absent here).
	var builtIn []string
	for _, tp := range config.Default().Policy.Tables {
		builtIn = append(builtIn, tp.Name)
	}
	expect("pgtend run "+names[0]+" --table ", builtIn)

	commands := bashComplete(t, env, "pgtend ")
	for _, c := range []string{"demo", "report", "plan", "run", "history", "config", "version", "completion", "help"} {
		if !slices.Contains(commands, c) {
			t.Errorf("pgtend <TAB> offers %q, lacking %q", commands, c)
		}
	}
	expect("pgtend config ", []string{"check", "show"})
	expect("pgtend completion ", []string{"bash", "fish", "powershell", "zsh"})
	if n := connects.Load(); n != 0 {
		t.Errorf("completion connected to a database %d times", n)
	}
}
