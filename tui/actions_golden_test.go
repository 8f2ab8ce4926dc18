package tui

import (
	"fmt"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/pgtend/pgtend/ops/maint"
)

// TestGoldenActions draws maintenance at 80x24, dark and NO_COLOR: a
// destructive retention plan, its name prompt, a vacuum mid-step, the
// summary of a failed run; and the plan and the run in ASCII. Update as
// golden_test.go says.
func TestGoldenActions(t *testing.T) {
	states := []struct {
		name  string
		setup func(t *testing.T, m *Model, f *fakeActions, clock *testClock)
	}{
		{"plan-destructive", func(t *testing.T, m *Model, _ *fakeActions, _ *testClock) {
			press(m, "j") // option_chain_snapshots
			planFor(t, m, "d")
		}},
		{"confirm", func(t *testing.T, m *Model, _ *fakeActions, _ *testClock) {
			press(m, "j")
			planFor(t, m, "d")
			press(m, "y")
			typeText(m, "option_chain")
		}},
		{"run", func(t *testing.T, m *Model, f *fakeActions, clock *testClock) {
			listen := midRun(t, m, f, clock)
			t.Cleanup(func() { finishRun(t, m, f, listen, maint.Result{}) })
		}},
		{"summary", func(t *testing.T, m *Model, f *fakeActions, clock *testClock) {
			listen := midRun(t, m, f, clock)
			reason := `could not lock "_timescaledb_internal"."_hyper_2_1001_chunk" within 5s (3 tries): held by pid 4242 (user etl, application "loader", active, ACCESS EXCLUSIVE: ALTER TABLE …)`
			clock.advance(16 * time.Second)
			step := m.action.plan.Steps[1].Title
			listen = emitEvent(t, m, f, listen, maint.Event{Kind: maint.StepFailed, Step: 1, Title: step, Duration: 16 * time.Second, Err: errString(reason)})
			finishRun(t, m, f, listen, failedResult(step+": "+reason))
		}},
	}
	for _, st := range states {
		for _, look := range []struct {
			name    string
			ascii   bool
			profile colorprofile.Profile
		}{
			{"dark", false, colorprofile.TrueColor},
			{"nocolor", false, colorprofile.ASCII},
			{"ascii", true, colorprofile.TrueColor},
		} {
			if look.ascii && st.name != "run" && st.name != "plan-destructive" {
				continue
			}
			t.Run(st.name+"/"+look.name, func(t *testing.T) {
				f := newFakeActions()
				m, clock := newTestModel(&fakeDB{}, withActions(f), func(o *Options) { o.ASCII = look.ascii })
				if look.profile <= colorprofile.ASCII {
					m.Update(tea.ColorProfileMsg{Profile: look.profile})
				}
				start(t, m, 80, 24)
				st.setup(t, m, f, clock)
				out := render(t, m, look.profile)
				checkFrame(t, out, 80, 24)
				if look.ascii && strings.IndexFunc(out, func(r rune) bool { return r >= 128 }) >= 0 {
					t.Errorf("a rune outside ASCII:\n%s", out)
				}
				golden.RequireEqual(t, out)
			})
		}
	}
}

// TestGoldenPlanAtAGlance draws plans summary first at both golden sizes in
// every look: a retention plan as it opens (each table's summary, its steps
// folded), the same with its statements shown (x), and a vacuum of 200
// chunks, folded. Update as golden_test.go says.
func TestGoldenPlanAtAGlance(t *testing.T) {
	states := []struct {
		name       string
		row        []string // Tables pane keys to the table
		action     string
		afterwards []string
	}{
		{"retention", []string{"j"}, "d", nil}, // option_chain_snapshots
		{"retention-statements", []string{"j"}, "d", []string{"x"}},
		{"vacuum", []string{"j", "j"}, "v", nil}, // ml_features
	}
	for _, st := range states {
		for _, size := range goldenSizes {
			for _, look := range looks {
				t.Run(fmt.Sprintf("%s/%dx%d/%s", st.name, size[0], size[1], look.name), func(t *testing.T) {
					m, _ := newTestModel(&fakeDB{}, withActions(newFakeActions()), func(o *Options) { o.Dark = look.dark })
					if look.profile <= colorprofile.ASCII {
						m.Update(tea.ColorProfileMsg{Profile: look.profile})
					}
					start(t, m, size[0], size[1])
					press(m, st.row...)
					planFor(t, m, st.action)
					press(m, st.afterwards...)
					out := render(t, m, look.profile)
					checkFrame(t, out, size[0], size[1])
					golden.RequireEqual(t, out)
				})
			}
		}
	}
}
