// Command pgtend keeps a PostgreSQL + TimescaleDB database healthy: a
// terminal console to see sizes, chunks, disk and the maintenance calendar,
// and the same figures headless for scripts.
//
// The command tree is built with cobra from one registry of actions
// (ops/maint.Default) and run through fang, which adds `pgtend completion`
// and the hidden `pgtend man`. One command per file: console.go (the root,
// the console), demo.go, report.go, plan.go, run.go, history.go,
// configcmd.go (config show and check), schedule.go (schedule print and
// install), version.go.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"syscall"

	"charm.land/fang/v2"
	"github.com/pgtend/pgtend/ops/maint"
	"github.com/pgtend/pgtend/tui/text"
	"github.com/spf13/cobra"
)

// Stamped at build time by goreleaser (-X main.version=... and, when set,
// main.commit and main.date).
var (
	version = "dev"
	commit  = ""
	date    = ""
)

// exitError carries an exit status; its message (if any) is printed as one line.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

func usageError(format string, args ...any) error {
	return &exitError{code: 2, err: fmt.Errorf(format, args...)}
}

func main() {
	root := newRootCmd(maint.Default(), os.Stdout, os.Stderr)
	err := execute(context.Background(), root, fang.WithNotifySignal(os.Interrupt, syscall.SIGTERM, syscall.SIGHUP))
	os.Exit(exitCode(err))
}

// execute runs the command tree the way the binary does: through fang
// (completion and man commands, help, --version), with errors printed as
// one "pgtend: ..." line.
func execute(ctx context.Context, root *cobra.Command, opts ...fang.Option) error {
	opts = append([]fang.Option{
		fang.WithVersion(versionString()),
		fang.WithErrorHandler(func(w io.Writer, _ fang.Styles, err error) { printError(w, err) }),
	}, opts...)
	return fang.Execute(ctx, root, opts...)
}

// exitCode is the exit status of err: 0 ok, 2 usage errors, the code of an
// exitError, else 1.
func exitCode(err error) int {
	if err == nil {
		return 0
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	return 1
}

// printError prints err as one "pgtend: ..." line (a config file's list of
// problems keeps its line breaks); an exitError without a message prints
// nothing. Errors quote names from the database and the server's messages:
// cleaned of control characters, as everything else pgtend prints.
func printError(w io.Writer, err error) {
	var ee *exitError
	if errors.As(err, &ee) && ee.err == nil {
		return
	}
	fmt.Fprintf(w, "pgtend: %s\n", cleanError(err.Error()))
}

// cleanError strips control characters but keeps the line breaks of
// multi-line errors (a config file's list of problems).
func cleanError(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = text.Clean(l)
	}
	return strings.Join(lines, "\n")
}
