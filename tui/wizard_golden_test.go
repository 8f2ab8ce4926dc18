package tui

import (
	"fmt"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/pgtend/pgtend/ops/report"
)

// TestGoldenWizard draws the checklist wizard at both golden sizes in
// every look: a step (monthly's destructive retention plan), a sheet
// (weekly's server log) and the summary of a monthly walk. Update as
// golden_test.go says.
func TestGoldenWizard(t *testing.T) {
	states := []struct {
		name  string
		edit  func(*report.Report) *report.Report
		setup func(t *testing.T, m *Model)
	}{
		{"wizard-step", nil, func(t *testing.T, m *Model) { pressDrain(t, m, "m") }},
		{"wizard-sheet", doneInCalendar("vacuum_analyze", "verify_backup", "archive_trade_logs", "check_sizes"), func(t *testing.T, m *Model) { pressDrain(t, m, "w") }},
		{"wizard-summary", nil, func(t *testing.T, m *Model) {
			pressDrain(t, m, "m")
			press(m, "y")
			typeText(m, "database trading")
			for _, k := range []string{"enter", "enter", "enter", "enter", "n", "enter", "t"} {
				pressDrain(t, m, k)
			}
			typeText(m, "retrained on November's data")
			pressDrain(t, m, "enter")
		}},
	}
	for _, st := range states {
		for _, size := range goldenSizes {
			for _, look := range looks {
				t.Run(fmt.Sprintf("%s/%dx%d/%s", st.name, size[0], size[1], look.name), func(t *testing.T) {
					m, _ := newTestModel(&fakeDB{edit: st.edit}, withChecklists(&fakeChecklist{}), func(o *Options) { o.Dark = look.dark })
					if look.profile <= colorprofile.ASCII {
						m.Update(tea.ColorProfileMsg{Profile: look.profile})
					}
					start(t, m, size[0], size[1])
					st.setup(t, m)
					if m.wizard == nil {
						t.Fatal("no checklist open")
					}
					out := render(t, m, look.profile)
					checkFrame(t, out, size[0], size[1])
					golden.RequireEqual(t, out)
				})
			}
		}
	}
}
