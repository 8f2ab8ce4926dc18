// Package config holds pgtend's maintenance policy: which tables to keep for
// how long, how they grow, how to compress them, where backups and archives
// go, and the timeouts every session uses. It is loaded from TOML (see
// default.toml for the built-in policy) and has no UI or database code.
package config

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
)

// TablePolicy is the policy for one table.
type TablePolicy struct {
	Name          string // as written in the file: "x" or "schema.x"; unqualified names resolve via search_path
	TimeColumn    string // "" when none
	RetentionDays int    // 0 = no retention
	// IntegerRetention is the retention of a table whose time column is an
	// integer (a hypertable with an integer time dimension): rows older than
	// its integer_now() minus this many of the column's units go. 0 = none.
	IntegerRetention     int64
	Permanent            bool  // never deleted; never has a retention
	ExpectedGrowthPerDay int64 // bytes, 0 = unknown
	CompressAfterDays    int   // 0 = no compression policy
	SegmentBy            []string
	// OrderBy is TimescaleDB's compression order ("timestamp DESC"), used
	// when pgtend enables compression; nil = TimescaleDB's default.
	OrderBy []string
	// TimeZone is the zone this table's timestamp (without time zone) and
	// date values mean, when it differs from the policy's; "" = the policy's.
	TimeZone string
}

// Connection holds the timeouts pgtend sets on its sessions, so a console
// never hangs on a lock or a runaway catalog query.
type Connection struct {
	StatementTimeout       time.Duration // catalog reads
	LockTimeout            time.Duration // catalog reads
	MaintenanceLockTimeout time.Duration // DDL/maintenance statements
}

// DefaultConnection is used when a file has no [connection] section, and for
// keys a [connection] section leaves out.
var DefaultConnection = Connection{
	StatementTimeout:       30 * time.Second,
	LockTimeout:            2 * time.Second,
	MaintenanceLockTimeout: 5 * time.Second,
}

// Backup is where dumps go, how they are made and how many are kept. The
// zero value means the policy has no [backup] section.
type Backup struct {
	Dir       string
	KeepDaily int // the newest verified backups kept (at least 1)
	// KeepDays also keeps every verified backup younger than this many
	// days; 0 = count only.
	KeepDays int
	Format   string // "custom" (pg_dump -Fc), "plain" (.sql.gz) or "directory" (-Fd); "" = custom
	Jobs     int    // pg_dump -j for the directory format, gzip goroutines for plain; 0 = 2
	// ColdAfterDays is the age from which the quarterly checklist lists a
	// backup or an archive for cold storage; 0 = DefaultColdAfterDays.
	ColdAfterDays int
}

// DefaultColdAfterDays is cold_after when [backup] leaves it out: older
// than a month, a dump is for a disaster, not for tomorrow.
const DefaultColdAfterDays = 30

// ColdAfter is the age from which a backup or an archive is for cold
// storage.
func (b Backup) ColdAfter() time.Duration {
	days := b.ColdAfterDays
	if days <= 0 {
		days = DefaultColdAfterDays
	}
	return time.Duration(days) * 24 * time.Hour
}

// Archive lists directories to copy to Dest as verified tar.gz files. The
// zero value means no [archive].
type Archive struct {
	// Dirs are archived whole: <name>_backup_YYYYMMDD.tar.gz.
	Dirs []string
	// MonthlyDirs are archived by month, last month's files:
	// <name>_archive_YYYYMM.tar.gz.
	MonthlyDirs []string
	Dest        string
	Keep        int // whole-directory archives kept per directory; 0 = DefaultArchiveKeep
}

// DefaultArchiveKeep is how many whole-directory archives of each
// directory stay when [archive] keep is not set.
const DefaultArchiveKeep = 4

// KeepOrDefault is Keep, or DefaultArchiveKeep when it is not set.
func (a Archive) KeepOrDefault() int {
	if a.Keep <= 0 {
		return DefaultArchiveKeep
	}
	return a.Keep
}

// Policy is one complete maintenance policy.
type Policy struct {
	// Source says where the policy came from, for the "# source:" line Encode
	// writes and for the UI: a file path, "built-in default", or
	// "<file> (target <name>)" for a target's merged policy.
	Source     string
	Tables     []TablePolicy // sorted by Name; nil when none
	Connection Connection
	Backup     Backup
	Archive    Archive
	Reindex    Reindex // when an index needs rebuilding; zero = DefaultReindex
	Disk       Disk    // the free space maintenance keeps; zero = DefaultDisk
	Health     Health  // the Health pane's and doctor's thresholds; zero = DefaultHealth
	// TimeZone is the operator's zone (an IANA name): the one timestamp
	// (without time zone) and date values mean, instead of the database's
	// own TimeZone setting, and the one the calendar's days follow, instead
	// of this machine's. "" = the database's for values, the machine's for
	// the calendar.
	TimeZone string
}

// ZoneOf is the zone the table's timestamp and date values mean by the
// policy: its own, else the policy's; "" leaves it to the database.
func (p Policy) ZoneOf(t TablePolicy) string {
	if t.TimeZone != "" {
		return t.TimeZone
	}
	return p.TimeZone
}

// NameParts splits Name into its schema and table ("x" gives ["x"],
// "s.x" gives ["s", "x"]), for quoting as one identifier.
func (t TablePolicy) NameParts() []string {
	if schema, table, ok := strings.Cut(t.Name, "."); ok {
		return []string{schema, table}
	}
	return []string{t.Name}
}

// Table returns the policy for the table named exactly name (as written in
// the file; no search_path resolution happens here).
func (p Policy) Table(name string) (TablePolicy, bool) {
	// A linear scan: policies have a handful of tables, and callers may build
	// a Policy by hand without sorting it.
	for _, t := range p.Tables {
		if t.Name == name {
			return t, true
		}
	}
	return TablePolicy{}, false
}

// clone deep-copies p so targets never share slices with the top-level policy.
func (p Policy) clone() Policy {
	q := p
	if p.Tables != nil {
		q.Tables = make([]TablePolicy, len(p.Tables))
		for i, t := range p.Tables {
			t.SegmentBy = slices.Clone(t.SegmentBy)
			t.OrderBy = slices.Clone(t.OrderBy)
			q.Tables[i] = t
		}
	}
	q.Archive.Dirs = slices.Clone(p.Archive.Dirs)
	q.Archive.MonthlyDirs = slices.Clone(p.Archive.MonthlyDirs)
	return q
}

// Target is a named database with its policy. Policy is already merged: each
// of tables/connection/backup/archive the target defines replaces the
// top-level one wholesale; the rest are inherited.
type Target struct {
	Name   string
	DSN    string
	Policy Policy
}

// Config is a loaded policy file.
type Config struct {
	Source  string // file path, or "built-in default"
	Policy  Policy // top-level policy
	Targets map[string]Target
}

// TargetNames returns the target names, sorted.
func (c *Config) TargetNames() []string {
	names := make([]string, 0, len(c.Targets))
	for n := range c.Targets {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Resolve picks the DSN and policy for target: "" means the top-level policy
// with an empty DSN (the caller uses libpq defaults / its own flag).
func (c *Config) Resolve(target string) (dsn string, p Policy, err error) {
	if target == "" {
		return "", c.Policy.clone(), nil
	}
	t, ok := c.Targets[target]
	if !ok {
		names := c.TargetNames()
		if len(names) == 0 {
			return "", Policy{}, fmt.Errorf("unknown target %q: %s defines no targets", target, c.Source)
		}
		return "", Policy{}, fmt.Errorf("unknown target %q: %s defines %s", target, c.Source, strings.Join(names, ", "))
	}
	return t.DSN, t.Policy.clone(), nil
}
