package tui

import (
	"image/color"
	"strings"
	"testing"
	"unicode/utf8"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/pgtend/pgtend/ops/report"
)

// TestASCIIFrame: with Options.ASCII the whole frame is 7-bit, whatever is
// on screen: every pane, the help, the filter, a lost connection, the first
// frame, and names from the database that are not ASCII.
func TestASCIIFrame(t *testing.T) {
	db := &fakeDB{edit: func(r *report.Report) *report.Report {
		r.Tables = append(r.Tables, report.Table{Schema: "public", Name: "prix_café_€", Kind: ptr(report.KindTable), TotalBytes: ptr(int64(8192))})
		r.Disk.BackupDir = "/srv/sauvegardes/été"
		return r
	}}
	m, _ := newTestModel(db, func(o *Options) { o.ASCII = true })
	check := func(what string) {
		t.Helper()
		v := m.View().Content
		checkFrame(t, v, 80, 24)
		for i, r := range v {
			if r >= utf8.RuneSelf {
				line := strings.Count(v[:i], "\n") + 1
				t.Fatalf("%s: rune %q on line %d:\n%s", what, r, line, plain(t, m))
			}
		}
	}
	m.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
	m.Init()
	check("connecting")
	m.loading = false
	start(t, m, 80, 24)
	for _, k := range []string{"1", "2", "3", "4", "?"} {
		press(m, k)
		check("pane " + k)
	}
	press(m, "esc", "2", "G")
	check("chunks end")
	press(m, "1", "/")
	typeText(m, "e")
	check("filtering")
	press(m, "enter")
	check("filtered")
	press(m, "esc")
	m.Update(tea.WindowSizeMsg{Width: 40, Height: 12}) // truncated cells end in the ASCII ellipsis
	m.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
	db.set(0, true)
	reload(t, m)
	check("reconnecting")
	if p := plain(t, m); !strings.Contains(p, "prix_caf?_?") {
		t.Errorf("non-ASCII name not replaced:\n%s", p)
	}
}

// TestEscapeInNameIsDrawnSafely: a table called "evil\x1b[2Jname" must not
// clear the screen: the ESC is drawn as "?" wherever the name shows.
func TestEscapeInNameIsDrawnSafely(t *testing.T) {
	m, _ := newTestModel(&fakeDB{edit: func(r *report.Report) *report.Report {
		// Give it chunks too, and put it in the error and the calendar.
		r.Chunks = append(r.Chunks, report.Chunk{TableSchema: "scratch", Table: evilName, ChunkSchema: "scratch", Chunk: evilName + "_p1", TotalBytes: ptr(int64(8192))})
		r.Calendar[0].Title = "Vacuum " + evilName
		r.Server.Database = "db\x1b]0;owned\x07"
		return r
	}})
	start(t, m, 80, 24)
	press(m, "G", "k", "k") // scratch.evil…, the last but two by size
	if !strings.Contains(selectedTable(m), "evil") {
		t.Fatalf("cursor on %q", selectedTable(m))
	}
	for _, k := range []string{"1", "enter", "4"} {
		press(m, k)
		for _, p := range []colorprofile.Profile{colorprofile.TrueColor, colorprofile.ASCII, colorprofile.NoTTY} {
			v := render(t, m, p)
			checkFrame(t, v, 80, 24)
			if strings.Contains(v, "\x1b[2J") || strings.Contains(v, "\x1b]0;") || strings.Contains(v, "\a") {
				t.Fatalf("after %s: raw escape sequence in the view", k)
			}
		}
		if p := plain(t, m); !strings.Contains(p, "evil?[2Jname") {
			t.Errorf("after %s: the sanitised name is not shown:\n%s", k, p)
		}
	}
}

// TestThemeFollowsTerminal: the terminal's answer about its background
// replaces the initial guess, everywhere at once.
func TestThemeFollowsTerminal(t *testing.T) {
	light, _ := newTestModel(&fakeDB{}, func(o *Options) { o.Dark = false })
	start(t, light, 80, 24)
	m, _ := newTestModel(&fakeDB{}, func(o *Options) { o.Dark = true })
	start(t, m, 80, 24)
	if m.View().Content == light.View().Content {
		t.Fatal("dark and light draw the same")
	}
	m.Update(tea.BackgroundColorMsg{Color: color.White})
	if m.View().Content != light.View().Content {
		t.Error("a light background does not give the light theme")
	}
	m.Update(tea.BackgroundColorMsg{Color: color.Black})
	if !m.styles.Dark || !m.tables.styles.Dark {
		t.Error("a dark background does not give the dark theme")
	}
}

// TestNoColorSelection: without colour the selected row is drawn in reverse
// video, not with a background that would vanish.
func TestNoColorSelection(t *testing.T) {
	m, _ := newTestModel(&fakeDB{})
	start(t, m, 80, 24)
	m.Update(tea.ColorProfileMsg{Profile: colorprofile.ASCII})
	v := render(t, m, colorprofile.ASCII)
	if line := lineWith(v, "trade_history"); !strings.Contains(line, "\x1b[1;7m") {
		t.Errorf("selected row without reverse video: %q", line)
	}
	if strings.Contains(v, "38;2;") || strings.Contains(v, "48;2;") {
		t.Error("colour left in a NO_COLOR frame")
	}
}
