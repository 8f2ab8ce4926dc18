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
	HasHistory     bool // pgtend.history exists and this role may read it
	// StatFile: the role may call pg_ls_dir and pg_stat_file, so sizes are
	// read from the relations' files without opening them (see files.go).
	StatFile bool
	// PreCompressionRows: TimescaleDB's catalog records how many rows each
	// compressed chunk held (compression_chunk_size.numrows_pre_compression).
	PreCompressionRows bool
	// Partman: pg_partman is installed, its objects in PartmanSchema
	// (wherever CREATE EXTENSION put them); PartmanReadable: this role may
	// read its part_config (USAGE on the schema, SELECT on the table).
	Partman         bool
	PartmanVersion  string
	PartmanSchema   string
	PartmanReadable bool
}

// DetectFeatures asks the catalogs what exists.
func DetectFeatures(ctx context.Context, conn *pgx.Conn) (Features, error) {
	var f Features
	var version, schema *string
	var columnstore, compression bool
	var pmVersion, pmSchema *string
	// One round trip: the console asks on every refresh. pgtend.history
	// and pg_partman's part_config are found through pg_class, not
	// to_regclass: naming a schema the role has no USAGE on is an error,
	// not NULL.
	err := conn.QueryRow(ctx, `
		SELECT e.extversion, n.nspname,
		       coalesce((SELECT has_schema_privilege(hc.relnamespace, 'USAGE') AND has_table_privilege(hc.oid, 'SELECT')
		                   FROM pg_class hc JOIN pg_namespace hn ON hn.oid = hc.relnamespace
		                  WHERE hn.nspname = 'pgtend' AND hc.relname = 'history'), false),
		       has_function_privilege('pg_catalog.pg_stat_file(text, boolean)', 'EXECUTE')
		         AND has_function_privilege('pg_catalog.pg_ls_dir(text, boolean, boolean)', 'EXECUTE'),
		       to_regproc(quote_ident(n.nspname) || '.chunk_columnstore_stats') IS NOT NULL,
		       to_regproc(quote_ident(n.nspname) || '.chunk_compression_stats') IS NOT NULL,
		       coalesce(has_table_privilege(to_regclass('_timescaledb_catalog.compression_chunk_size'), 'SELECT'), false)
		         AND EXISTS (SELECT 1 FROM pg_attribute
		                      WHERE attrelid = to_regclass('_timescaledb_catalog.compression_chunk_size')
		                        AND attname = 'numrows_pre_compression'),
		       pe.extversion, pn.nspname,
		       coalesce(has_schema_privilege(pn.oid, 'USAGE')
		         AND has_table_privilege((SELECT c.oid FROM pg_class c WHERE c.relnamespace = pn.oid AND c.relname = 'part_config'), 'SELECT'), false)
		FROM (SELECT 1) AS one
		LEFT JOIN pg_extension e ON e.extname = 'timescaledb'
		LEFT JOIN pg_namespace n ON n.oid = e.extnamespace
		LEFT JOIN pg_extension pe ON pe.extname = 'pg_partman'
		LEFT JOIN pg_namespace pn ON pn.oid = pe.extnamespace`).Scan(
		&version, &schema, &f.HasHistory, &f.StatFile, &columnstore, &compression, &f.PreCompressionRows,
		&pmVersion, &pmSchema, &f.PartmanReadable)
	if err != nil {
		return f, err
	}
	if pmVersion != nil && pmSchema != nil {
		f.Partman, f.PartmanVersion, f.PartmanSchema = true, *pmVersion, *pmSchema
	}
	if version == nil {
		return f, nil
	}
	f.Timescale, f.TimescaleVersion, f.TimescaleSchema = true, *version, *schema
	qual := func(name string) string { return pgx.Identifier{f.TimescaleSchema, name}.Sanitize() }
	switch {
	case columnstore:
		f.ChunkStatsFunc, f.Columnstore = qual("chunk_columnstore_stats"), true
	case compression:
		f.ChunkStatsFunc = qual("chunk_compression_stats")
	}
	return f, nil
}

// ExtensionSchema is the schema an extension is installed in, "" when it
// is not installed in this database: the schema its functions and tables
// are named with (pgx.Identifier{schema, name}), whatever search_path says.
func ExtensionSchema(ctx context.Context, conn *pgx.Conn, extension string) (string, error) {
	var schema *string
	err := conn.QueryRow(ctx, `SELECT (SELECT n.nspname::text FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = $1)`, extension).Scan(&schema)
	if err != nil || schema == nil {
		return "", err
	}
	return *schema, nil
}
