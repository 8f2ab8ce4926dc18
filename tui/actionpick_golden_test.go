package tui

import (
	"fmt"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/exp/golden"
)

// TestGoldenPlanChoices draws the plan view's choices at both golden sizes
// in every look: REINDEX candidates unfolded with one left out and the
// cursor on the next, the plan made again with --blocking, and the
// question --include-default asks before it plans again. Update as
// golden_test.go says.
func TestGoldenPlanChoices(t *testing.T) {
	states := []struct {
		name  string
		setup func(t *testing.T, m *Model, f *fakeActions)
	}{
		{"reindex-picked", func(t *testing.T, m *Model, _ *fakeActions) {
			press(m, "j", "j") // ml_features
			planFor(t, m, "i")
			press(m, "space", "space", "j")
		}},
		{"reindex-blocking", func(t *testing.T, m *Model, _ *fakeActions) {
			press(m, "j", "j")
			planFor(t, m, "i")
			deliver(t, m, press(m, "b"))
		}},
		{"retention-include-default", func(t *testing.T, m *Model, f *fakeActions) {
			f.defaultRows = 240
			press(m, "j") // option_chain_snapshots
			planFor(t, m, "d")
			press(m, "i")
		}},
	}
	for _, st := range states {
		for _, size := range goldenSizes {
			for _, look := range looks {
				t.Run(fmt.Sprintf("%s/%dx%d/%s", st.name, size[0], size[1], look.name), func(t *testing.T) {
					f := newFakeActions()
					m, _ := newTestModel(&fakeDB{}, withActions(f), func(o *Options) { o.Dark = look.dark })
					if look.profile <= colorprofile.ASCII {
						m.Update(tea.ColorProfileMsg{Profile: look.profile})
					}
					start(t, m, size[0], size[1])
					st.setup(t, m, f)
					out := render(t, m, look.profile)
					checkFrame(t, out, size[0], size[1])
					golden.RequireEqual(t, out)
				})
			}
		}
	}
}

// TestGoldenHelpPlanKeys draws the full help at 160x48, where its Plans
// group (the plan view's keys and the action switches) is on screen.
func TestGoldenHelpPlanKeys(t *testing.T) {
	for _, look := range looks {
		t.Run(look.name, func(t *testing.T) {
			m, _ := newTestModel(&fakeDB{}, everyKeyBound, func(o *Options) { o.Dark = look.dark })
			if look.profile <= colorprofile.ASCII {
				m.Update(tea.ColorProfileMsg{Profile: look.profile})
			}
			start(t, m, 160, 48)
			press(m, "?")
			out := render(t, m, look.profile)
			checkFrame(t, out, 160, 48)
			golden.RequireEqual(t, out)
		})
	}
}
