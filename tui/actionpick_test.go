package tui

import (
	"slices"
	"strings"
	"testing"

	"github.com/pgtend/pgtend/ops/maint"
)

// footerKeys are the action view's keys of the moment, as "key desc".
func footerKeys(m *Model) []string {
	var out []string
	for _, b := range m.action.keys(m.keys) {
		if b.Enabled() {
			out = append(out, hint(b))
		}
	}
	return out
}

func wantKeys(t *testing.T, m *Model, want ...string) {
	t.Helper()
	got := footerKeys(m)
	for _, w := range want {
		if !slices.Contains(got, w) {
			t.Errorf("the plan's keys lack %q: %q", w, got)
		}
	}
}

// reindexPlan is the console at 80x24 with the REINDEX plan of ml_features
// open (three candidates).
func reindexPlan(t *testing.T) (*Model, *fakeActions) {
	t.Helper()
	f := newFakeActions()
	m, _ := newTestModel(&fakeDB{}, withActions(f))
	start(t, m, 80, 24)
	press(m, "j", "j") // ml_features
	planFor(t, m, "i")
	return m, f
}

// The operator picks some REINDEX candidates: space unfolds the steps,
// then picks or leaves out the step under the cursor, a picks all or none;
// y with none picked says so and runs nothing; the run gets only the
// picked steps (maint.Plan.Only), which the history then records.
func TestReindexPickSomeSteps(t *testing.T) {
	m, f := reindexPlan(t)
	wants(t, m, "REINDEX ml_features", "target public.ml_features · 3 steps", "▸ 3 steps: REINDEX …")
	wantKeys(t, m, "y run", "space pick step", "a all/none", "m --measure", "b --blocking")

	press(m, "space") // unfolds, the cursor on the first step
	wants(t, m, "› [x] 1. REINDEX public.ml_features_ts_idx", "  [x] 2. REINDEX public.ml_features_pkey")
	press(m, "space") // leaves it out
	wants(t, m, "› [ ] 1. REINDEX public.ml_features_ts_idx", "3 steps (2 of 3 picked)", "▾ 3 steps (2 of 3 picked)")
	press(m, "j", "a") // the cursor on the second; a picks all again
	wants(t, m, "  [x] 1.", "› [x] 2.")
	if strings.Contains(plain(t, m), "picked") {
		t.Error("every step is picked, yet the plan counts picks")
	}
	press(m, "a") // none
	wants(t, m, "[ ] 1.", "[ ] 2.", "(0 of 3 picked)")
	if cmd := press(m, "y"); cmd != nil || m.action.phase != phaseReview || f.runCount() != 0 {
		t.Fatal("y ran a plan of no step")
	}
	wants(t, m, "no step picked: space picks the step under the cursor")
	press(m, "space") // the second only
	listen := press(m, "y")
	if m.action.phase != phaseRunning {
		t.Fatalf("y: phase %d", m.action.phase)
	}
	listen = emitEvent(t, m, f, listen, maint.Event{Kind: maint.StepStarted, Step: 0, Title: m.action.plan.Steps[0].Title, Unit: "blocks"})
	if f.runCount() != 1 {
		t.Fatalf("%d runs", f.runCount())
	}
	ran := f.runs[0]
	if len(ran.Steps) != 1 || !strings.Contains(ran.Steps[0].Title, "ml_features_pkey") || len(ran.LeftOut) != 2 || len(ran.Tables) != 1 || !slices.Equal(ran.Tables[0].Steps, []int{0}) {
		t.Fatalf("ran %d steps %q, left out %q, summaries %+v", len(ran.Steps), ran.Steps[0].Title, ran.LeftOut, ran.Tables)
	}
	if e := maint.Entry(ran, maint.Result{Outcome: maint.OutcomeOK}, nil, "db", "role"); len(e.Statements) != 1 || !strings.Contains(e.Note, "1 of 3 steps picked") {
		t.Errorf("history entry: %q, note %q", e.Statements, e.Note)
	}
	wants(t, m, "step 1 of 1")
	finishRun(t, m, f, listen, maint.Result{Outcome: maint.OutcomeOK, Started: fixtureNow, Finished: fixtureNow})
	wants(t, m, "of 1 picked (2 left out)")
}

// The switches the plan offers are keys that plan again with the switch
// toggled (maint.WithFlags on the plan's context): m measures, b makes
// the rebuilds blocking, which needs the typed name, as a destructive plan
// does; pressing the key again plans without it.
func TestReindexSwitchesPlanAgain(t *testing.T) {
	m, f := reindexPlan(t)
	lastFlags := func() maint.Flags { f.mu.Lock(); defer f.mu.Unlock(); return f.flags[len(f.flags)-1] }
	replan := func(k string) {
		t.Helper()
		cmd := press(m, k)
		if m.action.phase != phasePlanning {
			t.Fatalf("%s did not plan again", k)
		}
		deliver(t, m, cmd)
	}
	replan("m")
	if fl := lastFlags(); fl[maint.FlagMeasure] != "true" || len(fl) != 1 {
		t.Fatalf("m: planned with %v", fl)
	}
	wants(t, m, "3 steps · --measure")
	if !strings.Contains(m.action.plan.Steps[0].Title, "bloat measured") {
		t.Errorf("m: the plan is not the measured one: %q", m.action.plan.Steps[0].Title)
	}
	wantKeys(t, m, "m without --measure", "b --blocking")

	replan("b")
	if fl := lastFlags(); fl[maint.FlagMeasure] != "true" || fl[maint.FlagBlocking] != "true" {
		t.Fatalf("b: planned with %v", fl)
	}
	wants(t, m, "REINDEX ml_features [blocks writes]", "--blocking --measure", "[blocks writes]", "This plan blocks writers.",
		"ACCESS EXCLUSIVE on the index, SHARE on the table")
	press(m, "y")
	if m.action.phase != phaseConfirm {
		t.Fatalf("y on a blocking plan: phase %d, want the name prompt", m.action.phase)
	}
	wants(t, m, "type ml_features to run:")
	press(m, "esc")
	replan("b")
	if fl := lastFlags(); fl[maint.FlagBlocking] != "" || fl[maint.FlagMeasure] != "true" {
		t.Fatalf("b again: planned with %v", fl)
	}
	if m.action.plan.NeedsConfirmation() {
		t.Error("without --blocking the plan still needs the name")
	}

	// A vacuum offers no switch.
	press(m, "esc")
	planFor(t, m, "v")
	for _, k := range footerKeys(m) {
		if strings.Contains(k, "--") {
			t.Errorf("a vacuum plan offers %q", k)
		}
	}
}

// A retention plan that leaves rows past retention in a DEFAULT partition
// offers --include-default; switching it on asks first, with what it does
// (its own confirmation), then plans again with the batched DELETE, which
// the typed name confirms like the rest of the plan.
func TestRetentionIncludeDefaultAsksFirst(t *testing.T) {
	f := newFakeActions()
	f.defaultRows = 240
	m, _ := newTestModel(&fakeDB{}, withActions(f))
	start(t, m, 160, 48)
	press(m, "j") // option_chain_snapshots
	planFor(t, m, "d")
	wants(t, m, "240 rows past retention stay in public.option_chain_snapshots_default")
	wantKeys(t, m, "i --include-default")
	if cmd := press(m, "i"); cmd != nil || m.action.phase != phaseReview {
		t.Fatal("i planned without asking")
	}
	wants(t, m, "--include-default: also delete, in batches, the rows past the cutoff in DEFAULT partitions", "not returned to the filesystem)?", "y plan it · n/esc cancel")
	wantKeys(t, m, "y plan it", "n/esc cancel")
	press(m, "n")
	if len(f.planned) != 1 || m.action.flagAsk != nil {
		t.Fatalf("n: planned %q, still asking %v", f.planned, m.action.flagAsk != nil)
	}
	wants(t, m, "This plan deletes data.")
	press(m, "i")
	cmd := press(m, "y")
	if m.action.phase != phasePlanning {
		t.Fatal("y did not plan again")
	}
	deliver(t, m, cmd)
	if fl := f.flags[len(f.flags)-1]; fl[maint.FlagIncludeDefault] != "true" {
		t.Fatalf("planned with %v", fl)
	}
	if n := len(m.action.plan.Steps); n != 2 || !strings.Contains(m.action.plan.Steps[1].Title, "delete 240 rows of public.option_chain_snapshots_default") {
		t.Fatalf("the plan with --include-default: %d steps", n)
	}
	wants(t, m, "▸ 2 steps:", "--include-default", "240 rows in public.option_chain_snapshots_default go in batches")
	wantKeys(t, m, "i without --include-default")
	press(m, "y")
	if m.action.phase != phaseConfirm {
		t.Fatalf("y: phase %d, want the name prompt", m.action.phase)
	}
	// Switching it off plans again at once: it deletes less.
	press(m, "esc")
	cmd = press(m, "i")
	if m.action.phase != phasePlanning {
		t.Fatal("i (off) did not plan again")
	}
	deliver(t, m, cmd)
	if fl := f.flags[len(f.flags)-1]; len(fl) != 0 {
		t.Errorf("planned with %v", fl)
	}
}

// The help lists the plan view's keys, the switches with the actions
// that take them, from the same bindings.
func TestHelpListsThePlanKeys(t *testing.T) {
	m, _ := newTestModel(&fakeDB{}, withActions(newFakeActions()))
	start(t, m, 160, 48)
	press(m, "?")
	wants(t, m, "Plans", "space", "pick step", "all/none", "--measure (reindex)", "--include-default (retention)", "--index of the step under the cursor (reindex)")
	var names []string
	for _, fk := range m.keys.Flags {
		names = append(names, fk.Flag.Name)
	}
	if !slices.Equal(names, []string{maint.FlagIncludeDefault, maint.FlagAddPolicy, maint.FlagIndex, maint.FlagMeasure, maint.FlagBlocking}) {
		t.Errorf("switch keys of %q", names)
	}
}

// Past the last step the cursor keys scroll again, down to the notes.
func TestPickCursorScrollsAtTheEnd(t *testing.T) {
	m, _ := reindexPlan(t)
	press(m, "space", "j", "j")
	if m.action.cursor != 2 {
		t.Fatalf("cursor on step %d, want the third", m.action.cursor+1)
	}
	before := m.action.scroll
	press(m, "j", "j", "j", "j", "j", "j", "j", "j")
	if m.action.cursor != 2 || m.action.scroll <= before {
		t.Errorf("j past the last step: cursor %d, scroll %d → %d", m.action.cursor+1, before, m.action.scroll)
	}
	wants(t, m, "bloat figures are estimated")
	press(m, "k")
	if m.action.cursor != 1 {
		t.Errorf("k: cursor on step %d, want the second", m.action.cursor+1)
	}
}

// A retention plan with nothing to drop but rows past retention in a
// DEFAULT partition (the table after its first run) still offers
// --include-default, asks, and plans the DELETE.
func TestIncludeDefaultOnAnEmptyPlan(t *testing.T) {
	f := newFakeActions()
	f.defaultRows = 240
	m, _ := newTestModel(&fakeDB{}, withActions(f))
	start(t, m, 160, 48)
	press(m, "j", "j") // ml_features: nothing past its 365 days
	planFor(t, m, "d")
	if n := len(m.action.plan.Steps); n != 0 {
		t.Fatalf("%d steps, want none", n)
	}
	wants(t, m, "nothing to do", "240 rows past retention stay in public.ml_features_default")
	wantKeys(t, m, "esc close", "i --include-default")
	press(m, "i")
	wantKeys(t, m, "y plan it", "n/esc cancel")
	wants(t, m, "--include-default: also delete")
	deliver(t, m, press(m, "y"))
	if n := len(m.action.plan.Steps); n != 1 || !m.action.plan.Destructive() {
		t.Fatalf("with --include-default: %d steps", n)
	}
	wants(t, m, "This plan deletes data.")
}

// o plans the index under the cursor alone (--index, from the step's
// Step.Alone), whatever its bloat; o again plans them all.
func TestIndexUnderTheCursorPlannedAlone(t *testing.T) {
	m, f := reindexPlan(t)
	for _, k := range footerKeys(m) {
		if strings.Contains(k, "--index") {
			t.Errorf("--index offered before the steps are listed: %q", k)
		}
	}
	press(m, "space", "j") // the cursor on the pkey
	wantKeys(t, m, "o --index this one")
	deliver(t, m, press(m, "o"))
	if fl := f.flags[len(f.flags)-1]; fl[maint.FlagIndex] != `"public"."ml_features_pkey"` || len(fl) != 1 {
		t.Fatalf("o: planned with %v", fl)
	}
	if n := len(m.action.plan.Steps); n != 1 || m.action.pickable() {
		t.Fatalf("the plan of one index: %d steps", n)
	}
	wants(t, m, "1 step · --index public.ml_features_pkey")
	wantKeys(t, m, "o without --index")
	deliver(t, m, press(m, "o"))
	if fl := f.flags[len(f.flags)-1]; len(fl) != 0 || len(m.action.plan.Steps) != 3 {
		t.Errorf("o again: planned with %v, %d steps", fl, len(m.action.plan.Steps))
	}
}
