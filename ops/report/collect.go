package report

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pgtend/pgtend/ops/calendar"
	"github.com/pgtend/pgtend/ops/config"
	"github.com/pgtend/pgtend/ops/pg"
)

// Collect reads one report: a fixed number of catalog queries (the sizes
// read again, at most twice, when relations change meanwhile), plus, per
// table with a time column, a few index probes for its oldest row (see
// oldestRow) and for a plain table one EXPLAIN for what is past retention;
// for a chunk only partly past it (DEFAULT, straddling the cutoff, an
// inheritance child of no proven range) an index probe and an EXPLAIN (see
// partlyExpired); with inheritance parents, one more for their children's
// CHECK constraints.
func Collect(ctx context.Context, conn *pgx.Conn, policy config.Policy) (*Report, error) {
	return gather(ctx, conn, policy, false)
}

// Estimate reads a report whose sizes are the catalog's estimates
// (pg_class.relpages): it opens no relation, so it stays fast on thousands
// of chunks. The report says Estimated; nothing else in it is estimated
// beyond what Collect estimates too.
func Estimate(ctx context.Context, conn *pgx.Conn, policy config.Policy) (*Report, error) {
	return gather(ctx, conn, policy, true)
}

func gather(ctx context.Context, conn *pgx.Conn, policy config.Policy, estimate bool) (*Report, error) {
	f, err := DetectFeatures(ctx, conn)
	if err != nil {
		return nil, fmt.Errorf("detecting features: %w", err)
	}
	r := &Report{Tables: []Table{}, Chunks: []Chunk{}, Warnings: []Warning{}, DetachedTables: []DetachedTable{}, Unlisted: []UnlistedGroup{},
		Estimated: estimate, MeasuredBy: MeasuredBySizeFunctions}
	switch {
	case estimate:
		r.MeasuredBy = MeasuredByEstimates
	case f.StatFile:
		r.MeasuredBy = MeasuredByFiles
	}
	facts, now, dbZone, err := readServer(ctx, conn, f, &r.Server, estimate)
	if err != nil {
		return nil, err
	}
	r.GeneratedAt = now
	locked, err := readLocked(ctx, conn)
	if err != nil {
		return nil, err
	}
	rows, chunkBytes, databaseBytes, unlisted, unmeasured, err := readTables(ctx, conn, f, locked, estimate)
	if err != nil {
		return nil, err
	}
	if databaseBytes != nil {
		r.Server.DatabaseBytes, facts.DatabaseBytes = *databaseBytes, *databaseBytes
	}
	if r.Chunks, err = readChunks(ctx, conn, f, rows, chunkBytes); err != nil {
		return nil, err
	}
	if r.Tables, err = applyPolicy(ctx, conn, rows, policy); err != nil {
		return nil, err
	}
	r.account(unlisted, unmeasured)
	if err := readInheritedRanges(ctx, conn, r, locked); err != nil {
		return nil, err
	}
	if err := readLocalTimes(ctx, conn, r, dbZone); err != nil {
		return nil, err
	}
	if err := fillAges(ctx, conn, r, now); err != nil {
		return nil, err
	}
	if err := readIntegerTimes(ctx, conn, f, r); err != nil {
		return nil, err
	}
	if err := readManagers(ctx, conn, f, r); err != nil {
		return nil, err
	}
	if err := readJobs(ctx, conn, f, r); err != nil {
		return nil, err
	}
	if err := readAggregates(ctx, conn, f, r); err != nil {
		return nil, err
	}
	r.Disk = measureDisk(facts)
	if dir := policy.Backup.Dir; dir != "" {
		r.Disk.BackupDir = dir
		if n, err := dirSize(dir); err == nil {
			r.Disk.BackupBytes = &n
		}
	}
	var lastRuns map[string]time.Time
	if f.HasHistory {
		if lastRuns, err = readLastRuns(ctx, conn); err != nil {
			return nil, err
		}
	}
	r.calendarZone = calendarZone(policy)
	r.Calendar = BuildCalendar(lastRuns, now.In(r.calendarZone))
	r.buildLedger()
	return r, nil
}

// readServer reads the server's facts, its time and the zone its sessions
// start in (the one pgtend's session noted before switching to UTC; a
// session opened otherwise is still in it).
func readServer(ctx context.Context, conn *pgx.Conn, f Features, s *Server, estimate bool) (facts diskFacts, now time.Time, zone string, err error) {
	// pg_settings hides data_directory from roles without
	// pg_read_all_settings instead of raising an error.
	var walAllowed bool
	err = conn.QueryRow(ctx, `
		SELECT now(), coalesce(nullif(current_setting('`+pg.DatabaseTimeZone+`', true), ''), current_setting('TimeZone')),
		       current_setting('server_version'), current_database(),
		       `+databaseSize(f, estimate)+`,
		       (SELECT setting FROM pg_settings WHERE name = 'data_directory'),
		       current_setting('port'),
		       has_function_privilege('pg_catalog.pg_ls_waldir()', 'EXECUTE')`,
	).Scan(&now, &zone, &s.Version, &s.Database, &s.DatabaseBytes, &facts.DataDirectory, &facts.Port, &walAllowed)
	if err != nil {
		return facts, now, zone, fmt.Errorf("reading server facts: %w", err)
	}
	// A separate statement: the executor checks EXECUTE on every function of
	// a plan when it starts, so a CASE cannot guard pg_ls_waldir.
	if walAllowed {
		if err := conn.QueryRow(ctx, `SELECT coalesce(sum(size), 0)::bigint FROM pg_ls_waldir()`).Scan(&facts.WALBytes); err != nil {
			return facts, now, zone, fmt.Errorf("reading WAL size: %w", err)
		}
	}
	facts.DatabaseBytes = s.DatabaseBytes
	if f.Timescale {
		v := f.TimescaleVersion
		s.Timescale = &v
		s.Columnstore = f.Columnstore
	}
	if f.Partman {
		v := f.PartmanVersion
		s.PgPartman = &v
	}
	return facts, now.UTC(), zone, nil
}

// applyPolicy joins the tables found with the policy: policy tables are
// resolved by the database (to_regclass honours search_path and quoting),
// missing ones are listed as missing, tables outside the policy are listed
// with no retention.
func applyPolicy(ctx context.Context, conn *pgx.Conn, rows []tableRow, policy config.Policy) ([]Table, error) {
	names := make([]string, len(policy.Tables))
	quoted := make([]string, len(policy.Tables))
	for i, p := range policy.Tables {
		names[i], quoted[i] = p.Name, pgx.Identifier(p.NameParts()).Sanitize()
	}
	oidOf := map[string]uint32{}
	if len(names) > 0 {
		res, err := conn.Query(ctx, `SELECT n, to_regclass(q)::oid FROM unnest($1::text[], $2::text[]) AS x(n, q)`, names, quoted)
		if err != nil {
			return nil, fmt.Errorf("resolving policy tables: %w", err)
		}
		for res.Next() {
			var n string
			var oid *uint32
			if err := res.Scan(&n, &oid); err != nil {
				res.Close()
				return nil, err
			}
			if oid != nil {
				oidOf[n] = *oid
			}
		}
		res.Close()
		if err := res.Err(); err != nil {
			return nil, fmt.Errorf("resolving policy tables: %w", err)
		}
	}
	byOID := map[uint32]config.TablePolicy{}
	var out []Table
	for _, p := range policy.Tables {
		if oid, ok := oidOf[p.Name]; ok && !hasOID(rows, oid) {
			delete(oidOf, p.Name) // resolves to a view, a partition or a chunk: not a table we report
		}
		oid, ok := oidOf[p.Name]
		if !ok {
			id := p.NameParts()
			t := Table{Schema: "public", Name: id[len(id)-1], Missing: true, InPolicy: true, Permanent: p.Permanent}
			if len(id) == 2 {
				t.Schema = id[0]
			}
			applyTablePolicy(&t, p)
			out = append(out, t)
			continue
		}
		if prev, dup := byOID[oid]; dup {
			return nil, fmt.Errorf("the policy names one table twice: %q and %q resolve to the same table", prev.Name, p.Name)
		}
		byOID[oid] = p
	}
	for _, row := range rows {
		t := fromRow(row)
		if p, ok := byOID[row.OID]; ok {
			t.InPolicy = true
			applyTablePolicy(&t, p)
			t.policyZone = policy.ZoneOf(p)
		} else {
			t.policyZone = policy.TimeZone
		}
		out = append(out, t)
	}
	return out, nil
}

func hasOID(rows []tableRow, oid uint32) bool {
	for _, r := range rows {
		if r.OID == oid {
			return true
		}
	}
	return false
}

func fromRow(r tableRow) Table {
	kind := r.Kind
	return Table{
		oid: r.OID, Schema: r.Schema, Name: r.Name, Kind: &kind, Locked: r.Locked,
		TotalBytes: r.Total, TableBytes: r.TableB, IndexBytes: r.Index, ToastBytes: r.Toast,
		RowEstimate: r.Rows, DeadTuples: r.Dead,
		LastVacuum: r.LastVacuum, LastAutovacuum: r.LastAutovacuum, LastAnalyze: r.LastAnalyze,
		TimeColumn: r.DetectedTimeColumn, PartitionColumn: r.DetectedTimeColumn, Chunks: r.Parts,
		timeColumns: r.TimeColumns, timeColumnTypes: r.TimeColumnTypes, readableTimeColumns: r.ReadableTimeColumns,
	}
}

func applyTablePolicy(t *Table, p config.TablePolicy) {
	t.Permanent = p.Permanent
	if p.RetentionDays > 0 {
		d := p.RetentionDays
		t.RetentionDays = &d
	}
	if p.TimeColumn != "" {
		c := p.TimeColumn
		t.TimeColumn = &c
	}
	if p.IntegerRetention > 0 {
		n := p.IntegerRetention
		t.IntegerRetention = &n
	}
	if p.ExpectedGrowthPerDay > 0 {
		g := p.ExpectedGrowthPerDay
		t.ExpectedGrowthPerDay = &g
	}
}

// readLastRuns reads when each task last succeeded from pgtend.history.
func readLastRuns(ctx context.Context, conn *pgx.Conn) (map[string]time.Time, error) {
	rows, err := conn.Query(ctx, `SELECT task, max(finished_at) FROM pgtend.history WHERE outcome IN ('ok', 'ticked') GROUP BY task`)
	if err != nil {
		return nil, fmt.Errorf("reading pgtend.history: %w", err)
	}
	defer rows.Close()
	last := map[string]time.Time{}
	for rows.Next() {
		var task string
		var at time.Time
		if err := rows.Scan(&task, &at); err != nil {
			return nil, err
		}
		last[task] = at
	}
	return last, rows.Err()
}

// MergeLastRuns adds runs recorded elsewhere (the history file) to the
// report's calendar, keeping the later of the two for each task.
func (r *Report) MergeLastRuns(more map[string]time.Time) {
	last := map[string]time.Time{}
	for _, c := range r.Calendar {
		if c.LastRun != nil {
			last[c.Task] = *c.LastRun
		}
	}
	for task, at := range more {
		if at.After(last[task]) {
			last[task] = at
		}
	}
	r.Calendar = BuildCalendar(last, r.GeneratedAt.In(r.calendar()))
	r.buildLedger()
}

// databaseSize is pg_database_size, which stats every file of the database
// (~0.1 s at 5,000 chunks), or when estimating the sum of relpages. By
// files it is 0 here: the listing of the database's files gives it later.
func databaseSize(f Features, estimate bool) string {
	switch {
	case estimate:
		return `(SELECT coalesce(sum(relpages), 0)::bigint * current_setting('block_size')::bigint FROM pg_class)`
	case f.StatFile:
		return `0::bigint`
	}
	return `pg_database_size(current_database())`
}

// BuildCalendar evaluates the maintenance calendar at now, given when each
// task was last done (from the history; missing tasks never ran). The
// calendar's days (Sunday, the first weekend, quarters) are those of now's
// location: the operator's zone, not UTC.
func BuildCalendar(lastRuns map[string]time.Time, now time.Time) []CalendarItem {
	items := make([]CalendarItem, 0, len(calendar.Tasks))
	for _, t := range calendar.Tasks {
		var last *time.Time
		if lr, ok := lastRuns[t.ID]; ok {
			last = &lr
		}
		next, status := calendar.Evaluate(t, last, now)
		items = append(items, CalendarItem{Task: t.ID, Title: t.Title, Cadence: t.Cadence, Manual: t.Manual, LastRun: last, NextDue: next, Status: status})
	}
	return items
}

// JSON renders the report as the stable JSON contract, indented.
func (r *Report) JSON() ([]byte, error) { return json.MarshalIndent(r, "", "  ") }
