package config

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
)

// [reindex], [disk] and a table's order_by: read, defaulted, replaced by
// a target's, and written back by Encode exactly.
func TestReindexDiskAndOrderBy(t *testing.T) {
	bare := mustParse(t, doc(`[tables.x]`, `time_column = "ts"`))
	if bare.Policy.Reindex != (Reindex{}) || bare.Policy.Disk != (Disk{}) {
		t.Errorf("no sections: %+v %+v", bare.Policy.Reindex, bare.Policy.Disk)
	}
	if got := bare.Policy.Reindex.Effective(); got != DefaultReindex || got.MinBloatPercent != 30 || got.MinBloatBytes != 10_000_000 {
		t.Errorf("default threshold %+v", got)
	}
	if bare.Policy.Disk.Effective().KeepFreeBytes != 1_000_000_000 {
		t.Errorf("default keep_free %+v", bare.Policy.Disk.Effective())
	}
	c := mustParse(t, doc(
		`[tables.x]`,
		`compress_after = "7d"`,
		`segment_by = ["exchange"]`,
		`order_by = ["timestamp DESC", "symbol"]`,
		`[reindex]`,
		`min_bloat = "45%"`,
		`[disk]`,
		`keep_free = "512 MiB"`,
		`[targets.p]`,
		`dsn = "x"`,
		`[targets.p.reindex]`,
		`min_bloat_size = "1 GB"`,
	))
	p := c.Policy
	if p.Reindex != (Reindex{MinBloatPercent: 45, MinBloatBytes: 10_000_000}) || p.Disk.KeepFreeBytes != 512<<20 {
		t.Errorf("read %+v %+v", p.Reindex, p.Disk)
	}
	if !reflect.DeepEqual(p.Tables[0].OrderBy, []string{"timestamp DESC", "symbol"}) {
		t.Errorf("order_by %q", p.Tables[0].OrderBy)
	}
	// The target's [reindex] replaces the top-level one wholesale; its
	// [disk] is inherited.
	tp := c.Targets["p"].Policy
	if tp.Reindex != (Reindex{MinBloatPercent: 30, MinBloatBytes: 1_000_000_000}) || tp.Disk != p.Disk {
		t.Errorf("target %+v %+v", tp.Reindex, tp.Disk)
	}
	for _, pol := range []Policy{p, tp} {
		if got := roundTrip(t, pol); !reflect.DeepEqual(got, pol) {
			t.Errorf("round trip:\n got %+v\nwant %+v", got, pol)
		}
	}
	var b bytes.Buffer
	if err := p.Encode(&b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"[reindex]\nmin_bloat = \"45%\"\nmin_bloat_size = \"10 MB\"", "[disk]\nkeep_free = \"512 MiB\"", `order_by = ["timestamp DESC", "symbol"]`} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("encoded policy lacks %q:\n%s", want, b.String())
		}
	}
	// A policy without them writes neither section.
	b.Reset()
	if err := bare.Policy.Encode(&b); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), "[reindex]") || strings.Contains(b.String(), "[disk]") {
		t.Errorf("sections the policy does not set were written:\n%s", b.String())
	}
}

func TestReindexDiskErrors(t *testing.T) {
	_, err := Parse("pol.toml", doc(
		`[reindex]`,
		`min_bloat = "30"`,
		`min_bloat_size = "-1 MB"`,
		`bloat = "x"`,
		`[disk]`,
		`keep_free = "0 B"`,
		`[tables.x]`,
		`order_by = ["ts", ""]`,
	))
	got := configErrors(t, err)
	want := []struct {
		line     int
		key, msg string
	}{
		{2, "reindex.min_bloat", `bad percentage "30"`},
		{3, "reindex.min_bloat_size", "must not be negative"},
		{4, "reindex.bloat", "unknown key (expected one of: min_bloat, min_bloat_size)"},
		{6, "disk.keep_free", "must be at least 1 B"},
		{8, "tables.x.order_by", "entry 2 is an empty string"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d errors, want %d: %v", len(got), len(want), err)
	}
	for i, w := range want {
		if g := got[i]; g.Line != w.line || g.Key != w.key || !strings.Contains(g.Msg, w.msg) {
			t.Errorf("error %d = {%d %q %q}, want {%d %q containing %q}", i, g.Line, g.Key, g.Msg, w.line, w.key, w.msg)
		}
	}
	for _, bad := range []string{"0%", "101%", "12.5%"} {
		if _, err := parsePercent(bad); err == nil {
			t.Errorf("parsePercent(%q) accepted", bad)
		}
	}
}

func TestDiskTriageAt(t *testing.T) {
	pol, err := Parse("x.toml", []byte("[disk]\ntriage_at = \"75%\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if d := pol.Policy.Disk.Effective(); d.TriageAtPercent != 75 || d.KeepFreeBytes != DefaultDisk.KeepFreeBytes {
		t.Errorf("triage_at 75%%: %+v", d)
	}
	if (Disk{}).Effective().TriageAtPercent != 90 {
		t.Error("default triage_at is not 90%")
	}
	if _, err := Parse("x.toml", []byte("[disk]\ntriage_at = \"120%\"\n")); err == nil || !strings.Contains(err.Error(), "triage_at") {
		t.Errorf("triage_at 120%%: %v", err)
	}
}
