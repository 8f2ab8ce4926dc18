package main

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pgtend/pgtend/ops/backup"
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
		src, err := backup.ReadSource(ctx, conn)
		if err != nil {
			return err
		}
		if src.Standby && !*local {
			return fmt.Errorf("%s is a standby: no scratch database can be created on it (--local restores into a throwaway cluster instead)", conn.Config().Database)
		}
		tools, err := backup.FindTools(ctx, src.VersionNum, src.Version)
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
		if src.Timescale != nil {
			ts = *src.Timescale
			if v, ok := backup.SidecarMeta(path)["timescaledb"]; ok {
				ts = v
			}
		}
		var sc *backup.Scratch
		if *local {
			sc, err = backup.ScratchLocal(ctx, conn, src, ts)
		} else {
			sc, err = backup.ScratchOnServer(ctx, conn)
		}
		if err != nil {
			return err
		}
		defer func() {
			dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
			defer cancel()
			if err := sc.Drop(dctx); err != nil {
				fmt.Fprintf(cmd.ErrOrStderr(), "pgtend: dropping %s: %v\n", sc.What, err)
			} else {
				fmt.Fprintf(w, "dropped %s\n", sc.What)
			}
		}()
		dst, err := pgx.ConnectConfig(ctx, sc.Conn)
		if err != nil {
			return err
		}
		defer closeConn(dst)
		fmt.Fprintf(w, "restoring into %s…\n", sc.What)
		start := time.Now()
		if err := backup.Restore(ctx, path, n.Format, backup.RestoreOptions{Tools: tools, Target: backup.ConnOf(sc.Conn), Conn: dst, Timescale: ts}); err != nil {
			return err
		}
		fmt.Fprintf(w, "restored in %s\n", time.Since(start).Round(time.Millisecond))
		counts, err := backup.CompareCounts(ctx, conn, dst, *limit)
		if err != nil {
			return err
		}
		if missing := text.WriteRestoreCounts(w, counts, conn.Config().Database); missing > 0 {
			return &exitError{code: 1, err: fmt.Errorf("%d tables of %s are missing from the restore", missing, conn.Config().Database)}
		}
		return nil
	}
	return cmd
}
