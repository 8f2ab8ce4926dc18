package main

import (
	"context"
	"errors"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/term"
	"github.com/jackc/pgx/v5"
	"github.com/pgtend/pgtend/ops/config"
	"github.com/pgtend/pgtend/ops/maint"
	"github.com/pgtend/pgtend/ops/pg"
	"github.com/pgtend/pgtend/ops/report"
	"github.com/pgtend/pgtend/tui"
	"github.com/spf13/cobra"
)

// newRootCmd is the whole command tree, built from the registry: the root
// command is the console (`pgtend [flags]`), the others its subcommands.
// Output goes to stdout and stderr (the console itself draws on the
// terminal).
func newRootCmd(reg *maint.Registry, stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "pgtend",
		Short: "keep a PostgreSQL + TimescaleDB database healthy",
		Long: "pgtend keeps a PostgreSQL + TimescaleDB database healthy. With no command it opens the " +
			"console on the configured database: live table sizes, chunks with before/after compression, " +
			"disk usage with a forecast, and the maintenance calendar, with every action planned before it runs.\n\n" +
			actionsHelp(reg) + "\n\n" +
			"Connection (like psql): --dsn URL-or-key=value, else the target's dsn, else DATABASE_URL, " +
			"else the libpq environment (PGHOST, PGPORT, PGUSER, PGDATABASE, PGPASSWORD, PGSERVICE, " +
			"PGSSLMODE...), ~/.pgpass and pg_service.conf.\n\n" +
			"Exit status: 0 ok, 1 failed, 2 usage errors and destructive plans without --yes.",
		Example: rootExamples(reg),
		// No positional arguments: a word that is no command is refused.
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usageError("unknown command %q (try `pgtend help`)", args[0])
			}
			return nil
		},
		ValidArgsFunction: cobra.NoFileCompletions,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(flagError) // inherited by every subcommand
	c := addCommon(root)
	root.RunE = func(cmd *cobra.Command, _ []string) error {
		t, err := c.resolve()
		if err != nil {
			return err
		}
		if !isTerminal(cmd.OutOrStdout()) {
			return usageError("the console needs a terminal; use `pgtend report` in scripts")
		}
		return console(cmd.Context(), reg, c, t)
	}
	root.SetVersionTemplate("pgtend {{.Version}}\n") // --version says what `pgtend version` says
	root.AddCommand(newDemoCmd(reg), newReportCmd(), newTriageCmd(), newPlanCmd(reg), newRunCmd(reg), newHistoryCmd(), newConfigCmd(), newScheduleCmd(), newDoctorCmd(reg), newVersionCmd())
	if a, ok := reg.Action("backup"); ok {
		root.AddCommand(newBackupCmd(a))
	}
	// cobra's help and completion commands, made now (not when it
	// executes) so that their argument errors are usage errors too.
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd()
	argErrorsAreUsageErrors(root)
	return root
}

// argErrorsAreUsageErrors makes every argument error of the tree (cobra's
// own, e.g. `completion bash stray`) a usage error: exit 2.
func argErrorsAreUsageErrors(cmd *cobra.Command) {
	if check := cmd.Args; check != nil {
		cmd.Args = func(cmd *cobra.Command, args []string) error {
			err := check(cmd, args)
			var ee *exitError
			if err != nil && !errors.As(err, &ee) {
				return &exitError{code: 2, err: err}
			}
			return err
		}
	}
	for _, sub := range cmd.Commands() {
		argErrorsAreUsageErrors(sub)
	}
}

// rootExamples are the root's examples: the demo, the report, and a plan
// of every action and a run of every script of the registry.
func rootExamples(reg *maint.Registry) string {
	lines := []string{
		"# the console on a throwaway demo database", "pgtend demo",
		"# what the console shows, for scripts", "pgtend report --json",
	}
	for _, a := range reg.Actions {
		lines = append(lines, "# what "+a.Name+" would do to one table, changing nothing", "pgtend plan "+a.Name+" --table TABLE")
	}
	for _, s := range reg.Scripts {
		yes := ""
		if actions, err := reg.Resolve(s.Name, true); err == nil && slices.ContainsFunc(actions, func(a maint.Action) bool { return a.Destructive }) {
			yes = " --yes"
		}
		lines = append(lines, "# "+s.Help, "pgtend run "+s.Name+yes)
	}
	return strings.Join(lines, "\n")
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
func console(ctx context.Context, reg *maint.Registry, c *common, t target) error {
	conn, err := t.connect(ctx)
	if err != nil {
		return err
	}
	closeConn(conn)
	sess := pg.NewSession(t.dsn, t.settings())
	defer sess.Close()
	// The Health pane has a session of its own: its findings come while a
	// report of thousands of chunks is read, and its cancel and terminate
	// run on a connection held already, when no new one may be had.
	hsess := pg.NewSession(t.dsn, t.settings())
	defer hsess.Close()
	own := &ownPIDs{}
	mem := openMemory(t)
	// read makes a loader of the console: on the one session, annotated
	// from this machine's memory; measured sizes are also remembered.
	read := func(collect func(context.Context, *pgx.Conn, config.Policy) (*report.Report, error), measured bool) func(context.Context) (*report.Report, error) {
		return func(ctx context.Context) (*report.Report, error) {
			var r *report.Report
			err := sess.Do(ctx, func(conn *pgx.Conn) (err error) {
				own.note(conn)
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
		Tick:        tickFunc(t, c.readOnly, mem),
		Actions:     consoleActions{reg: reg, t: t, readOnly: c.readOnly, mem: mem},
		Registry:    reg,
		Checklists:  checklistOps{t: t, mem: mem},
		Health:      healthLoader(hsess, t, own),
		Thresholds:  t.policy.Health,
		Signals:     consoleSignals{sess: hsess, readOnly: c.readOnly, own: own, mem: mem},
		Backups:     backupLister(t.policy.Backup.Dir),
		Triage:      triageLoader(sess, t, mem),
		TriageAt:    t.policy.Disk.Effective().TriageAtPercent,
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
