package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pgtend/pgtend/ops/config"
	"github.com/pgtend/pgtend/ops/maint"
	"github.com/pgtend/pgtend/ops/pg"
)

// common are the flags every command that reaches a database shares.
type common struct {
	fs         *flag.FlagSet
	dsn        string
	configPath string
	target     string
	readOnly   bool
	ascii      bool
	refresh    time.Duration
}

func newFlags(name string, out io.Writer) *common {
	c := &common{fs: flag.NewFlagSet(name, flag.ContinueOnError)}
	c.fs.SetOutput(out)
	c.fs.StringVar(&c.dsn, "dsn", "", "connection string: postgres://... URL or key=value pairs (default: target's dsn, DATABASE_URL, libpq environment)")
	c.fs.StringVar(&c.configPath, "config", "", "policy file (default: "+orNone(config.DefaultPath())+" if it exists, else the built-in policy)")
	c.fs.StringVar(&c.target, "target", "", "database target named in the config ([targets.NAME])")
	c.fs.BoolVar(&c.readOnly, "read-only", false, "never run anything that writes")
	c.fs.BoolVar(&c.ascii, "ascii", false, "draw borders and bars with ASCII only")
	c.fs.DurationVar(&c.refresh, "refresh", 5*time.Second, "console refresh interval")
	if name == "pgtend" { // the console's flags: --help shows the commands too
		c.fs.Usage = func() {
			fmt.Fprint(out, usage)
			c.fs.PrintDefaults()
		}
	}
	return c
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// parse parses args and refuses stray positional arguments.
func (c *common) parse(args []string) error {
	if err := c.fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return err
		}
		return &exitError{code: 2, err: err}
	}
	if c.fs.NArg() > 0 {
		return usageError("unexpected argument %q", c.fs.Arg(0))
	}
	if c.refresh < 500*time.Millisecond {
		return usageError("--refresh %v is too short: use 500ms or more", c.refresh)
	}
	return nil
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

func closeConn(conn *pgx.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = conn.Close(ctx)
}
