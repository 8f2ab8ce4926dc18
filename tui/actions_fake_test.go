package tui

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/pgtend/pgtend/ops/maint"
	"github.com/pgtend/pgtend/ops/report"
	"github.com/pgtend/pgtend/tui/text"
)

// fakeActions plans from the fixture report, as ops would, and runs what
// the test tells it to: each queued event is emitted, a queued result ends
// the run, and a cancelled context ends it as cancelled.
type fakeActions struct {
	mu      sync.Mutex
	planned []string // "action schema.name" per Plan call
	runs    []*maint.Plan
	events  chan maint.Event
	finish  chan maint.Result
	runErr  error         // what Run returns with a queued result
	flags   []maint.Flags // the switches of each Plan call
	// defaultRows, when set, puts that many rows past retention in a
	// DEFAULT partition of the retention plan: it offers --include-default,
	// which deletes them.
	defaultRows int64
}

func newFakeActions() *fakeActions {
	return &fakeActions{events: make(chan maint.Event, 16), finish: make(chan maint.Result, 1)}
}

func (f *fakeActions) Plan(ctx context.Context, action, table string) (*maint.Plan, error) {
	flags := maint.FlagsOf(ctx)
	f.mu.Lock()
	f.planned = append(f.planned, action+" "+table)
	f.flags = append(f.flags, flags)
	defaultRows := f.defaultRows
	f.mu.Unlock()
	r := fixtureReport(0)
	var t *report.Table
	for i := range r.Tables {
		if r.Tables[i].Schema+"."+r.Tables[i].Name == table {
			t = &r.Tables[i]
		}
	}
	if t == nil || t.Missing {
		return nil, fmt.Errorf("no table %q in the database", table)
	}
	switch action {
	case "vacuum":
		return fakeVacuumPlan(r, *t), nil
	case "retention":
		p, err := fakeRetentionPlan(r, *t)
		if err == nil && defaultRows > 0 {
			fakeDefaultRows(p, defaultRows, flags[maint.FlagIncludeDefault] != "")
		}
		return p, err
	case "reindex":
		return fakeReindexPlan(*t, flags), nil
	}
	return nil, fmt.Errorf("unknown action %q", action)
}

// fakeVacuumPlan is PlanVacuum's plan: a hypertable chunk by chunk, its
// summary naming its steps and their lock.
func fakeVacuumPlan(r *report.Report, t report.Table) *maint.Plan {
	name := t.Schema + "." + t.Name
	p := &maint.Plan{Action: "vacuum", Target: name, Created: fixtureNow}
	sum := maint.TableSummary{Table: name, Kind: *t.Kind, TimeZone: "UTC", Locks: []string{maint.LockShareUpdateExclusive},
		ForeignKeys: []maint.ForeignKey{}, Findings: []string{}}
	var rels []string
	if *t.Kind == report.KindTable {
		rels = append(rels, `"`+t.Schema+`"."`+t.Name+`"`)
	}
	for _, c := range r.Chunks {
		if c.TableSchema == t.Schema && c.Table == t.Name {
			rels = append(rels, `"`+c.ChunkSchema+`"."`+c.Chunk+`"`)
		}
	}
	for k, rel := range rels {
		title := "VACUUM (ANALYZE) " + name
		if len(rels) > 1 {
			title = fmt.Sprintf("VACUUM (ANALYZE) %s: chunk %d of %d", name, k+1, len(rels))
		}
		sum.Steps = append(sum.Steps, len(p.Steps))
		p.Steps = append(p.Steps, maint.Step{Title: title, Target: rel, Statements: []string{"VACUUM (ANALYZE) " + rel},
			Lock: maint.LockShareUpdateExclusive, Unit: "blocks", Table: name})
	}
	p.Tables = append(p.Tables, sum)
	return p
}

// fakeRetentionPlan is PlanRetention's plan of one hypertable: drop_chunks,
// summed up as ops does (what goes, what stays, the lock, the foreign key
// the table holds, a finding). Its Refused holds the permanent
// trade_history, which ops sets aside in a plan of the whole policy, so
// the plan view shows every part of a plan.
func fakeRetentionPlan(r *report.Report, t report.Table) (*maint.Plan, error) {
	name := t.Schema + "." + t.Name
	switch {
	case t.Permanent:
		return nil, fmt.Errorf("%s is permanent: retention never deletes from it", name)
	case t.RetentionDays == nil:
		return nil, fmt.Errorf("%s has no retention in the policy", name)
	}
	cutoff := fixtureNow.AddDate(0, 0, -*t.RetentionDays)
	p := &maint.Plan{Action: "retention", Target: name, Cutoff: &cutoff, Created: fixtureNow,
		Refused: []maint.Refusal{{Table: "public.trade_history", Reason: "public.trade_history is permanent: retention never deletes from it"}}}
	rowsPer := t.RowEstimate / max(int64(t.Chunks), 1) // the catalog's, spread over the chunks
	var old, kept []report.Chunk
	var affected []maint.Affected
	for _, c := range r.Chunks {
		if c.TableSchema != t.Schema || c.Table != t.Name {
			continue
		}
		c.RowEstimate = rowsPer
		if c.RangeEnd.After(cutoff) {
			kept = append(kept, c)
			continue
		}
		old = append(old, c)
		affected = append(affected, maint.Affected{Name: `"` + c.ChunkSchema + `"."` + c.Chunk + `"`, From: c.RangeStart, To: c.RangeEnd, Bytes: c.TotalBytes, Rows: rowsPer})
	}
	sum := maint.TableSummary{Table: name, Kind: *t.Kind, TimeZone: "UTC", Stays: fakePortion(kept), Locks: []string{}, Steps: []int{},
		ForeignKeys: []maint.ForeignKey{{Name: t.Name + "_instrument_fkey", From: name, To: "public.instruments", OnDelete: "NO ACTION"}}, Findings: []string{}}
	if len(old) == 0 {
		sum.Findings = append(sum.Findings, name+": no chunk is wholly older than "+cutoff.Format("2006-01-02 15:04 MST"))
		p.Tables, p.Refused = append(p.Tables, sum), nil
		p.Notes = append(p.Notes, "nothing is past its retention")
		return p, nil
	}
	goes := fakePortion(old)
	p.Steps = append(p.Steps, maint.Step{
		Title:      fmt.Sprintf("drop %d chunks of %s older than %s", len(old), name, cutoff.Format("2006-01-02 15:04")),
		Target:     `"` + t.Schema + `"."` + t.Name + `"`,
		Statements: []string{fmt.Sprintf(`SELECT drop_chunks('"%s"."%s"', older_than => '%s'::timestamp with time zone)`, t.Schema, t.Name, cutoff.Format("2006-01-02 15:04:05+00"))},
		Lock:       maint.LockAccessExclusive + " on each dropped chunk", Destructive: true,
		EstBytes: goes.Bytes, EstRows: goes.Rows, RowsFromCatalog: true, Unit: "chunks", Table: name, Affected: affected,
	})
	sum.Goes, sum.Steps, sum.Locks = goes, []int{0}, []string{p.Steps[0].Lock}
	sum.Findings = append(sum.Findings, name+": drop_chunks returns the chunks' files to the filesystem at once")
	p.Tables = append(p.Tables, sum)
	return p, nil
}

// fakeDefaultRows adds to a retention plan the rows past retention that
// stay in a DEFAULT partition, offering --include-default; with it, their
// batched DELETE.
func fakeDefaultRows(p *maint.Plan, rows int64, include bool) {
	sum := &p.Tables[0]
	def := sum.Table + "_default"
	if !include {
		p.Offer(maint.FlagIncludeDefault)
		sum.Stays.RowsPastCutoff = &rows
		sum.Findings = append(sum.Findings, fmt.Sprintf("%s: %d rows past retention stay in %s, the DEFAULT partition: no partition removal takes them; "+
			"--include-default deletes them in batches (the space is reused by the table, not returned to the filesystem)", sum.Table, rows, def))
		return
	}
	sum.Goes.RowsPastCutoff = &rows
	sum.Steps = append(sum.Steps, len(p.Steps))
	p.Steps = append(p.Steps, maint.Step{
		Title:  fmt.Sprintf("delete %d rows of %s (the DEFAULT partition of %s) older than %s, in batches", rows, def, sum.Table, p.Cutoff.Format("2006-01-02 15:04")),
		Target: def, Statements: []string{"DELETE FROM ONLY " + def + " t WHERE t.ts < '…' AND t.ctid = ANY (ARRAY(SELECT t.ctid FROM ONLY " + def + " t WHERE t.ts < '…' LIMIT <batch>))"},
		Lock: maint.LockRowExclusive + " (row locks on the deleted rows only)", Destructive: true, EstRows: &rows, Unit: "rows", Table: sum.Table,
	})
	sum.Findings = append(sum.Findings, fmt.Sprintf("%s: %d rows in %s go in batches (--include-default): DELETE frees space for the table's new rows but does not return it to the filesystem", sum.Table, rows, def))
}

// fakeReindexPlan is PlanReindex's plan of one table: three bloated
// indexes, biggest gain first, each its own step (pickable); --blocking
// makes them plain REINDEX, --measure measures their bloat.
func fakeReindexPlan(t report.Table, flags maint.Flags) *maint.Plan {
	name := t.Schema + "." + t.Name
	p := &maint.Plan{Action: "reindex", Task: "reindex", Target: name, Created: fixtureNow, Pickable: true, Offers: []string{maint.FlagMeasure, maint.FlagBlocking}}
	how, stmt, lock := "estimated", "REINDEX INDEX CONCURRENTLY ", maint.LockReindexConcurrently
	if flags[maint.FlagMeasure] != "" {
		how = "measured"
	}
	blocking := flags[maint.FlagBlocking] != ""
	if blocking {
		stmt, lock = "REINDEX INDEX ", maint.LockReindexBlocking
	}
	sum := maint.TableSummary{Table: name, Kind: *t.Kind, TimeZone: "UTC", Locks: []string{lock}, ForeignKeys: []maint.ForeignKey{}, Findings: []string{}}
	var gain, total int64
	for k, ix := range []struct {
		name  string
		bytes int64
		share int
	}{{t.Name + "_ts_idx", 6 * gib, 52}, {t.Name + "_pkey", 3 * gib, 41}, {t.Name + "_symbol_idx", 900 * mib, 35}} {
		quoted := `"` + t.Schema + `"."` + ix.name + `"`
		if named := flags[maint.FlagIndex]; named != "" && named != quoted {
			continue // --index: that one only
		}
		g := ix.bytes * int64(ix.share) / 100
		gain, total = gain+g, total+ix.bytes
		sum.Steps = append(sum.Steps, len(p.Steps))
		p.Steps = append(p.Steps, maint.Step{
			Title:  fmt.Sprintf("REINDEX %s.%s (%s, ~%d%% bloat %s), index %d of 3", t.Schema, ix.name, text.BytesOf(ix.bytes), ix.share, how, k+1),
			Target: `"` + t.Schema + `"."` + t.Name + `"`, Statements: []string{stmt + quoted},
			Lock: lock, Blocking: blocking, EstBytes: &g, Unit: "blocks", Table: name, Alone: maint.Flags{maint.FlagIndex: quoted},
		})
	}
	kept := total - gain
	sum.Goes, sum.Stays = maint.Portion{Bytes: &gain}, maint.Portion{Bytes: &kept}
	p.Tables = append(p.Tables, sum)
	p.Notes = append(p.Notes, "bloat figures are "+how)
	return p
}

// fakePortion sums chunks up as ops does: how many, their range, bytes and
// the catalog's rows.
func fakePortion(cs []report.Chunk) maint.Portion {
	p := maint.Portion{Parts: len(cs), RowsFromCatalog: true}
	var bytes, rows int64
	for _, c := range cs {
		if p.From == nil || c.RangeStart.Before(*p.From) {
			p.From = c.RangeStart
		}
		if p.To == nil || c.RangeEnd.After(*p.To) {
			p.To = c.RangeEnd
		}
		bytes += *c.TotalBytes
		rows += c.RowEstimate
	}
	p.Bytes, p.Rows = &bytes, &rows
	return p
}

func (f *fakeActions) Run(ctx context.Context, plan *maint.Plan, emit func(maint.Event)) (maint.Result, error) {
	f.mu.Lock()
	f.runs = append(f.runs, plan)
	f.mu.Unlock()
	step := 0
	for {
		select {
		case ev := <-f.events:
			ev.Of = len(plan.Steps)
			step = ev.Step
			emit(ev)
		case res := <-f.finish:
			return res, f.runErr
		case <-ctx.Done():
			emit(maint.Event{Kind: maint.StepCancelled, Step: step, Of: len(plan.Steps), Title: plan.Steps[step].Title, Duration: 2 * time.Second}) // as maint.Run reports a cancelled step
			return maint.Result{Outcome: maint.OutcomeCancelled, BytesBefore: 100 * gib, BytesAfter: 100 * gib,
				Started: fixtureNow, Finished: fixtureNow.Add(75 * time.Second)}, nil
		}
	}
}

func (f *fakeActions) runCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.runs)
}

// withActions gives the console the fake.
func withActions(a Actions) func(*Options) { return func(o *Options) { o.Actions = a } }

// deliver runs a command that waits for a message (a plan, a run's next
// event) and hands the message to the model, returning what Update asks
// for next. A command that never answers fails the test, not hangs it.
func deliver(t testing.TB, m *Model, cmd tea.Cmd) tea.Cmd {
	t.Helper()
	if cmd == nil {
		t.Fatal("no command to wait on")
	}
	got := make(chan tea.Msg, 1)
	go func() { got <- cmd() }()
	select {
	case msg := <-got:
		_, next := m.Update(msg)
		return next
	case <-time.After(5 * time.Second):
		t.Fatal("the command sent no message")
	}
	return nil
}

// emitEvent has the fake run emit ev and the console receive it.
func emitEvent(t testing.TB, m *Model, f *fakeActions, listen tea.Cmd, ev maint.Event) tea.Cmd {
	t.Helper()
	f.events <- ev
	return deliver(t, m, listen)
}

// finishRun has the fake run return res and the console receive it.
func finishRun(t testing.TB, m *Model, f *fakeActions, listen tea.Cmd, res maint.Result) {
	t.Helper()
	f.finish <- res
	if next := deliver(t, m, listen); next != nil {
		t.Error("the console listens on after the run ended")
	}
}

// planFor opens an action with key k and delivers its plan.
func planFor(t testing.TB, m *Model, k string) {
	t.Helper()
	cmd := press(m, k)
	if m.action == nil || m.action.phase != phasePlanning {
		t.Fatalf("%s did not start planning", k)
	}
	if next := deliver(t, m, cmd); next != nil {
		t.Fatal("a plan asked for a further command")
	}
}

// midRun brings a console to a vacuum of ml_features in its second step:
// the first finished, 1,000 of 4,000 blocks scanned in 10 s, two log lines.
// It returns the command listening for the run's next message.
func midRun(t testing.TB, m *Model, f *fakeActions, clock *testClock) tea.Cmd {
	t.Helper()
	press(m, "j", "j") // ml_features
	planFor(t, m, "v")
	listen := press(m, "y")
	title := func(i int) string { return m.action.plan.Steps[i].Title }
	listen = emitEvent(t, m, f, listen, maint.Event{Kind: maint.StepStarted, Step: 0, Title: title(0), Unit: "blocks"})
	clock.advance(1200 * time.Millisecond)
	listen = emitEvent(t, m, f, listen, maint.Event{Kind: maint.StepFinished, Step: 0, Title: title(0), Duration: 1200 * time.Millisecond})
	listen = emitEvent(t, m, f, listen, maint.Event{Kind: maint.StepStarted, Step: 1, Title: title(1), Unit: "blocks"})
	listen = emitEvent(t, m, f, listen, maint.Event{Kind: maint.Log, Step: 1, Message: `lock on "_timescaledb_internal"."_hyper_2_1001_chunk" not granted within 5s (held by pid 4242 (user etl, application "loader", active, ACCESS EXCLUSIVE: ALTER TABLE …)); trying again`})
	listen = emitEvent(t, m, f, listen, maint.Event{Kind: maint.Log, Step: 1, Message: "NOTICE: \x1b[2Jrelation skipped\nsecond line"})
	clock.advance(10 * time.Second)
	return emitEvent(t, m, f, listen, maint.Event{Kind: maint.Progress, Step: 1, Done: 1000, Total: 4000, Unit: "blocks", Message: "scanning heap"})
}
