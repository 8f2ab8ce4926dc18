package report

import (
	"context"

	"github.com/jackc/pgx/v5"
)

// Features is what this database offers, detected by what exists rather than
// by version strings (TimescaleDB 2.18 renamed compression to columnstore and
// kept the old names, which may go away later).
type Features struct {
	Timescale        bool
	TimescaleVersion string
	TimescaleSchema  string // schema holding the extension's functions
	// ChunkStatsFunc is the qualified name of chunk_columnstore_stats or,
	// before 2.18, chunk_compression_stats; "" when neither exists.
	ChunkStatsFunc string
	Columnstore    bool
	HasHistory     bool // pgtend.history exists
	// StatFile: the role may call pg_ls_dir and pg_stat_file, so sizes are
	// read from the relations' files without opening them (see files.go).
	StatFile bool
	// PreCompressionRows: TimescaleDB's catalog records how many rows each
	// compressed chunk held (compression_chunk_size.numrows_pre_compression).
	PreCompressionRows bool
}

// DetectFeatures asks the catalogs what exists.
func DetectFeatures(ctx context.Context, conn *pgx.Conn) (Features, error) {
	var f Features
	var version, schema *string
	err := conn.QueryRow(ctx, `
		SELECT e.extversion, n.nspname
		FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
		WHERE e.extname = 'timescaledb'`).Scan(&version, &schema)
	if err != nil && err != pgx.ErrNoRows {
		return f, err
	}
	f.HasHistory, err = relationExists(ctx, conn, "pgtend", "history")
	if err != nil {
		return f, err
	}
	if err := conn.QueryRow(ctx, `SELECT has_function_privilege('pg_catalog.pg_stat_file(text, boolean)', 'EXECUTE')
		AND has_function_privilege('pg_catalog.pg_ls_dir(text, boolean, boolean)', 'EXECUTE')`).Scan(&f.StatFile); err != nil {
		return f, err
	}
	if version == nil {
		return f, nil
	}
	f.Timescale, f.TimescaleVersion, f.TimescaleSchema = true, *version, *schema
	qual := func(name string) string { return pgx.Identifier{f.TimescaleSchema, name}.Sanitize() }
	var columnstore, compression *string
	err = conn.QueryRow(ctx, `SELECT to_regproc($1)::text, to_regproc($2)::text`,
		qual("chunk_columnstore_stats"), qual("chunk_compression_stats"),
	).Scan(&columnstore, &compression)
	if err != nil {
		return f, err
	}
	switch {
	case columnstore != nil:
		f.ChunkStatsFunc, f.Columnstore = qual("chunk_columnstore_stats"), true
	case compression != nil:
		f.ChunkStatsFunc = qual("chunk_compression_stats")
	}
	err = conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_attribute
		WHERE attrelid = to_regclass('_timescaledb_catalog.compression_chunk_size') AND attname = 'numrows_pre_compression'
		  AND has_table_privilege('_timescaledb_catalog.compression_chunk_size', 'SELECT'))`).Scan(&f.PreCompressionRows)
	if err != nil {
		return f, err
	}
	return f, nil
}

func relationExists(ctx context.Context, conn *pgx.Conn, schema, name string) (bool, error) {
	var ok bool
	err := conn.QueryRow(ctx, `SELECT to_regclass($1) IS NOT NULL`, pgx.Identifier{schema, name}.Sanitize()).Scan(&ok)
	return ok, err
}
