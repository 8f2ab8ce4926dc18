package config

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

// The example from the format description parses to exactly these values.
func TestParseExample(t *testing.T) {
	c := mustParse(t, []byte(`
# statement/lock timeouts used for catalog reads and maintenance
[connection]
statement_timeout = "30s"
lock_timeout = "2s"
maintenance_lock_timeout = "5s"

[tables.option_chain_snapshots]
time_column = "timestamp"
retention = "90d"
expected_growth = "50 MB/day"
compress_after = "7d"
segment_by = ["exchange"]

[tables.trade_history]
permanent = true
expected_growth = "100 KB/day"

[tables."analytics.bars"]
retention = "12 weeks"

[backup]
dir = "/var/backups/pgtend"
keep_daily = 7

[archive]
dirs = ["models/", "trade_logs/"]
dest = "/var/backups/pgtend/archive"

[targets.prod]
dsn = "service=oi_prod"
[targets.prod.tables.option_chain_snapshots]
time_column = "timestamp"
retention = "30d"
`))
	want := Policy{
		Source:     "test.toml",
		Connection: Connection{30 * time.Second, 2 * time.Second, 5 * time.Second},
		Tables: []TablePolicy{
			{Name: "analytics.bars", RetentionDays: 84},
			{Name: "option_chain_snapshots", TimeColumn: "timestamp", RetentionDays: 90, ExpectedGrowthPerDay: 50_000_000, CompressAfterDays: 7, SegmentBy: []string{"exchange"}},
			{Name: "trade_history", Permanent: true, ExpectedGrowthPerDay: 100_000},
		},
		Backup:  Backup{Dir: "/var/backups/pgtend", KeepDaily: 7},
		Archive: Archive{Dirs: []string{"models/", "trade_logs/"}, Dest: "/var/backups/pgtend/archive"},
	}
	if c.Source != "test.toml" || !reflect.DeepEqual(c.Policy, want) {
		t.Errorf("policy =\n%+v\nwant\n%+v", c.Policy, want)
	}
	prod, ok := c.Targets["prod"]
	if !ok || prod.Name != "prod" || prod.DSN != "service=oi_prod" {
		t.Fatalf("targets = %+v", c.Targets)
	}
	wantProd := want.clone()
	wantProd.Source = "test.toml (target prod)"
	wantProd.Tables = []TablePolicy{{Name: "option_chain_snapshots", TimeColumn: "timestamp", RetentionDays: 30}}
	if !reflect.DeepEqual(prod.Policy, wantProd) {
		t.Errorf("prod policy =\n%+v\nwant\n%+v", prod.Policy, wantProd)
	}
}

func TestParseDurationSpellings(t *testing.T) {
	c := mustParse(t, doc(
		`[tables.a]`, `retention = "90 days"`,
		`[tables.b]`, `retention = "1 day"`,
		`[tables.c]`, `retention = "12w"`, `compress_after = "1 week"`,
		`[tables.d]`, `retention = "12 weeks"`, `expected_growth = "2 MiB"`,
	))
	got := map[string][2]int{}
	for _, tp := range c.Policy.Tables {
		got[tp.Name] = [2]int{tp.RetentionDays, tp.CompressAfterDays}
	}
	want := map[string][2]int{"a": {90, 0}, "b": {1, 0}, "c": {84, 7}, "d": {84, 0}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("days = %v, want %v", got, want)
	}
	if d, _ := c.Policy.Table("d"); d.ExpectedGrowthPerDay != 2<<20 {
		t.Errorf("growth without /day = %d", d.ExpectedGrowthPerDay)
	}
}

func TestParseMinimal(t *testing.T) {
	for _, in := range []string{"", "# nothing\n", "[tables]\n"} {
		c := mustParse(t, []byte(in))
		want := Policy{Source: "test.toml", Connection: DefaultConnection}
		if !reflect.DeepEqual(c.Policy, want) || len(c.Targets) != 0 || c.Targets == nil {
			t.Errorf("Parse(%q) = %+v, want %+v and an empty Targets map", in, c, want)
		}
	}
	// A partial [connection] keeps the defaults for keys it leaves out.
	c := mustParse(t, doc(`[connection]`, `lock_timeout = "750ms"`))
	want := DefaultConnection
	want.LockTimeout = 750 * time.Millisecond
	if c.Policy.Connection != want {
		t.Errorf("connection = %+v, want %+v", c.Policy.Connection, want)
	}
}

// Compression is allowed on permanent tables; only retention is not.
func TestPermanentWithCompression(t *testing.T) {
	c := mustParse(t, doc(`[tables.t]`, `permanent = true`, `compress_after = "30d"`, `segment_by = ["acct"]`))
	tp, _ := c.Policy.Table("t")
	if !tp.Permanent || tp.CompressAfterDays != 30 || tp.RetentionDays != 0 {
		t.Errorf("table = %+v", tp)
	}
}

// "x" and "other.x" are different tables; only public.x duplicates x.
func TestQualifiedNamesAreKept(t *testing.T) {
	c := mustParse(t, doc(`[tables.x]`, `[tables."analytics.x"]`))
	var names []string
	for _, tp := range c.Policy.Tables {
		names = append(names, tp.Name)
	}
	if !reflect.DeepEqual(names, []string{"analytics.x", "x"}) {
		t.Errorf("names = %q", names)
	}
	if _, ok := c.Policy.Table("public.x"); ok {
		t.Error(`Table("public.x") matched "x": Table must match exactly`)
	}
}

func TestTargetsMerge(t *testing.T) {
	c := mustParse(t, doc(
		`[connection]`,
		`statement_timeout = "10s"`,
		`[tables.a]`, `retention = "10d"`,
		`[tables.b]`, `retention = "20d"`, `segment_by = ["s"]`,
		`[backup]`, `dir = "/top"`, `keep_daily = 3`,
		`[archive]`, `dirs = ["m/"]`, `dest = "/arch"`,

		`[targets.inherit]`, `dsn = "service=i"`,

		`[targets.own_tables]`, `dsn = "service=o"`,
		`[targets.own_tables.tables.c]`, `retention = "5d"`,

		`[targets.no_tables]`, `dsn = "service=n"`,
		`[targets.no_tables.tables]`,

		`[targets.own_rest]`, `dsn = "service=r"`,
		`[targets.own_rest.connection]`, `lock_timeout = "1s"`,
		`[targets.own_rest.backup]`, `dir = "/r"`, `keep_daily = 9`,
		`[targets.own_rest.archive]`, `dirs = ["x/"]`, `dest = "/rx"`,
	))
	top := c.Policy
	names := func(p Policy) (out []string) {
		for _, t := range p.Tables {
			out = append(out, t.Name)
		}
		return out
	}
	if got := c.TargetNames(); !reflect.DeepEqual(got, []string{"inherit", "no_tables", "own_rest", "own_tables"}) {
		t.Errorf("TargetNames = %q", got)
	}

	inh := c.Targets["inherit"].Policy
	inh.Source = top.Source
	if !reflect.DeepEqual(inh, top) {
		t.Errorf("target without policy sections should equal the top-level policy:\n%+v\n%+v", inh, top)
	}

	own := c.Targets["own_tables"].Policy
	if got := names(own); !reflect.DeepEqual(got, []string{"c"}) {
		t.Errorf("own_tables tables = %q, want only c (replaced, not merged)", got)
	}
	if own.Backup != top.Backup || own.Connection != top.Connection || !reflect.DeepEqual(own.Archive, top.Archive) {
		t.Errorf("own_tables should inherit backup/archive/connection: %+v", own)
	}

	if got := c.Targets["no_tables"].Policy.Tables; got != nil {
		t.Errorf("an empty [targets.x.tables] should replace with no tables, got %+v", got)
	}

	rest := c.Targets["own_rest"].Policy
	if got := names(rest); !reflect.DeepEqual(got, []string{"a", "b"}) {
		t.Errorf("own_rest tables = %q, want inherited a, b", got)
	}
	// The target's [connection] replaces the top-level one: keys it omits
	// come from the built-in defaults, not from the top-level section.
	wantConn := DefaultConnection
	wantConn.LockTimeout = time.Second
	if rest.Connection != wantConn {
		t.Errorf("own_rest connection = %+v, want %+v", rest.Connection, wantConn)
	}
	if rest.Backup != (Backup{Dir: "/r", KeepDaily: 9}) || !reflect.DeepEqual(rest.Archive, Archive{Dirs: []string{"x/"}, Dest: "/rx"}) {
		t.Errorf("own_rest backup/archive = %+v %+v", rest.Backup, rest.Archive)
	}
	if rest.Source != "test.toml (target own_rest)" {
		t.Errorf("target Source = %q", rest.Source)
	}

	// Targets get their own copies: changing one never changes another.
	c.Targets["inherit"].Policy.Tables[1].SegmentBy[0] = "changed"
	c.Targets["inherit"].Policy.Archive.Dirs[0] = "changed"
	if c.Policy.Tables[1].SegmentBy[0] != "s" || c.Policy.Archive.Dirs[0] != "m/" {
		t.Error("target policy shares slices with the top-level policy")
	}
}

func TestResolve(t *testing.T) {
	c := mustParse(t, doc(
		`[tables.a]`, `retention = "10d"`,
		`[targets.prod]`, `dsn = "service=prod"`, `[targets.prod.tables.b]`,
		`[targets.dev]`, `dsn = "postgres://localhost/dev"`,
	))
	dsn, p, err := c.Resolve("")
	if err != nil || dsn != "" || !reflect.DeepEqual(p, c.Policy) {
		t.Errorf(`Resolve("") = %q, %+v, %v`, dsn, p, err)
	}
	dsn, p, err = c.Resolve("prod")
	if err != nil || dsn != "service=prod" || len(p.Tables) != 1 || p.Tables[0].Name != "b" {
		t.Errorf(`Resolve("prod") = %q, %+v, %v`, dsn, p, err)
	}
	_, _, err = c.Resolve("staging")
	if err == nil || err.Error() != `unknown target "staging": test.toml defines dev, prod` {
		t.Errorf(`Resolve("staging") error = %v`, err)
	}
	_, _, err = Default().Resolve("prod")
	if err == nil || !strings.Contains(err.Error(), "built-in default defines no targets") {
		t.Errorf("Resolve on a config without targets: %v", err)
	}
}
