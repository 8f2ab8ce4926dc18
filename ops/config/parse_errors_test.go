package config

import (
	"strings"
	"testing"
)

// Every validation error, with the line and key it must point at.
func TestParseErrors(t *testing.T) {
	type want struct {
		line int
		key  string
		msg  string // substring of Msg
	}
	cases := []struct {
		name string
		in   []byte
		want []want // all errors, in order
	}{
		{"syntax: missing value", doc(
			`[tables.x]`,
			`retention = `,
		), []want{{2, "tables.x.retention", "TOML syntax: expected value"}}},
		{"syntax: unterminated header", doc(
			`[connection]`,
			`lock_timeout = "1s"`,
			`[tables.x`,
		), []want{{3, "", "TOML syntax"}}},
		{"syntax: same table twice", doc(
			`[tables.x]`,
			`retention = "1d"`,
			`[tables.x]`,
			`retention = "2d"`,
		), []want{{3, "", "already been defined"}}},
		{"integer_retention with retention", doc(
			`[tables.x]`,
			`retention = "1d"`,
			`integer_retention = 1000`,
		), []want{{3, "tables.x.integer_retention", "not both"}}},
		{"integer_retention not positive", doc(
			`[tables.x]`,
			`integer_retention = 0`,
		), []want{{2, "tables.x.integer_retention", "must be greater than zero"}}},
		{"syntax: same key twice", doc(
			`[tables.x]`,
			`retention = "1d"`,
			`retention = "2d"`,
		), []want{{3, "tables.x.retention", "already been defined"}}},

		{"unknown top-level section, reported once", doc(
			`[connection]`,
			`lock_timeout = "1s"`,
			`[bakup]`,
			`dir = "/x"`,
			`keep_daily = 1`,
		), []want{{3, "bakup", "unknown key (expected one of: time_zone, connection, tables, backup, archive, reindex, disk, health, targets)"}}},
		{"unknown table key", doc(
			`[tables.x]`,
			`time_column = "t"`,
			`retension = "90d"`,
		), []want{{3, "tables.x.retension", "unknown key"}}},
		{"keys are case-sensitive", doc(
			`[tables.x]`,
			`RETENTION = "90d"`,
		), []want{{2, "tables.x.RETENTION", "unknown key"}}},
		{"unknown key in quoted table", doc(
			`[tables."analytics.bars"]`,
			`retention = "9d"`,
			`foo = 1`,
		), []want{{3, `tables."analytics.bars".foo`, "unknown key"}}},
		{"unknown key in target table", doc(
			`[targets.prod]`,
			`dsn = "service=p"`,
			``,
			`[targets.prod.tables.y]`,
			`color = "red"`,
		), []want{{5, "targets.prod.tables.y.color", "unknown key"}}},
		{"unknown target key", doc(
			`[targets.prod]`,
			`dsn = "service=p"`,
			`host = "db1"`,
		), []want{{3, "targets.prod.host", "unknown key (expected one of: dsn, time_zone, connection, tables, backup, archive, reindex, disk, health)"}}},
		{"unknown connection key", doc(
			`[connection]`,
			`statment_timeout = "1s"`,
		), []want{{2, "connection.statment_timeout", "unknown key"}}},
		{"unknown dotted key", doc(
			`tables.x.retention = "90d"`,
			`tables.x.oops = 1`,
		), []want{{2, "tables.x.oops", "unknown key"}}},
		{"unknown key in inline table", doc(
			`[tables]`,
			`x = { retention = "9d", oops = 1 }`,
		), []want{{2, "tables.x.oops", "unknown key"}}},

		{"retention 0d", doc(
			`[tables.x]`,
			`time_column = "t"`,
			`retention = "0d"`,
		), []want{{3, "tables.x.retention", `must be greater than zero (got "0d")`}}},
		{"retention negative", doc(
			`[tables.x]`,
			`retention = "-5d"`,
		), []want{{2, "tables.x.retention", `must be greater than zero (got "-5d")`}}},
		{"retention bad unit", doc(
			`[tables.x]`,
			`retention = "90x"`,
		), []want{{2, "tables.x.retention", `bad duration "90x"`}}},
		{"retention in words", doc(
			`[tables.x]`,
			`retention = "ninety days"`,
		), []want{{2, "tables.x.retention", `bad duration "ninety days"`}}},
		{"retention in months", doc(
			`[tables.x]`,
			`retention = "3 months"`,
		), []want{{2, "tables.x.retention", "months are ambiguous"}}},
		{"retention as integer", doc(
			`[tables.x]`,
			`retention = 90`,
		), []want{{2, "tables.x.retention", `must be a string like "90d", not an integer`}}},
		{"compress_after bad", doc(
			`[tables.x]`,
			`compress_after = "7 months"`,
		), []want{{2, "tables.x.compress_after", "months are ambiguous"}}},
		{"compress_after negative", doc(
			`[tables.x]`,
			`compress_after = "-1d"`,
		), []want{{2, "tables.x.compress_after", "must not be negative"}}},
		{"compress_after zero", doc(
			`[tables.x]`,
			`compress_after = "0d"`,
		), []want{{2, "tables.x.compress_after", "leave compress_after out"}}},

		{"growth bad size", doc(
			`[tables.x]`,
			`expected_growth = "fifty MB/day"`,
		), []want{{2, "tables.x.expected_growth", `bad size "fifty MB/day"`}}},
		{"growth per hour", doc(
			`[tables.x]`,
			`expected_growth = "5 MB/hour"`,
		), []want{{2, "tables.x.expected_growth", "growth is per day"}}},
		{"growth as integer", doc(
			`[tables.x]`,
			`expected_growth = 50`,
		), []want{{2, "tables.x.expected_growth", `must be a string like "50 MB/day"`}}},

		{"timeout bad go duration", doc(
			`[connection]`,
			`statement_timeout = "30"`,
		), []want{{2, "connection.statement_timeout", `bad duration "30"`}}},
		{"timeout zero", doc(
			`[connection]`,
			`statement_timeout = "1s"`,
			`lock_timeout = "0s"`,
		), []want{{3, "connection.lock_timeout", "must be greater than zero"}}},
		{"timeout negative", doc(
			`[connection]`,
			`maintenance_lock_timeout = "-5s"`,
		), []want{{2, "connection.maintenance_lock_timeout", "must be greater than zero"}}},
		{"timeout as integer", doc(
			`[connection]`,
			`lock_timeout = 2`,
		), []want{{2, "connection.lock_timeout", `must be a string like "2s"`}}},
		{"target timeout", doc(
			`[targets.t]`,
			`dsn = "x"`,
			`[targets.t.connection]`,
			`lock_timeout = "2 seconds"`,
		), []want{{4, "targets.t.connection.lock_timeout", "bad duration"}}},

		{"permanent with retention", doc(
			`[tables.trade_history]`,
			`permanent = true`,
			`expected_growth = "100 KB/day"`,
			`retention = "30d"`,
		), []want{{4, "tables.trade_history.retention", "a permanent table must not have a retention"}}},
		{"permanent with bad retention still says permanent", doc(
			`[tables.t]`,
			`retention = "0d"`,
			`permanent = true`,
		), []want{{2, "tables.t.retention", "permanent table"}}},
		{"permanent not a bool", doc(
			`[tables.t]`,
			`permanent = "yes"`,
		), []want{{2, "tables.t.permanent", "must be true or false, not a string"}}},

		{"duplicate x then public.x", doc(
			`[tables.x]`,
			`retention = "1d"`,
			``,
			`[tables."public.x"]`,
			`retention = "2d"`,
		), []want{{4, `tables."public.x"`, `same table as "x" on line 1`}}},
		{"duplicate public.x then x", doc(
			`[tables."public.x"]`,
			`retention = "1d"`,
			`[tables.other]`,
			`[tables.x]`,
			`retention = "2d"`,
		), []want{{4, "tables.x", `same table as "public.x" on line 1`}}},
		{"duplicate within a target", doc(
			`[targets.p]`,
			`dsn = "x"`,
			`[targets.p.tables.x]`,
			`[targets.p.tables."public.x"]`,
		), []want{{4, `targets.p.tables."public.x"`, "on line 3"}}},
		{"bad table name", doc(
			`[tables."a.b.c"]`,
			`retention = "1d"`,
		), []want{{1, `tables."a.b.c"`, "bad table name"}}},
		{"table not a table", doc(
			`[tables]`,
			`x = "90d"`,
		), []want{{2, "tables.x", "must be a table ([tables.x]), not a string"}}},
		{"tables not a table", doc(
			`tables = 5`,
		), []want{{1, "tables", "must be a table"}}},

		{"keep_daily zero", doc(
			`[backup]`,
			`dir = "/b"`,
			`keep_daily = 0`,
		), []want{{3, "backup.keep_daily", "must be at least 1 (got 0)"}}},
		{"keep_daily missing", doc(
			`# backups`,
			`[backup]`,
			`dir = "/b"`,
		), []want{{2, "backup.keep_daily", "missing"}}},
		{"keep_daily not integer", doc(
			`[backup]`,
			`dir = "/b"`,
			`keep_daily = "7"`,
		), []want{{3, "backup.keep_daily", "must be an integer, not a string"}}},
		{"backup dir missing", doc(
			`[backup]`,
			`keep_daily = 3`,
		), []want{{1, "backup.dir", "missing"}}},
		{"archive empty dir entry", doc(
			`[archive]`,
			`dirs = ["models/", ""]`,
			`dest = "/a"`,
		), []want{{2, "archive.dirs", "entry 2 is an empty string"}}},
		{"archive without dest", doc(
			`[archive]`,
			`dirs = ["models/"]`,
		), []want{{1, "archive.dest", "missing"}}},
		{"backup format, jobs and keep_days", doc(
			`[backup]`,
			`dir = "/b"`,
			`keep_daily = 3`,
			`format = "tar"`,
			`jobs = 0`,
			`keep_days = "0d"`,
			`cold_after = "3 months"`,
		), []want{{4, "backup.format", `not "tar"`}, {5, "backup.jobs", "must be 1 to 64 (got 0)"}, {6, "backup.keep_days", "must be greater than zero"}, {7, "backup.cold_after", "months are ambiguous"}}},
		{"backup cold_after zero", doc(
			`[backup]`,
			`dir = "/b"`,
			`keep_daily = 3`,
			`cold_after = "0d"`,
		), []want{{4, "backup.cold_after", "leave cold_after out for 30d"}}},
		{"archive monthly_dirs without dest, keep zero", doc(
			`[archive]`,
			`monthly_dirs = ["trade_logs/"]`,
			`keep = 0`,
		), []want{{1, "archive.dest", "missing"}, {3, "archive.keep", "must be at least 1 (got 0)"}}},

		{"target empty dsn", doc(
			`[targets.prod]`,
			`dsn = ""`,
		), []want{{2, "targets.prod.dsn", "must not be empty"}}},
		{"target missing dsn", doc(
			`[targets.prod.tables.x]`,
			`retention = "1d"`,
		), []want{{1, "targets.prod.dsn", "missing"}}},
		{"target dsn not a string", doc(
			`[targets.prod]`,
			`dsn = 5`,
		), []want{{2, "targets.prod.dsn", "must be a string"}}},

		{"segment_by empty entry", doc(
			`[tables.x]`,
			`compress_after = "7d"`,
			`segment_by = [`,
			`  "exchange",`,
			`  "",`,
			`]`,
		), []want{{3, "tables.x.segment_by", "entry 2 is an empty string"}}},
		{"segment_by not an array", doc(
			`[tables.x]`,
			`segment_by = "exchange"`,
		), []want{{2, "tables.x.segment_by", "must be an array of strings, not a string"}}},
		{"segment_by not strings", doc(
			`[tables.x]`,
			`segment_by = ["a", 1]`,
		), []want{{2, "tables.x.segment_by", "entry 2 is an integer"}}},

		{"all errors, in file order", doc(
			`[targets.b]`,              // 1: missing dsn
			`[tables.z]`,               // 2
			`retention = "0d"`,         // 3
			`[tables.a]`,               // 4
			`expected_growth = "lots"`, // 5
			`permanent = true`,         // 6
			`retention = "9d"`,         // 7
			`[connection]`,             // 8
			`lock_timeout = "0s"`,      // 9
			`[targets.a]`,              // 10
			`dsn = ""`,                 // 11
		), []want{
			{1, "targets.b.dsn", "missing"},
			{3, "tables.z.retention", "greater than zero"},
			{5, "tables.a.expected_growth", "bad size"},
			{7, "tables.a.retention", "permanent"},
			{9, "connection.lock_timeout", "greater than zero"},
			{11, "targets.a.dsn", "must not be empty"},
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := Parse("pol.toml", c.in)
			if cfg != nil {
				t.Errorf("got a partial *Config alongside the error")
			}
			got := configErrors(t, err)
			if len(got) != len(c.want) {
				t.Fatalf("got %d errors, want %d:\n%v", len(got), len(c.want), err)
			}
			for i, w := range c.want {
				g := got[i]
				if g.File != "pol.toml" || g.Line != w.line || g.Key != w.key || !strings.Contains(g.Msg, w.msg) {
					t.Errorf("error %d = {%s %d %q %q},\nwant {pol.toml %d %q containing %q}", i, g.File, g.Line, g.Key, g.Msg, w.line, w.key, w.msg)
				}
			}
		})
	}
}

func TestErrorString(t *testing.T) {
	cases := []struct {
		e    Error
		want string
	}{
		{Error{File: "p.toml", Line: 3, Key: "tables.x.retention", Msg: "bad"}, "p.toml:3: tables.x.retention: bad"},
		{Error{File: "p.toml", Key: "tables.x", Msg: "bad"}, "p.toml: tables.x: bad"},
		{Error{File: "p.toml", Line: 2, Msg: "bad"}, "p.toml:2: bad"},
	}
	for _, c := range cases {
		if got := c.e.Error(); got != c.want {
			t.Errorf("Error() = %q, want %q", got, c.want)
		}
	}
	_, err := Parse("p.toml", doc(`[tables.x]`, `retention = 90`))
	if want := `p.toml:2: tables.x.retention: must be a string like "90d"`; err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("joined error = %v, want prefix %q", err, want)
	}
}

// Type mismatches name the TOML type found.
func TestTypeNamesInMessages(t *testing.T) {
	_, err := Parse("p.toml", doc(
		`[tables.x]`,
		`retention = 1979-05-27`,
		`time_column = { a = 1 }`,
		`permanent = 1.5`,
		`[backup]`,
		`dir = ["a"]`,
		`keep_daily = 7.0`,
		`[[targets]]`,
	))
	want := []struct {
		line     int
		key, msg string
	}{
		{2, "tables.x.retention", "not a date-time"},
		{3, "tables.x.time_column", "not a table"},
		{4, "tables.x.permanent", "not a float"},
		{6, "backup.dir", "not an array"},
		{7, "backup.keep_daily", "not a float"},
		{8, "targets", "not an array of tables"},
	}
	got := configErrors(t, err)
	if len(got) != len(want) {
		t.Fatalf("got %d errors, want %d: %v", len(got), len(want), err)
	}
	for i, w := range want {
		if g := got[i]; g.Line != w.line || g.Key != w.key || !strings.Contains(g.Msg, w.msg) {
			t.Errorf("error %d = %v; want line %d key %s msg ~%q", i, g, w.line, w.key, w.msg)
		}
	}
}
