package tui

import (
	"slices"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/pgtend/pgtend/ops/report"
)

func TestNavigateTables(t *testing.T) {
	m, _ := newTestModel(&fakeDB{})
	start(t, m, 80, 24)
	// Sorted by size: trade_history, option_chain_snapshots, ml_features, …
	steps := []struct {
		keys []string
		want string
	}{
		{nil, "trade_history"},
		{[]string{"j"}, "option_chain_snapshots"},
		{[]string{"down"}, "ml_features"},
		{[]string{"k"}, "option_chain_snapshots"},
		{[]string{"up", "up"}, "trade_history"}, // stops at the top
		{[]string{"G"}, "vix_term_structure"},
		{[]string{"j"}, "vix_term_structure"}, // stops at the bottom
		{[]string{"g"}, "trade_history"},
		{[]string{"end"}, "vix_term_structure"},
		{[]string{"home"}, "trade_history"},
		{[]string{"pgdown"}, "vix_term_structure"}, // 8 tables fit one page
		{[]string{"pgup"}, "trade_history"},
	}
	for _, s := range steps {
		press(m, s.keys...)
		if got := selectedTable(m); got != s.want {
			t.Fatalf("after %v: cursor on %q, want %q", s.keys, got, s.want)
		}
	}
}

func TestNavigateChunksPages(t *testing.T) {
	m, _ := newTestModel(&fakeDB{})
	start(t, m, 80, 24)
	press(m, "2")
	page := m.chunks.cursor.height
	if page != m.chunks.listHeight() || page < 5 {
		t.Fatalf("chunk list is %d rows high", page)
	}
	press(m, "pgdown")
	if m.chunks.cursor.index != page {
		t.Errorf("pgdown: cursor at %d, want %d", m.chunks.cursor.index, page)
	}
	press(m, "pgdown", "pgup")
	if m.chunks.cursor.index != page {
		t.Errorf("pgdown pgup: cursor at %d, want %d", m.chunks.cursor.index, page)
	}
	press(m, "G")
	last := m.chunks.rows[len(m.chunks.rows)-1].Chunk
	v := plain(t, m)
	if !strings.Contains(v, m.styles.Glyphs.Cursor+" "+last) {
		t.Errorf("after G the last chunk %s is not under the cursor:\n%s", last, v)
	}
	checkFrame(t, v, 80, 24)
	press(m, "g")
	if m.chunks.cursor.index != 0 || m.chunks.cursor.offset != 0 {
		t.Errorf("g: cursor %+v", m.chunks.cursor)
	}
}

func TestSwitchPanes(t *testing.T) {
	m, _ := newTestModel(&fakeDB{})
	start(t, m, 80, 24)
	for _, s := range []struct {
		key  string
		want int
	}{
		{"tab", paneChunks}, {"tab", paneDisk}, {"tab", paneCalendar}, {"tab", paneTriage}, {"tab", paneHealth}, {"tab", paneTables},
		{"shift+tab", paneHealth}, {"shift+tab", paneTriage}, {"shift+tab", paneCalendar}, {"shift+tab", paneDisk},
		{"1", paneTables}, {"2", paneChunks}, {"3", paneDisk}, {"4", paneCalendar}, {"5", paneTriage}, {"6", paneHealth},
	} {
		press(m, s.key)
		if m.active != s.want {
			t.Fatalf("after %s: pane %d, want %d", s.key, m.active, s.want)
		}
		v := plain(t, m)
		title := m.panes()[s.want].Title()
		if s.want == paneCalendar {
			title = "Maintenance calendar"
		}
		if s.want != paneChunks && !strings.Contains(v, title) {
			t.Errorf("pane %d shows no %q:\n%s", s.want, title, v)
		}
	}
}

func TestDrillIntoChunksAndBack(t *testing.T) {
	m, _ := newTestModel(&fakeDB{})
	start(t, m, 80, 24)
	press(m, "j", "j") // ml_features
	press(m, "enter")
	if m.active != paneChunks || m.chunks.table != "ml_features" {
		t.Fatalf("enter: pane %d, chunks of %q", m.active, m.chunks.table)
	}
	v := plain(t, m)
	if !strings.Contains(v, "ml_features  200 chunks") || !strings.Contains(v, "_hyper_2_1000_chunk") {
		t.Errorf("chunks pane does not show ml_features:\n%s", v)
	}
	press(m, "j", "j")
	press(m, "esc")
	if m.active != paneTables || selectedTable(m) != "ml_features" {
		t.Fatalf("esc: pane %d, cursor on %q", m.active, selectedTable(m))
	}
	// Drilling into the same table again keeps the chunk cursor; another resets it.
	press(m, "enter")
	if m.chunks.cursor.index != 2 {
		t.Errorf("same table again: chunk cursor %d, want 2", m.chunks.cursor.index)
	}
	press(m, "esc", "k", "enter")
	if m.chunks.table != "option_chain_snapshots" || m.chunks.cursor.index != 0 {
		t.Errorf("other table: chunks of %q, cursor %d", m.chunks.table, m.chunks.cursor.index)
	}
	press(m, "esc", "g", "enter") // trade_history: a plain table
	if v := plain(t, m); !strings.Contains(v, "No chunks or partitions") {
		t.Errorf("plain table drilled into:\n%s", v)
	}
}

func TestSortKeepsCursor(t *testing.T) {
	m, _ := newTestModel(&fakeDB{})
	start(t, m, 80, 24)
	press(m, "j", "j") // ml_features
	orders := map[string][]string{
		"size": {"trade_history", "option_chain_snapshots", "ml_features", "multi_resolution_bars", "macro_signals", "option_chain_daily", evilName, "order_book_l2", "vix_term_structure"},
		"name": {"macro_signals", "ml_features", "multi_resolution_bars", "option_chain_daily", "option_chain_snapshots", "order_book_l2", "trade_history", "vix_term_structure", evilName},
		// growth: expected by the policy until pgtend has measured for a
		// while; ties (none known) by schema-qualified name
		"growth":         {"order_book_l2", "option_chain_snapshots", "ml_features", "multi_resolution_bars", "trade_history", "macro_signals", "option_chain_daily", "vix_term_structure", evilName},
		"past retention": {"option_chain_snapshots", "vix_term_structure", "macro_signals", "ml_features", "option_chain_daily", "multi_resolution_bars", "order_book_l2", "trade_history", evilName},
	}
	for _, by := range []string{"name", "growth", "past retention", "size"} {
		press(m, "s")
		if sortNames[m.tables.sortBy] != by {
			t.Fatalf("s: sorted by %q, want %q", sortNames[m.tables.sortBy], by)
		}
		var got []string
		for _, r := range m.tables.rows {
			got = append(got, r.Name)
		}
		if !slices.Equal(got, orders[by]) {
			t.Errorf("sorted by %s:\n got %q\nwant %q", by, got, orders[by])
		}
		if selectedTable(m) != "ml_features" {
			t.Errorf("sorted by %s: cursor on %q, want ml_features", by, selectedTable(m))
		}
		if v := plain(t, m); !strings.Contains(v, "sorted by "+by) {
			t.Errorf("title does not say the order %q", by)
		}
	}
}

func TestFilter(t *testing.T) {
	m, _ := newTestModel(&fakeDB{})
	start(t, m, 80, 24)
	press(m, "j") // option_chain_snapshots
	press(m, "/")
	if !m.tables.filtering {
		t.Fatal("/ does not start filtering")
	}
	typeText(m, "m")
	if n := len(m.tables.rows); n != 5 {
		t.Errorf("filter m: %d rows, want 5", n)
	}
	typeText(m, "l_f")
	if n := len(m.tables.rows); n != 1 || selectedTable(m) != "ml_features" {
		t.Fatalf("filter ml_f: %d rows, cursor on %q", n, selectedTable(m))
	}
	// Keys are text while typing: q does not quit, 2 does not switch pane.
	press(m, "q", "2")
	if m.active != paneTables || m.tables.filter() != "ml_fq2" {
		t.Fatalf("typing: pane %d, filter %q", m.active, m.tables.filter())
	}
	press(m, "backspace", "backspace")
	press(m, "enter")
	if m.tables.filtering || m.tables.filter() != "ml_f" {
		t.Fatalf("enter: filtering=%v filter=%q", m.tables.filtering, m.tables.filter())
	}
	v := plain(t, m)
	if !strings.Contains(v, `1 table, sorted by size, filter "ml_f"`) || strings.Contains(v, "trade_history") {
		t.Errorf("applied filter:\n%s", v)
	}
	// Enter now drills into the one table left.
	press(m, "enter")
	if m.chunks.table != "ml_features" {
		t.Errorf("enter on the filtered list: chunks of %q", m.chunks.table)
	}
	press(m, "esc") // back to Tables
	press(m, "esc") // clears the filter
	if m.tables.filter() != "" || len(m.tables.rows) != 9 {
		t.Fatalf("esc: filter %q, %d rows", m.tables.filter(), len(m.tables.rows))
	}
	// Esc while typing clears too; a filter that hides every table leaves
	// the cursor's memory alone.
	press(m, "/")
	typeText(m, "zzz")
	if v := plain(t, m); !strings.Contains(v, "no table matches") {
		t.Errorf("empty filter result:\n%s", v)
	}
	press(m, "esc")
	if m.tables.filtering || len(m.tables.rows) != 9 || selectedTable(m) != "ml_features" {
		t.Errorf("esc while typing: filtering=%v, %d rows, cursor on %q", m.tables.filtering, len(m.tables.rows), selectedTable(m))
	}
}

func TestQuit(t *testing.T) {
	for _, keys := range [][]string{{"q"}, {"ctrl+c"}, {"/", "ctrl+c"}, {"?", "q"}} {
		m, _ := newTestModel(&fakeDB{})
		start(t, m, 80, 24)
		cmd := press(m, keys...)
		if cmd == nil {
			t.Fatalf("%v: no command", keys)
		}
		if _, ok := cmd().(tea.QuitMsg); !ok {
			t.Errorf("%v does not quit", keys)
		}
	}
}

func TestHelpToggles(t *testing.T) {
	m, _ := newTestModel(&fakeDB{})
	start(t, m, 80, 24)
	press(m, "?")
	if v := plain(t, m); !m.showHelp || !strings.Contains(v, "Keys") || !strings.Contains(v, "previous pane") {
		t.Fatalf("? does not show the help:\n%s", v)
	}
	press(m, "j", "4") // ignored under the help
	if m.active != paneTables || selectedTable(m) != "trade_history" {
		t.Errorf("keys went through the help: pane %d, cursor %q", m.active, selectedTable(m))
	}
	press(m, "esc")
	if m.showHelp {
		t.Error("esc does not close the help")
	}
	press(m, "?", "?")
	if m.showHelp {
		t.Error("? does not close the help")
	}
}

// TestResize re-lays out at once, and coming back to a size gives back the
// very same frame.
func TestResize(t *testing.T) {
	m, _ := newTestModel(&fakeDB{})
	start(t, m, 80, 24)
	press(m, "2", "G")
	before := m.View().Content
	for _, size := range [][2]int{{240, 70}, {80, 24}, {81, 25}, {159, 40}, {160, 40}, {161, 41}, {80, 24}} {
		m.Update(tea.WindowSizeMsg{Width: size[0], Height: size[1]})
		checkFrame(t, m.View().Content, size[0], size[1])
		if m.chunks.cursor.index != len(m.chunks.rows)-1 {
			t.Errorf("%dx%d: chunk cursor moved to %d", size[0], size[1], m.chunks.cursor.index)
		}
		from, to := m.chunks.cursor.visible()
		if c := m.chunks.cursor.index; c < from || c >= to {
			t.Errorf("%dx%d: cursor %d off screen [%d,%d)", size[0], size[1], c, from, to)
		}
	}
	if after := m.View().Content; after != before {
		t.Errorf("80x24 → 240x70 → … → 80x24 does not draw the same frame:\n%s\n---\n%s", before, after)
	}
}

// TestEverySizeFits sweeps terminal sizes: every pane, the help and the
// filter fill the terminal exactly, from the smallest frame up.
func TestEverySizeFits(t *testing.T) {
	m, _ := newTestModel(&fakeDB{})
	start(t, m, 80, 24)
	views := [][]string{{"1"}, {"2"}, {"3"}, {"4"}, {"?"}, {"esc", "1", "/", "m"}}
	for w := 1; w <= 250; w += 7 {
		for h := 1; h <= 75; h += 5 {
			m.Update(tea.WindowSizeMsg{Width: w, Height: h})
			for _, keys := range views {
				press(m, keys...)
				checkFrame(t, m.View().Content, w, h)
			}
			press(m, "esc")
			if t.Failed() {
				t.Fatalf("at %dx%d", w, h)
			}
		}
	}
}

func TestTooSmall(t *testing.T) {
	m, _ := newTestModel(&fakeDB{})
	start(t, m, 30, 7)
	v := plain(t, m)
	checkFrame(t, v, 30, 7)
	if !strings.HasPrefix(v, "pgtend needs 32x8") {
		t.Errorf("tiny terminal:\n%s", v)
	}
}

// `s` in the Chunks pane cycles: by range (the report's order), largest
// first, worst compressed first (uncompressed last). Each new order is
// shown from its top; a refresh keeps the order and the cursor's chunk.
func TestChunkSort(t *testing.T) {
	db := &fakeDB{}
	m, clock := newTestModel(db)
	start(t, m, 160, 48)
	press(m, "2", "G", "k", "k", "k")
	rangeOrder := slices.Clone(m.chunks.rows)
	ratioOf := func(c report.Chunk) float64 { r, _ := ratio(c); return r }
	checks := []struct {
		title   string
		ordered func(a, b report.Chunk) bool // a may come before b
	}{
		{"largest first", func(a, b report.Chunk) bool { return *a.TotalBytes >= *b.TotalBytes }},
		{"worst compressed first", func(a, b report.Chunk) bool {
			return !b.Compressed || (a.Compressed && ratioOf(a) <= ratioOf(b))
		}},
		{"", nil},
	}
	for _, c := range checks {
		press(m, "s")
		if m.chunks.cursor.index != 0 || m.chunks.cursor.offset != 0 {
			t.Errorf("sorted %q: cursor %+v, want the top", c.title, m.chunks.cursor)
		}
		v := plain(t, m)
		if c.ordered == nil {
			if !slices.EqualFunc(m.chunks.rows, rangeOrder, func(a, b report.Chunk) bool { return chunkKey(a) == chunkKey(b) }) {
				t.Error("third s: not back to the range order")
			}
			if strings.Contains(v, "first") {
				t.Error("range order still titled as sorted")
			}
			continue
		}
		if !strings.Contains(v, "200 chunks, "+c.title) {
			t.Errorf("title does not say %q:\n%s", c.title, v)
		}
		for i := 1; i < len(m.chunks.rows); i++ {
			if !c.ordered(m.chunks.rows[i-1], m.chunks.rows[i]) {
				t.Fatalf("%s: %s before %s", c.title, m.chunks.rows[i-1].Chunk, m.chunks.rows[i].Chunk)
			}
		}
	}
	// Largest first again, the cursor on the fourth; a refresh that
	// changes sizes keeps the order and the cursor's chunk.
	press(m, "s", "j", "j", "j")
	on := m.chunks.selectedKey()
	clock.advance(5 * time.Second)
	db.set(2, false)
	reload(t, m)
	if m.chunks.sortBy != chunkSortSize || m.chunks.selectedKey() != on {
		t.Errorf("after a refresh: sort %d, cursor on %s, want %d on %s", m.chunks.sortBy, m.chunks.selectedKey(), chunkSortSize, on)
	}
}

// The Chunks pane follows the Tables cursor onto any chunked table, so 2
// (or the pane beside) shows the table one is on; a plain table leaves the
// last chunked one shown.
func TestChunksFollowTheTablesCursor(t *testing.T) {
	m, _ := newTestModel(&fakeDB{})
	start(t, m, 80, 24)
	shown := m.chunks.table
	press(m, "j", "j") // ml_features
	press(m, "2")
	if m.active != paneChunks || m.chunks.table != "ml_features" {
		t.Errorf("2 on ml_features shows the chunks of %q", m.chunks.table)
	}
	press(m, "1", "g") // trade_history, a plain table
	if m.chunks.table != "ml_features" {
		t.Errorf("a plain table under the cursor replaced the chunks shown (%q)", m.chunks.table)
	}
	if shown == "ml_features" {
		t.Fatal("the fixture's first chunked table is ml_features: the test proves nothing")
	}
}

// With no growth expected by the policy and none measured yet, the disk
// forecast says it does not know, rather than "0 B/day, not growing".
func TestDiskForecastUnknownWithoutGrowth(t *testing.T) {
	db := &fakeDB{edit: func(r *report.Report) *report.Report {
		for i := range r.Tables {
			r.Tables[i].ExpectedGrowthPerDay = nil
		}
		return r
	}}
	m, _ := newTestModel(db)
	start(t, m, 80, 24)
	press(m, "3")
	v := plain(t, m)
	if !strings.Contains(v, "Growth        unknown") && !strings.Contains(v, "unknown (the policy expects none") {
		t.Errorf("growth not unknown:\n%s", v)
	}
	if strings.Contains(v, "not growing") || strings.Contains(v, "0 B/day") {
		t.Errorf("an unknown growth shown as none:\n%s", v)
	}
}
