package backup

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// RestoreOptions say how to restore a backup into a database.
type RestoreOptions struct {
	Tools  Tools
	Target Conn      // the database restored into: empty, or with only the extension
	Conn   *pgx.Conn // a session on Target, for TimescaleDB's restore mode
	// Timescale is the TimescaleDB version the dump was made with ("" when
	// none): the restore creates that version, and runs between
	// timescaledb_pre_restore() and timescaledb_post_restore().
	Timescale string
	// NoOwner restores without the dump's owners and grants (a throwaway
	// cluster lacks its roles).
	NoOwner bool
}

// Restore restores a backup into o.Target: pg_restore for the custom and
// directory formats, psql with ON_ERROR_STOP for plain SQL; any error the
// program reports fails it. It holds a shared lock on the backup: rotation
// never deletes a backup being restored.
func Restore(ctx context.Context, path string, f Format, o RestoreOptions) error {
	l, err := readLock(path)
	if err != nil {
		return err
	}
	defer l.release()
	if o.Timescale != "" {
		if _, err := o.Conn.Exec(ctx, "CREATE EXTENSION IF NOT EXISTS timescaledb VERSION "+quoteLiteral(o.Timescale)); err != nil {
			return fmt.Errorf("the restore needs TimescaleDB %s, as the dump was made with: %w", o.Timescale, err)
		}
		if _, err := o.Conn.Exec(ctx, "SELECT timescaledb_pre_restore()"); err != nil {
			return err
		}
	}
	var stderr bytes.Buffer
	var runErr error
	if f == Plain {
		runErr = restorePlain(ctx, path, o, &stderr)
	} else {
		args := []string{"--exit-on-error"}
		if o.NoOwner {
			args = append(args, "--no-owner", "--no-privileges")
		}
		args = append(append(args, o.Target.Args()...), path)
		cmd, done, err := o.Target.command(ctx, o.Tools.PgRestore, args...)
		if err != nil {
			return err
		}
		cmd.Stderr = &stderr
		runErr = cmd.Run()
		done()
	}
	if o.Timescale != "" {
		if _, err := o.Conn.Exec(context.WithoutCancel(ctx), "SELECT timescaledb_post_restore()"); err != nil && runErr == nil {
			runErr = err
		}
	}
	if runErr != nil {
		msg := strings.Join(strings.Fields(stderr.String()), " ")
		if len(msg) > 1500 {
			msg = msg[:1500] + "…"
		}
		return fmt.Errorf("restoring %s: %v: %s", path, runErr, msg)
	}
	return nil
}

func restorePlain(ctx context.Context, path string, o RestoreOptions, stderr io.Writer) error {
	if o.Tools.Psql == "" {
		return errors.New("no psql beside " + o.Tools.PgDump + " to restore plain SQL with")
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return err
	}
	args := append([]string{"-X", "-q", "-v", "ON_ERROR_STOP=1", "-f", "-"}, o.Target.Args()...)
	cmd, done, err := o.Target.command(ctx, o.Tools.Psql, args...)
	if err != nil {
		return err
	}
	defer done()
	cmd.Stdin, cmd.Stdout, cmd.Stderr = zr, io.Discard, stderr
	return cmd.Run()
}

func quoteLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// TableCount is one table's rows in the source and in the restore.
type TableCount struct {
	Table     string `json:"table"`
	Source    int64  `json:"source"`
	Restored  int64  `json:"restored"`
	Estimated bool   `json:"estimated"` // over the size limit: the catalog's estimates after ANALYZE, not counts
	Missing   bool   `json:"missing"`   // not in the restore
}

// Equal says whether the two agree.
func (c TableCount) Equal() bool { return !c.Missing && c.Source == c.Restored }

const userTables = `
SELECT format('%I.%I', n.nspname, c.relname), c.oid::regclass::text,
       coalesce((SELECT sum(pg_total_relation_size(i.inhrelid)) FROM pg_inherits i WHERE i.inhparent = c.oid), 0)
         + pg_total_relation_size(c.oid)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
  AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pgtend') AND n.nspname NOT LIKE 'pg\_%'
  AND n.nspname NOT LIKE '\_timescaledb%' AND n.nspname NOT LIKE 'timescaledb\_%'
  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
ORDER BY 1`

// CompareCounts counts the rows of every user table (not pgtend.history,
// which every run writes to) (a hypertable or a
// partitioned table through its parent) in src and in dst; tables over
// limit bytes are compared by the catalog's estimate after ANALYZE,
// labelled so.
func CompareCounts(ctx context.Context, src, dst *pgx.Conn, limit int64) ([]TableCount, error) {
	rows, err := src.Query(ctx, userTables)
	if err != nil {
		return nil, err
	}
	type table struct {
		name, reg string
		bytes     int64
	}
	tables, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (table, error) {
		var t table
		err := r.Scan(&t.name, &t.reg, &t.bytes)
		return t, err
	})
	if err != nil {
		return nil, err
	}
	var out []TableCount
	for _, t := range tables {
		c := TableCount{Table: t.name, Estimated: limit > 0 && t.bytes > limit}
		if c.Source, err = rowsOf(ctx, src, t.name, c.Estimated); err != nil {
			return nil, err
		}
		var exists bool
		if err := dst.QueryRow(ctx, "SELECT to_regclass($1) IS NOT NULL", t.name).Scan(&exists); err != nil {
			return nil, err
		}
		if !exists {
			c.Missing = true
		} else if c.Restored, err = rowsOf(ctx, dst, t.name, c.Estimated); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

func rowsOf(ctx context.Context, conn *pgx.Conn, table string, estimate bool) (int64, error) {
	var n int64
	if !estimate {
		err := conn.QueryRow(ctx, "SELECT count(*) FROM "+table).Scan(&n)
		return n, err
	}
	if _, err := conn.Exec(ctx, "ANALYZE "+table); err != nil {
		return 0, err
	}
	// A hypertable's compressed rows are in no chunk's reltuples (a
	// compressed chunk's heap is empty): TimescaleDB's own estimate counts
	// them, and a restore that lost them would otherwise still match.
	if fn, err := hypertableEstimator(ctx, conn, table); err != nil {
		return 0, err
	} else if fn != "" {
		err := conn.QueryRow(ctx, "SELECT "+fn+"($1::regclass)", table).Scan(&n)
		return n, err
	}
	// Every level of partitions or inheritance children; a partitioned
	// table's own reltuples (PostgreSQL 14+) is its partitions' sum again.
	err := conn.QueryRow(ctx, `WITH RECURSIVE tree AS (
			SELECT $1::regclass::oid AS oid
			UNION ALL SELECT i.inhrelid FROM pg_inherits i JOIN tree t ON i.inhparent = t.oid)
		SELECT coalesce(sum(greatest(c.reltuples, 0)), 0)::bigint FROM pg_class c JOIN tree USING (oid)
		WHERE c.relkind <> 'p'`, table).Scan(&n)
	return n, err
}

// hypertableEstimator is TimescaleDB's approximate_row_count, schema
// qualified, when table is a hypertable and the function exists; else "".
func hypertableEstimator(ctx context.Context, conn *pgx.Conn, table string) (string, error) {
	var schema, name *string
	err := conn.QueryRow(ctx, `SELECT n.nspname, p.proname FROM pg_proc p
		JOIN pg_namespace n ON n.oid = p.pronamespace
		JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
		JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'timescaledb'
		WHERE p.proname = 'approximate_row_count'
		  AND EXISTS (SELECT 1 FROM _timescaledb_catalog.hypertable h JOIN pg_class c ON c.relname = h.table_name
		      JOIN pg_namespace hn ON hn.oid = c.relnamespace AND hn.nspname = h.schema_name
		    WHERE c.oid = $1::regclass)
		LIMIT 1`, table).Scan(&schema, &name)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return "", nil
	case err != nil:
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "42P01" { // no TimescaleDB catalog: not a hypertable
			return "", nil
		}
		return "", err
	}
	return pgx.Identifier{*schema, *name}.Sanitize(), nil
}
