package tui

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/ansi"
)

// testClock is the console's clock in tests: it moves only when told to.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// newTestModel builds a console on a fake database and a frozen clock.
func newTestModel(db *fakeDB, opts ...func(*Options)) (*Model, *testClock) {
	clock := &testClock{t: fixtureNow}
	o := Options{Load: db.load, Dark: true, Now: clock.now, Target: "prod"}
	for _, f := range opts {
		f(&o)
	}
	return New(o), clock
}

// start sizes the window and runs what Init asks for (the first load and
// the background-colour query, which needs no terminal to build).
func start(t testing.TB, m *Model, w, h int) {
	t.Helper()
	m.Update(tea.WindowSizeMsg{Width: w, Height: h})
	batch, ok := m.Init()().(tea.BatchMsg)
	if !ok {
		t.Fatal("Init does not batch its commands")
	}
	loaded := false
	for _, cmd := range batch {
		if cmd == nil {
			continue
		}
		if msg, ok := cmd().(reportMsg); ok {
			m.Update(msg)
			loaded = true
		}
	}
	if !loaded {
		t.Fatal("Init did not load a report")
	}
}

// reload plays the refresh timer firing and the load finishing.
func reload(t testing.TB, m *Model) {
	t.Helper()
	_, cmd := m.Update(refreshMsg{seq: m.loadSeq})
	if cmd == nil {
		t.Fatal("refresh did not start a load")
	}
	m.Update(cmd())
}

// keyMsg turns a key name as bubbles/key spells it into a key press.
func keyMsg(name string) tea.KeyPressMsg {
	special := map[string]tea.Key{
		"up": {Code: tea.KeyUp}, "down": {Code: tea.KeyDown},
		"pgup": {Code: tea.KeyPgUp}, "pgdown": {Code: tea.KeyPgDown},
		"home": {Code: tea.KeyHome}, "end": {Code: tea.KeyEnd},
		"enter": {Code: tea.KeyEnter}, "esc": {Code: tea.KeyEscape},
		"tab": {Code: tea.KeyTab}, "shift+tab": {Code: tea.KeyTab, Mod: tea.ModShift},
		"backspace": {Code: tea.KeyBackspace}, "ctrl+c": {Code: 'c', Mod: tea.ModCtrl},
		"space": {Code: tea.KeySpace, Text: " "},
	}
	if k, ok := special[name]; ok {
		return tea.KeyPressMsg(k)
	}
	r := []rune(name)
	if len(r) != 1 {
		panic("keyMsg: unknown key " + name)
	}
	return tea.KeyPressMsg{Code: r[0], Text: name}
}

// press sends keys one by one and returns the last command.
func press(m *Model, keys ...string) tea.Cmd {
	var cmd tea.Cmd
	for _, k := range keys {
		_, cmd = m.Update(keyMsg(k))
	}
	return cmd
}

// typeText sends each rune of s as a key press.
func typeText(m *Model, s string) {
	for _, r := range s {
		m.Update(tea.KeyPressMsg{Code: r, Text: string(r)})
	}
}

// render draws the view as a terminal of the given profile would receive
// it, so the result does not depend on the environment running the test.
func render(t testing.TB, m *Model, p colorprofile.Profile) string {
	t.Helper()
	var buf bytes.Buffer
	w := &colorprofile.Writer{Forward: &buf, Profile: p}
	if _, err := w.WriteString(m.View().Content); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// plain is the view without any escape sequence.
func plain(t testing.TB, m *Model) string {
	t.Helper()
	return render(t, m, colorprofile.NoTTY)
}

// checkFrame asserts the view fills the terminal exactly: height lines,
// none wider than the terminal, no raw control character but ESC (which
// only starts styles here).
func checkFrame(t testing.TB, view string, w, h int) {
	t.Helper()
	lines := strings.Split(view, "\n")
	if len(lines) != h {
		t.Errorf("view has %d lines, terminal has %d", len(lines), h)
	}
	for i, l := range lines {
		if sw := ansi.StringWidth(l); sw > w {
			t.Errorf("line %d is %d cells wide, terminal has %d: %q", i+1, sw, w, ansi.Strip(l))
		}
		if strings.ContainsAny(ansi.Strip(l), "\x1b\r\t\a\b") {
			t.Errorf("line %d holds a raw control character: %q", i+1, l)
		}
	}
	if strings.Contains(view, "\x1b[2J") {
		t.Error("the view contains the escape sequence of a table name")
	}
}

// selectedTable is the name under the Tables cursor.
func selectedTable(m *Model) string {
	if t := m.tables.selected(); t != nil {
		return t.Name
	}
	return ""
}
