package text

import (
	"strings"
	"testing"

	"github.com/pgtend/pgtend/ops/report"
)

func ptr[T any](v T) *T { return &v }

// Other retention managers, the warnings and pg_partman's kept tables get
// their sections; a report without them prints none.
func TestTextReportShowsRetentionManagers(t *testing.T) {
	hyper, part, plain := report.KindHypertable, report.KindPartitioned, report.KindTable
	r := &report.Report{Disk: report.Disk{Reason: "elsewhere"}, Tables: []report.Table{
		{Schema: "public", Name: "metrics", Kind: &hyper, RetentionDays: ptr(90), RetentionManagedBy: []report.RetentionManager{{
			By: report.ManagerTimescale, Setting: "drop_after", Retention: "30 days", RetentionDays: ptr(30), JobID: ptr(1000), Schedule: ptr("1 day"), Active: true}}},
		{Schema: "public", Name: "events", Kind: &part, RetentionManagedBy: []report.RetentionManager{{
			By: report.ManagerPartman, Setting: "retention", Retention: "5 days", RetentionDays: ptr(5), Active: true, KeepTable: ptr(true), RetentionSchema: ptr("archive")}}},
		{Schema: "archive", Name: "events_p2026_11_01", Kind: &plain, TotalBytes: ptr(int64(3 << 20))},
	},
		Warnings: []report.Warning{
			{Schema: ptr("public"), Table: ptr("metrics"), Code: report.WarnRetentionTighter, Text: "TimescaleDB's retention policy (job 1000, drop_after 30 days) is tighter than pgtend's 90d: it wins, silently"},
			{Code: report.WarnManagersUnreadable, Text: "pg_partman is installed, but this role may not read partman.part_config"},
		},
		DetachedTables: []report.DetachedTable{{Schema: "archive", Name: "events_p2026_11_01", ParentSchema: "public", Parent: "events", By: report.ManagerPartman, TotalBytes: ptr(int64(3 << 20))}},
	}
	var b strings.Builder
	if err := WriteReport(&b, r); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"Retention managed elsewhere (the tighter retention wins)",
		"public.metrics  TimescaleDB  drop_after 30 days  90d       1000  1 day     yes     —",
		"public.events   pg_partman   retention 5 days    none         —  —         yes     yes, in archive",
		"  public.metrics: TimescaleDB's retention policy (job 1000, drop_after 30 days) is tighter than pgtend's 90d: it wins, silently\n",
		"  pg_partman is installed, but this role may not read partman.part_config\n",
		"Detached by pg_partman and kept (retention_keep_table): still on disk",
		"archive.events_p2026_11_01  public.events  3.0 MiB",
		"table (detached)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}

	b.Reset()
	if err := WriteReport(&b, &report.Report{Disk: report.Disk{Reason: "elsewhere"}, Tables: []report.Table{{Schema: "public", Name: "plain", Kind: &plain}}}); err != nil {
		t.Fatal(err)
	}
	for _, section := range []string{"Retention managed elsewhere", "Warnings", "Detached by pg_partman"} {
		if strings.Contains(b.String(), section) {
			t.Errorf("a report without managers has a %q section:\n%s", section, b.String())
		}
	}
}
