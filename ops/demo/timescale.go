package demo

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// timescale is what Seed learned about the installed extension. Functions
// are called schema-qualified because the extension may live in any schema,
// not only public.
type timescale struct {
	schema string // schema of the extension's API functions
	// compress is compress_chunk (a function, usable in SELECT) when it
	// exists, else convert_to_columnstore (2.18+, a PROCEDURE: CALL only).
	compress  string
	procedure bool
}

func (ts *timescale) fn(name string) string { return pgx.Identifier{ts.schema, name}.Sanitize() }

// chooseTimescale creates the extension when the mode allows it and returns
// nil for native partitioning.
func chooseTimescale(ctx context.Context, conn *pgx.Conn, mode Mode, progress func(string)) (*timescale, error) {
	switch mode {
	case Native:
		return nil, nil
	case Auto, Timescale:
	default:
		return nil, fmt.Errorf("demo: unknown mode %v", mode)
	}
	progress("creating extension timescaledb")
	err := createExtension(ctx, conn)
	if err == nil {
		return inspectTimescale(ctx, conn)
	}
	if mode == Timescale || ctx.Err() != nil {
		return nil, fmt.Errorf("timescale mode: cannot create extension timescaledb: %w", err)
	}
	progress("timescaledb unavailable (" + err.Error() + "); using native partitioning")
	return nil, nil
}

// createExtension makes sure timescaledb exists in the database. The CREATE
// runs on a second connection because, when the server has the extension's
// files but does not preload its library (the usual case on stock servers),
// it fails with FATAL and the server closes that connection: the caller's
// must survive for Auto to go on with native partitioning.
func createExtension(ctx context.Context, conn *pgx.Conn) error {
	var available, installed bool
	err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb'),
		EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb')`).Scan(&available, &installed)
	switch {
	case err != nil:
		return err
	case installed:
		return nil
	case !available:
		return errors.New("it is not installed on the server (absent from pg_available_extensions)")
	}
	side, err := pgx.ConnectConfig(ctx, conn.Config().Copy())
	if err != nil {
		return fmt.Errorf("opening a connection to create it: %w", err)
	}
	defer side.Close(context.WithoutCancel(ctx))
	if _, err := side.Exec(ctx, "CREATE EXTENSION IF NOT EXISTS timescaledb"); err != nil {
		// The server's hint says what to do (usually: preload the
		// library); its first line is the gist.
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Hint != "" {
			hint, _, _ := strings.Cut(pgErr.Hint, "\n")
			return fmt.Errorf("%w (hint: %s)", err, strings.TrimSpace(hint))
		}
		return err
	}
	return nil
}

// inspectTimescale finds the extension's schema and the chunk compression
// entry point. Features are detected with to_regproc, never from the
// version string: names moved between releases (compress_chunk became
// convert_to_columnstore in 2.18) and both exist for a while.
func inspectTimescale(ctx context.Context, conn *pgx.Conn) (*timescale, error) {
	ts := &timescale{}
	err := conn.QueryRow(ctx, `SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
		WHERE e.extname = 'timescaledb'`).Scan(&ts.schema)
	if err != nil {
		return nil, fmt.Errorf("finding timescaledb's schema: %w", err)
	}
	var haveFunc, haveProc bool
	err = conn.QueryRow(ctx, "SELECT to_regproc($1) IS NOT NULL, to_regproc($2) IS NOT NULL",
		ts.fn("compress_chunk"), ts.fn("convert_to_columnstore")).Scan(&haveFunc, &haveProc)
	if err != nil {
		return nil, fmt.Errorf("looking for timescaledb's compression functions: %w", err)
	}
	switch {
	case haveFunc:
		ts.compress = ts.fn("compress_chunk")
	case haveProc:
		ts.compress, ts.procedure = ts.fn("convert_to_columnstore"), true
	default:
		return nil, fmt.Errorf("timescaledb in schema %s has neither compress_chunk nor convert_to_columnstore", ts.schema)
	}
	return ts, nil
}

// makeHypertables turns the time-series tables into hypertables with 1-day
// chunks (aligned on UTC midnight) and sets compression on the two big ones.
// No policy or background job is added: a job compressing or dropping chunks
// on its own schedule would change the data under the tests.
func (ts *timescale) makeHypertables(ctx context.Context, conn *pgx.Conn) error {
	for _, t := range seriesTables() {
		// The classic signature works on every 2.x release (2.13+ also
		// offers by_range(), which 1.x/early 2.x lack).
		_, err := conn.Exec(ctx, "SELECT "+ts.fn("create_hypertable")+
			"($1::regclass, $2::name, chunk_time_interval => interval '1 day')", t.ident(), t.timeCol)
		if err != nil {
			return fmt.Errorf("making %s a hypertable: %w", t.name, err)
		}
		if !t.compress {
			continue
		}
		// The timescaledb.compress options predate the 2.18 "columnstore"
		// names and are still accepted, so one spelling serves every 2.x.
		// Segmenting by exchange keeps each exchange's rows together, the
		// way per-venue queries read them.
		orderBy := pgx.Identifier{t.timeCol}.Sanitize() + " DESC"
		_, err = conn.Exec(ctx, fmt.Sprintf(
			"ALTER TABLE %s SET (timescaledb.compress, timescaledb.compress_segmentby = %s, timescaledb.compress_orderby = %s)",
			t.ident(), quoteLiteral(pgx.Identifier{"exchange"}.Sanitize()), quoteLiteral(orderBy)))
		if err != nil {
			return fmt.Errorf("enabling compression on %s: %w", t.name, err)
		}
	}
	return nil
}

// compressOld compresses every chunk of the compressed tables whose whole
// range ends at or before cutoff (the same test drop_chunks and show_chunks
// apply with older_than). Chunks are compressed one statement each, oldest
// first, two sessions at once (runJobs), alternating between the tables:
// each commits on its own, holding only that chunk's locks, and cancelling
// ctx stops between chunks.
func (ts *timescale) compressOld(ctx context.Context, conn *pgx.Conn, cutoff time.Time, progress func(string)) (int, error) {
	var perTable [][]string
	for _, t := range seriesTables() {
		if !t.compress {
			continue
		}
		rows, err := conn.Query(ctx, `
			SELECT format('%I.%I', chunk_schema, chunk_name)
			FROM timescaledb_information.chunks
			WHERE hypertable_schema = 'public' AND hypertable_name = $1
			  AND range_end <= $2 AND NOT is_compressed
			ORDER BY range_start`, t.name, cutoff)
		if err != nil {
			return 0, fmt.Errorf("listing chunks of %s: %w", t.name, err)
		}
		names, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return 0, fmt.Errorf("listing chunks of %s: %w", t.name, err)
		}
		perTable = append(perTable, names)
	}
	stmt := "SELECT " + ts.compress + "($1::regclass)"
	if ts.procedure {
		stmt = "CALL " + ts.compress + "($1::regclass)"
	}
	var done atomic.Int64
	var jobs []job
	for i := 0; ; i++ {
		more := false
		for _, names := range perTable {
			if i >= len(names) {
				continue
			}
			c := names[i]
			more = true
			jobs = append(jobs, job{name: c, run: func(ctx context.Context, conn *pgx.Conn) error {
				if _, err := conn.Exec(ctx, stmt, c); err != nil {
					return fmt.Errorf("compressing chunk %s: %w", c, err)
				}
				done.Add(1)
				return nil
			}})
		}
		if !more {
			break
		}
	}
	progress(fmt.Sprintf("compressing %d chunks", len(jobs)))
	err := runJobs(ctx, conn, jobs)
	return int(done.Load()), err
}

func quoteLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
