package config

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
)

// parser accumulates every problem found while validating one document.
type parser struct {
	file  string
	lines lineIndex
	errs  []*Error
}

func (p *parser) errorf(path []string, format string, args ...any) {
	p.errs = append(p.errs, &Error{
		File: p.file,
		Line: p.lines.line(path...),
		Key:  keyString(path),
		Msg:  fmt.Sprintf(format, args...),
	})
}

// Parse reads a policy file. source names the file in errors and becomes
// Config.Source. On any problem it returns a nil *Config and all problems as
// *Error values joined with errors.Join, in file order: a policy drives
// deletions, so nothing half-valid is ever handed back.
func Parse(source string, data []byte) (*Config, error) {
	var raw map[string]any
	if _, err := toml.Decode(string(data), &raw); err != nil {
		return nil, joinErrors([]*Error{syntaxError(source, data, err)})
	}
	p := &parser{file: source, lines: indexLines(string(data))}
	root := section{p: p, m: raw}
	root.unknown("time_zone", "connection", "tables", "backup", "archive", "reindex", "disk", "health", "targets")

	top := p.policy(root, Policy{Source: source, Connection: DefaultConnection})
	cfg := &Config{Source: source, Policy: top, Targets: map[string]Target{}}
	if targets, ok := root.sub("targets"); ok {
		for _, name := range targets.keys() {
			if t, ok := targets.sub(name); ok {
				cfg.Targets[name] = p.target(t, name, top)
			}
		}
	}
	if len(p.errs) > 0 {
		return nil, joinErrors(p.errs)
	}
	return cfg, nil
}

// target validates [targets.<name>]. Each policy section the target has
// replaces the top-level one wholesale rather than merging key by key: a
// target listing its own tables means "these tables", not "these as well".
func (p *parser) target(t section, name string, top Policy) Target {
	t.unknown("dsn", "time_zone", "connection", "tables", "backup", "archive", "reindex", "disk", "health")
	if strings.TrimSpace(name) == "" {
		t.errorf("", "target name must not be empty")
	}
	dsn, ok := t.str("dsn", "service=mydb")
	switch {
	case !t.has("dsn"):
		t.errorf("dsn", "missing: a target needs dsn = \"...\" (a libpq connection string or URL)")
	case ok && strings.TrimSpace(dsn) == "":
		t.errorf("dsn", "must not be empty")
	}
	base := top.clone()
	base.Source = fmt.Sprintf("%s (target %s)", p.file, name)
	return Target{Name: name, DSN: dsn, Policy: p.policy(t, base)}
}

// policy reads the policy sections of s; sections s lacks keep base's value.
func (p *parser) policy(s section, base Policy) Policy {
	pol := base
	if z, ok := s.zone("time_zone"); ok {
		pol.TimeZone = z
	}
	if c, ok := s.sub("connection"); ok {
		pol.Connection = p.connection(c)
	}
	if s.has("tables") {
		// Present but empty ([targets.x.tables] with no tables) still
		// replaces: it is the way to say "this target has no table policy".
		pol.Tables = nil
		if t, ok := s.sub("tables"); ok {
			pol.Tables = p.tables(t)
		}
	}
	if b, ok := s.sub("backup"); ok {
		pol.Backup = p.backup(b)
	}
	if a, ok := s.sub("archive"); ok {
		pol.Archive = p.archive(a)
	}
	if r, ok := s.sub("reindex"); ok {
		pol.Reindex = p.reindex(r)
	}
	if d, ok := s.sub("disk"); ok {
		pol.Disk = p.disk(d)
	}
	if h, ok := s.sub("health"); ok {
		pol.Health = p.health(h)
	}
	return pol
}

// connection reads [connection]; keys it omits keep DefaultConnection's values.
func (p *parser) connection(c section) Connection {
	c.unknown("statement_timeout", "lock_timeout", "maintenance_lock_timeout")
	conn := DefaultConnection
	for _, f := range []struct {
		key, example string
		dst          *time.Duration
	}{
		{"statement_timeout", "30s", &conn.StatementTimeout},
		{"lock_timeout", "2s", &conn.LockTimeout},
		{"maintenance_lock_timeout", "5s", &conn.MaintenanceLockTimeout},
	} {
		v, ok := c.str(f.key, f.example)
		if !ok {
			continue
		}
		d, err := parseTimeout(v)
		if err != nil {
			c.errorf(f.key, "%v", err)
			continue
		}
		*f.dst = d
	}
	return conn
}

// tables reads [tables.*], rejecting two spellings of one table.
func (p *parser) tables(s section) []TablePolicy {
	type first struct {
		name string
		line int
	}
	seen := map[string]first{}
	var out []TablePolicy
	for _, name := range s.keys() { // file order: the later duplicate is the error
		ts, ok := s.sub(name)
		if !ok {
			continue
		}
		tp := p.table(ts, name)
		canon := canonicalName(name)
		if prev, dup := seen[canon]; dup {
			s.errorf(name, "duplicate table: same table as %q on line %d (an unqualified name means public.%s)",
				prev.name, prev.line, strings.TrimPrefix(canon, "public."))
			continue
		}
		seen[canon] = first{name: name, line: s.line(name)}
		out = append(out, tp)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// canonicalName is the duplicate-check key: search_path normally resolves an
// unqualified name to public, so "x" and "public.x" must not carry two
// different policies. The name itself is kept as written.
func canonicalName(name string) string {
	if strings.Contains(name, ".") {
		return name
	}
	return "public." + name
}

func (p *parser) table(s section, name string) TablePolicy {
	s.unknown("time_column", "retention", "integer_retention", "permanent", "expected_growth", "compress_after", "segment_by", "order_by", "time_zone")
	tp := TablePolicy{Name: name}
	if parts := strings.Split(name, "."); len(parts) > 2 || hasBlank(parts) {
		s.errorf("", "bad table name %q: write table or \"schema.table\"", name)
	}
	tp.TimeColumn, _ = s.str("time_column", "timestamp")
	tp.Permanent, _ = s.boolean("permanent")

	if v, ok := s.str("retention", "90d"); ok {
		n, err := parseDays(v)
		switch {
		case tp.Permanent:
			s.errorf("retention", "a permanent table must not have a retention: remove retention, or permanent = true")
		case err != nil:
			s.errorf("retention", "%v", err)
		case n <= 0:
			s.errorf("retention", "must be greater than zero (got %q); leave retention out to keep data forever", v)
		default:
			tp.RetentionDays = n
		}
	}
	if n, ok := s.integer("integer_retention"); ok {
		switch {
		case tp.Permanent:
			s.errorf("integer_retention", "a permanent table must not have a retention: remove integer_retention, or permanent = true")
		case tp.RetentionDays > 0:
			s.errorf("integer_retention", "give retention (days, for a time column) or integer_retention (units of an integer time column), not both")
		case n <= 0:
			s.errorf("integer_retention", "must be greater than zero (got %d), in the units of the table's integer time column", n)
		default:
			tp.IntegerRetention = n
		}
	}
	if v, ok := s.str("expected_growth", "50 MB/day"); ok {
		n, err := parseGrowth(v)
		if err != nil {
			s.errorf("expected_growth", "%v", err)
		}
		tp.ExpectedGrowthPerDay = n
	}
	// Compression is allowed on permanent tables: it deletes nothing.
	if v, ok := s.str("compress_after", "7d"); ok {
		n, err := parseDays(v)
		switch {
		case err != nil:
			s.errorf("compress_after", "%v", err)
		case n < 0:
			s.errorf("compress_after", "must not be negative (got %q)", v)
		case n == 0:
			// 0 means "no compression policy" in TablePolicy, so accepting
			// "0d" would silently turn compression off.
			s.errorf("compress_after", "must be greater than zero (got %q); leave compress_after out for no compression", v)
		default:
			tp.CompressAfterDays = n
		}
	}
	tp.SegmentBy, _ = s.strings("segment_by")
	tp.OrderBy, _ = s.strings("order_by")
	tp.TimeZone, _ = s.zone("time_zone")
	return tp
}

func hasBlank(parts []string) bool {
	for _, p := range parts {
		if strings.TrimSpace(p) == "" {
			return true
		}
	}
	return false
}

// backup reads [backup]; once the section exists, dir and keep_daily >= 1
// are required, since a backup with nowhere to go or nothing kept is a typo.
func (p *parser) backup(s section) Backup {
	s.unknown("dir", "keep_daily", "keep_days", "format", "jobs", "cold_after")
	var b Backup
	if v, ok := s.str("dir", "/var/backups/pgtend"); ok {
		if strings.TrimSpace(v) == "" {
			s.errorf("dir", "must not be empty")
		}
		b.Dir = v
	} else if !s.has("dir") {
		s.errorf("dir", "missing: [backup] needs dir = \"/path/to/backups\"")
	}
	if n, ok := s.integer("keep_daily"); ok {
		if n < 1 {
			s.errorf("keep_daily", "must be at least 1 (got %d)", n)
		}
		b.KeepDaily = int(n)
	} else if !s.has("keep_daily") {
		s.errorf("keep_daily", "missing: [backup] needs keep_daily = 7 (at least 1)")
	}
	if n, ok := s.positiveDays("keep_days", "14d", "to keep by count only"); ok {
		b.KeepDays = n
	}
	if v, ok := s.str("format", "custom"); ok {
		switch v {
		case "custom", "plain", "directory":
			b.Format = v
		default:
			s.errorf("format", "must be \"custom\" (pg_dump -Fc), \"plain\" (.sql.gz) or \"directory\" (-Fd), not %q", v)
		}
	}
	if n, ok := s.integer("jobs"); ok {
		if n < 1 || n > 64 {
			s.errorf("jobs", "must be 1 to 64 (got %d)", n)
		}
		b.Jobs = int(n)
	}
	if n, ok := s.positiveDays("cold_after", "30d", fmt.Sprintf("for %dd", DefaultColdAfterDays)); ok {
		b.ColdAfterDays = n
	}
	return b
}

// archive reads [archive]; listing directories without a destination is an error.
func (p *parser) archive(s section) Archive {
	s.unknown("dirs", "monthly_dirs", "dest", "keep")
	var a Archive
	a.Dirs, _ = s.strings("dirs")
	a.MonthlyDirs, _ = s.strings("monthly_dirs")
	if n, ok := s.integer("keep"); ok {
		if n < 1 {
			s.errorf("keep", "must be at least 1 (got %d)", n)
		}
		a.Keep = int(n)
	}
	if v, ok := s.str("dest", "/var/backups/pgtend/archive"); ok {
		if strings.TrimSpace(v) == "" {
			s.errorf("dest", "must not be empty")
		}
		a.Dest = v
	} else if !s.has("dest") && (s.has("dirs") || s.has("monthly_dirs")) {
		s.errorf("dest", "missing: [archive] needs dest = \"/path/to/archive\" to copy dirs to")
	}
	return a
}
