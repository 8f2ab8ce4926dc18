package tui

import (
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/pgtend/pgtend/ops/report"
)

// withManagers gives the fixture other retention managers, as the report
// reads them: a TimescaleDB policy tighter than pgtend's on ml_features,
// one on a table pgtend keeps for good, and a pg_partman set that agrees
// with pgtend but kept what it detached.
func withManagers(r *report.Report) *report.Report {
	for i := range r.Tables {
		t := &r.Tables[i]
		switch t.Name {
		case "ml_features":
			t.RetentionManagedBy = []report.RetentionManager{{By: report.ManagerTimescale, Setting: "drop_after", Retention: "30 days",
				RetentionDays: ptr(30), JobID: ptr(1000), Schedule: ptr("1 day"), Active: true}}
		case "multi_resolution_bars":
			t.RetentionManagedBy = []report.RetentionManager{{By: report.ManagerTimescale, Setting: "drop_after", Retention: "60 days",
				RetentionDays: ptr(60), JobID: ptr(1001), Schedule: ptr("1 day")}}
		}
	}
	part, plain := report.KindPartitioned, report.KindTable
	r.Tables = append(r.Tables,
		report.Table{Schema: "public", Name: "fills", Kind: &part, InPolicy: true, RetentionDays: ptr(30), Chunks: 30,
			TotalBytes: ptr(900 * mib), TableBytes: ptr(700 * mib), IndexBytes: ptr(200 * mib), ToastBytes: ptr(int64(0)), ExpiredBytes: ptr(int64(0)),
			RowEstimate: 9_000_000, TimeColumn: ptr("ts"),
			RetentionManagedBy: []report.RetentionManager{{By: report.ManagerPartman, Setting: "retention", Retention: "30 days",
				RetentionDays: ptr(30), Active: true, KeepTable: ptr(true)}}},
	)
	for _, day := range []string{"2026_10_27", "2026_10_28"} {
		r.Tables = append(r.Tables, report.Table{Schema: "public", Name: "fills_p" + day, Kind: &plain,
			TotalBytes: ptr(30 * mib), TableBytes: ptr(22 * mib), IndexBytes: ptr(8 * mib), ToastBytes: ptr(int64(0)), RowEstimate: 300_000})
		r.DetachedTables = append(r.DetachedTables, report.DetachedTable{Schema: "public", Name: "fills_p" + day,
			ParentSchema: "public", Parent: "fills", By: report.ManagerPartman, TotalBytes: ptr(30 * mib)})
	}
	warn := func(table, code, text string) report.Warning {
		return report.Warning{Schema: ptr("public"), Table: ptr(table), Code: code, Text: text}
	}
	r.Warnings = append(r.Warnings,
		warn("ml_features", report.WarnRetentionTighter, "TimescaleDB's retention policy (job 1000, drop_after 30 days) is tighter than pgtend's 365d: it wins, silently"),
		warn("multi_resolution_bars", report.WarnPermanentManaged, "pgtend's policy keeps this table for good, but TimescaleDB's retention policy (job 1001, paused, drop_after 60 days) drops its data older than 60 days"),
		warn("fills", report.WarnDetachedKept, "pg_partman kept the 2 partitions it detached (retention_keep_table): 60 MiB still on disk, outside the partition set"),
	)
	return r
}

// TestGoldenRetentionManagers draws the Tables pane of a database where
// TimescaleDB and pg_partman drop data too: the marker in the RETENTION
// cell at 80 columns, the MANAGED BY column where the pane is wider, "!"
// on the rows with a warning, and the notes on the selected table.
func TestGoldenRetentionManagers(t *testing.T) {
	for _, tc := range []struct {
		name  string
		w, h  int
		ascii bool
		keys  []string
	}{
		{name: "80x24-first-row", w: 80, h: 24},
		{name: "80x24-tighter-policy", w: 80, h: 24, keys: []string{"j", "j"}},
		{name: "80x24-permanent-managed", w: 80, h: 24, keys: []string{"j", "j", "j"}},
		{name: "80x24-kept-partitions", w: 80, h: 24, keys: []string{"j", "j", "j", "j"}},
		{name: "80x24-ascii", w: 80, h: 24, ascii: true, keys: []string{"j", "j"}},
		{name: "120x30-tighter-policy", w: 120, h: 30, keys: []string{"j", "j"}},
		{name: "160x48-kept-partitions", w: 160, h: 48, keys: []string{"j", "j", "j", "j"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, _ := newTestModel(&fakeDB{edit: withManagers}, func(o *Options) { o.ASCII = tc.ascii })
			start(t, m, tc.w, tc.h)
			press(m, tc.keys...)
			out := render(t, m, colorprofile.TrueColor)
			checkFrame(t, out, tc.w, tc.h)
			golden.RequireEqual(t, out)
		})
	}
}

// The marks and notes, read as text: what each layout must say.
func TestTablesPaneShowsRetentionManagers(t *testing.T) {
	m, _ := newTestModel(&fakeDB{edit: withManagers})
	start(t, m, 80, 24)
	screen := plain(t, m)
	for _, want := range []string{
		"365d·tsdb", "perm·tsdb", "30d·pman", "kept", // the managers in the RETENTION cell, the kept tables' kind
		"retention also managed elsewhere: ml_features, multi_resolution_bars, fills",
		"! marks a table with a warning",
	} {
		if !strings.Contains(screen, want) {
			t.Errorf("80x24 lacks %q:\n%s", want, screen)
		}
	}
	row := func(screen, name string) string {
		for _, l := range strings.Split(screen, "\n") {
			if f := strings.Fields(strings.Trim(l, "│")); len(f) > 0 && strings.TrimLeft(f[0], "›!") == name || len(f) > 1 && f[1] == name {
				return l
			}
		}
		t.Fatalf("no row %s:\n%s", name, screen)
		return ""
	}
	for name, warned := range map[string]bool{"ml_features": true, "multi_resolution_bars": true, "fills": true, "option_chain_snapshots": false, "fills_p2026_10_27": false} {
		if got := strings.Contains(row(screen, name), "!"+name); got != warned {
			t.Errorf("%s: warning mark %v, want %v: %q", name, got, warned, row(screen, name))
		}
	}

	for selectedTable(m) != "ml_features" {
		press(m, "j")
	}
	screen = plain(t, m)
	joined := flowed(screen)
	for _, want := range []string{
		"ml_features: TimescaleDB's retention policy drops chunks older than 30 days (job 1000, every 1 day)",
		"! TimescaleDB's retention policy (job 1000, drop_after 30 days) is tighter than pgtend's 365d: it wins, silently",
	} {
		if !strings.Contains(joined, want) {
			t.Errorf("notes on ml_features lack %q:\n%s", want, screen)
		}
	}

	// Wide enough for its own column, the manager leaves the RETENTION cell.
	m.Update(tea.WindowSizeMsg{Width: 130, Height: 30})
	screen = plain(t, m)
	if !strings.Contains(screen, "MANAGED BY") || !strings.Contains(screen, "TimescaleDB 30d") || strings.Contains(screen, "·tsdb") ||
		!strings.Contains(screen, "TimescaleDB 60d paused") || !strings.Contains(screen, "pg_partman 30d") {
		t.Errorf("130 columns:\n%s", screen)
	}

	// A warning about no table is shown on every table.
	db := &fakeDB{edit: func(r *report.Report) *report.Report {
		r.Warnings = append(r.Warnings, report.Warning{Code: report.WarnManagersUnreadable,
			Text: "pg_partman is installed, but this role may not read partman.part_config: the tables it manages are not shown as managed"})
		return r
	}}
	m, _ = newTestModel(db)
	start(t, m, 80, 24)
	if screen = flowed(plain(t, m)); !strings.Contains(screen, "! pg_partman is installed, but this role may not read partman.part_config") {
		t.Errorf("database warning missing:\n%s", plain(t, m))
	}
}

// withoutAggregates leaves the fixture's continuous aggregate out.
func withoutAggregates(r *report.Report) *report.Report {
	var tables []report.Table
	for _, t := range r.Tables {
		if t.Aggregate == nil {
			t.AggregatedBy = nil
			tables = append(tables, t)
		}
	}
	r.Tables = tables
	return r
}

// Without other managers nothing is reserved: the list keeps every line
// but the footer's.
func TestNoManagersNoNotes(t *testing.T) {
	m, _ := newTestModel(&fakeDB{edit: withoutAggregates})
	start(t, m, 80, 24)
	if h := m.tables.notesHeight(); h != 0 || m.tables.footerHeight() != 1 || m.tables.listHeight() != m.tables.height-3 {
		t.Errorf("notes height %d, list height %d of %d", h, m.tables.listHeight(), m.tables.height)
	}
	// And a short pane keeps its rows rather than notes.
	m, _ = newTestModel(&fakeDB{edit: withManagers})
	start(t, m, 80, 10)
	if h := m.tables.notesHeight(); h != 0 {
		t.Errorf("at 80x10 the notes take %d lines", h)
	}
	checkFrame(t, m.View().Content, 80, 10)
}

// flowed is the screen's text inside the border as one line, words apart
// by one space: wrapped notes read whole.
func flowed(screen string) string {
	var words []string
	for _, l := range strings.Split(screen, "\n") {
		words = append(words, strings.Fields(strings.Trim(l, "│|"))...)
	}
	return strings.Join(words, " ")
}
