package text

import (
	"strings"
	"testing"
	"time"

	"github.com/pgtend/pgtend/ops/report"
	"github.com/pgtend/pgtend/ops/triage"
)

func TestWriteTriageSaysWhenSpaceComesBack(t *testing.T) {
	total, free, days, bought := int64(100<<30), int64(5<<30), 12.5, 3.0
	tr := &triage.Triage{GeneratedAt: time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC), Database: "trading\x1b[31m",
		Filesystem: triage.Filesystem{Path: ptr("/var/lib/postgresql"), TotalBytes: &total, FreeBytes: &free}, DaysUntilFull: &days,
		GrowthPerDay: float64(400 << 20), GrowthBasis: "measured from the sizes pgtend stored",
		Options: []triage.Option{
			{Kind: triage.KindReplicationSlot, Object: "old_replica", Bytes: 2 << 30, Frees: triage.FreesCheckpoint, Estimate: true, Locks: "none",
				Action: ptr("pgtend run drop-slot --slot old_replica"), DaysBought: &bought},
			{Kind: triage.KindBloat, Schema: ptr("public"), Table: ptr("fat"), Object: "rewrite (pg_repack)", Bytes: 1 << 30, Frees: triage.FreesNeedsFreeSpace,
				NeedsFreeBytes: 9 << 30, Estimate: true, Locks: "ACCESS EXCLUSIVE briefly", Blocked: "blocked: needs 9.0 GiB free"},
			{Kind: triage.KindCompress, Schema: ptr("public"), Table: ptr("quotes"), Object: "2 chunks older than 3 days", Bytes: 900 << 20, Frees: triage.FreesNow,
				NeedsFreeBytes: 128 << 20, Estimate: true, Locks: "EXCLUSIVE", Parts: []triage.Part{
					{Name: "_timescaledb_internal._hyper_1_2_chunk", Size: 640 << 20, Bytes: 576 << 20, NeedsFreeBytes: 128 << 20},
					{Name: "_timescaledb_internal._hyper_1_3_chunk\x1b[2J", Size: 360 << 20, Bytes: 324 << 20, NeedsFreeBytes: 72 << 20}}},
		}}
	var b strings.Builder
	if err := WriteTriage(&b, tr); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"95% used", "full in about 12 d", "replication slot old_replica — ~2.0 GiB, back at the next checkpoint, buys 3 d",
		"→ pgtend run drop-slot --slot old_replica", "bloat public.fat: rewrite (pg_repack) — ~1.0 GiB, back only after a rewrite that first needs room", "needs 9.0 GiB free while it runs", "→ blocked: needs 9.0 GiB free",
		"      - _timescaledb_internal._hyper_1_2_chunk: 640 MiB, frees ~576 MiB, needs ~128 MiB free\n      - _timescaledb_internal._hyper_1_3_chunk"} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in\n%s", want, out)
		}
	}
	if strings.Contains(out, "\x1b") {
		t.Error("a control character from the database reached the output")
	}
}

func TestPrometheusEscapesLabels(t *testing.T) {
	r := &report.Report{GeneratedAt: time.Unix(1700000000, 0), Server: report.Server{Database: "a\"b\\c\nd"}}
	var b strings.Builder
	if err := WritePrometheus(&b, r, nil); err != nil {
		t.Fatal(err)
	}
	if want := `pgtend_report_timestamp_seconds{database="a\"b\\c\nd"} 1700000000`; !strings.Contains(b.String(), want) {
		t.Errorf("want %s in\n%s", want, b.String())
	}
}
