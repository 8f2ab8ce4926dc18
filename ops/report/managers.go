package report

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/dustin/go-humanize"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
)

// Other retention managers: a TimescaleDB retention policy or pg_partman
// drops a table's old data on its own schedule, whatever pgtend's policy
// says. Two retentions on one table never add up: the tighter one drops
// first and the other finds nothing left to drop, silently. The report
// names them per table, warns where they disagree with pgtend's policy,
// and lists the tables pg_partman detached and kept (retention_keep_table,
// its default): out of the partition set, still on disk.
//
// One catalog query per extension, and only when it is installed.

// Who manages a table's retention besides pgtend (RetentionManager.By).
const (
	ManagerTimescale = "timescaledb"
	ManagerPartman   = "pg_partman"
)

// Warning codes (Warning.Code).
const (
	// WarnRetentionTighter: another manager's retention is shorter than
	// pgtend's: it drops data pgtend's policy keeps.
	WarnRetentionTighter = "retention_tighter"
	// WarnRetentionLooser: another manager's retention is longer than
	// pgtend's: pgtend drops first, the other never finds anything to drop.
	WarnRetentionLooser = "retention_looser"
	// WarnPermanentManaged: pgtend's policy says permanent, and another
	// manager drops the table's old data.
	WarnPermanentManaged = "permanent_but_managed"
	// WarnDetachedKept: pg_partman detached partitions of the table and
	// kept them (DetachedTables): the disk they hold was not given back.
	WarnDetachedKept = "detached_tables_kept"
	// WarnManagersUnreadable: this role may not read another manager's
	// configuration, so the tables it manages are not shown as managed.
	WarnManagersUnreadable = "managers_unreadable"
)

// RetentionManager is someone besides pgtend dropping a table's old data.
type RetentionManager struct {
	By string `json:"by"` // ManagerTimescale or ManagerPartman
	// Setting is what they call their retention: "drop_after" or
	// "drop_created_before" (TimescaleDB), "retention" (pg_partman).
	Setting string `json:"setting"`
	// Retention is the setting as they say it: "30 days", "1 mon", or a
	// number for an integer time column.
	Retention string `json:"retention"`
	// RetentionDays is Retention in whole days; nil when it is not a whole
	// number of days (months, hours) or not an interval.
	RetentionDays *int `json:"retention_days"`
	// JobID is the TimescaleDB job; nil for pg_partman.
	JobID *int `json:"job_id"`
	// Schedule is how often the TimescaleDB job runs (its schedule_interval);
	// nil for pg_partman, whose run_maintenance is run by its background
	// worker or by cron, out of pgtend's sight.
	Schedule *string `json:"schedule"`
	// Active: the TimescaleDB job is scheduled; pg_partman's
	// automatic_maintenance is on (run_maintenance() includes the set).
	Active bool `json:"active"`
	// KeepTable is pg_partman's retention_keep_table (detached partitions
	// are kept as tables); nil for TimescaleDB, which drops chunks.
	KeepTable *bool `json:"keep_table"`
	// RetentionSchema is pg_partman's retention_schema: where the tables it
	// detaches are moved; nil when they stay in the parent's schema.
	RetentionSchema *string `json:"retention_schema"`

	seconds *float64 // the interval in seconds (a month as 30 days); nil when not an interval
}

// Warning is something the operator should know about a table (Schema and
// Table nil: about the database).
type Warning struct {
	Schema *string `json:"schema"`
	Table  *string `json:"table"`
	Code   string  `json:"code"`
	Text   string  `json:"text"`
}

// DetachedTable is a table pg_partman detached from a partition set and
// kept: no longer attached, still taking disk.
type DetachedTable struct {
	Schema       string `json:"schema"`
	Name         string `json:"name"`
	ParentSchema string `json:"parent_schema"`
	Parent       string `json:"parent"`
	By           string `json:"by"` // ManagerPartman
	// TotalBytes is the table's size as measured with the report's tables
	// (nil when locked or created after they were measured).
	TotalBytes *int64 `json:"total_bytes"`
}

// Key is the table's Key.
func (d DetachedTable) Key() string { return d.Schema + "." + d.Name }

// WarningsFor returns the warnings about table t.
func (r *Report) WarningsFor(t Table) []Warning {
	var out []Warning
	for _, w := range r.Warnings {
		if w.Schema != nil && w.Table != nil && *w.Schema == t.Schema && *w.Table == t.Name {
			out = append(out, w)
		}
	}
	return out
}

// DatabaseWarnings returns the warnings about no table in particular.
func (r *Report) DatabaseWarnings() []Warning {
	var out []Warning
	for _, w := range r.Warnings {
		if w.Table == nil {
			out = append(out, w)
		}
	}
	return out
}

// Describe names the manager and its retention the way warnings do:
// "TimescaleDB's retention policy (job 1000, drop_after 30 days)".
func (m RetentionManager) Describe() string {
	var parts []string
	name := "pg_partman's retention"
	if m.By == ManagerTimescale {
		name = "TimescaleDB's retention policy"
		if m.JobID != nil {
			parts = append(parts, fmt.Sprintf("job %d", *m.JobID))
		}
		if !m.Active {
			parts = append(parts, "paused")
		}
		parts = append(parts, m.Setting+" "+m.Retention)
	} else {
		parts = append(parts, m.Retention)
		if !m.Active {
			parts = append(parts, "automatic_maintenance off")
		}
	}
	return name + " (" + strings.Join(parts, ", ") + ")"
}

// readManagers fills each table's RetentionManagedBy, the report's
// DetachedTables and the warnings about them. A configuration this role
// may not read is skipped with a warning: the rest of the report stands.
func readManagers(ctx context.Context, conn *pgx.Conn, f Features, r *Report) error {
	tables := map[string]*Table{}
	for i := range r.Tables {
		t := &r.Tables[i]
		t.RetentionManagedBy = []RetentionManager{}
		if !t.Missing {
			tables[t.Key()] = t
		}
	}
	if f.Timescale {
		err := readTimescaleRetention(ctx, conn, tables)
		if denied(err) {
			r.Warnings = append(r.Warnings, Warning{Code: WarnManagersUnreadable,
				Text: "this role may not read timescaledb_information.jobs: TimescaleDB's retention policies are not shown"})
		} else if err != nil {
			return fmt.Errorf("reading TimescaleDB's retention policies: %w", err)
		}
	}
	if f.Partman {
		config := f.PartmanSchema + ".part_config"
		err := errDenied
		if f.PartmanReadable {
			err = readPartman(ctx, conn, qualified(f.PartmanSchema, "part_config"), tables, r)
		}
		if denied(err) {
			r.Warnings = append(r.Warnings, Warning{Code: WarnManagersUnreadable,
				Text: "pg_partman is installed, but this role may not read " + config + ": the tables it manages are not shown as managed"})
		} else if err != nil {
			return fmt.Errorf("reading pg_partman's %s: %w", config, err)
		}
	}
	for i := range r.Tables {
		r.Warnings = append(r.Warnings, disagreements(r.Tables[i])...)
		r.Warnings = append(r.Warnings, keptWarning(r.Tables[i], r.DetachedTables)...)
	}
	return nil
}

var errDenied = errors.New("permission denied")

// denied: the server refused for want of a privilege.
func denied(err error) bool {
	var pe *pgconn.PgError
	return errors.Is(err, errDenied) || errors.As(err, &pe) && pe.Code == "42501"
}

// timescaleRetentionQuery lists the retention policies' jobs. drop_after
// is an interval (a string) on a time column, a number on an integer one;
// 2.13+ may say drop_created_before instead (by chunk creation time).
// TimescaleDB validated the interval when the policy was made.
const timescaleRetentionQuery = `
SELECT j.job_id, j.hypertable_schema::text, j.hypertable_name::text, k.key, j.config->>k.key,
       CASE WHEN jsonb_typeof(j.config->k.key) = 'string' THEN (j.config->>k.key)::interval END,
       j.schedule_interval::text, j.scheduled
FROM timescaledb_information.jobs j
CROSS JOIN LATERAL (SELECT CASE WHEN j.config ? 'drop_after' THEN 'drop_after' ELSE 'drop_created_before' END AS key) k
WHERE j.proc_name = 'policy_retention' AND j.hypertable_name IS NOT NULL AND j.config->>k.key IS NOT NULL
ORDER BY j.job_id`

func readTimescaleRetention(ctx context.Context, conn *pgx.Conn, tables map[string]*Table) error {
	rows, err := conn.Query(ctx, timescaleRetentionQuery)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var m RetentionManager
		var id int
		var schema, name, schedule string
		var iv pgtype.Interval
		if err := rows.Scan(&id, &schema, &name, &m.Setting, &m.Retention, &iv, &schedule, &m.Active); err != nil {
			return err
		}
		m.By, m.JobID, m.Schedule = ManagerTimescale, &id, &schedule
		m.RetentionDays, m.seconds = intervalDays(iv)
		if t := tables[schema+"."+name]; t != nil {
			t.RetentionManagedBy = append(t.RetentionManagedBy, m)
		}
	}
	return rows.Err()
}

// partmanQuery lists the partition sets with a retention, and the tables
// each detached and kept: outside the set, in its retention_schema or
// the parent's schema, named as pg_partman names partitions (the parent's
// name, cut to fit 63 bytes, then _p and the partition's date or number:
// _p2026_11_28, _p20261128, _p2026w48, _p2026q4, _p1000). part_config
// names the parent "schema.table", split as pg_partman splits it. The
// retention is an interval when the control column is a time or an epoch,
// else a number. part_config does not check it: when one set's retention
// is no interval (which pg_partman's own maintenance would refuse too),
// strict=false casts only the plainest forms ("30 days", "2 weeks").
func partmanQuery(config string, strict bool) string {
	timeBased := `(p.epoch <> 'none' OR a.atttypid IN ('timestamptz'::regtype, 'timestamp'::regtype, 'date'::regtype))`
	if !strict {
		timeBased += ` AND p.retention ~* '^\s*[0-9]+\s*(minutes?|hours?|days?|weeks?|mons?|months?|years?)\s*$'`
	}
	return `
WITH sets AS MATERIALIZED (
	SELECT c.oid AS relid, n.nspname::text AS schema, c.relname::text AS name, p.retention,
	       CASE WHEN ` + timeBased + ` THEN p.retention::interval END AS iv,
	       p.retention_keep_table AS keep, p.retention_schema, p.automatic_maintenance = 'on' AS active
	FROM ` + config + ` p
	JOIN pg_namespace n ON n.nspname = split_part(p.parent_table, '.', 1)
	JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = split_part(p.parent_table, '.', 2)
	LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = p.control AND NOT a.attisdropped
	WHERE p.retention IS NOT NULL),
kept AS (
	SELECT s.relid, ln.nspname::text AS schema, lc.relname::text AS name
	FROM sets s
	JOIN pg_namespace ln ON ln.nspname IN (s.schema, s.retention_schema)
	JOIN pg_class lc ON lc.relnamespace = ln.oid
	CROSS JOIN LATERAL (SELECT regexp_replace(lc.relname, '_p[0-9][0-9_wq]*$', '') AS stem) x
	WHERE s.keep AND lc.relkind IN ('r', 'p') AND NOT lc.relispartition AND lc.oid <> s.relid
	  AND lc.relname ~ '_p[0-9][0-9_wq]*$'
	  AND (x.stem = s.name OR octet_length(lc.relname) = 63 AND starts_with(s.name, x.stem)))
SELECT s.schema, s.name, s.retention, s.iv, s.keep, s.retention_schema, s.active,
       coalesce((SELECT array_agg(k.schema ORDER BY k.schema, k.name) FROM kept k WHERE k.relid = s.relid), '{}'),
       coalesce((SELECT array_agg(k.name ORDER BY k.schema, k.name) FROM kept k WHERE k.relid = s.relid), '{}')
FROM sets s
ORDER BY s.schema, s.name`
}

// partmanSet is one row of partmanQuery.
type partmanSet struct {
	schema, name           string
	manager                RetentionManager
	keptSchemas, keptNames []string
}

func readPartman(ctx context.Context, conn *pgx.Conn, config string, tables map[string]*Table, r *Report) error {
	sets, err := scanPartman(ctx, conn, partmanQuery(config, true))
	var pe *pgconn.PgError
	if errors.As(err, &pe) && strings.HasPrefix(pe.Code, "22") { // a retention that is no interval
		sets, err = scanPartman(ctx, conn, partmanQuery(config, false))
	}
	if err != nil {
		return err
	}
	for _, s := range sets {
		if t := tables[s.schema+"."+s.name]; t != nil {
			t.RetentionManagedBy = append(t.RetentionManagedBy, s.manager)
		}
		for i := range s.keptNames {
			d := DetachedTable{Schema: s.keptSchemas[i], Name: s.keptNames[i], ParentSchema: s.schema, Parent: s.name, By: ManagerPartman}
			if t := tables[d.Key()]; t != nil {
				d.TotalBytes = t.TotalBytes
			}
			r.DetachedTables = append(r.DetachedTables, d)
		}
	}
	return nil
}

func scanPartman(ctx context.Context, conn *pgx.Conn, query string) ([]partmanSet, error) {
	rows, err := conn.Query(ctx, query)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var sets []partmanSet
	for rows.Next() {
		s := partmanSet{manager: RetentionManager{By: ManagerPartman, Setting: "retention"}}
		m := &s.manager
		var iv pgtype.Interval
		var keep bool
		if err := rows.Scan(&s.schema, &s.name, &m.Retention, &iv, &keep, &m.RetentionSchema, &m.Active, &s.keptSchemas, &s.keptNames); err != nil {
			return nil, err
		}
		m.KeepTable = &keep
		m.RetentionDays, m.seconds = intervalDays(iv)
		sets = append(sets, s)
	}
	return sets, rows.Err()
}

// intervalDays is an interval in whole days (nil when it has months or a
// part of a day) and in seconds, a month counted as 30 days (nil when
// NULL: not an interval).
func intervalDays(iv pgtype.Interval) (*int, *float64) {
	if !iv.Valid {
		return nil, nil
	}
	const day = 24 * 60 * 60 * 1_000_000 // microseconds
	secs := float64(iv.Months)*30*86400 + float64(iv.Days)*86400 + float64(iv.Microseconds)/1e6
	if iv.Months != 0 || iv.Microseconds%day != 0 {
		return nil, &secs
	}
	d := int(iv.Days) + int(iv.Microseconds/day)
	return &d, &secs
}

// disagreements compares t's other managers with pgtend's policy for it.
// A table pgtend has no retention for (none) disagrees with nobody.
func disagreements(t Table) []Warning {
	var out []Warning
	for _, m := range t.RetentionManagedBy {
		switch {
		case t.Permanent:
			out = append(out, t.warning(WarnPermanentManaged, fmt.Sprintf(
				"pgtend's policy keeps this table for good, but %s drops its data older than %s", m.Describe(), m.Retention)))
		case t.RetentionDays == nil || m.seconds == nil:
		case *m.seconds < float64(*t.RetentionDays)*86400:
			out = append(out, t.warning(WarnRetentionTighter, fmt.Sprintf(
				"%s is tighter than pgtend's %dd: it wins, silently", m.Describe(), *t.RetentionDays)))
		case *m.seconds > float64(*t.RetentionDays)*86400:
			out = append(out, t.warning(WarnRetentionLooser, fmt.Sprintf(
				"%s is looser than pgtend's %dd: pgtend's retention run drops more, and theirs finds nothing left to drop", m.Describe(), *t.RetentionDays)))
		}
	}
	return out
}

// keptWarning says how much pg_partman left on disk of t's set.
func keptWarning(t Table, detached []DetachedTable) []Warning {
	n, total, unknown := 0, int64(0), false
	for _, d := range detached {
		if d.ParentSchema == t.Schema && d.Parent == t.Name {
			n++
			if d.TotalBytes == nil {
				unknown = true
			} else {
				total += *d.TotalBytes
			}
		}
	}
	if n == 0 {
		return nil
	}
	size := humanize.IBytes(uint64(total))
	if unknown {
		size = "at least " + size
	}
	what := fmt.Sprintf("the %d partitions", n)
	if n == 1 {
		what = "the partition"
	}
	return []Warning{t.warning(WarnDetachedKept, fmt.Sprintf(
		"pg_partman kept %s it detached (retention_keep_table): %s still on disk, outside the partition set", what, size))}
}

func (t Table) warning(code, text string) Warning {
	schema, name := t.Schema, t.Name
	return Warning{Schema: &schema, Table: &name, Code: code, Text: text}
}
