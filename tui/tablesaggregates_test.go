package tui

import (
	"strings"
	"testing"
)

// words is the screen's text as one line of words, borders left out: notes
// wrapped over lines read as written.
func words(screen string) string {
	return strings.Join(strings.Fields(strings.NewReplacer("┃", " ", "│", " ", "|", " ").Replace(screen)), " ")
}

// A continuous aggregate's notes say what it aggregates and how its
// refresh goes; its source's, that it is aggregated; the footer
// reconciles the database's size.
func TestTablesShowAggregatesAndEveryByte(t *testing.T) {
	m, _ := newTestModel(&fakeDB{})
	start(t, m, 80, 24)
	screen := words(plain(t, m))
	for _, want := range []string{"option_chain_daily cagg 184 MiB", "continuous aggregates: option_chain_daily (of option_chain_snapshots)",
		"listed tables 103 GiB + unlisted 122 MiB = database 103 GiB"} {
		if !strings.Contains(screen, want) {
			t.Errorf("screen lacks %q:\n%s", want, plain(t, m))
		}
	}
	press(m, "j", "j", "j", "j", "j")
	if selectedTable(m) != "option_chain_daily" {
		t.Fatalf("cursor on %q", selectedTable(m))
	}
	if screen := words(plain(t, m)); !strings.Contains(screen, "option_chain_daily: continuous aggregate of option_chain_snapshots, refreshed every 01:00:00 over 30 days … 01:00:00 ago (job 1000); last refresh 30m ago succeeded") {
		t.Errorf("the aggregate's notes:\n%s", plain(t, m))
	}
	press(m, "k", "k", "k", "k")
	if selectedTable(m) != "option_chain_snapshots" {
		t.Fatalf("cursor on %q", selectedTable(m))
	}
	if screen := words(plain(t, m)); !strings.Contains(screen, "option_chain_snapshots: aggregated by option_chain_daily; its retention must stay older than their refresh windows") {
		t.Errorf("the source's notes:\n%s", plain(t, m))
	}
	// The unlisted groups that fit, largest first.
	a := accountingOf(fixtureReport(0))
	for width, want := range map[int]string{
		200: a.line + " (catalogs 96 MiB, TimescaleDB 24 MiB, sequences 2.0 MiB, files 300 KiB)",
		100: a.line + " (catalogs 96 MiB, TimescaleDB 24 MiB, …)",
		60:  a.line,
	} {
		if got := a.footerLine(width, "…"); got != want {
			t.Errorf("footer in %d cells: %q, want %q", width, got, want)
		}
	}
}
