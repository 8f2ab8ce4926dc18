package tui

import (
	"context"
	"fmt"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/pgtend/pgtend/ops/report"
)

// looks are the ways a terminal can show the console: the colour profile
// is pinned so the goldens do not depend on the terminal running the tests.
var looks = []struct {
	name    string
	dark    bool
	profile colorprofile.Profile
}{
	{"dark", true, colorprofile.TrueColor},
	{"light", false, colorprofile.TrueColor},
	{"nocolor", true, colorprofile.ASCII}, // NO_COLOR: bold and reverse stay, colour goes
}

var goldenSizes = [][2]int{{80, 24}, {160, 48}}

// TestGoldenPanes renders every pane at every size in every look. Run
// `go test ./tui/ -run Golden -update` after an intended change and read
// the diff of testdata/ (cat -v shows the styles).
func TestGoldenPanes(t *testing.T) {
	for i, name := range []string{"tables", "chunks", "disk", "calendar"} {
		for _, size := range goldenSizes {
			for _, look := range looks {
				t.Run(fmt.Sprintf("%s/%dx%d/%s", name, size[0], size[1], look.name), func(t *testing.T) {
					m, _ := newTestModel(&fakeDB{}, func(o *Options) { o.Dark = look.dark })
					if look.profile <= colorprofile.ASCII {
						m.Update(tea.ColorProfileMsg{Profile: look.profile}) // as the program tells the model
					}
					start(t, m, size[0], size[1])
					press(m, fmt.Sprint(i+1))
					out := render(t, m, look.profile)
					checkFrame(t, out, size[0], size[1])
					golden.RequireEqual(t, out)
				})
			}
		}
	}
}

// TestGoldenStates draws the states that are not a pane's ordinary view,
// at the size that matters most: 80x24 over SSH.
func TestGoldenStates(t *testing.T) {
	states := []struct {
		name  string
		edit  func(*report.Report) *report.Report
		opts  func(*Options)
		setup func(t *testing.T, m *Model, db *fakeDB)
	}{
		{name: "help", opts: everyKeyBound, setup: func(t *testing.T, m *Model, _ *fakeDB) { press(m, "?") }},
		{name: "help-read-only", opts: func(o *Options) { everyKeyBound(o); o.ReadOnly = true }, setup: func(t *testing.T, m *Model, _ *fakeDB) { press(m, "?") }},
		{name: "filtering", setup: func(t *testing.T, m *Model, _ *fakeDB) { press(m, "/"); typeText(m, "m") }},
		{name: "filtered", setup: func(t *testing.T, m *Model, _ *fakeDB) {
			press(m, "/")
			typeText(m, "bars")
			press(m, "enter")
		}},
		{name: "sorted-by-name", setup: func(t *testing.T, m *Model, _ *fakeDB) { press(m, "s", "j", "j") }},
		{name: "reconnecting", setup: func(t *testing.T, m *Model, db *fakeDB) {
			db.set(0, true)
			reload(t, m)
			reload(t, m)
		}},
		{name: "refreshed-changes", setup: func(t *testing.T, m *Model, db *fakeDB) {
			db.set(1, false)
			reload(t, m)
		}},
		{name: "disk-hidden", edit: hiddenDisk, setup: func(t *testing.T, m *Model, _ *fakeDB) { press(m, "3") }},
		{name: "chunks-of-plain-table", setup: func(t *testing.T, m *Model, _ *fakeDB) { press(m, "enter") }},
		{name: "chunks-end", setup: func(t *testing.T, m *Model, _ *fakeDB) { press(m, "2", "G", "k", "k") }},
		{name: "chunks-largest-first", setup: func(t *testing.T, m *Model, _ *fakeDB) { press(m, "2", "s") }},
		{name: "read-only", opts: func(o *Options) { o.ReadOnly = true }},
		{name: "ascii", opts: func(o *Options) { o.ASCII = true }, setup: func(t *testing.T, m *Model, _ *fakeDB) { press(m, "j") }},
		{name: "ascii-chunks", opts: func(o *Options) { o.ASCII = true }, setup: func(t *testing.T, m *Model, _ *fakeDB) { press(m, "2") }},
		{name: "ascii-help", opts: func(o *Options) { everyKeyBound(o); o.ASCII = true }, setup: func(t *testing.T, m *Model, _ *fakeDB) { press(m, "?") }},
	}
	for _, st := range states {
		t.Run(st.name, func(t *testing.T) {
			db := &fakeDB{edit: st.edit}
			m, _ := newTestModel(db, func(o *Options) {
				if st.opts != nil {
					st.opts(o)
				}
			})
			start(t, m, 80, 24)
			if st.setup != nil {
				st.setup(t, m, db)
			}
			out := render(t, m, colorprofile.TrueColor)
			checkFrame(t, out, 80, 24)
			golden.RequireEqual(t, out)
		})
	}
}

// everyKeyBound gives the console everything a key can need: actions to
// run and somewhere to record tick-offs.
func everyKeyBound(o *Options) {
	withActions(newFakeActions())(o)
	o.Tick = func(context.Context, string, string) error { return nil }
	o.Checklists = &fakeChecklist{}
}

// TestGoldenConnecting is the first frame, before any report arrived.
func TestGoldenConnecting(t *testing.T) {
	m, _ := newTestModel(&fakeDB{})
	m.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
	m.Init()
	out := render(t, m, colorprofile.TrueColor)
	checkFrame(t, out, 80, 24)
	golden.RequireEqual(t, out)
}
