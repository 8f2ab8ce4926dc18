package tui

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"charm.land/bubbles/v2/key"

	"github.com/pgtend/pgtend/ops/checklist"
	"github.com/pgtend/pgtend/ops/maint"
	"github.com/pgtend/pgtend/ops/state"
)

// outcomes are the wizard's steps' outcomes, by step name.
func outcomes(w *wizardView) map[string]string {
	out := map[string]string{}
	for i, r := range w.results {
		out[w.steps[i].Name] = r.Outcome
	}
	return out
}

// The monthly checklist, one step at a time: the destructive retention
// plan confirmed by typing the database's name and run, compress and
// reindex with nothing to do recorded as done, archive not configured,
// vacuum skipped, the models' retraining ticked off with a note; then the
// summary, recorded.
func TestWizardWalksMonthly(t *testing.T) {
	f := &fakeChecklist{}
	m, _ := newTestModel(&fakeDB{}, withChecklists(f))
	start(t, m, 100, 30)
	pressDrain(t, m, "m")
	w := m.wizard
	if w == nil || w.phase != wizAction || w.act.phase != phaseReview || w.steps[w.at].Name != "retention" {
		t.Fatalf("m did not open the monthly checklist on its retention plan:\n%s", plain(t, m))
	}
	view := plain(t, m)
	for _, want := range []string{"Monthly checklist: step 1 of 6, Retention cleanup", "drop 12 chunks", "n skip", "esc leave"} {
		if !strings.Contains(view, want) {
			t.Errorf("the step's screen lacks %q:\n%s", want, view)
		}
	}
	press(m, "y") // destructive: the name asked, as ever
	if w.act.phase != phaseConfirm {
		t.Fatalf("y on a destructive plan did not ask for the name: phase %d", w.act.phase)
	}
	typeText(m, "database trading")
	pressDrain(t, m, "enter")
	if w.act.phase != phaseFinished {
		t.Fatalf("the retention did not run to its end: phase %d", w.act.phase)
	}
	pressDrain(t, m, "enter") // next step: compress, nothing to do
	if w.steps[w.at].Name != "compress" || w.act.plan == nil || len(w.act.plan.Steps) != 0 {
		t.Fatalf("not on compress with an empty plan: %s", w.steps[w.at].Name)
	}
	pressDrain(t, m, "enter") // recorded as done; archive: not configured
	if w.steps[w.at].Name != "archive" || w.act.phase != phasePlanFailed {
		t.Fatalf("not on archive's refusal: %s", w.steps[w.at].Name)
	}
	pressDrain(t, m, "enter")
	if w.steps[w.at].Name != "vacuum" {
		t.Fatalf("not on vacuum: %s", w.steps[w.at].Name)
	}
	pressDrain(t, m, "n")     // skipped
	pressDrain(t, m, "enter") // reindex: nothing to do
	if w.steps[w.at].Name != "retrain_models" || w.phase != wizManual {
		t.Fatalf("not on the manual task: %s phase %d", w.steps[w.at].Name, w.phase)
	}
	press(m, "t")
	typeText(m, "retrained on November")
	pressDrain(t, m, "enter")
	if w.phase != wizSummary {
		t.Fatalf("no summary: phase %d", w.phase)
	}
	want := map[string]string{"retention": maint.OutcomeOK, "compress": maint.OutcomeOK, "archive": checklist.OutcomeUnconfigured,
		"vacuum": checklist.OutcomeDeclined, "reindex": maint.OutcomeOK, "retrain_models": state.OutcomeTicked}
	if got := outcomes(w); !maps.Equal(got, want) {
		t.Errorf("outcomes %v, want %v", got, want)
	}
	if !slices.Equal(f.runs, []string{"retention", "compress", "reindex"}) || !slices.Equal(f.ticks, []string{"retrain_models: retrained on November"}) {
		t.Errorf("runs %v, ticks %v", f.runs, f.ticks)
	}
	if f.summary == nil || len(f.summary.Steps) != 6 || f.summary.Outcome() != maint.OutcomeSkipped {
		t.Fatalf("summary %+v", f.summary)
	}
	if deleted, _ := f.summary.Rows(); deleted != 1000 {
		t.Errorf("rows %d", deleted)
	}
	view = plain(t, m)
	for _, want := range []string{"monthly checklist: skipped", "2.0 GiB freed", "skipped      VACUUM ANALYZE: skipped by the operator", "recorded in pgtend.history", "not set up"} {
		if !strings.Contains(view, want) {
			t.Errorf("the summary lacks %q:\n%s", want, view)
		}
	}
	press(m, "enter")
	if m.wizard != nil {
		t.Error("enter did not close the summary")
	}
}

// Resume: the steps done in their period are passed; leaving midway and
// opening again starts at the first step still not done.
func TestWizardResumes(t *testing.T) {
	f := &fakeChecklist{}
	db := &fakeDB{edit: doneInCalendar("retention_cleanup", "compression_check")}
	m, _ := newTestModel(db, withChecklists(f))
	start(t, m, 100, 30)
	pressDrain(t, m, "m")
	w := m.wizard
	if w.steps[w.at].Name != "archive" || outcomes(w)["retention"] != checklist.OutcomeEarlier {
		t.Fatalf("did not resume at archive: %s %v", w.steps[w.at].Name, outcomes(w))
	}
	pressDrain(t, m, "enter") // archive passed (not configured): vacuum
	press(m, "esc")           // leave midway
	if m.wizard != nil {
		t.Fatal("esc did not leave the checklist")
	}
	pressDrain(t, m, "m")
	if w = m.wizard; w.steps[w.at].Name != "archive" {
		t.Errorf("opened again at %s, want archive (not done: not configured)", w.steps[w.at].Name)
	}
	if !strings.Contains(plain(t, m), "✓ retention") {
		t.Errorf("the steps done earlier are not marked:\n%s", plain(t, m))
	}
}

// Every step done in this period: the summary at once, nothing recorded.
func TestWizardAllDone(t *testing.T) {
	f := &fakeChecklist{}
	db := &fakeDB{edit: doneInCalendar("review_retention", "archive_backups", "capacity_planning", "performance_audit")}
	m, _ := newTestModel(db, withChecklists(f))
	start(t, m, 100, 30)
	pressDrain(t, m, "Q")
	if m.wizard == nil || m.wizard.phase != wizSummary || f.summary != nil || !strings.Contains(plain(t, m), "every step was done earlier") {
		t.Fatalf("quarterly, all done:\n%s", plain(t, m))
	}
}

// The weekly sheets: looked at (recorded for their task) or skipped; the
// server log's lines shown.
func TestWizardSheets(t *testing.T) {
	f := &fakeChecklist{}
	m, _ := newTestModel(&fakeDB{edit: doneInCalendar("vacuum_analyze", "verify_backup", "archive_trade_logs")}, withChecklists(f))
	start(t, m, 120, 40)
	pressDrain(t, m, "w")
	w := m.wizard
	if w.steps[w.at].Name != maint.SheetSizes || w.phase != wizSheet {
		t.Fatalf("not on the sizes sheet: %s phase %d", w.steps[w.at].Name, w.phase)
	}
	pressDrain(t, m, "n") // skipped
	if w.steps[w.at].Name != maint.SheetLogs || !strings.Contains(plain(t, m), "password authentication failed") {
		t.Fatalf("the log sheet:\n%s", plain(t, m))
	}
	pressDrain(t, m, "y")
	if !slices.Equal(f.looked, []string{"review_logs"}) || w.phase != wizSummary {
		t.Errorf("looked %v, phase %d", f.looked, w.phase)
	}
	if got := outcomes(w); got["sizes"] != checklist.OutcomeDeclined || got["logs"] != maint.OutcomeOK {
		t.Errorf("%v", got)
	}
}

// Enter on a due task in the Calendar pane opens its cadence's checklist
// at that task; the keys are gone without checklists.
func TestCalendarEnterOpensChecklist(t *testing.T) {
	f := &fakeChecklist{}
	m, _ := newTestModel(&fakeDB{}, withChecklists(f))
	start(t, m, 100, 30)
	press(m, "4", "G", "k") // the fixture's reindex, monthly and due
	if !strings.Contains(footer(t, m), "enter checklist") {
		t.Errorf("the footer does not offer the checklist: %s", footer(t, m))
	}
	pressDrain(t, m, "enter")
	if m.wizard == nil || m.wizard.script != "monthly" || m.wizard.steps[m.wizard.at].Name != "reindex" {
		t.Fatalf("enter on the due reindex did not open monthly at reindex")
	}
	m2, _ := newTestModel(&fakeDB{}, withActions(newFakeActions()))
	start(t, m2, 100, 30)
	if press(m2, "m"); m2.wizard != nil {
		t.Error("m opened a checklist with nowhere to record it")
	}
}

// Ctrl+C while a step runs asks to cancel the run, as in the action view.
func TestWizardCtrlCAsksFirst(t *testing.T) {
	f := &fakeChecklist{}
	m, _ := newTestModel(&fakeDB{}, withChecklists(f))
	start(t, m, 100, 30)
	pressDrain(t, m, "m")
	press(m, "y")
	typeText(m, "database trading")
	press(m, "enter") // the run started, not drained
	if !m.wizard.running() {
		t.Fatal("not running")
	}
	if cmd := press(m, "ctrl+c"); cmd != nil || !m.wizard.act.asking {
		t.Error("ctrl+c did not ask to cancel the run")
	}
}

// footer is the view's last line, plain.
func footer(t testing.TB, m *Model) string {
	lines := strings.Split(plain(t, m), "\n")
	return lines[len(lines)-1]
}

// w, m and Q work from every pane: no pane's key, global key or registry
// action may be one of them.
func TestChecklistKeysAreFree(t *testing.T) {
	m, _ := newTestModel(&fakeDB{}, everyKeyBound)
	k := m.keys
	taken := map[string]string{}
	add := func(bs []key.Binding) {
		for _, b := range bs {
			for _, name := range b.Keys() {
				taken[name] = b.Help().Desc
			}
		}
	}
	add(append(k.paneKeys(), k.NextPane, k.PrevPane, k.Refresh, k.Help, k.Quit, k.Cancel, k.Terminate))
	add(k.listKeys())
	for _, p := range m.panes() {
		add(p.bindings(k))
	}
	for _, a := range maint.Default().Actions {
		if a.Key != "" {
			taken[a.Key] = a.Name
		}
	}
	for _, b := range k.checklistKeys() {
		for _, name := range b.Keys() {
			if other, ok := taken[name]; ok {
				t.Errorf("%s (%s) is already %q", name, b.Help().Desc, other)
			}
		}
	}
}

// At 80x24 an operator sees, on a destructive step, how to leave (the
// footer keeps Esc right after the answers) and what y leads to; the
// summary of a resumed walk says its figures leave out the steps done
// earlier.
func TestWizardAt80x24SaysHowToLeaveAndWhatCounts(t *testing.T) {
	f := &fakeChecklist{}
	m, _ := newTestModel(&fakeDB{}, withChecklists(f))
	start(t, m, 80, 24)
	pressDrain(t, m, "m")
	view := plain(t, m)
	lines := strings.Split(strings.TrimRight(view, "\n"), "\n")
	footer := lines[len(lines)-1]
	if !strings.HasPrefix(footer, "y confirm • n skip • esc leave (resumes here)") {
		t.Errorf("footer %q", footer)
	}
	if !strings.Contains(view, "after y, type database trading to run it") {
		t.Errorf("the confirmation does not say what y leads to:\n%s", view)
	}
	press(m, "esc")

	m, _ = newTestModel(&fakeDB{edit: doneInCalendar("retention_cleanup", "compression_check", "vacuum_analyze", "reindex", "retrain_models")}, withChecklists(f))
	start(t, m, 80, 24)
	pressDrain(t, m, "m")
	pressDrain(t, m, "enter") // archive: not set up; then the summary
	if m.wizard == nil || m.wizard.phase != wizSummary {
		t.Fatalf("no summary:\n%s", plain(t, m))
	}
	if view := plain(t, m); !strings.Contains(view, "the steps done earlier count in the history") {
		t.Errorf("the summary does not say what its figures leave out:\n%s", view)
	}
}

// Why the log cannot be read is the sheet's point: at 80 columns its
// heading is wrapped, not cut.
func TestWizardLogSheetWrapsWhyUnread(t *testing.T) {
	f := &fakeChecklist{logs: &checklist.Logs{Reason: "the server writes no log file of its own (logging_collector is off): its log goes to its standard error"}}
	m, _ := newTestModel(&fakeDB{edit: doneInCalendar("vacuum_analyze", "verify_backup", "archive_trade_logs")}, withChecklists(f))
	start(t, m, 80, 24)
	pressDrain(t, m, "w")
	pressDrain(t, m, "n") // the sizes skipped: the log
	view := plain(t, m)
	for _, want := range []string{"its standard error", "logging_collector = on (a restart)"} {
		if !strings.Contains(view, want) {
			t.Errorf("no %q in\n%s", want, view)
		}
	}
}
