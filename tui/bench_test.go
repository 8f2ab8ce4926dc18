package tui

import (
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/pgtend/pgtend/ops/report"
)

// Benchmarks, not timed assertions: the README quotes their numbers.
// go test ./tui/ -run '^$' -bench . -benchmem

// spread5000 puts 1,000 chunks in each of the five hypertables.
func spread5000(hyperSpec) int { return 1000 }

// one5000 puts all 5,000 chunks in option_chain_snapshots.
func one5000(h hyperSpec) int {
	if h.id == 1 {
		return 5000
	}
	return 0
}

func benchModel(b *testing.B, r *report.Report, w, h int) *Model {
	b.Helper()
	m, _ := newTestModel(&fakeDB{})
	m.Update(tea.WindowSizeMsg{Width: w, Height: h})
	m.Update(reportMsg{seq: m.loadSeq, report: r})
	if m.report == nil {
		b.Fatal("report not applied")
	}
	return m
}

func BenchmarkViewTables5000Chunks(b *testing.B) {
	m := benchModel(b, sizedReport(0, spread5000), 160, 48)
	b.ReportAllocs()
	for b.Loop() {
		_ = m.View()
	}
}

func BenchmarkViewChunks5000(b *testing.B) {
	m := benchModel(b, sizedReport(0, one5000), 80, 24)
	press(m, "2", "G")
	if len(m.chunks.rows) != 5000 {
		b.Fatalf("%d chunks listed", len(m.chunks.rows))
	}
	b.ReportAllocs()
	for b.Loop() {
		_ = m.View()
	}
}

// BenchmarkSetReport applies a refresh of 5,000 chunks.
func BenchmarkSetReport(b *testing.B) {
	reports := []*report.Report{sizedReport(0, spread5000), sizedReport(1, spread5000)}
	m := benchModel(b, reports[0], 160, 48)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		m.loading, m.loadSeq = false, m.loadSeq+1
		m.gotReport(reportMsg{seq: m.loadSeq, report: reports[i%2]})
	}
}

// BenchmarkFirstFrame is "the console starts to a full first frame",
// without the database: New, the window size, the first report, View.
func BenchmarkFirstFrame(b *testing.B) {
	r := fixtureReport(0)
	b.ReportAllocs()
	for b.Loop() {
		m := New(Options{Load: (&fakeDB{}).load, Now: func() time.Time { return fixtureNow }})
		m.Init()
		m.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
		m.Update(reportMsg{seq: m.loadSeq, report: r})
		if v := m.View(); v.Content == "" {
			b.Fatal("empty frame")
		}
	}
}
