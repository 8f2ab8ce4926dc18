package config

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// Encode writes p as TOML that Parse reads back to an equal Policy (except
// Source, which Parse takes from its argument). Values use the canonical
// spellings: days as "90d", growth as "50 MB/day" when that is exact,
// timeouts as Go durations (Duration.String, which
// time.ParseDuration reads back exactly). Sections that are unset (zero Backup/Archive, no
// tables) are left out; [connection] is always written so the effective
// timeouts are visible.
func (p Policy) Encode(w io.Writer) error {
	var b strings.Builder
	src := p.Source
	if src == "" {
		src = "(unknown)"
	}
	fmt.Fprintf(&b, "# source: %s\n", oneLine(src))

	b.WriteString("\n[connection]\n")
	for _, f := range []struct {
		key string
		d   time.Duration
	}{
		{"statement_timeout", p.Connection.StatementTimeout},
		{"lock_timeout", p.Connection.LockTimeout},
		{"maintenance_lock_timeout", p.Connection.MaintenanceLockTimeout},
	} {
		// Parse refuses timeouts <= 0; leaving an unset one out makes the
		// output parseable (it reads back as the default).
		if f.d > 0 {
			writeKV(&b, f.key, tomlString(f.d.String()))
		}
	}

	for _, t := range p.Tables {
		fmt.Fprintf(&b, "\n[tables.%s]\n", tomlKey(t.Name))
		if t.TimeColumn != "" {
			writeKV(&b, "time_column", tomlString(t.TimeColumn))
		}
		if t.Permanent {
			writeKV(&b, "permanent", "true")
		}
		if t.RetentionDays != 0 {
			writeKV(&b, "retention", tomlString(formatDays(t.RetentionDays)))
		}
		if t.ExpectedGrowthPerDay != 0 {
			writeKV(&b, "expected_growth", tomlString(formatGrowth(t.ExpectedGrowthPerDay)))
		}
		if t.CompressAfterDays != 0 {
			writeKV(&b, "compress_after", tomlString(formatDays(t.CompressAfterDays)))
		}
		if len(t.SegmentBy) > 0 {
			writeKV(&b, "segment_by", tomlArray(t.SegmentBy))
		}
	}

	if p.Backup != (Backup{}) {
		b.WriteString("\n[backup]\n")
		writeKV(&b, "dir", tomlString(p.Backup.Dir))
		writeKV(&b, "keep_daily", strconv.Itoa(p.Backup.KeepDaily))
	}
	if len(p.Archive.Dirs) > 0 || p.Archive.Dest != "" {
		b.WriteString("\n[archive]\n")
		if len(p.Archive.Dirs) > 0 {
			writeKV(&b, "dirs", tomlArray(p.Archive.Dirs))
		}
		writeKV(&b, "dest", tomlString(p.Archive.Dest))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func writeKV(b *strings.Builder, key, value string) {
	b.WriteString(key)
	b.WriteString(" = ")
	b.WriteString(value)
	b.WriteByte('\n')
}

// oneLine keeps a source name from breaking out of its comment line.
func oneLine(s string) string {
	return strings.NewReplacer("\r", `\r`, "\n", `\n`).Replace(s)
}

// tomlKey writes a table name bare when TOML allows it, else quoted, so
// "analytics.bars" stays one key instead of becoming a nested table.
func tomlKey(k string) string {
	if k == "" {
		return `""`
	}
	for i := 0; i < len(k); i++ {
		if !isBareKeyChar(k[i]) {
			return tomlString(k)
		}
	}
	return k
}

// tomlString quotes s as a TOML basic string. strconv.Quote is not usable:
// Go's \a, \v and \x escapes are not TOML 1.0.
func tomlString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\b':
			b.WriteString(`\b`)
		case '\t':
			b.WriteString(`\t`)
		case '\n':
			b.WriteString(`\n`)
		case '\f':
			b.WriteString(`\f`)
		case '\r':
			b.WriteString(`\r`)
		default:
			if r < 0x20 || r == 0x7f {
				fmt.Fprintf(&b, `\u%04X`, r)
			} else {
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}

func tomlArray(items []string) string {
	quoted := make([]string, len(items))
	for i, s := range items {
		quoted[i] = tomlString(s)
	}
	return "[" + strings.Join(quoted, ", ") + "]"
}
