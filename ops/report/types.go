// Package report reads everything pgtend shows about a database — server,
// table sizes by kind, chunks and partitions, disk, maintenance calendar — in
// a handful of catalog queries, and returns it as plain Go values. The JSON
// tags are the stable contract of `pgtend report --json`: add fields, never
// rename them.
package report

import "time"

// Kinds of table.
const (
	KindHypertable  = "hypertable"
	KindPartitioned = "partitioned"
	KindTable       = "table"
	// KindInherited is a table with children by legacy inheritance
	// (CREATE TABLE child () INHERITS (parent)): counted with its children,
	// like a partitioned table with its partitions.
	KindInherited = "inherited"
	// KindContinuousAggregate is a TimescaleDB continuous aggregate, named
	// by its view: its rows, chunks and sizes are its materialization
	// hypertable's (hypertable_detailed_size of it), and retention on it is
	// drop_chunks on the view.
	KindContinuousAggregate = "continuous_aggregate"
	// KindMaterializedView is a plain PostgreSQL materialized view: its
	// rows are what its last REFRESH computed; no retention deletes from it.
	KindMaterializedView = "materialized_view"
)

// How a report's sizes were read.
const (
	// MeasuredByFiles: the database's files listed and stat'ed (pg_ls_dir,
	// pg_stat_file: superusers, or roles granted EXECUTE on both).
	MeasuredByFiles = "files"
	// MeasuredBySizeFunctions: pg_relation_size and friends, which open
	// every relation: the same bytes, slower on thousands of chunks.
	MeasuredBySizeFunctions = "size_functions"
	// MeasuredByEstimates: pg_class.relpages (report.Estimate).
	MeasuredByEstimates = "catalog_estimates"
)

// Key names a table as "schema.name" (unquoted): how the console and the
// size history tell tables apart from one report to the next.
func (t Table) Key() string { return t.Schema + "." + t.Name }

// OID is the table's pg_class OID, 0 for a policy table the database lacks.
func (t Table) OID() uint32 { return t.oid }

// TableKey is the Key of the table the chunk belongs to.
func (c Chunk) TableKey() string { return c.TableSchema + "." + c.Table }

// Report is one snapshot of a database.
type Report struct {
	GeneratedAt time.Time `json:"generated_at"`
	// Estimated: sizes are the catalog's estimates (report.Estimate), not
	// measured. pgtend report never prints an estimated report.
	Estimated bool `json:"estimated"`
	// MeasuredBy says how sizes were read: MeasuredByFiles,
	// MeasuredBySizeFunctions or MeasuredByEstimates.
	MeasuredBy string  `json:"measured_by"`
	Server     Server  `json:"server"`
	Tables     []Table `json:"tables"`
	// UnlistedBytes is the database's size (server.database_bytes) less
	// the listed tables' total_bytes: what the tables listed do not hold.
	// Unlisted splits it by what holds it (see unlisted.go); the two add
	// up to it exactly.
	UnlistedBytes int64           `json:"unlisted_bytes"`
	Unlisted      []UnlistedGroup `json:"unlisted"`
	Chunks        []Chunk         `json:"chunks"`
	Disk          Disk            `json:"disk"`
	Calendar      []CalendarItem  `json:"calendar"`
	// Warnings are what the operator should know and no figure says: today,
	// where another retention manager disagrees with pgtend's policy (see
	// managers.go). Never nil.
	Warnings []Warning `json:"warnings"`
	// DetachedTables are tables pg_partman detached from a partition set
	// and kept (retention_keep_table): out of the set, still on disk.
	// Never nil.
	DetachedTables []DetachedTable `json:"detached_tables"`
	// Jobs is the job ledger: who does each calendar task — TimescaleDB's
	// jobs, pg_cron, pg_partman, a timer of pgtend's, pgtend by hand — and
	// how their runs went (see jobs.go).
	Jobs Jobs `json:"jobs"`

	calendarZone *time.Location // whose days the calendar follows; nil = this machine's
}

// Server describes the server and database.
type Server struct {
	Version       string  `json:"version"`     // server_version, e.g. "15.18 (Debian 15.18-0+deb12u1)"
	Timescale     *string `json:"timescaledb"` // extension version, nil when not installed in this database
	Database      string  `json:"database"`
	DatabaseBytes int64   `json:"database_bytes"`
	// Columnstore is true when TimescaleDB offers the 2.18+ columnstore API
	// (detected by the functions that exist, not by version).
	Columnstore bool `json:"columnstore"`
	// PgPartman is pg_partman's version, nil when not installed in this
	// database.
	PgPartman *string `json:"pg_partman"`
}

// Table is one table of the policy, or one table found in the database.
type Table struct {
	Schema string  `json:"schema"`
	Name   string  `json:"name"`
	Kind   *string `json:"kind"` // nil when the policy names a table the database lacks
	// Missing: the policy names this table and the database has none.
	Missing bool `json:"missing"`
	// Locked: someone holds or awaits an ACCESS EXCLUSIVE lock on it (or one
	// of its chunks, partitions or indexes); sizes were skipped, not waited for.
	Locked         bool       `json:"locked"`
	TotalBytes     *int64     `json:"total_bytes"`
	TableBytes     *int64     `json:"table_bytes"`
	IndexBytes     *int64     `json:"index_bytes"`
	ToastBytes     *int64     `json:"toast_bytes"`
	RowEstimate    int64      `json:"row_estimate"`
	DeadTuples     int64      `json:"dead_tuples"`
	LastVacuum     *time.Time `json:"last_vacuum"` // latest over the table's chunks/partitions
	LastAutovacuum *time.Time `json:"last_autovacuum"`
	LastAnalyze    *time.Time `json:"last_analyze"` // manual or automatic, whichever is later
	RetentionDays  *int       `json:"retention_days"`
	Permanent      bool       `json:"permanent"`
	TimeColumn     *string    `json:"time_column"`
	// PartitionColumn is the hypertable's time dimension or the range
	// partition key; retention by whole chunks needs it to be TimeColumn.
	// For an inheritance parent it is the policy's time column: the one
	// its children's CHECK constraints are read on for their ranges.
	PartitionColumn *string    `json:"partition_column"`
	Oldest          *time.Time `json:"oldest"`
	// ExpiredBytes estimates the bytes older than the retention: whole chunks
	// or partitions past the cutoff for chunked tables (what dropping them
	// frees) plus PartlyExpiredBytes, the planner's row fraction times the
	// size for plain tables.
	ExpiredBytes *int64 `json:"expired_bytes"`
	// PartlyExpiredBytes is the part of ExpiredBytes, estimated, in rows no
	// whole chunk or partition removal takes: in DEFAULT partitions, in
	// chunks and partitions straddling the cutoff, in inheritance children
	// whose CHECK constraints prove no range, in an inheritance parent's
	// own rows (the chunks' PartlyExpiredBytes, and the parent's). Nil for
	// plain tables and when unknown.
	PartlyExpiredBytes *int64 `json:"partly_expired_bytes"`
	InPolicy           bool   `json:"in_policy"`
	// ExpectedGrowthPerDay comes from the policy (bytes/day), nil when unknown.
	ExpectedGrowthPerDay *int64 `json:"expected_growth_per_day"`
	Chunks               int    `json:"chunks"` // chunks or leaf partitions; 0 for plain tables
	// TimeZone is the zone the table's timestamp (without time zone) or
	// date time column is read in — the policy's time_zone, else the
	// database's own TimeZone — nil when its values are absolute
	// (timestamptz) or it has no time column. Every cutoff and bound on the
	// column is made in it, and Oldest and the chunk ranges are instants
	// read in it.
	TimeZone *string `json:"time_zone"`
	// RetentionManagedBy lists who else drops this table's old data on its
	// own schedule (a TimescaleDB retention policy, pg_partman): whichever
	// retention is tighter wins. Never nil in a collected report.
	RetentionManagedBy []RetentionManager `json:"retention_managed_by"`
	// Aggregate is a continuous aggregate's source and refresh policy, nil
	// for every other kind.
	Aggregate *Aggregate `json:"continuous_aggregate"`
	// AggregatedBy names (schema.view) the continuous aggregates built on
	// this hypertable: a retention on it must stay clear of their refresh
	// windows. Never nil in a collected report.
	AggregatedBy []string `json:"aggregated_by"`
	// IntegerTime describes an integer time dimension (integer chunk
	// ranges, integer_now), nil for every other table.
	IntegerTime *IntegerTime `json:"integer_time"`
	// IntegerRetention is the policy's integer_retention: for an integer
	// time column, how many of its units back from integer_now() stay.
	IntegerRetention *int64 `json:"integer_retention"`

	oid             uint32   // 0 when missing
	timeColumns     []string // columns of a time type, to validate TimeColumn
	timeColumnTypes []string // their types (TypeTimestamptz, TypeTimestamp, TypeDate)
	policyZone      string   // the policy's zone for the table, "" for the database's
	// readableTimeColumns are those this role may SELECT (a grant on the
	// table or on the column).
	readableTimeColumns []string
}

// Chunk is a TimescaleDB chunk, a leaf partition of a partitioned table, or
// a child (at any level) of an inheritance parent; a child's range is what
// its CHECK constraints on the time column say, nil where they say nothing.
type Chunk struct {
	TableSchema       string     `json:"table_schema"`
	Table             string     `json:"table"`
	ChunkSchema       string     `json:"chunk_schema"`
	Chunk             string     `json:"chunk"`
	RangeStart        *time.Time `json:"range_start"`
	RangeEnd          *time.Time `json:"range_end"`
	RangeStartInteger *int64     `json:"range_start_integer"`
	RangeEndInteger   *int64     `json:"range_end_integer"`
	Compressed        bool       `json:"compressed"`
	TotalBytes        *int64     `json:"total_bytes"`
	RowEstimate       int64      `json:"row_estimate"` // the catalog's (reltuples), with its compressed relation's
	BeforeBytes       *int64     `json:"before_bytes"`
	AfterBytes        *int64     `json:"after_bytes"`
	// Expired: the whole range ends before the table's retention cutoff.
	Expired bool `json:"expired"`
	// Default: a DEFAULT partition (or a leaf under one), which holds the
	// rows no other partition's range takes, old and new alike.
	Default bool `json:"default"`
	// PartlyExpiredRows and PartlyExpiredBytes estimate the rows older than
	// the table's retention cutoff in a chunk not wholly past it (a DEFAULT
	// partition, one straddling the cutoff, an inheritance child without a
	// proven range), which no whole removal takes: the planner's estimate
	// for the predicate (for a compressed chunk or one without statistics,
	// the share of its range past the cutoff) times its rows and bytes. Nil
	// when it holds none, or unknown.
	PartlyExpiredRows  *int64 `json:"partly_expired_rows"`
	PartlyExpiredBytes *int64 `json:"partly_expired_bytes"`
	// Top is, for a partition, the table's direct partition holding this
	// leaf (the leaf itself unless partitioned in several levels): what
	// retention detaches.
	TopSchema string `json:"-"`
	Top       string `json:"-"`
}

// Disk describes the filesystem holding the data directory. The byte figures
// are nil, not zero, when pgtend cannot see that filesystem.
type Disk struct {
	Path          *string `json:"path"`
	Visible       bool    `json:"visible"`
	Reason        string  `json:"reason"` // why it is not visible, "" when it is
	TotalBytes    *int64  `json:"total_bytes"`
	FreeBytes     *int64  `json:"free_bytes"`
	DatabaseBytes int64   `json:"database_bytes"`
	WALBytes      *int64  `json:"wal_bytes"`
	// BackupDir is the policy's backup directory; BackupBytes its size on
	// this machine, nil when it does not exist or cannot be read.
	BackupDir   string `json:"backup_dir"`
	BackupBytes *int64 `json:"backup_bytes"`
}

// Space is the filesystem's size and free bytes; ok only when pgtend saw
// the data directory's filesystem (Visible, with both figures).
func (d Disk) Space() (total, free int64, ok bool) {
	if !d.Visible || d.TotalBytes == nil || d.FreeBytes == nil {
		return 0, 0, false
	}
	return *d.TotalBytes, *d.FreeBytes, true
}

// CalendarItem is one task of the maintenance calendar.
type CalendarItem struct {
	Task    string     `json:"task"`
	Title   string     `json:"title"`
	Cadence string     `json:"cadence"`
	Manual  bool       `json:"manual"`
	LastRun *time.Time `json:"last_run"`
	NextDue time.Time  `json:"next_due"`
	Status  string     `json:"status"` // ok, due, overdue
}
