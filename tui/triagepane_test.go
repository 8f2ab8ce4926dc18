package tui

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/pgtend/pgtend/ops/maint"
	"github.com/pgtend/pgtend/ops/report"
	"github.com/pgtend/pgtend/ops/triage"
)

// fixtureTriage is a full disk's triage: one option of each sort the pane
// draws differently (now, at checkpoint, an estimate needing room, reuse
// only, blocked, no action).
func fixtureTriage() *triage.Triage {
	gib := int64(1 << 30)
	total, free := 500*gib, 35*gib
	days, perDay := 11.6, float64(3*gib)
	bought := func(n int64) *float64 { d := float64(n) / perDay; return &d }
	run := func(r triage.Run) (*triage.Run, *string) { c := r.Command(); return &r, &c }
	opts := []triage.Option{}
	add := func(o triage.Option, r *triage.Run) {
		if r != nil {
			o.Run, o.Action = run(*r)
		}
		if o.Blocked == "" && o.Bytes > 0 {
			o.DaysBought = bought(o.Bytes)
		}
		opts = append(opts, o)
	}
	add(triage.Option{Kind: triage.KindExpiredChunks, Schema: ptr("public"), Table: ptr("option_chain_snapshots"), Object: "40 chunks older than 20 days",
		Bytes: 120 * gib, Frees: triage.FreesNow, Locks: maint.LockAccessExclusive + " on each dropped chunk, briefly",
		Detail: "whole chunks wholly past the retention: dropping them returns their files at once", Basis: "measured: the chunks' sizes (files)"},
		&triage.Run{Action: "retention", Table: "public.option_chain_snapshots"})
	add(triage.Option{Kind: triage.KindCompress, Schema: ptr("public"), Table: ptr("ml_features"), Object: "12 chunks older than 7 days, 60 GiB",
		Bytes: 54 * gib, Frees: triage.FreesNow, NeedsFreeBytes: 2 * gib, Estimate: true, Locks: maint.LockCompressChunk + ", one chunk at a time",
		Detail: "each chunk is compressed in its own transaction", Basis: "estimated: its compressed chunks came to 10% of their size", Parts: fixtureChunks(12, 5*gib)},
		&triage.Run{Action: "compress", Table: "public.ml_features"})
	add(triage.Option{Kind: triage.KindReplicationSlot, Object: "old_replica", Bytes: 41 * gib, Frees: triage.FreesCheckpoint, Estimate: true, Locks: "none",
		Detail: "physical slot, inactive, wal_status extended: nothing reads it", Basis: "measured: pg_wal_lsn_diff"},
		&triage.Run{Action: "drop-slot", Flags: maint.Flags{maint.FlagSlot: "old_replica"}, Confirm: "old_replica"})
	add(triage.Option{Kind: triage.KindInvalidIndex, Schema: ptr("public"), Table: ptr("trade_history"), Object: "public.trade_history_ts_idx_ccnew",
		Bytes: 9 * gib, Frees: triage.FreesNow, Locks: maint.LockReindexConcurrently, Detail: "an invalid copy a failed REINDEX CONCURRENTLY left", Basis: "measured: pg_relation_size"},
		&triage.Run{Action: "reindex", Flags: maint.Flags{maint.FlagIndex: "public.trade_history_ts_idx_ccnew"}})
	add(triage.Option{Kind: triage.KindTempFiles, Object: "base/pgsql_tmp", Bytes: 3 * gib, Frees: triage.FreesNow, Locks: "none",
		Detail: "2 temporary files of sorts too big for work_mem: removed when their queries end", Basis: "measured: pg_ls_tmpdir"}, nil)
	add(triage.Option{Kind: triage.KindBloat, Schema: ptr("public"), Table: ptr("macro_signals"), Object: "rewrite (pg_repack)", Bytes: 30 * gib,
		Frees: triage.FreesNeedsFreeSpace, NeedsFreeBytes: 81 * gib, Estimate: true, Locks: maint.LockRepack,
		Blocked: "blocked: needs 81 GiB free (the table and its indexes, 80 GiB, plus [disk] keep_free 1 GiB), the filesystem has 35 GiB",
		Basis:   "estimated from the statistics"}, nil)
	add(triage.Option{Kind: triage.KindBloat, Schema: ptr("public"), Table: ptr("macro_signals"), Object: "dead rows (VACUUM)", Bytes: 12 * gib,
		Frees: triage.FreesReuseOnly, Estimate: true, Locks: maint.LockShareUpdateExclusive + " (reads and writes go on)",
		Detail: "VACUUM makes their space reusable; the filesystem gains nothing", Basis: "estimated from the statistics"},
		&triage.Run{Action: "vacuum", Table: "public.macro_signals"})
	return &triage.Triage{GeneratedAt: fixtureNow, Database: "trading",
		Filesystem:    triage.Filesystem{Path: ptr("/var/lib/postgresql/16/main"), TotalBytes: &total, FreeBytes: &free},
		DaysUntilFull: &days, GrowthPerDay: perDay, GrowthBasis: "measured from the sizes pgtend stored", Options: opts,
		Notes: []string{"pg_wal holds 44 GiB. max_wal_size (1.0 GiB) is a soft limit between checkpoints, not a cap."}}
}

// fixtureChunks are n chunks to compress, largest first, of about size
// each, a tenth of which their compressed copies keep.
func fixtureChunks(n int, size int64) []triage.Part {
	out := make([]triage.Part, n)
	for i := range out {
		s := size - int64(i)*(size/50)
		out[i] = triage.Part{Name: fmt.Sprintf("_timescaledb_internal._hyper_3_%d_chunk", 40+i), Size: s, Bytes: s - s/10, NeedsFreeBytes: 2 * (s / 10)}
	}
	return out
}

func withTriage(tr *triage.Triage) func(*Options) {
	return func(o *Options) {
		o.Triage = func(context.Context, *report.Report) (*triage.Triage, error) { return tr, nil }
	}
}

// triageActions plans like the console's Actions, recording the flags the
// plan was asked with; drop-slot's plan is destructive, as ops makes it.
type triageActions struct {
	mu      sync.Mutex
	planned []string
	runs    int
}

func (a *triageActions) Plan(ctx context.Context, action, table string) (*maint.Plan, error) {
	a.mu.Lock()
	a.planned = append(a.planned, fmt.Sprintf("%s %s %v", action, table, maint.FlagsOf(ctx)))
	a.mu.Unlock()
	step := maint.Step{Title: action + " " + table, Target: table, Statements: []string{"SELECT 1"}, Lock: "none", Unit: "steps"}
	if action == "drop-slot" {
		slot := maint.FlagsOf(ctx)[maint.FlagSlot]
		step = maint.Step{Title: "drop the inactive physical replication slot " + slot, Target: slot, Destructive: true, Unit: "slots",
			Statements: []string{"SELECT pg_drop_replication_slot('" + slot + "')"}, Lock: "none (the slot only)"}
	}
	if action == "drop-detached" || action == "drop-repack-leftover" {
		step = maint.Step{Title: "drop " + table, Target: table, Table: table, Destructive: true, Unit: "tables", Statements: []string{"DROP TABLE " + table}, Lock: maint.LockAccessExclusive}
	}
	return &maint.Plan{Action: action, Target: table, Created: fixtureNow, Steps: []maint.Step{step}}, nil
}

func (a *triageActions) Run(_ context.Context, plan *maint.Plan, emit func(maint.Event)) (maint.Result, error) {
	a.mu.Lock()
	a.runs++
	a.mu.Unlock()
	return maint.Result{Outcome: maint.OutcomeOK, Started: fixtureNow, Finished: fixtureNow}, nil
}

// triageModel is a console on the fixture's triage, on the Triage pane.
func triageModel(t testing.TB, w, h int, opts ...func(*Options)) (*Model, *triageActions) {
	t.Helper()
	act := &triageActions{}
	m, _ := newTestModel(&fakeDB{}, append([]func(*Options){withTriage(fixtureTriage()), withActions(act)}, opts...)...)
	start(t, m, w, h)
	m.triageLoading = false // start drops the commands the report's arrival returns: the triage read among them
	deliver(t, m, press(m, "5"))
	return m, act
}

func TestGoldenTriage(t *testing.T) {
	for _, size := range goldenSizes {
		for _, look := range looks {
			t.Run(fmt.Sprintf("pane/%dx%d/%s", size[0], size[1], look.name), func(t *testing.T) {
				m, _ := triageModel(t, size[0], size[1], func(o *Options) { o.Dark = look.dark })
				if look.profile <= colorprofile.ASCII {
					m.Update(tea.ColorProfileMsg{Profile: look.profile})
				}
				requireGolden(t, m, size[0], size[1], look.profile)
			})
		}
	}
	for _, st := range []struct {
		name  string
		opts  func(*Options)
		setup func(t *testing.T, m *Model)
	}{
		{name: "blocked", setup: func(t *testing.T, m *Model) { press(m, "j", "j", "j", "j", "j") }},
		{name: "confirm-slot", setup: func(t *testing.T, m *Model) {
			press(m, "j", "j")
			deliver(t, m, press(m, "enter"))
			press(m, "y")
			typeText(m, "old_repl")
		}},
		{name: "read-only", opts: func(o *Options) { o.ReadOnly = true }},
	} {
		t.Run(st.name, func(t *testing.T) {
			m, _ := triageModel(t, 80, 24, func(o *Options) {
				if st.opts != nil {
					st.opts(o)
				}
			})
			if st.setup != nil {
				st.setup(t, m)
			}
			requireGolden(t, m, 80, 24, colorprofile.TrueColor)
		})
	}
}

// A compression option lists its chunks, largest first, each with what
// it frees and the room it needs, as many as the pane has rows for.
func TestGoldenTriageCompressionChunks(t *testing.T) {
	m, _ := triageModel(t, 160, 48)
	press(m, "j")
	out := plain(t, m)
	for _, want := range []string{"12 chunks, one at a time, largest first:", "- _timescaledb_internal._hyper_3_40_chunk: 5.0 GiB, frees ~4.5 GiB", "more (pgtend triage lists them all)"} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in\n%s", want, out)
		}
	}
	requireGolden(t, m, 160, 48, colorprofile.TrueColor)
}

// Enter on an option opens its registry action's plan with its flags; a
// slot's drop runs only once the slot's name is typed exactly.
func TestTriageEnterOpensThePlanAndASlotWantsItsName(t *testing.T) {
	m, act := triageModel(t, 80, 24)
	deliver(t, m, press(m, "enter"))
	if m.action == nil || act.planned[0] != "retention public.option_chain_snapshots map[]" {
		t.Fatalf("enter on expired chunks planned %v", act.planned)
	}
	press(m, "esc")
	press(m, "j", "j")
	deliver(t, m, press(m, "enter"))
	if got := act.planned[len(act.planned)-1]; got != "drop-slot  map[slot:old_replica]" {
		t.Fatalf("enter on the slot planned %q", got)
	}
	press(m, "y")
	if m.action.phase != phaseConfirm {
		t.Fatalf("y on a slot's drop: phase %d, want the typed confirmation", m.action.phase)
	}
	wants(t, m, "type old_replica to run")
	typeText(m, "old_replic")
	press(m, "enter")
	if act.runs != 0 || !m.action.mismatch {
		t.Fatal("ran on a name that is not the slot's")
	}
	typeText(m, "a")
	if cmd := press(m, "enter"); cmd == nil || m.action.phase != phaseRunning {
		t.Fatalf("the slot's name typed: phase %d", m.action.phase)
	}
	// The temporary files have no action: Enter does nothing there.
	m.action = nil
	press(m, "j", "j")
	if cmd := press(m, "enter"); cmd != nil || m.action != nil {
		t.Error("enter on an option without an action opened something")
	}
}

// A filesystem fuller than [disk] triage_at opens the console on Triage;
// one below it stays on Tables.
func TestConsoleOpensOnTriageWhenTheDiskIsFull(t *testing.T) {
	for _, tc := range []struct {
		at   int
		want int
	}{{1, paneTriage}, {99, paneTables}} {
		m, _ := newTestModel(&fakeDB{}, withTriage(fixtureTriage()), func(o *Options) { o.TriageAt = tc.at })
		start(t, m, 80, 24)
		if m.active != tc.want {
			t.Errorf("triage_at %d%%: pane %d, want %d", tc.at, m.active, tc.want)
		}
		if tc.want == paneTriage {
			m.triageLoading = false // as triageModel: the read start dropped, delivered
			deliver(t, m, press(m, "5"))
		}
		if tc.want == paneTriage && !strings.Contains(plain(t, m), " free of ") { // the pane's headline
			t.Errorf("the Triage pane is not drawn:\n%s", plain(t, m))
		}
	}
}

// requireGolden checks the frame and compares the view with its golden.
func requireGolden(t *testing.T, m *Model, w, h int, p colorprofile.Profile) {
	t.Helper()
	out := render(t, m, p)
	checkFrame(t, out, w, h)
	golden.RequireEqual(t, out)
}

// A refresh keeps the cursor on its option, also among options of the same
// kind and object on other tables (each table's bloat).
func TestTriageCursorFollowsItsOptionAcrossReads(t *testing.T) {
	s := func(v string) *string { return &v }
	opts := []triage.Option{
		{Kind: triage.KindBloat, Schema: s("public"), Table: s("a"), Object: "dead rows (VACUUM)", Bytes: 10},
		{Kind: triage.KindBloat, Schema: s("public"), Table: s("b"), Object: "dead rows (VACUUM)", Bytes: 20},
	}
	p := newTriagePane()
	p.setTriage(&triage.Triage{Options: opts}, time.Now())
	p.cursor.index = 1                                     // table b
	p.setTriage(&triage.Triage{Options: opts}, time.Now()) // the same read again: a's option matches b's kind and object
	if o := p.selected(); o == nil || *o.Table != "b" {
		t.Fatalf("the cursor is on %+v, want b's option", o)
	}
}
