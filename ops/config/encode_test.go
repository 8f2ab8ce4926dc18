package config

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

// roundTrip encodes p and parses it back under the same source name.
func roundTrip(t *testing.T, p Policy) Policy {
	t.Helper()
	var buf bytes.Buffer
	if err := p.Encode(&buf); err != nil {
		t.Fatalf("Encode: %v", err)
	}
	c, err := Parse(p.Source, buf.Bytes())
	if err != nil {
		t.Fatalf("Parse(Encode(p)): %v\n--- encoded ---\n%s", err, buf.String())
	}
	if len(c.Targets) != 0 {
		t.Errorf("Encode wrote targets: %+v", c.Targets)
	}
	return c.Policy
}

func TestEncodeRoundTrip(t *testing.T) {
	odd := Policy{
		Source: "odd.toml",
		Tables: []TablePolicy{
			{Name: "analytics.bars", TimeColumn: `weird "col"\name`, RetentionDays: 84, ExpectedGrowthPerDay: 52428801, CompressAfterDays: 14, SegmentBy: []string{"a", "b c", "ü"}},
			{Name: "plain", Permanent: true, CompressAfterDays: 1, ExpectedGrowthPerDay: 52428800},
			{Name: "with space", ExpectedGrowthPerDay: 1},
			{Name: "x-y_z", TimeColumn: "t\tab\x01"},
		},
		Connection: Connection{StatementTimeout: 90 * time.Second, LockTimeout: 1500 * time.Millisecond, MaintenanceLockTimeout: time.Hour + time.Nanosecond},
		Backup:     Backup{Dir: "/b", KeepDaily: 1, KeepDays: 14, Format: "directory", Jobs: 3, ColdAfterDays: 90},
		Archive:    Archive{Dirs: []string{"models/"}, MonthlyDirs: []string{"logs/"}, Dest: "/a", Keep: 2},
	}
	noSections := Policy{Source: "bare.toml", Connection: DefaultConnection}
	targetPol := mustParse(t, doc(`[targets.p]`, `dsn = "x"`, `[targets.p.tables.q]`, `retention = "3w"`)).Targets["p"].Policy
	// Quotes, backslashes, control characters and non-ASCII in table names
	// and values; the target name also lands in Source, so in the comment.
	strange := Policy{
		Source: "we\"ird\\ \x01\x7f\t\r\nü.toml",
		Tables: []TablePolicy{ // sorted by Name, as Parse returns them
			{Name: "bare"}, // no keys: the empty [tables.bare] still names the table
			{Name: "s.\"q\"\\\x01\x7f\u00e9\u65e5\U0001F600", TimeColumn: "\b\f\x1f\u2028", SegmentBy: []string{`"`, `\`, "\x00"}},
			{Name: "tab\tname", RetentionDays: 1},
			{Name: "ticks_by_nanos", TimeColumn: "ns", IntegerRetention: 86_400_000_000_000},
			{Name: "日本.表", Permanent: true},
		},
		Connection: DefaultConnection,
		Backup:     Backup{Dir: "/b\\\"c\u00e9", KeepDaily: 2},
		Archive:    Archive{Dirs: []string{"a\nb", "ü/"}, Dest: "/d\x02"},
	}
	strangeTarget := mustParse(t, doc(
		`[targets."we\"ird\\ \u0001 \u007f ü"]`,
		`dsn = "host='x\"y' password='\\\u0001ü'"`,
		`[targets."we\"ird\\ \u0001 \u007f ü".tables."s.\"q\\\u0001ü"]`,
		`retention = "3w"`,
	)).Targets["we\"ird\\ \x01 \x7f ü"].Policy

	for name, p := range map[string]Policy{
		"default": Default().Policy, "odd": odd, "no sections": noSections, "target": targetPol,
		"strange": strange, "strange target": strangeTarget,
	} {
		t.Run(name, func(t *testing.T) {
			if got := roundTrip(t, p); !reflect.DeepEqual(got, p) {
				t.Errorf("round trip changed the policy:\n got %+v\nwant %+v", got, p)
			}
		})
	}
}

func TestEncodeFormat(t *testing.T) {
	var buf bytes.Buffer
	if err := Default().Policy.Encode(&buf); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if !strings.HasPrefix(out, "# source: built-in default\n") {
		t.Errorf("missing source comment:\n%s", out)
	}
	for _, want := range []string{
		"[tables.option_chain_snapshots]\ntime_column = \"timestamp\"\nretention = \"90d\"\nexpected_growth = \"50 MB/day\"\ncompress_after = \"7d\"\nsegment_by = [\"exchange\"]\n",
		"[tables.trade_history]\npermanent = true\nexpected_growth = \"100 kB/day\"\n",
		"statement_timeout = \"30s\"\n",
		"[backup]\ndir = \"/var/backups/pgtend\"\nkeep_daily = 7\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}

	buf.Reset()
	p := Policy{Tables: []TablePolicy{{Name: "analytics.bars", RetentionDays: 1}}}
	if err := p.Encode(&buf); err != nil {
		t.Fatal(err)
	}
	if out := buf.String(); !strings.Contains(out, `[tables."analytics.bars"]`) || !strings.HasPrefix(out, "# source: (unknown)\n") {
		t.Errorf("qualified name or unknown source mis-encoded:\n%s", out)
	}
	// Unset timeouts are omitted, so the output still parses (as defaults).
	if c, err := Parse("x", buf.Bytes()); err != nil || c.Policy.Connection != DefaultConnection {
		t.Errorf("Parse(encoded zero connection) = %+v, %v", c, err)
	}

	// The source comment stays one line with no raw control characters.
	buf.Reset()
	p = Policy{Source: "a\x01b\t\r\nc\x7f\xffü"}
	if err := p.Encode(&buf); err != nil {
		t.Fatal(err)
	}
	if first, _, _ := strings.Cut(buf.String(), "\n"); first != `# source: a\u0001b`+"\t"+`\r\nc\u007F\xffü` {
		t.Errorf("source comment = %q", first)
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestEncodeWriteError(t *testing.T) {
	if err := Default().Policy.Encode(failWriter{}); err == nil || err.Error() != "disk full" {
		t.Errorf("Encode error = %v, want the writer's error", err)
	}
}

func TestEncodeInvalidUTF8(t *testing.T) {
	// Only a hand-built Policy can hold invalid UTF-8 (Parse never returns
	// it), but what Encode prints must still parse.
	p := Policy{
		Source:     "bad\xff.toml",
		Tables:     []TablePolicy{{Name: "t\xfe", TimeColumn: "c\xff", SegmentBy: []string{"\xc3"}}},
		Connection: DefaultConnection,
		Archive:    Archive{Dest: "/\xff"},
	}
	got := roundTrip(t, p)
	want := Policy{
		Source:     p.Source,
		Tables:     []TablePolicy{{Name: "t\uFFFD", TimeColumn: "c\uFFFD", SegmentBy: []string{"\uFFFD"}}},
		Connection: DefaultConnection,
		Archive:    Archive{Dest: "/\uFFFD"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("round trip = %+v, want %+v", got, want)
	}
}
