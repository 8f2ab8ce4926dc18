package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pgtend/pgtend/ops/backup"
	"github.com/pgtend/pgtend/ops/cluster"
	"github.com/pgtend/pgtend/ops/maint"
	"github.com/pgtend/pgtend/tui/text"
	"github.com/spf13/cobra"
)

// newBackupVerifyCmd is `pgtend backup verify FILE`: the restore check.
func newBackupVerifyCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "verify FILE",
		Short: "restore a backup into a scratch database and compare row counts with the database",
		Long: "Reads FILE whole and checks its SHA-256 against its sidecar, restores it into a scratch database " +
			"on the same server — or, with --local, into a throwaway cluster of this machine's PostgreSQL (same major " +
			"version; the database's roles made there first, NOLOGIN, so owners and grants restore), which touches " +
			"nothing on the server and so works with --read-only and against a standby — (TimescaleDB: the same " +
			"extension version, between timescaledb_pre_restore() and timescaledb_post_restore()), compares every " +
			"table's rows with the database it came from (the catalog's estimates for tables over --count-limit, " +
			"labelled), and drops the scratch database (or the cluster). Row counts that differ are reported: the " +
			"database may have changed since the dump. Exit status: 0 restored, 1 not.",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageError("pgtend backup verify needs one backup file")
			}
			return nil
		},
	}
	c := addCommon(cmd)
	limit := cmd.Flags().Int64("count-limit", 1<<30, "bytes above which a table's rows are estimated rather than counted")
	local := cmd.Flags().Bool("local", false, "restore into a throwaway local cluster rather than a scratch database on the server")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		ctx, w := cmd.Context(), cmd.OutOrStdout()
		path, err := filepath.Abs(args[0])
		if err != nil {
			return err
		}
		n, ok := backup.ParseName(filepath.Base(path))
		if !ok {
			return fmt.Errorf("%s is not named as pgtend names backups (<database>_<YYYYmmdd_HHMMSS>.dump, .sql.gz or .dir)", path)
		}
		_, conn, err := c.open(ctx)
		if err != nil {
			return err
		}
		defer closeConn(conn)
		if c.readOnly && !*local {
			return fmt.Errorf("%w: pgtend runs with --read-only; the restore check creates a scratch database (--local restores into a throwaway cluster instead)", maint.ErrReadOnly)
		}
		var src sourceFacts
		if err := conn.QueryRow(ctx, `SELECT current_setting('server_version_num')::int, current_setting('server_version'),
			(SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'), pg_is_in_recovery()`).Scan(&src.num, &src.version, &src.timescale, &src.standby); err != nil {
			return err
		}
		if src.standby && !*local {
			return fmt.Errorf("%s is a standby: no scratch database can be created on it (--local restores into a throwaway cluster instead)", conn.Config().Database)
		}
		tools, err := backup.FindTools(ctx, src.num, src.version)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "reading %s whole…\n", text.Clean(path))
		checked, err := backup.Verify(ctx, tools, path, n.Format, nil)
		if err != nil {
			return fmt.Errorf("%s does not read back whole: %w", path, err)
		}
		if err := backup.MatchesSidecar(path, checked); err != nil {
			return err
		}
		fmt.Fprintf(w, "read back whole: %s, SHA-256 %s\n", text.BytesOf(checked.Bytes), checksumText(checked))
		ts := ""
		if src.timescale != nil {
			ts = *src.timescale
			if v, ok := backup.SidecarMeta(path)["timescaledb"]; ok {
				ts = v
			}
		}
		var sc *scratch
		if *local {
			sc, err = scratchLocal(ctx, conn, src, ts)
		} else {
			sc, err = scratchOnServer(ctx, conn)
		}
		if err != nil {
			return err
		}
		defer func() {
			dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
			defer cancel()
			if err := sc.drop(dctx); err != nil {
				fmt.Fprintf(cmd.ErrOrStderr(), "pgtend: dropping %s: %v\n", sc.what, err)
			} else {
				fmt.Fprintf(w, "dropped %s\n", sc.what)
			}
		}()
		dst, err := pgx.ConnectConfig(ctx, sc.cfg)
		if err != nil {
			return err
		}
		defer closeConn(dst)
		fmt.Fprintf(w, "restoring into %s…\n", sc.what)
		start := time.Now()
		if err := backup.Restore(ctx, path, n.Format, backup.RestoreOptions{Tools: tools, Target: backup.ConnOf(sc.cfg), Conn: dst, Timescale: ts}); err != nil {
			return err
		}
		fmt.Fprintf(w, "restored in %s\n", time.Since(start).Round(time.Millisecond))
		counts, err := backup.CompareCounts(ctx, conn, dst, *limit)
		if err != nil {
			return err
		}
		return printCounts(w, counts, conn.Config().Database)
	}
	return cmd
}

// sourceFacts are what the restore check reads of the database the
// backup came from.
type sourceFacts struct {
	num       int
	version   string
	timescale *string
	standby   bool
}

// scratch is the database the restore check restores into, and how it
// goes away.
type scratch struct {
	what string // "the scratch database pgtend_verify_123", for the operator
	cfg  *pgx.ConnConfig
	drop func(ctx context.Context) error
}

// scratchOnServer creates a scratch database on the server conn is on.
func scratchOnServer(ctx context.Context, conn *pgx.Conn) (*scratch, error) {
	name := fmt.Sprintf("pgtend_verify_%d", time.Now().UnixNano()%1_000_000_000)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return nil, fmt.Errorf("creating the scratch database %s: %w", name, err)
	}
	cfg := conn.Config().Copy()
	cfg.Database = name
	return &scratch{what: "the scratch database " + name, cfg: cfg, drop: func(ctx context.Context) error {
		_, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
		return err
	}}, nil
}

// scratchLocal starts a throwaway cluster of this machine's PostgreSQL
// (pg_cron's database named as the source, so a dump that has pg_cron
// restores), refuses one of another major version than the source or
// without the dump's TimescaleDB, and makes there the source's roles
// (NOLOGIN: only for owners and grants) and a database named as the
// source's.
func scratchLocal(ctx context.Context, conn *pgx.Conn, src sourceFacts, timescale string) (sc *scratch, err error) {
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
	defer closeConn(admin)
	var num int
	var version string
	var available *string
	if err := admin.QueryRow(ctx, `SELECT current_setting('server_version_num')::int, current_setting('server_version'),
		(SELECT string_agg(version, ', ') FROM pg_available_extension_versions WHERE name = 'timescaledb' AND version = $1)`, timescale).Scan(&num, &version, &available); err != nil {
		return nil, err
	}
	if num/10000 != src.num/10000 {
		return nil, fmt.Errorf("this machine's PostgreSQL is %s, the database's %s: a restore check needs the same major version (or run it without --local)", version, src.version)
	}
	if timescale != "" && available == nil {
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
	for _, r := range roles {
		var exists bool
		if err := admin.QueryRow(ctx, "SELECT EXISTS (SELECT FROM pg_roles WHERE rolname = $1)", r).Scan(&exists); err != nil {
			return nil, err
		}
		if !exists {
			if _, err := admin.Exec(ctx, "CREATE ROLE "+pgx.Identifier{r}.Sanitize()+" NOLOGIN"); err != nil {
				return nil, fmt.Errorf("making role %s in the throwaway cluster: %w", r, err)
			}
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
	return &scratch{what: "a throwaway local cluster (" + cl.Dir + ")", cfg: cfg, drop: func(context.Context) error { return cl.Destroy() }}, nil
}

// printCounts prints each table's rows in the source and the restore; a
// table missing from the restore fails the check.
func printCounts(w io.Writer, counts []backup.TableCount, source string) error {
	missing, differ := 0, 0
	for _, k := range counts {
		mark := "equal"
		switch {
		case k.Missing:
			mark, missing = "MISSING from the restore", missing+1
		case !k.Equal():
			mark, differ = "differs", differ+1
		}
		how := "rows"
		if k.Estimated {
			how = "rows (estimates)"
		}
		fmt.Fprintf(w, "  %-40s %12s in %s, %12s restored %s  %s\n", text.Clean(k.Table), text.Count(k.Source), text.Clean(source), text.Count(k.Restored), how, mark)
	}
	if missing > 0 {
		return &exitError{code: 1, err: fmt.Errorf("%d tables of %s are missing from the restore", missing, source)}
	}
	if differ > 0 {
		fmt.Fprintf(w, "%s differ: the database changed since the dump, or the dump is not of it\n", text.Plural(differ, "table"))
	} else {
		fmt.Fprintf(w, "every table's rows match (%s)\n", text.Plural(len(counts), "table"))
	}
	return nil
}
