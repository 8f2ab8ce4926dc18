package config

import (
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/BurntSushi/toml"
)

// The shapes below mirror the file format Parse reads (see default.toml).
// Every value is already in the spelling Parse accepts, so the TOML library
// only has to lay out tables and quote keys and strings; omitempty leaves
// out what the policy does not set, which Parse reads back as unset.
type (
	encodedPolicy struct {
		TimeZone string `toml:"time_zone,omitempty"`
		// Not omitempty: [connection] is always written so the effective
		// timeouts are visible.
		Connection encodedConnection       `toml:"connection"`
		Tables     map[string]encodedTable `toml:"tables,omitempty"`
		Backup     *encodedBackup          `toml:"backup,omitempty"`
		Archive    *encodedArchive         `toml:"archive,omitempty"`
		Reindex    *encodedReindex         `toml:"reindex,omitempty"`
		Disk       *encodedDisk            `toml:"disk,omitempty"`
		Health     map[string]string       `toml:"health,omitempty"`
	}
	encodedConnection struct {
		StatementTimeout       string `toml:"statement_timeout,omitempty"`
		LockTimeout            string `toml:"lock_timeout,omitempty"`
		MaintenanceLockTimeout string `toml:"maintenance_lock_timeout,omitempty"`
	}
	encodedTable struct {
		TimeColumn       string   `toml:"time_column,omitempty"`
		Permanent        bool     `toml:"permanent,omitempty"`
		Retention        string   `toml:"retention,omitempty"`
		IntegerRetention int64    `toml:"integer_retention,omitzero"`
		ExpectedGrowth   string   `toml:"expected_growth,omitempty"`
		CompressAfter    string   `toml:"compress_after,omitempty"`
		SegmentBy        []string `toml:"segment_by,omitempty"`
		OrderBy          []string `toml:"order_by,omitempty"`
		TimeZone         string   `toml:"time_zone,omitempty"`
	}
	// Backup and archive keys are not omitempty: once the section exists
	// Parse requires them, and writing an empty one shows what is missing.
	encodedBackup struct {
		Dir       string `toml:"dir"`
		KeepDaily int    `toml:"keep_daily"`
		KeepDays  string `toml:"keep_days,omitempty"`
		Format    string `toml:"format,omitempty"`
		Jobs      int    `toml:"jobs,omitzero"`
		ColdAfter string `toml:"cold_after,omitempty"`
	}
	encodedArchive struct {
		Dirs        []string `toml:"dirs,omitempty"`
		MonthlyDirs []string `toml:"monthly_dirs,omitempty"`
		Dest        string   `toml:"dest"`
		Keep        int      `toml:"keep,omitzero"`
	}
)

// Encode writes p as TOML that Parse reads back to an equal Policy (except
// Source, which Parse takes from its argument). Values use the canonical
// spellings: days as "90d", growth as "50 MB/day" when that is exact,
// timeouts as Go durations (Duration.String, which time.ParseDuration reads
// back exactly). Sections that are unset (zero Backup/Archive, no tables) are
// left out; [connection] is always written so the effective timeouts are
// visible. The TOML itself is written by github.com/BurntSushi/toml; only
// the leading "# source:" comment, which the library cannot write, is ours.
func (p Policy) Encode(w io.Writer) error {
	src := p.Source
	if src == "" {
		src = "(unknown)"
	}
	if _, err := fmt.Fprintf(w, "# source: %s\n\n", commentText(src)); err != nil {
		return err
	}
	enc := toml.NewEncoder(w)
	enc.Indent = "" // [tables.x] and its keys start at column 0, like default.toml
	return enc.Encode(p.encoded())
}

func (p Policy) encoded() encodedPolicy {
	out := encodedPolicy{TimeZone: p.TimeZone, Connection: encodedConnection{
		StatementTimeout:       timeoutString(p.Connection.StatementTimeout),
		LockTimeout:            timeoutString(p.Connection.LockTimeout),
		MaintenanceLockTimeout: timeoutString(p.Connection.MaintenanceLockTimeout),
	}}
	if len(p.Tables) > 0 {
		out.Tables = make(map[string]encodedTable, len(p.Tables))
	}
	for _, t := range p.Tables {
		et := encodedTable{
			TimeColumn: validText(t.TimeColumn),
			Permanent:  t.Permanent,
			SegmentBy:  validTexts(t.SegmentBy),
			OrderBy:    validTexts(t.OrderBy),
			TimeZone:   t.TimeZone,
		}
		et.IntegerRetention = t.IntegerRetention
		if t.RetentionDays != 0 {
			et.Retention = formatDays(t.RetentionDays)
		}
		if t.ExpectedGrowthPerDay != 0 {
			et.ExpectedGrowth = formatGrowth(t.ExpectedGrowthPerDay)
		}
		if t.CompressAfterDays != 0 {
			et.CompressAfter = formatDays(t.CompressAfterDays)
		}
		// The map key is one TOML key: the library quotes it when it is not
		// bare, so "analytics.bars" stays one table instead of nesting.
		out.Tables[validText(t.Name)] = et
	}
	if p.Backup != (Backup{}) {
		b := p.Backup
		out.Backup = &encodedBackup{Dir: validText(b.Dir), KeepDaily: b.KeepDaily, Format: validText(b.Format), Jobs: b.Jobs}
		if b.KeepDays > 0 {
			out.Backup.KeepDays = formatDays(b.KeepDays)
		}
		if b.ColdAfterDays > 0 {
			out.Backup.ColdAfter = formatDays(b.ColdAfterDays)
		}
	}
	if a := p.Archive; len(a.Dirs) > 0 || len(a.MonthlyDirs) > 0 || a.Dest != "" || a.Keep != 0 {
		out.Archive = &encodedArchive{Dirs: validTexts(a.Dirs), MonthlyDirs: validTexts(a.MonthlyDirs), Dest: validText(a.Dest), Keep: a.Keep}
	}
	out.Reindex, out.Disk = p.encodedMaintenance()
	out.Health = p.encodedHealth()
	return out
}

// timeoutString is d as Parse reads it, or "" (left out) for d <= 0: Parse
// refuses those, and an omitted timeout reads back as the default.
func timeoutString(d time.Duration) string {
	if d <= 0 {
		return ""
	}
	return d.String()
}

// validText makes s valid UTF-8. TOML documents must be, and the library
// copies invalid bytes through unchanged, which would make `config show`
// print something `config check` rejects. Policies from Parse are always
// valid already; only a hand-built Policy can get here with bad bytes.
func validText(s string) string { return strings.ToValidUTF8(s, "\uFFFD") }

func validTexts(items []string) []string {
	if items == nil {
		return nil
	}
	out := make([]string, len(items))
	for i, s := range items {
		out[i] = validText(s)
	}
	return out
}

// commentText keeps a source name from breaking its comment line or the
// document: TOML comments end at a newline and may not contain control
// characters (other than tab) or invalid UTF-8, and a source can carry any of
// those, e.g. from a quoted target name in "<file> (target <name>)".
func commentText(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r != '\t' && (r < 0x20 || r == 0x7f):
			fmt.Fprintf(&b, `\u%04X`, r)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}
