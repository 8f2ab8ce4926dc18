package tui

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/pgtend/pgtend/ops/report"
)

// styleStart is the escape sequence a style opens with in TrueColor.
func styleStart(t *testing.T, m *Model, pick func(*Model) string) string {
	t.Helper()
	s := pick(m)
	i := strings.Index(s, "x")
	if i <= 0 {
		t.Fatalf("style draws nothing around the text: %q", s)
	}
	return s[:i]
}

func TestRefreshKeepsCursorAndHighlights(t *testing.T) {
	db := &fakeDB{}
	m, clock := newTestModel(db)
	start(t, m, 80, 24)
	press(m, "j", "j") // ml_features, third by size
	if selectedTable(m) != "ml_features" || m.tables.cursor.index != 2 {
		t.Fatalf("cursor on %q at %d", selectedTable(m), m.tables.cursor.index)
	}
	// The next refresh finds ml_features grown past everything else.
	db.edit = func(r *report.Report) *report.Report {
		for i := range r.Tables {
			if r.Tables[i].Name == "ml_features" {
				r.Tables[i].TotalBytes = ptr(100 * gib)
			}
		}
		return r
	}
	clock.advance(5 * time.Second)
	reload(t, m)
	if selectedTable(m) != "ml_features" || m.tables.cursor.index != 0 {
		t.Fatalf("after the refresh the cursor is on %q at %d, want ml_features at 0", selectedTable(m), m.tables.cursor.index)
	}
	changed := styleStart(t, m, func(m *Model) string { return m.styles.Changed.Inherit(m.styles.Selected).Render("x") })
	v := render(t, m, colorprofile.TrueColor)
	line := lineWith(v, "ml_features")
	if !strings.Contains(line, changed+" 100 GiB") {
		t.Errorf("the changed size is not highlighted: %q", line)
	}
	if strings.Contains(lineWith(v, "macro_signals"), m.styles.Changed.Render(" 634 MiB")) {
		t.Error("an unchanged size is highlighted")
	}
	// The highlight fades: the clock keeps ticking until it has.
	_, cmd := m.Update(clockMsg{})
	if cmd == nil {
		t.Fatal("no clock while a highlight shows")
	}
	clock.advance(highlightFor)
	_, cmd = m.Update(clockMsg{})
	if strings.Contains(render(t, m, colorprofile.TrueColor), changed) {
		t.Error("highlight still shown after it should have faded")
	}
	if cmd != nil {
		t.Error("the clock keeps ticking with nothing to repaint")
	}
}

func lineWith(view, s string) string {
	for _, l := range strings.Split(view, "\n") {
		if strings.Contains(l, s) {
			return l
		}
	}
	return ""
}

func TestBackoff(t *testing.T) {
	want := []time.Duration{1, 2, 4, 8, 16, 30, 30, 30}
	for i, w := range want {
		if got := backoff(i + 1); got != w*time.Second {
			t.Errorf("failure %d: wait %s, want %s", i+1, got, w*time.Second)
		}
	}
}

func TestDisconnectAndReconnect(t *testing.T) {
	db := &fakeDB{}
	m, clock := newTestModel(db)
	start(t, m, 80, 24)
	press(m, "j")
	stale := styleStart(t, m, func(m *Model) string { return m.styles.Stale.Render("x") })

	db.set(0, true)
	for i, wait := range []string{"1s", "2s", "4s", "8s", "16s", "30s", "30s"} {
		clock.advance(time.Second)
		reload(t, m)
		v := render(t, m, colorprofile.TrueColor)
		checkFrame(t, v, 80, 24)
		p := plain(t, m)
		if !strings.Contains(p, "reconnecting in "+wait) {
			t.Fatalf("failure %d: header does not say reconnecting in %s:\n%s", i+1, wait, p)
		}
		if !strings.Contains(p, "connection refused") {
			t.Errorf("failure %d: the error is not shown", i+1)
		}
		// The last figures stay, greyed.
		if !strings.Contains(lineWith(v, "ml_features"), "  "+stale+"ml_features") {
			t.Errorf("failure %d: figures not greyed: %q", i+1, lineWith(v, "ml_features"))
		}
		if selectedTable(m) != "option_chain_snapshots" {
			t.Errorf("failure %d: cursor moved to %q", i+1, selectedTable(m))
		}
	}
	// The countdown runs with the clock, on one chain of ticks.
	if m.startClock() != nil {
		t.Error("a second clock started while one runs")
	}
	clock.advance(12 * time.Second)
	if _, cmd := m.Update(clockMsg{}); cmd == nil {
		t.Error("the countdown clock stopped while disconnected")
	}
	if p := plain(t, m); !strings.Contains(p, "reconnecting in 18s") {
		t.Errorf("countdown:\n%s", p)
	}
	// While the retry runs, the header says so instead of counting below zero.
	_, retry := m.Update(refreshMsg{seq: m.loadSeq})
	if p := plain(t, m); retry == nil || !strings.Contains(p, "reconnecting…") {
		t.Errorf("during the retry:\n%s", p)
	}
	m.Update(retry())
	// A refresh timer from before a manual refresh is ignored.
	if _, cmd := m.Update(refreshMsg{seq: m.loadSeq - 1}); cmd != nil {
		t.Error("a stale refresh timer started a load")
	}

	db.set(2, false)
	reload(t, m)
	p := plain(t, m)
	if strings.Contains(p, "reconnecting") || strings.Contains(p, "connection refused") || !strings.Contains(p, "connected") {
		t.Errorf("after reconnecting:\n%s", p)
	}
	if m.tables.stale || m.failures != 0 {
		t.Errorf("stale=%v failures=%d after reconnecting", m.tables.stale, m.failures)
	}
	if strings.Contains(render(t, m, colorprofile.TrueColor), "  "+stale+"ml_features") {
		t.Error("figures still greyed after reconnecting")
	}
	// The backoff starts over.
	db.set(2, true)
	reload(t, m)
	if p := plain(t, m); !strings.Contains(p, "reconnecting in 1s") {
		t.Errorf("backoff did not start over:\n%s", p)
	}
}

func TestFirstLoadFails(t *testing.T) {
	db := &fakeDB{down: true}
	m, _ := newTestModel(db)
	m.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
	m.Update(m.load()())
	p := plain(t, m)
	checkFrame(t, p, 80, 24)
	if !strings.Contains(p, "reconnecting in 1s") || !strings.Contains(p, "loading") {
		t.Errorf("first load failed:\n%s", p)
	}
	db.set(0, false)
	reload(t, m)
	if p := plain(t, m); !strings.Contains(p, "option_chain_snapshots") {
		t.Errorf("no figures after the database came back:\n%s", p)
	}
}

func TestNilReportIsAnError(t *testing.T) {
	m, _ := newTestModel(&fakeDB{})
	m.opts.Load = func(context.Context) (*report.Report, error) { return nil, nil }
	m.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
	m.Update(m.load()())
	if m.lastErr == nil {
		t.Error("a nil report without an error was taken as figures")
	}
}

// A report that takes long stretches the wait before the next one to ten
// times its duration, so that watching costs the server at most a tenth of
// a core; the header says so. A quick report brings the interval back.
func TestSlowReportsStretchTheRefresh(t *testing.T) {
	m, clock := newTestModel(&fakeDB{})
	start(t, m, 160, 48)
	slow := func(took time.Duration) {
		t.Helper()
		_, cmd := m.Update(refreshMsg{seq: m.loadSeq})
		if cmd == nil {
			t.Fatal("refresh did not start a load")
		}
		clock.advance(took)
		m.Update(cmd())
	}
	slow(1500 * time.Millisecond)
	if m.refreshEvery != 15*time.Second {
		t.Errorf("after a 1.5 s report the next comes in %v, want 15s", m.refreshEvery)
	}
	if v := plain(t, m); !strings.Contains(v, "every 15s") {
		t.Errorf("the header does not say the refresh was stretched:\n%s", firstLine(v))
	}
	slow(100 * time.Millisecond)
	if m.refreshEvery != m.opts.Refresh {
		t.Errorf("after a quick report the next comes in %v, want the interval %v", m.refreshEvery, m.opts.Refresh)
	}
	if v := plain(t, m); strings.Contains(firstLine(v), "every") {
		t.Errorf("the header still says stretched:\n%s", firstLine(v))
	}
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// A load that fails slowly (a statement timeout) waits as long as a slow
// report would before the next attempt: the backoff, or ten times its
// duration when that is longer.
func TestSlowFailuresWaitTheirShare(t *testing.T) {
	db := &fakeDB{}
	var clock *testClock
	failAfter := time.Duration(0)
	m, clock := newTestModel(db, func(o *Options) {
		o.Load = func(ctx context.Context) (*report.Report, error) {
			if failAfter > 0 {
				clock.advance(failAfter)
				return nil, errors.New("canceling statement due to statement timeout")
			}
			return db.load(ctx)
		}
	})
	start(t, m, 120, 24)
	failAfter = 30 * time.Second
	_, cmd := m.Update(refreshMsg{seq: m.loadSeq})
	m.Update(cmd())
	if wait := m.retryAt.Sub(m.opts.Now()); wait != 300*time.Second {
		t.Errorf("after a load that failed in 30 s the next attempt is in %v, want 5m0s", wait)
	}
	if strings.Contains(firstLine(plain(t, m)), "every") {
		t.Error("while reconnecting the header still speaks of the refresh interval")
	}
}

// The first frame's estimate is followed at once by the measured report:
// its duration stretches nothing.
func TestEstimateDoesNotStretchTheRefresh(t *testing.T) {
	db := &fakeDB{}
	var clock *testClock
	m, clock := newTestModel(db, func(o *Options) {
		o.Refresh = time.Second
		o.Estimate = func(ctx context.Context) (*report.Report, error) {
			clock.advance(400 * time.Millisecond)
			r, err := db.load(ctx)
			r.Estimated = true
			return r, err
		}
	})
	start(t, m, 160, 24)
	if !m.report.Estimated || m.refreshEvery > time.Second || strings.Contains(firstLine(plain(t, m)), "every") {
		t.Errorf("after a 0.4 s estimate: estimated=%v, refresh every %v, header %q", m.report.Estimated, m.refreshEvery, firstLine(plain(t, m)))
	}
}

// At 80 columns a stretched refresh gives up its ", every …" before the
// refresh time, never the other way round.
func TestStretchedRefreshFitsTheHeader(t *testing.T) {
	for _, target := range []string{"", "prod", "analytics-eu"} {
		m, _ := newTestModel(&fakeDB{}, func(o *Options) { o.ReadOnly = true; o.Target = target })
		start(t, m, 80, 24)
		m.refreshEvery = m.opts.Refresh
		normal := firstLine(plain(t, m))
		m.refreshEvery = 90 * time.Second
		stretched := firstLine(plain(t, m))
		if strings.Contains(normal, "refreshed") && !strings.Contains(stretched, "refreshed") {
			t.Errorf("target %q: the stretch notice pushed the refresh time out:\n  %s\n  %s", target, normal, stretched)
		}
		checkFrame(t, plain(t, m), 80, 24)
	}
}
