package demo

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
)

// table describes one demo table. Names are fixed here, but everything built
// from them still goes through pgx.Identifier so the SQL stays correct if one
// ever needs quoting.
type table struct {
	name    string
	timeCol string
	columns string // column definitions, without the time column
	// indexes beyond the time-column one, as column lists. The time index
	// is separate because hypertables get it from create_hypertable.
	indexes [][]string
	unique  [][]string // unique indexes (at most one, named <table>_key), as column lists holding the time column, as partitioning requires
	// compress marks the two big tables compressed (segmented by exchange)
	// in Timescale mode.
	compress bool
	// plain tables are never partitioned: trade_history is permanent and
	// small, and maintenance screens must show a mix of kinds.
	plain bool
}

var tables = []table{
	{
		name:    "option_chain_snapshots",
		timeCol: "timestamp",
		// Quotes and greeks are numeric, as the exchanges publish them
		// (cents, four decimals): compressed, numeric columns go through
		// a dictionary and pglz, which a snapshot's repeated ticks suit,
		// where float8's XOR encoding gains little on decimal values.
		columns: `exchange text, symbol text, expiry date, strike numeric(12,2), option_type char(1),
			bid numeric(10,2), ask numeric(10,2), last numeric(10,2),
			volume bigint, open_interest bigint,
			iv numeric(8,4), delta numeric(8,4), gamma numeric(8,4),
			theta numeric(8,4), vega numeric(8,4)`,
		indexes: [][]string{{"symbol", "timestamp DESC"}},
		// The poller's key: a snapshot stored twice (a retried fetch)
		// is refused rather than counted twice.
		unique:   [][]string{{"exchange", "symbol", "expiry", "strike", "option_type", "timestamp"}},
		compress: true,
	},
	{
		name:     "ml_features",
		timeCol:  "timestamp",
		columns:  `exchange text, symbol text, model_version text, features jsonb, label double precision`,
		indexes:  [][]string{{"symbol", "timestamp DESC"}},
		compress: true,
	},
	{
		name:    "multi_resolution_bars",
		timeCol: "bar_time",
		columns: `symbol text, resolution text, open double precision, high double precision,
			low double precision, close double precision, volume bigint`,
		indexes: [][]string{{"symbol", "resolution", "bar_time DESC"}},
	},
	{
		name:    "macro_signals",
		timeCol: "timestamp",
		columns: `signal_name text, value double precision, source text`,
	},
	{
		name:    "trade_history",
		timeCol: "executed_at",
		columns: `symbol text, side text, quantity int, price numeric(12,4), strategy text, pnl numeric(14,4)`,
		plain:   true,
	},
	{
		name:    "vix_term_structure",
		timeCol: "timestamp",
		columns: `tenor text, value double precision`,
	},
}

// seriesTables are the partitioned (hypertable or native) tables.
func seriesTables() []table {
	var out []table
	for _, t := range tables {
		if !t.plain {
			out = append(out, t)
		}
	}
	return out
}

func (t table) ident() string { return pgx.Identifier{"public", t.name}.Sanitize() }

// createTables creates the six parents. With native set, the time-series
// tables are declared PARTITION BY RANGE on their time column; otherwise
// they are plain and become hypertables afterwards.
func createTables(ctx context.Context, conn *pgx.Conn, native bool) error {
	var b strings.Builder
	for _, t := range tables {
		tc := pgx.Identifier{t.timeCol}.Sanitize()
		fmt.Fprintf(&b, "CREATE TABLE %s (\n", t.ident())
		if t.plain {
			b.WriteString("\tid bigserial PRIMARY KEY,\n")
		}
		fmt.Fprintf(&b, "\t%s timestamptz NOT NULL,\n\t%s\n)", tc, t.columns)
		if native && !t.plain {
			fmt.Fprintf(&b, " PARTITION BY RANGE (%s)", tc)
		}
		b.WriteString(";\n")
	}
	// One multi-statement batch runs as one implicit transaction: either
	// all six tables exist afterwards or none does.
	if _, err := conn.Exec(ctx, b.String()); err != nil {
		return fmt.Errorf("creating tables: %w", err)
	}
	return nil
}

// createIndexes adds the secondary indexes, and the time-column index unless
// create_hypertable is going to make it (hypertables set). Indexes on a
// partitioned parent or a hypertable cascade to every partition or chunk.
// They are built before the fill: on empty tables that is instant, and
// loading through them leaves them split and filled the way a live system's
// indexes are.
func createIndexes(ctx context.Context, conn *pgx.Conn, hypertables bool) error {
	var b strings.Builder
	for _, t := range tables {
		if t.plain || !hypertables {
			b.WriteString(indexDDL(t, []string{t.timeCol + " DESC"}, false))
		}
		for _, cols := range t.indexes {
			b.WriteString(indexDDL(t, cols, false))
		}
		for _, cols := range t.unique {
			b.WriteString(indexDDL(t, cols, true))
		}
	}
	if _, err := conn.Exec(ctx, b.String()); err != nil {
		return fmt.Errorf("creating indexes: %w", err)
	}
	return nil
}

// indexDDL returns CREATE INDEX for the given columns, each "name" or
// "name DESC". The index name follows TimescaleDB's default pattern
// (<table>_<col>_<col>_idx) so native and Timescale databases look alike.
func indexDDL(t table, cols []string, unique bool) string {
	names := []string{t.name}
	var parts []string
	for _, c := range cols {
		col, dir, _ := strings.Cut(c, " ")
		names = append(names, col)
		part := pgx.Identifier{col}.Sanitize()
		if dir != "" {
			part += " " + dir
		}
		parts = append(parts, part)
	}
	name := strings.Join(append(names, "idx"), "_")
	kind := "INDEX"
	if unique {
		// A key's column list makes too long a name (PostgreSQL would cut
		// it at 63 bytes): <table>_key, as a UNIQUE constraint is named.
		kind, name = "UNIQUE INDEX", t.name+"_key"
	}
	return fmt.Sprintf("CREATE %s %s ON %s (%s);\n", kind, pgx.Identifier{name}.Sanitize(), t.ident(), strings.Join(parts, ", "))
}

// requireEmpty refuses a database that already has a table, view or foreign
// table of its own: seeding must never mix demo rows into real data, and it
// never drops anything to make room. Extensions' objects (TimescaleDB's
// catalog schemas, for one) do not count.
func requireEmpty(ctx context.Context, conn *pgx.Conn) error {
	var name string
	err := conn.QueryRow(ctx, `
		SELECT c.oid::regclass::text
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')
		  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
		  AND n.nspname NOT LIKE 'pg\_temp\_%' AND n.nspname NOT LIKE 'pg\_toast%'
		  AND NOT EXISTS (SELECT 1 FROM pg_depend d
		                  WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
		  AND NOT EXISTS (SELECT 1 FROM pg_depend d
		                  WHERE d.classid = 'pg_namespace'::regclass AND d.objid = n.oid AND d.deptype = 'e')
		ORDER BY n.nspname <> 'public', n.nspname, c.relname
		LIMIT 1`).Scan(&name)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return nil
	case err != nil:
		return fmt.Errorf("checking the database is empty: %w", err)
	}
	return fmt.Errorf("database already has table %s; %w", name, errNotEmpty)
}
