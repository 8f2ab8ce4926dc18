package main

import (
	"context"
	"errors"
	"io"
	"os"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/term"
	"github.com/jackc/pgx/v5"
	"github.com/pgtend/pgtend/ops/config"
	"github.com/pgtend/pgtend/ops/pg"
	"github.com/pgtend/pgtend/ops/report"
	"github.com/pgtend/pgtend/tui"
)

func runConsole(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c := newFlags("pgtend", stderr)
	if err := c.parse(args); err != nil {
		return err
	}
	t, err := c.resolve()
	if err != nil {
		return err
	}
	if !isTerminal(stdout) {
		return usageError("the console needs a terminal; use `pgtend report` in scripts")
	}
	return console(ctx, c, t)
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(f.Fd())
}

// utf8Locale reports whether the locale promises UTF-8; when it does not,
// the console draws with ASCII (pg_activity broke under such locales).
func utf8Locale() bool {
	for _, v := range []string{"LC_ALL", "LC_CTYPE", "LANG"} {
		if s := os.Getenv(v); s != "" {
			s = strings.ToLower(s)
			return strings.Contains(s, "utf-8") || strings.Contains(s, "utf8")
		}
	}
	return false
}

// console checks the connection once (a bad DSN or password should be one
// clear line, not a screen), then runs the interactive console.
func console(ctx context.Context, c *common, t target) error {
	conn, err := t.connect(ctx)
	if err != nil {
		return err
	}
	closeConn(conn)
	sess := pg.NewSession(t.dsn, t.settings())
	defer sess.Close()
	mem := openMemory(t)
	// read makes a loader of the console: on the one session, annotated
	// from this machine's memory; measured sizes are also remembered.
	read := func(collect func(context.Context, *pgx.Conn, config.Policy) (*report.Report, error), measured bool) func(context.Context) (*report.Report, error) {
		return func(ctx context.Context) (*report.Report, error) {
			var r *report.Report
			err := sess.Do(ctx, func(conn *pgx.Conn) (err error) {
				r, err = collect(ctx, conn, t.policy)
				return err
			})
			if err == nil {
				mem.annotate(r)
				if measured {
					mem.record(r)
				}
			}
			return r, err
		}
	}
	m := tui.New(tui.Options{
		Load:        read(report.Collect, true),
		Estimate:    read(report.Estimate, false),
		SizeHistory: mem.loadSizes(time.Now()),
		Tick:        mem.tickFunc(),
		Actions:     consoleActions{t: t, readOnly: c.readOnly, mem: mem},
		Refresh:     c.refresh,
		Timeout:     t.reportTimeout(),
		ReadOnly:    c.readOnly,
		ASCII:       c.ascii || !utf8Locale(),
		Dark:        true,
		Target:      c.target,
	})
	_, err = tea.NewProgram(m, tea.WithContext(ctx)).Run()
	if errors.Is(err, tea.ErrProgramKilled) && ctx.Err() != nil {
		return nil // a signal: the deferred clean-up runs
	}
	return err
}
