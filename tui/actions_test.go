package tui

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/pgtend/pgtend/ops/maint"
	"github.com/pgtend/pgtend/theme"
)

// wants fails the test for every text missing from the plain view.
func wants(t *testing.T, m *Model, texts ...string) {
	t.Helper()
	v := plain(t, m)
	for _, s := range texts {
		if !strings.Contains(v, s) {
			t.Errorf("the view shows no %q:\n%s", s, v)
		}
	}
	checkFrame(t, m.View().Content, m.width, m.height)
}

func TestVacuumPlanRunSummary(t *testing.T) {
	f := newFakeActions()
	db := &fakeDB{}
	m, clock := newTestModel(db, withActions(f))
	start(t, m, 80, 24)
	press(m, "j", "j") // ml_features
	cmd := press(m, "v")
	wants(t, m, "VACUUM ANALYZE ml_features", "planning")
	deliver(t, m, cmd)
	if !slices.Equal(f.planned, []string{"vacuum public.ml_features"}) {
		t.Fatalf("planned %q", f.planned)
	}
	// At a glance: the table, its lock, its 200 steps folded into one line.
	wants(t, m, "target public.ml_features · 200 steps", "public.ml_features (hypertable)",
		"locks   SHARE UPDATE EXCLUSIVE", "▸ 200 steps: VACUUM (ANALYZE) public.ml_features: chunk …",
		"Run this plan?", "y run", "e expand", "x statements")
	if v := plain(t, m); strings.Contains(v, "[destructive]") || strings.Contains(v, "chunk 1 of 200") {
		t.Errorf("a VACUUM is marked destructive, or its steps are not folded:\n%s", v)
	}
	press(m, "x") // the statements, one key away
	wants(t, m, "▾ 200 steps", "1. VACUUM (ANALYZE) public.ml_features: chunk 1 of 200",
		`VACUUM (ANALYZE) "_timescaledb_internal"."_hyper_2_1000_chunk"`,
		"lock SHARE UPDATE EXCLUSIVE", "lines 1-", "x hide statements")

	listen := press(m, "y")
	if m.action.phase != phaseRunning {
		t.Fatalf("y: phase %d", m.action.phase)
	}
	title := m.action.plan.Steps[0].Title
	listen = emitEvent(t, m, f, listen, maint.Event{Kind: maint.StepStarted, Step: 0, Title: title, Unit: "blocks"})
	wants(t, m, "step 1 of 200: "+title, "waiting for progress", "esc cancel the run")
	clock.advance(4 * time.Second)
	listen = emitEvent(t, m, f, listen, maint.Event{Kind: maint.Progress, Step: 0, Done: 1000, Total: 3000, Unit: "blocks", Message: "scanning heap"})
	wants(t, m, "33%  1,000 of 3,000 blocks", "250 blocks/s", "ETA 8s", "scanning heap", "running 4s")
	listen = emitEvent(t, m, f, listen, maint.Event{Kind: maint.Log, Step: 0, Message: "NOTICE: \x1b[2Jsomething"})
	wants(t, m, "Log", "NOTICE: ?[2Jsomething")
	listen = emitEvent(t, m, f, listen, maint.Event{Kind: maint.StepFinished, Step: 0, Title: title, Duration: 4 * time.Second})
	wants(t, m, "Finished: 1 of 200 steps", m.styles.Glyphs.Check+" "+title, "between steps")
	if v := plain(t, m); strings.Contains(v, "0 rows") {
		t.Errorf("a VACUUM step shows rows:\n%s", v)
	}

	finishRun(t, m, f, listen, maint.Result{Outcome: maint.OutcomeOK, Rows: 0, BytesBefore: 100 * gib, BytesAfter: 99 * gib,
		Started: fixtureNow, Finished: fixtureNow.Add(3*time.Minute + 12*time.Second)})
	wants(t, m, "VACUUM ANALYZE ml_features: ok", "100 GiB → 99 GiB (1.0 GiB freed)", "3m12s", "1 ok, 0 failed, of 200", "enter/esc close")

	calls := db.calls
	reloadCmd := press(m, "enter")
	if m.action != nil {
		t.Fatal("enter did not close the summary")
	}
	if reloadCmd == nil {
		t.Fatal("closing the summary does not reload")
	}
	m.Update(reloadCmd())
	if db.calls != calls+1 {
		t.Errorf("closing: %d loads, want 1", db.calls-calls)
	}
	wants(t, m, "1 Tables", "sorted by size")
}

func TestRetentionNeedsTheTableName(t *testing.T) {
	f := newFakeActions()
	m, _ := newTestModel(&fakeDB{}, withActions(f))
	start(t, m, 80, 24)
	press(m, "j") // option_chain_snapshots
	planFor(t, m, "d")
	wants(t, m, "retention cleanup of option_chain_snapshots [destructive]",
		"public.option_chain_snapshots (hypertable)", "goes    109 chunks, 2026-05-13 → 2026-08-30, 12 GiB",
		"stays   91 chunks, 2026-08-30 → 2026-11-29", "locks   ACCESS EXCLUSIVE on each dropped chunk",
		"fkey    option_chain_snapshots_instrument_fkey:", "▸ 1 step: [destructive] drop 109 chunks of",
		"This plan deletes data.")
	press(m, "G")
	wants(t, m, "Left alone", "public.trade_history is permanent")
	press(m, "x") // the steps, their statements and the chunks they drop
	wants(t, m, "1. [destructive] drop 109 chunks of public.option_chain_snapshots older than",
		"lock ACCESS EXCLUSIVE on each dropped chunk · est. ", "SELECT drop_chunks(", "_timescaledb_internal._hyper_")
	press(m, "G") // the list of dropped chunks is long: the tables left alone are at the end
	wants(t, m, "Left alone")
	press(m, "g")
	// Enter does not run a destructive plan, nor does a name typed wrong.
	if cmd := press(m, "enter"); cmd != nil || m.action.phase != phaseReview {
		t.Fatal("enter on a destructive plan did something")
	}
	press(m, "y")
	if m.action.phase != phaseConfirm {
		t.Fatalf("y: phase %d, want the name prompt", m.action.phase)
	}
	wants(t, m, "type option_chain_snapshots to run:", "enter runs once the name matches")
	for _, name := range []string{"", "option_chain", "public.option_chain_snapshots", "option_chain_snapshotq"} {
		for range 40 {
			press(m, "backspace")
		}
		typeText(m, name)
		if cmd := press(m, "enter"); cmd != nil || m.action.phase != phaseConfirm {
			t.Fatalf("enter on %q: phase %d", name, m.action.phase)
		}
		wants(t, m, "that is not option_chain_snapshots")
	}
	if f.runCount() != 0 || m.action.scroll != 0 {
		t.Fatalf("wrong names ran %d plans, scrolled to %d", f.runCount(), m.action.scroll)
	}
	press(m, "backspace")
	typeText(m, "s")
	wants(t, m, "enter runs once the name matches")
	listen := press(m, "enter")
	if m.action.phase != phaseRunning {
		t.Fatalf("the right name: phase %d", m.action.phase)
	}
	listen = emitEvent(t, m, f, listen, maint.Event{Kind: maint.StepStarted, Step: 0, Title: m.action.plan.Steps[0].Title, Unit: "chunks"})
	if f.runCount() != 1 || f.runs[0] != m.action.plan {
		t.Fatalf("%d runs", f.runCount())
	}
	if !f.runs[0].Confirmed() { // what ops checks: without it the run is refused there
		t.Error("the plan run after the typed name is not confirmed")
	}
	finishRun(t, m, f, listen, maint.Result{Outcome: maint.OutcomeOK})
	wants(t, m, "retention cleanup of option_chain_snapshots: ok")
}

func TestConfirmEscGoesBackToThePlan(t *testing.T) {
	m, _ := newTestModel(&fakeDB{}, withActions(newFakeActions()))
	start(t, m, 80, 24)
	press(m, "j")
	planFor(t, m, "d")
	press(m, "y")
	typeText(m, "qjkex") // text, not quit, scroll, expand or statements
	if m.action == nil || m.action.input.Value() != "qjkex" || m.action.expanded || m.action.statements || m.action.scroll != 0 {
		t.Fatal("keys typed into the name did something else")
	}
	press(m, "esc")
	if m.action.phase != phaseReview {
		t.Fatalf("esc in the name: phase %d", m.action.phase)
	}
	press(m, "y") // the name starts empty again
	if m.action.input.Value() != "" {
		t.Errorf("name kept: %q", m.action.input.Value())
	}
	press(m, "esc", "esc")
	if m.action != nil {
		t.Error("esc esc did not close")
	}
}

func TestPlanErrorAndEmptyPlan(t *testing.T) {
	f := newFakeActions()
	db := &fakeDB{}
	m, _ := newTestModel(db, withActions(f))
	start(t, m, 80, 24)
	planFor(t, m, "d") // trade_history, the largest
	wants(t, m, "cannot plan: public.trade_history is permanent: retention never deletes from", "esc close")
	if cmd := press(m, "y"); cmd != nil || m.action.phase != phasePlanFailed {
		t.Fatal("y on a refused plan did something")
	}
	calls := db.calls
	if cmd := press(m, "esc"); cmd != nil || m.action != nil {
		t.Fatal("esc did not close the refused plan, or reloaded")
	}
	if db.calls != calls {
		t.Error("closing a refused plan reloaded")
	}

	press(m, "j", "j", "j", "j") // macro_signals: nothing past 730 days
	planFor(t, m, "d")
	wants(t, m, "nothing is past its retention", "nothing to do", "esc close")
	if cmd := press(m, "y"); cmd != nil || m.action.phase != phaseReview || f.runCount() != 0 {
		t.Fatal("y ran an empty plan")
	}
	press(m, "esc")
	if m.action != nil {
		t.Fatal("esc did not close the empty plan")
	}
}

func TestActionKeysHidden(t *testing.T) {
	for _, c := range []struct {
		name string
		opts func(*Options)
	}{
		{"no actions", func(*Options) {}},
		{"read-only", func(o *Options) { o.Actions, o.ReadOnly = newFakeActions(), true }},
	} {
		t.Run(c.name, func(t *testing.T) {
			m, _ := newTestModel(&fakeDB{}, c.opts)
			start(t, m, 200, 40) // room for every key
			for _, pane := range []string{"1", "2"} {
				press(m, pane)
				if cmd := press(m, "v", "d"); cmd != nil || m.action != nil {
					t.Fatalf("pane %s: v/d opened an action", pane)
				}
				if footer := m.footerLine(); strings.Contains(footer, "vacuum") || strings.Contains(footer, "retention") {
					t.Errorf("pane %s footer offers actions: %q", pane, footer)
				}
			}
			press(m, "?")
			if v := plain(t, m); strings.Contains(v, "vacuum") {
				t.Errorf("help offers actions:\n%s", v)
			}
			if f, ok := m.opts.Actions.(*fakeActions); ok && len(f.planned) > 0 {
				t.Errorf("planned %q", f.planned)
			}
		})
	}
	m, _ := newTestModel(&fakeDB{}, withActions(newFakeActions()))
	start(t, m, 80, 24)
	for _, pane := range []string{"1", "2"} {
		press(m, pane)
		if footer := ansi.Strip(m.footerLine()); !strings.Contains(footer, "v vacuum") || !strings.Contains(footer, "d retention") {
			t.Errorf("pane %s footer at 80 columns: %q", pane, footer)
		}
	}
	press(m, "?")
	wants(t, m, "v     vacuum", "d     retention", "q quit")
}

func TestActionOnChunksPane(t *testing.T) {
	f := newFakeActions()
	m, _ := newTestModel(&fakeDB{}, withActions(f))
	start(t, m, 80, 24)
	press(m, "j", "j", "enter") // chunks of ml_features
	planFor(t, m, "v")
	if !slices.Equal(f.planned, []string{"vacuum public.ml_features"}) {
		t.Fatalf("planned %q", f.planned)
	}
	press(m, "esc")
	press(m, "3") // Disk: no table under a cursor
	if cmd := press(m, "v"); cmd != nil || m.action != nil {
		t.Error("v on the Disk pane opened an action")
	}
}

func TestPlanScrolls(t *testing.T) {
	m, _ := newTestModel(&fakeDB{}, withActions(newFakeActions()))
	start(t, m, 80, 24)
	press(m, "j", "j")
	planFor(t, m, "v")
	a := m.action
	press(m, "e") // the 200 steps, unfolded
	press(m, "j", "j")
	if a.scroll != 2 {
		t.Errorf("j j: scroll %d", a.scroll)
	}
	press(m, "pgdown")
	if a.scroll != 2+a.bodyHeight() {
		t.Errorf("pgdown: scroll %d", a.scroll)
	}
	press(m, "k", "pgup")
	if a.scroll != 1 {
		t.Errorf("k pgup: scroll %d", a.scroll)
	}
	press(m, "G")
	wants(t, m, "200. VACUUM (ANALYZE) public.ml_features: chunk 200 of 200", "of 405")
	press(m, "j")
	if a.scroll != len(a.planText())-a.bodyHeight() {
		t.Errorf("j past the end: scroll %d of %d lines", a.scroll, len(a.planText()))
	}
	press(m, "g")
	if a.scroll != 0 {
		t.Errorf("g: scroll %d", a.scroll)
	}
}

func TestCancelRun(t *testing.T) {
	f := newFakeActions()
	m, clock := newTestModel(&fakeDB{}, withActions(f))
	start(t, m, 80, 24)
	listen := midRun(t, m, f, clock)
	for _, k := range []string{"esc", "q"} {
		if cmd := press(m, k); cmd != nil {
			t.Fatalf("%s while running returned a command", k)
		}
		wants(t, m, "cancel the run? y/n", "y cancel the run", "n/esc keep running")
		press(m, "n")
		if m.action.asking || m.action.phase != phaseRunning {
			t.Fatalf("n: asking %v, phase %d", m.action.asking, m.action.phase)
		}
	}
	press(m, "esc", "y")
	if !m.action.run.cancelling {
		t.Fatal("y did not cancel")
	}
	wants(t, m, "cancelling")
	listen = deliver(t, m, listen) // the step in flight fails as cancelled
	wants(t, m, m.styles.Glyphs.Cross+" VACUUM (ANALYZE) public.ml_features: chunk 2 of 200", "cancelled")
	if next := deliver(t, m, listen); next != nil {
		t.Error("the console listens on after the run ended")
	}
	wants(t, m, "VACUUM ANALYZE ml_features: cancelled", "1 ok, 0 failed, 1 cancelled, of 200", "1m15s")
}

func TestCtrlCWhileRunningAsks(t *testing.T) {
	f := newFakeActions()
	m, clock := newTestModel(&fakeDB{}, withActions(f))
	start(t, m, 80, 24)
	listen := midRun(t, m, f, clock)
	for range 2 { // pressed again, it still asks
		if cmd := press(m, "ctrl+c"); cmd != nil {
			if _, quit := cmd().(tea.QuitMsg); quit {
				t.Fatal("ctrl+c quit during a run")
			}
		}
		if !m.action.asking {
			t.Fatal("ctrl+c did not ask")
		}
	}
	press(m, "n")
	finishRun(t, m, f, listen, maint.Result{Outcome: maint.OutcomeOK})
	cmd := press(m, "ctrl+c")
	if cmd == nil {
		t.Fatal("ctrl+c after the run does nothing")
	}
	if _, quit := cmd().(tea.QuitMsg); !quit {
		t.Error("ctrl+c after the run does not quit")
	}
}

func TestRunFailureSummary(t *testing.T) {
	f := newFakeActions()
	m, clock := newTestModel(&fakeDB{}, withActions(f))
	start(t, m, 80, 24)
	listen := midRun(t, m, f, clock)
	reason := `could not lock "_timescaledb_internal"."_hyper_2_1001_chunk" within 5s (3 tries): held by pid 4242`
	listen = emitEvent(t, m, f, listen, maint.Event{Kind: maint.StepFailed, Step: 1, Title: m.action.plan.Steps[1].Title, Duration: 16 * time.Second, Err: errString(reason)})
	finishRun(t, m, f, listen, failedResult(m.action.plan.Steps[1].Title+": "+reason))
	wants(t, m, "VACUUM ANALYZE ml_features: failed", "Failed", "held by", "pid 4242", "1 ok, 1 failed, of 200")
}

func TestRunErrorIsAFailure(t *testing.T) {
	f := newFakeActions()
	// A run refused before its first step.
	f.runErr = errString("read-only: the session is read-only")
	m, _ := newTestModel(&fakeDB{}, withActions(f))
	start(t, m, 80, 24)
	press(m, "j", "j")
	planFor(t, m, "v")
	finishRun(t, m, f, press(m, "y"), maint.Result{Outcome: maint.OutcomeFailed})
	wants(t, m, "ml_features: failed", "error: read-only: the session is read-only")
}

// TestStalePlanDropped: the plan of a view closed while planning does not
// open in a later one.
func TestStalePlanDropped(t *testing.T) {
	m, _ := newTestModel(&fakeDB{}, withActions(newFakeActions()))
	start(t, m, 80, 24)
	old := press(m, "v")
	press(m, "esc")
	if m.action != nil {
		t.Fatal("esc while planning did not close")
	}
	deliver(t, m, old)
	if m.action != nil {
		t.Fatal("a closed view's plan reopened it")
	}
	press(m, "j", "v")
	deliver(t, m, old)
	if m.action.phase != phasePlanning {
		t.Errorf("an earlier view's plan landed in this one: phase %d", m.action.phase)
	}
}

// TestActionFramesFit sweeps sizes through every phase: exact height, no
// line too wide, in Unicode and in ASCII (every rune 7-bit).
func TestActionFramesFit(t *testing.T) {
	for _, ascii := range []bool{false, true} {
		f := newFakeActions()
		m, clock := newTestModel(&fakeDB{}, withActions(f), func(o *Options) { o.ASCII = ascii })
		start(t, m, 80, 24)
		sweep := func(what string) {
			t.Helper()
			for w := 1; w <= 250; w += 9 {
				for h := 1; h <= 75; h += 6 {
					m.Update(tea.WindowSizeMsg{Width: w, Height: h})
					v := m.View().Content
					checkFrame(t, v, w, h)
					if ascii && strings.IndexFunc(v, func(r rune) bool { return r >= 128 }) >= 0 {
						t.Fatalf("%s at %dx%d: a rune outside ASCII:\n%s", what, w, h, plain(t, m))
					}
					if t.Failed() {
						t.Fatalf("%s at %dx%d", what, w, h)
					}
				}
			}
			m.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
		}
		listen := midRun(t, m, f, clock)
		sweep("run")
		press(m, "esc")
		sweep("cancel prompt")
		press(m, "n")
		finishRun(t, m, f, listen, failedResult("VACUUM (ANALYZE) public.ml_features: chunk 2 of 200: "+strings.Repeat("held by pid 4242 ", 20)))
		sweep("summary")
		press(m, "enter", "k")
		planFor(t, m, "d")
		sweep("plan")
		press(m, "x")
		sweep("plan with statements")
		press(m, "e")
		press(m, "y")
		typeText(m, "option")
		sweep("confirm")
		press(m, "esc", "esc", "g")
		planFor(t, m, "d")
		sweep("refused")
	}
}

type errString string

func (e errString) Error() string { return string(e) }

func failedResult(reasons ...string) maint.Result {
	return maint.Result{Outcome: maint.OutcomeFailed, Rows: 0, BytesBefore: 812 * gib, BytesAfter: 811 * gib,
		Started: fixtureNow, Finished: fixtureNow.Add(29 * time.Second), Failed: reasons}
}

// TestSilentRunRepaints: a step that reports nothing (one long DELETE)
// still has its elapsed time move on screen, and the listening goes on.
func TestSilentRunRepaints(t *testing.T) {
	defer func(d time.Duration) { idleRepaint = d }(idleRepaint)
	idleRepaint = 10 * time.Millisecond
	f := newFakeActions()
	m, clock := newTestModel(&fakeDB{}, withActions(f))
	start(t, m, 80, 24)
	listen := midRun(t, m, f, clock)
	clock.advance(50 * time.Second)
	listen = deliver(t, m, listen) // nothing queued: idle
	wants(t, m, "running 1m1s", "17 blocks/s", "ETA 3m0s")
	finishRun(t, m, f, listen, maint.Result{Outcome: maint.OutcomeOK})
}

// TestPlanFoldsAndShowsStatements: a plan opens with its summary, each
// table's steps folded into one line and no statement; e unfolds and folds
// the steps, x shows and hides the statements (unfolding the steps and
// bringing the first statement on screen), the footer says what each key
// does now, and the laid-out plan is reused until a fold changes it.
func TestPlanFoldsAndShowsStatements(t *testing.T) {
	m, _ := newTestModel(&fakeDB{}, withActions(newFakeActions()))
	start(t, m, 80, 24)
	press(m, "j") // option_chain_snapshots
	planFor(t, m, "d")
	a := m.action
	footer := func(want ...string) {
		t.Helper()
		f := ansi.Strip(m.footerLine())
		for _, w := range want {
			if !strings.Contains(f, w) {
				t.Errorf("the footer lacks %q: %q", w, f)
			}
		}
	}
	hidden := func(texts ...string) {
		t.Helper()
		whole := strings.Join(a.planText(), "\n")
		for _, s := range texts {
			if strings.Contains(whole, s) {
				t.Errorf("the plan shows %q", s)
			}
		}
	}
	shown := func(texts ...string) {
		t.Helper()
		whole := ansi.Strip(strings.Join(a.planText(), "\n"))
		for _, s := range texts {
			if !strings.Contains(whole, s) {
				t.Errorf("the plan lacks %q:\n%s", s, whole)
			}
		}
	}
	step, stmt, chunk := "1. [destructive] drop 109 chunks", "SELECT drop_chunks(", "_hyper_1_1000_chunk"

	wants(t, m, "▸ 1 step: [destructive] drop 109 chunks")
	footer("y confirm", "n/esc cancel", "e expand", "x statements")
	hidden(step, stmt, chunk)
	first := a.planText()
	m.View()
	if again := a.planText(); &again[0] != &first[0] {
		t.Error("drawing again laid the plan out again")
	}

	press(m, "e")
	shown("▾ 1 step", step, "lock ACCESS EXCLUSIVE on each dropped chunk · est.", chunk)
	hidden(stmt)
	footer("e collapse", "x statements")

	press(m, "x")
	shown(stmt)
	footer("e collapse", "x hide statements")
	if a.statementAt < a.scroll || a.statementAt >= a.scroll+a.bodyHeight() {
		t.Errorf("the first statement (line %d) is off screen (lines %d-%d)", a.statementAt, a.scroll, a.scroll+a.bodyHeight())
	}
	wants(t, m, "SELECT drop_chunks(")

	press(m, "x") // the statements go, the steps stay unfolded
	shown(step)
	hidden(stmt)
	footer("x statements")

	press(m, "e", "x") // from folded, x shows the statements at once
	shown(step, stmt)
	press(m, "e") // folding hides them with their steps
	hidden(step, stmt)
	if a.expanded || a.statements {
		t.Errorf("folded: expanded %v, statements %v", a.expanded, a.statements)
	}
	wants(t, m, "▸ 1 step")

	// Folds survive a resize and a theme change, laid out again for them.
	press(m, "x")
	m.Update(tea.WindowSizeMsg{Width: 160, Height: 48})
	shown(stmt)
	press(m, "g")
	wants(t, m, "SELECT drop_chunks('\"public\".\"option_chain_snapshots\"', older_than => '2026-08-30 12:00:00+00'::timestamp with time zone)")
	m.Update(tea.WindowSizeMsg{Width: 80, Height: 24})

	// The name prompt takes e and x as text; the folds stay as they were.
	press(m, "y")
	typeText(m, "ex")
	if a.phase != phaseConfirm || a.input.Value() != "ex" || !a.expanded || !a.statements {
		t.Fatalf("e x in the name: phase %d, input %q, expanded %v, statements %v", a.phase, a.input.Value(), a.expanded, a.statements)
	}
	if f := ansi.Strip(m.footerLine()); strings.Contains(f, "expand") || strings.Contains(f, "statements") {
		t.Errorf("the name prompt's footer offers the folds: %q", f)
	}
	press(m, "esc")
	if a.phase != phaseReview || !a.statements {
		t.Fatalf("esc: phase %d, statements %v", a.phase, a.statements)
	}
}

// The plan view's keys answer in the review, where y, n, esc, enter, the
// scrolling keys and q answer too: none may be one of them.
func TestPlanFoldKeysAreFree(t *testing.T) {
	k := DefaultKeyMap()
	taken := map[string]string{}
	for _, b := range append(k.listKeys(), k.Yes, k.No, k.Back, k.Submit, k.Enter, k.Quit) {
		for _, key := range b.Keys() {
			taken[key] = b.Help().Desc
		}
	}
	for _, b := range []key.Binding{k.Expand, k.Statements} {
		for _, key := range b.Keys() {
			if d, ok := taken[key]; ok {
				t.Errorf("%s (%s) is taken by %s", key, b.Help().Desc, d)
			}
			taken[key] = b.Help().Desc
		}
	}
}

// handPlans plans what the test made by hand.
type handPlans struct {
	*fakeActions
	plan *maint.Plan
}

func (h handPlans) Plan(context.Context, string, string) (*maint.Plan, error) { return h.plan, nil }

func handStep(n int) maint.Step {
	return maint.Step{Title: fmt.Sprintf("step %d by hand", n), Statements: []string{fmt.Sprintf("SELECT %d", n)}, Lock: maint.LockRowExclusive}
}

// TestPlanWithoutSummaries: a plan with no table summaries (made by hand)
// lists every step with its statements, as before summaries, and has
// nothing to fold; a plan's steps that no summary names are listed after
// the summaries, under Other steps.
func TestPlanWithoutSummaries(t *testing.T) {
	plan := &maint.Plan{Action: "vacuum", Target: "public.ml_features", Steps: []maint.Step{handStep(1), handStep(2)}}
	m, _ := newTestModel(&fakeDB{}, withActions(handPlans{newFakeActions(), plan}))
	start(t, m, 80, 24)
	press(m, "j", "j")
	planFor(t, m, "v")
	wants(t, m, "1. step 1 by hand", "SELECT 1", "2. step 2 by hand", "SELECT 2", "lock ROW EXCLUSIVE")
	if f := ansi.Strip(m.footerLine()); strings.Contains(f, "expand") || strings.Contains(f, "statements") {
		t.Errorf("a plan without summaries offers folds: %q", f)
	}
	before := plain(t, m)
	press(m, "e", "x")
	if after := plain(t, m); after != before {
		t.Errorf("e x changed a plan without summaries:\n%s", after)
	}

	plan = &maint.Plan{Action: "vacuum", Target: "public.ml_features", Steps: []maint.Step{handStep(1), handStep(2)},
		Tables: []maint.TableSummary{{Table: "public.ml_features", Kind: "hypertable", Locks: []string{maint.LockRowExclusive}, Steps: []int{0, 7}}}}
	m, _ = newTestModel(&fakeDB{}, withActions(handPlans{newFakeActions(), plan}))
	start(t, m, 80, 24)
	press(m, "j", "j")
	planFor(t, m, "v")
	wants(t, m, "public.ml_features (hypertable)", "▸ 1 step: step 1 by hand", "Other steps", "2. step 2 by hand")
	if v := plain(t, m); strings.Contains(v, "SELECT") || strings.Contains(v, "1. step 1") {
		t.Errorf("folded, the plan shows a statement or a folded step:\n%s", v)
	}
	press(m, "x")
	wants(t, m, "1. step 1 by hand", "SELECT 1", "2. step 2 by hand", "SELECT 2")
}

// TestFoldedTitle: a table's steps folded say what they do in one line.
func TestFoldedTitle(t *testing.T) {
	v := newActionView(1, maint.Action{}, "", "", nil, time.Now, theme.New(true, false, false), DefaultKeyMap())
	for _, c := range []struct {
		titles []string
		want   string
	}{
		{[]string{"drop 3 chunks of public.x older than 2026-01-01"}, "drop 3 chunks of public.x older than 2026-01-01"},
		{[]string{"detach and drop partition public.x_p1 of public.x (1 of 2)", "detach and drop partition public.x_p2 of public.x (2 of 2)"}, "detach and drop partition …"},
		{[]string{"delete 5 rows of public.t older than 2026-01-01, in batches", "VACUUM (ANALYZE) public.t"}, "delete 5 rows of public.t older than 2026-01-01, in batches; VACUUM (ANALYZE) public.t"},
		{[]string{"a", "b", "c", "d"}, "a; …"},
		{[]string{"same", "same"}, "same"},
	} {
		v.plan = &maint.Plan{}
		var steps []int
		for i, title := range c.titles {
			v.plan.Steps = append(v.plan.Steps, maint.Step{Title: title})
			steps = append(steps, i)
		}
		if got := v.foldedTitle(steps); got != c.want {
			t.Errorf("%q: %q, want %q", c.titles, got, c.want)
		}
	}
}
