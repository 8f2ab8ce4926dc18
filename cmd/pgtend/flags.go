package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pgtend/pgtend/ops/config"
	"github.com/pgtend/pgtend/ops/maint"
	"github.com/pgtend/pgtend/ops/pg"
	"github.com/spf13/cobra"
)

// common are the flags every command that reaches a database shares.
type common struct {
	dsn        string
	configPath string
	target     string
	readOnly   bool
	ascii      bool
	refresh    time.Duration
}

// addCommon gives cmd the shared flags, with their completions, and checks
// them before cmd runs (its PreRunE).
func addCommon(cmd *cobra.Command) *common {
	c := &common{}
	f := cmd.Flags()
	f.StringVar(&c.dsn, "dsn", "", "connection string: postgres://... URL or key=value pairs (default: target's dsn, DATABASE_URL, libpq environment)")
	f.StringVar(&c.configPath, "config", "", "policy file (default: "+orNone(config.DefaultPath())+" if it exists, else "+config.SystemPath+" if it exists, else the built-in policy)")
	f.StringVar(&c.target, "target", "", "database target named in the config ([targets.NAME])")
	f.BoolVar(&c.readOnly, "read-only", false, "never run anything that writes")
	f.BoolVar(&c.ascii, "ascii", false, "draw borders and bars with ASCII only")
	f.DurationVar(&c.refresh, "refresh", 5*time.Second, "console refresh interval")
	_ = cmd.RegisterFlagCompletionFunc("dsn", cobra.NoFileCompletions)
	_ = cmd.RegisterFlagCompletionFunc("config", tomlFiles)
	_ = cmd.RegisterFlagCompletionFunc("target", c.completeTargets)
	_ = cmd.RegisterFlagCompletionFunc("refresh", cobra.NoFileCompletions)
	cmd.PreRunE = func(*cobra.Command, []string) error { return c.check() }
	return c
}

// addTable gives cmd --table, completed with the policy's tables.
func addTable(cmd *cobra.Command, c *common) *string {
	table := cmd.Flags().String("table", "", "one table (name or schema.name); default: every table of the policy")
	_ = cmd.RegisterFlagCompletionFunc("table", c.completeTables)
	return table
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// check refuses flag values that parse but make no sense.
func (c *common) check() error {
	if c.refresh < 500*time.Millisecond {
		return usageError("--refresh %v is too short: use 500ms or more", c.refresh)
	}
	return nil
}

// noArgs refuses stray positional arguments (exit 2).
func noArgs(_ *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usageError("unexpected argument %q", args[0])
	}
	return nil
}

// flagError makes cobra's flag errors (unknown flag, bad value, missing
// value) usage errors: exit 2.
func flagError(_ *cobra.Command, err error) error {
	return &exitError{code: 2, err: err}
}

// Completions read the config file only (the --config given earlier on the
// command line, else the default one): they never connect to a database.

func tomlFiles(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
	return []cobra.Completion{"toml"}, cobra.ShellCompDirectiveFilterFileExt
}

// completeTargets offers the config's targets.
func (c *common) completeTargets(_ *cobra.Command, _ []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	cfg, err := config.Load(c.configPath)
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	var out []cobra.Completion
	for _, n := range cfg.TargetNames() {
		if strings.HasPrefix(n, toComplete) {
			out = append(out, n)
		}
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

// completeTables offers the tables of the policy --target (or the
// top-level policy) names, with how long each keeps its rows.
func (c *common) completeTables(_ *cobra.Command, _ []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	cfg, err := config.Load(c.configPath)
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	_, policy, err := cfg.Resolve(c.target)
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	var out []cobra.Completion
	for _, t := range policy.Tables {
		if strings.HasPrefix(t.Name, toComplete) {
			desc := "permanent"
			if !t.Permanent && t.RetentionDays > 0 {
				desc = fmt.Sprintf("kept %dd", t.RetentionDays)
			} else if !t.Permanent {
				desc = "no limit"
			}
			out = append(out, cobra.CompletionWithDesc(t.Name, desc))
		}
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

// target is the resolved database and policy a command works on.
type target struct {
	dsn    string
	policy config.Policy
	source string
	// throwaway: the demo's database, gone when pgtend exits; nothing is
	// remembered on disk for it (size samples, history file).
	throwaway bool
}

// resolve loads the config (refusing a bad one) and picks the DSN: --dsn,
// else the target's, else DATABASE_URL / libpq environment.
func (c *common) resolve() (target, error) {
	cfg, err := config.Load(c.configPath)
	if err != nil {
		return target{}, err
	}
	dsn, policy, err := cfg.Resolve(c.target)
	if err != nil {
		return target{}, err
	}
	if c.dsn != "" || dsn == "" {
		dsn = pg.ChooseDSN(c.dsn)
	}
	return target{dsn: dsn, policy: policy, source: cfg.Source}, nil
}

// open resolves the target and connects.
func (c *common) open(ctx context.Context) (target, *pgx.Conn, error) {
	t, err := c.resolve()
	if err != nil {
		return t, nil, err
	}
	conn, err := t.connect(ctx)
	return t, conn, err
}

func (t target) settings() pg.Settings {
	return pg.Settings{StatementTimeout: t.policy.Connection.StatementTimeout, LockTimeout: t.policy.Connection.LockTimeout}
}

// reportTimeout bounds reading one report: its statements each run under
// statement_timeout, and the sizes may be read twice.
func (t target) reportTimeout() time.Duration {
	return 2*t.policy.Connection.StatementTimeout + 5*time.Second
}

// maintOptions are the options every maintenance run of this target gets.
func (t target) maintOptions(readOnly bool) maint.Options {
	return maint.Options{LockTimeout: t.policy.Connection.MaintenanceLockTimeout, ReadOnly: readOnly, Policy: t.policy}
}

func (t target) connect(ctx context.Context) (*pgx.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	conn, err := pg.Connect(ctx, t.dsn, t.settings())
	if err != nil {
		return nil, err
	}
	return conn, nil
}

// read runs fn on a connection of its own, within the deadline of one
// report: the headless commands' reads.
func (t target) read(ctx context.Context, fn func(context.Context, *pgx.Conn) error) error {
	ctx, cancel := context.WithTimeout(ctx, t.reportTimeout())
	defer cancel()
	conn, err := t.connect(ctx)
	if err != nil {
		return err
	}
	defer closeConn(conn)
	return fn(ctx, conn)
}

func closeConn(conn *pgx.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = conn.Close(ctx)
}
