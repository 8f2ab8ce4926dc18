// Command pgtend keeps a PostgreSQL + TimescaleDB database healthy: a
// terminal console to see sizes, chunks, disk and the maintenance calendar,
// and the same figures headless for scripts.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"github.com/pgtend/pgtend/tui/text"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

// version is stamped at build time by goreleaser (-X main.version=...).
var version = "dev"

const usage = `pgtend keeps a PostgreSQL + TimescaleDB database healthy.

Usage:
  pgtend [flags]                 open the console on the configured database
  pgtend demo [--keep]           start a throwaway demo database and open the console on it
  pgtend report [--json]         print what the console shows, for scripts
  pgtend plan ACTION [--table T] show what an action would do; changes nothing
  pgtend run ACTION|weekly|monthly [--table T] [--yes]
                                 run it (exit 0 ok, 1 failed, 2 destructive without --yes)
  pgtend history                 the maintenance history
  pgtend config show             print the effective policy
  pgtend config check FILE       validate a policy file
  pgtend version                 print the version

Actions: vacuum (VACUUM ANALYZE, chunk by chunk), retention (remove data older
than the policy's retention). weekly = vacuum + sizes + disk; monthly =
retention + vacuum.

Connection (like psql): --dsn URL-or-key=value, else the target's dsn, else
DATABASE_URL, else the libpq environment (PGHOST, PGPORT, PGUSER, PGDATABASE,
PGPASSWORD, PGSERVICE, PGSSLMODE...), ~/.pgpass and pg_service.conf.

Flags:
`

// exitError carries an exit status; its message (if any) is printed as one line.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }

func usageError(format string, args ...any) error {
	return &exitError{code: 2, err: fmt.Errorf(format, args...)}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(exitCode(err, os.Stderr))
}

func exitCode(err error, stderr io.Writer) int {
	if err == nil {
		return 0
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	code := 1
	var ee *exitError
	if errors.As(err, &ee) {
		code = ee.code
		if ee.err == nil {
			return code
		}
	}
	// Errors quote names from the database and the server's messages:
	// cleaned of control characters, as everything else pgtend prints.
	fmt.Fprintf(stderr, "pgtend: %s\n", cleanError(err.Error()))
	return code
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

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cmd := ""
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "":
		return runConsole(ctx, args, stdout, stderr)
	case "demo":
		return runDemo(ctx, args, stdout, stderr)
	case "report":
		return runReport(ctx, args, stdout, stderr)
	case "config":
		return runConfig(args, stdout, stderr)
	case "plan":
		return runPlan(ctx, args, stdout, stderr)
	case "run":
		return runRun(ctx, args, stdout, stderr)
	case "history":
		return runHistory(ctx, args, stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "pgtend", version)
		return nil
	case "help":
		newFlags("pgtend", stdout).fs.Usage()
		return nil
	default:
		return usageError("unknown command %q (try `pgtend help`)", cmd)
	}
}
