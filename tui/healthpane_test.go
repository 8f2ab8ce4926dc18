package tui

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/pgtend/pgtend/ops/health"
	"github.com/pgtend/pgtend/ops/maint"
)

// startHealth is start with the health findings loaded too.
func startHealth(t testing.TB, m *Model, w, h int) {
	t.Helper()
	m.Update(tea.WindowSizeMsg{Width: w, Height: h})
	batch, ok := m.Init()().(tea.BatchMsg)
	if !ok {
		t.Fatal("Init does not batch its commands")
	}
	var got []string
	for _, cmd := range batch {
		if cmd == nil {
			continue
		}
		switch msg := cmd().(type) {
		case reportMsg:
			m.Update(msg)
			got = append(got, "report")
		case healthMsg:
			m.Update(msg)
			got = append(got, "health")
		}
	}
	if len(got) != 2 {
		t.Fatalf("Init loaded %v, want the report and the findings", got)
	}
}

// healthModel is a console on the fixture's findings, on the Health pane.
func healthModel(t testing.TB, w, h int, opts ...func(*Options)) (*Model, *fakeSignals, *fakeActions) {
	t.Helper()
	sig, act := &fakeSignals{}, newFakeActions()
	m, _ := newTestModel(&fakeDB{}, append([]func(*Options){withHealth(&fakeHealth{}, sig), withActions(act)}, opts...)...)
	startHealth(t, m, w, h)
	press(m, "6")
	return m, sig, act
}

// moveTo puts the cursor on the row whose text holds s.
func moveTo(t testing.TB, m *Model, s string) {
	t.Helper()
	for i, row := range m.health.rows {
		f := m.health.report.Findings[row.finding]
		text := f.Title + " " + f.Summary
		if row.item >= 0 {
			text = f.Items[row.item].Text
		}
		if strings.Contains(text, s) {
			m.health.cursor.index = i
			m.health.cursor.clamp()
			return
		}
	}
	t.Fatalf("no row holds %q", s)
}

// TestGoldenHealth draws the Health pane at both sizes in every look, then
// the states that matter at 80x24: a session's detail, the terminate
// confirmation, read-only, a role that cannot see every session, a lost
// connection.
func TestGoldenHealth(t *testing.T) {
	for _, size := range goldenSizes {
		for _, look := range looks {
			t.Run(fmt.Sprintf("pane/%dx%d/%s", size[0], size[1], look.name), func(t *testing.T) {
				m, _ := newTestModel(&fakeDB{}, withHealth(&fakeHealth{}, &fakeSignals{}), func(o *Options) { o.Dark = look.dark })
				if look.profile <= colorprofile.ASCII {
					m.Update(tea.ColorProfileMsg{Profile: look.profile})
				}
				startHealth(t, m, size[0], size[1])
				press(m, "6")
				out := render(t, m, look.profile)
				checkFrame(t, out, size[0], size[1])
				golden.RequireEqual(t, out)
			})
		}
	}
	states := []struct {
		name  string
		opts  func(*Options)
		edit  func(*health.Report)
		setup func(t *testing.T, m *Model)
	}{
		{name: "session", setup: func(t *testing.T, m *Model) { moveTo(t, m, "pid 4242 (billing, invoice-worker) idle 14m") }},
		{name: "confirm-terminate", setup: func(t *testing.T, m *Model) {
			moveTo(t, m, "pid 4242 (billing, invoice-worker) idle 14m")
			deliver(t, m, press(m, "K"))
		}},
		{name: "own-session", setup: func(t *testing.T, m *Model) { moveTo(t, m, "pid 3001") }},
		{name: "table", setup: func(t *testing.T, m *Model) { moveTo(t, m, "public.trade_history") }},
		{name: "read-only", opts: func(o *Options) { o.ReadOnly = true }, setup: func(t *testing.T, m *Model) {
			moveTo(t, m, "pid 4242 (billing, invoice-worker) idle 14m")
		}},
		{name: "unseen", edit: func(r *health.Report) {
			r.SeesAllSessions, r.Role = false, "monitor"
			f, _ := r.Finding(health.CheckIdleInTransaction)
			f.Status, f.Items, f.Summary = health.Unknown, nil, "no session is idle in a transaction; 41 sessions of other roles unseen"
			f.Evidence = []health.Evidence{{Label: "hidden from monitor", Value: "41 sessions of other roles (GRANT pg_read_all_stats TO monitor, or pg_monitor)", Source: "pg_stat_activity"}}
			r.Set(f)
		}},
		{name: "ascii", opts: func(o *Options) { o.ASCII = true }},
	}
	for _, st := range states {
		t.Run(st.name, func(t *testing.T) {
			h := &fakeHealth{edit: st.edit}
			opts := []func(*Options){withHealth(h, &fakeSignals{}), withActions(newFakeActions())}
			if st.opts != nil {
				opts = append(opts, st.opts)
			}
			m, _ := newTestModel(&fakeDB{}, opts...)
			startHealth(t, m, 80, 24)
			press(m, "6")
			if st.setup != nil {
				st.setup(t, m)
			}
			out := render(t, m, colorprofile.TrueColor)
			checkFrame(t, out, 80, 24)
			golden.RequireEqual(t, out)
		})
	}
}

// K on an idle-in-transaction session shows who it is and asks; n leaves
// it alone, y terminates it; then the findings are read again.
func TestHealthTerminateAsksFirst(t *testing.T) {
	m, sig, _ := healthModel(t, 80, 24)
	moveTo(t, m, "pid 4242 (billing, invoice-worker) idle 14m")
	wants(t, m, "K terminate session")
	cmd := press(m, "K")
	wants(t, m, "terminate session pid 4242 (billing, invoice-worker)", "planning")
	deliver(t, m, cmd)
	if !slices.Equal(sig.planned, []string{"terminate 4242 10:00"}) {
		t.Fatalf("planned %q", sig.planned)
	}
	wants(t, m, "SELECT pg_terminate_backend(4242, 5000)", "user billing", "invoice-worker", "10.0.4.17:51234",
		"UPDATE invoices SET status", "Run this plan?")
	press(m, "n")
	if len(sig.runs) != 0 || m.action != nil {
		t.Fatalf("n ran or kept the plan: %d runs", len(sig.runs))
	}
	wants(t, m, "Health")
	deliver(t, m, press(m, "K"))
	cmd = press(m, "y")
	for m.action.phase == phaseRunning {
		cmd = deliver(t, m, cmd)
	}
	if len(sig.runs) != 1 || sig.runs[0].Steps[0].Statements[0] != "SELECT pg_terminate_backend(4242, 5000)" {
		t.Fatalf("runs %v", sig.runs)
	}
	wants(t, m, "terminate session pid 4242 (billing, invoice-worker): ok", "1 ok, 0 failed, of 1")
	before := m.healthSeq
	cmd = press(m, "enter") // closes the summary and reads the findings again
	if m.action != nil || m.healthSeq != before+1 || cmd == nil {
		t.Fatalf("after the run: action %v, health load %d → %d", m.action != nil, before, m.healthSeq)
	}
}

// C cancels only a session running a query; the pgtend session and a
// read-only console offer neither key.
func TestHealthSignalKeysWhereTheyApply(t *testing.T) {
	m, sig, _ := healthModel(t, 80, 24)
	moveTo(t, m, "pid 4242 (billing, invoice-worker) idle 14m")
	if press(m, "C") != nil || m.action != nil {
		t.Error("C on an idle session opened a plan")
	}
	moveTo(t, m, "pid 5120")
	deliver(t, m, press(m, "C"))
	if !slices.Equal(sig.planned, []string{"cancel 5120 10:00"}) {
		t.Errorf("planned %q", sig.planned)
	}
	press(m, "esc")
	moveTo(t, m, "pid 3001")
	if press(m, "K") != nil || m.action != nil {
		t.Error("K on pgtend's own session opened a plan")
	}
	wants(t, m, "key: none here: one of pgtend's own sessions")

	ro, rsig, _ := healthModel(t, 80, 24, func(o *Options) { o.ReadOnly = true })
	moveTo(t, ro, "pid 4242 (billing, invoice-worker) idle 14m")
	if press(ro, "K") != nil || ro.action != nil || len(rsig.planned) != 0 {
		t.Error("K in read-only mode opened a plan")
	}
	press(ro, "?")
	if v := plain(t, ro); strings.Contains(v, "terminate session") || strings.Contains(v, "cancel query") {
		t.Errorf("read-only help offers the signals:\n%s", v)
	}
}

// A refused plan says why (ops refuses; the pane only asks).
func TestHealthRefusedSignalSaysWhy(t *testing.T) {
	m, sig, _ := healthModel(t, 80, 24)
	sig.refuse = &maint.DeniedError{Role: "ops", Reasons: []string{"ops may not terminate sessions of billing: GRANT pg_signal_backend TO ops"}}
	moveTo(t, m, "pid 4242 (billing, invoice-worker) idle 14m")
	deliver(t, m, press(m, "K"))
	wants(t, m, "cannot plan", "GRANT pg_signal_backend TO ops")
}

// The registry's keys work on the row's table; Enter goes to the pane
// that shows the row.
func TestHealthTableKeysAndEnter(t *testing.T) {
	m, _, act := healthModel(t, 80, 24)
	moveTo(t, m, "public.trade_history")
	wants(t, m, "v vacuum")
	deliver(t, m, press(m, "v"))
	if !slices.Equal(act.planned, []string{"vacuum public.trade_history"}) {
		t.Fatalf("planned %q", act.planned)
	}
	press(m, "esc")
	press(m, "enter")
	if m.active != paneTables || selectedTable(m) != "trade_history" {
		t.Errorf("enter on a table: pane %d, table %q", m.active, selectedTable(m))
	}
	press(m, "6")
	moveTo(t, m, "public.ml_features: its job")
	press(m, "enter")
	if m.active != paneChunks || m.chunks.table != "ml_features" {
		t.Errorf("enter on a hypertable: pane %d, chunks of %q", m.active, m.chunks.table)
	}
	press(m, "6")
	moveTo(t, m, "newest verified: trading_")
	wants(t, m, "b backup") // a database action, from a finding's item
	deliver(t, m, press(m, "b"))
	if len(act.planned) != 2 || !strings.HasPrefix(act.planned[1], "backup") {
		t.Fatalf("planned %q", act.planned)
	}
	press(m, "esc")
	press(m, "6")
	moveTo(t, m, "disk")
	press(m, "enter")
	if m.active != paneTriage {
		t.Errorf("enter on the disk: pane %d, want the Triage pane", m.active)
	}
}

// The disk finding is the Disk pane's figures: its free space and the same
// growth per day.
func TestHealthDiskFromTheDiskPane(t *testing.T) {
	m, _, _ := healthModel(t, 160, 48)
	f, ok := m.health.report.Finding(health.CheckDisk)
	if !ok {
		t.Fatal("no disk finding")
	}
	press(m, "3")
	disk := plain(t, m)
	if !strings.Contains(f.Summary, "full in about 470 days") || !strings.Contains(disk, "about 470 days") {
		t.Errorf("disk finding %q; the Disk pane:\n%s", f.Summary, disk)
	}
}

// A failed refresh keeps the last findings and says so; the help lists
// the pane's keys by their bindings.
func TestHealthRefreshFailureAndHelp(t *testing.T) {
	h := &fakeHealth{}
	m, _ := newTestModel(&fakeDB{}, withHealth(h, &fakeSignals{}), withActions(newFakeActions()))
	startHealth(t, m, 80, 24)
	press(m, "6")
	h.down = true
	_, cmd := m.Update(healthRefreshMsg{seq: m.healthSeq})
	m.Update(cmd())
	wants(t, m, "cannot refresh: dial tcp", "idle in transaction")
	press(m, "?")
	wants(t, m, "Health", "K", "terminate session", "C", "cancel query", "show in its pane", "1-6", "go to a pane")
	if !errors.Is(m.health.err, errDown) {
		t.Errorf("err %v", m.health.err)
	}
}

// The Health pane's keys are free: no registry action and no other key of
// the console takes them.
func TestHealthKeysAreFree(t *testing.T) {
	k := DefaultKeyMap()
	mine := map[string]bool{}
	for _, b := range []string{"6", "C", "K"} {
		mine[b] = true
	}
	for _, b := range append(k.listKeys(), k.Enter, k.Back, k.NextPane, k.PrevPane, k.Pane1, k.Pane2, k.Pane3, k.Pane4,
		k.Sort, k.Filter, k.Refresh, k.Tick, k.Help, k.Quit, k.Yes, k.No, k.Expand, k.Statements) {
		for _, key := range b.Keys() {
			if mine[key] {
				t.Errorf("%q is also %q", key, b.Help().Desc)
			}
		}
	}
	for _, a := range maint.Default().Actions {
		if mine[a.Key] {
			t.Errorf("%q is also the registry's %s", a.Key, a.Name)
		}
	}
}
