package backup

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pgtend/pgtend/ops/cluster"
)

// Source is what the restore check reads of the database a backup came
// from.
type Source struct {
	VersionNum int
	Version    string
	Timescale  *string // the installed TimescaleDB version, nil without it
	Standby    bool
}

// ReadSource reads the source's server version, TimescaleDB and whether it
// is a standby.
func ReadSource(ctx context.Context, conn *pgx.Conn) (Source, error) {
	var s Source
	err := conn.QueryRow(ctx, `SELECT current_setting('server_version_num')::int, current_setting('server_version'),
		(SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'), pg_is_in_recovery()`).Scan(&s.VersionNum, &s.Version, &s.Timescale, &s.Standby)
	return s, err
}

// Scratch is the database a restore check restores into, and how it goes
// away.
type Scratch struct {
	What string // "the scratch database pgtend_verify_123", for the operator
	Conn *pgx.ConnConfig
	Drop func(ctx context.Context) error
}

// ScratchOnServer creates a scratch database on the server conn is on.
func ScratchOnServer(ctx context.Context, conn *pgx.Conn) (*Scratch, error) {
	name := fmt.Sprintf("pgtend_verify_%d", time.Now().UnixNano()%1_000_000_000)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return nil, fmt.Errorf("creating the scratch database %s: %w", name, err)
	}
	cfg := conn.Config().Copy()
	cfg.Database = name
	return &Scratch{What: "the scratch database " + name, Conn: cfg, Drop: func(ctx context.Context) error {
		_, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
		return err
	}}, nil
}

// ScratchLocal starts a throwaway cluster of this machine's PostgreSQL
// (pg_cron's database named as the source, so a dump that has pg_cron
// restores), refuses one of another major version than src or without the
// dump's TimescaleDB (timescale, "" for none), and makes there the
// source's roles (NOLOGIN: only for owners and grants) and a database
// named as the source's. Nothing is created on the source's server.
func ScratchLocal(ctx context.Context, conn *pgx.Conn, src Source, timescale string) (sc *Scratch, err error) {
	database := conn.Config().Database
	cl, err := cluster.Start(ctx, cluster.Options{NoTimescale: timescale == "", CronDatabase: database})
	if err != nil {
		return nil, fmt.Errorf("starting a throwaway local cluster: %w", err)
	}
	defer func() {
		if err != nil {
			cl.Destroy()
		}
	}()
	admin, err := pgx.Connect(ctx, cl.DSN("postgres"))
	if err != nil {
		return nil, err
	}
	defer admin.Close(context.WithoutCancel(ctx))
	var num int
	var version string
	var available bool
	if err := admin.QueryRow(ctx, `SELECT current_setting('server_version_num')::int, current_setting('server_version'),
		EXISTS (SELECT FROM pg_available_extension_versions WHERE name = 'timescaledb' AND version = $1)`, timescale).Scan(&num, &version, &available); err != nil {
		return nil, err
	}
	if num/10000 != src.VersionNum/10000 {
		return nil, fmt.Errorf("this machine's PostgreSQL is %s, the database's %s: a restore check needs the same major version (or run it without --local)", version, src.Version)
	}
	if timescale != "" && !available {
		return nil, fmt.Errorf("the dump was made with TimescaleDB %s, which this machine's PostgreSQL does not have: install it, or run the check without --local", timescale)
	}
	rows, err := conn.Query(ctx, `SELECT rolname::text FROM pg_roles WHERE rolname !~ '^pg_' AND NOT rolsuper ORDER BY 1`)
	if err != nil {
		return nil, err
	}
	roles, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, err
	}
	rows, err = admin.Query(ctx, `SELECT rolname::text FROM pg_roles WHERE rolname = ANY ($1)`, roles)
	if err != nil {
		return nil, err
	}
	existing, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, err
	}
	have := map[string]bool{}
	for _, r := range existing {
		have[r] = true
	}
	for _, r := range roles {
		if have[r] {
			continue
		}
		if _, err := admin.Exec(ctx, "CREATE ROLE "+pgx.Identifier{r}.Sanitize()+" NOLOGIN"); err != nil {
			return nil, fmt.Errorf("making role %s in the throwaway cluster: %w", r, err)
		}
	}
	dsn, err := cl.CreateDatabase(ctx, database)
	if err != nil {
		return nil, err
	}
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, err
	}
	return &Scratch{What: "a throwaway local cluster (" + cl.Dir + ")", Conn: cfg, Drop: func(context.Context) error { return cl.Destroy() }}, nil
}
