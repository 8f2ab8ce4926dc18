package tui

import (
	"strings"
	"testing"
)

// At 80x24, in box-drawing and in ASCII alike, the full help has room for
// every pane's keys and the checklists' (w, m, Q, Enter on a due task):
// none is cut off at the bottom.
func TestFullHelpAt80x24ShowsTheChecklists(t *testing.T) {
	for _, ascii := range []bool{false, true} {
		m, _ := newTestModel(&fakeDB{}, func(o *Options) { everyKeyBound(o); o.ASCII = ascii })
		start(t, m, 80, 24)
		press(m, "?")
		out := plain(t, m)
		for _, want := range []string{"1-6", "w         weekly checks", "m         monthly checks", "Q         quarterly checks", "enter a due task's checklist", "Health", "on the row's table"} {
			if !strings.Contains(out, want) {
				t.Errorf("ascii %v: no %q in\n%s", ascii, want, out)
			}
		}
	}
}
