package tui

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/pgtend/pgtend/ops/health"
	"github.com/pgtend/pgtend/ops/maint"
)

// The Health pane's fixture is the trading database on a bad morning: a
// worker left a transaction open, a migration queues behind it, the
// connection pool is near the limit, a table has autovacuum off, a
// standby went away and left its slot.

func ago(d time.Duration) *time.Time { return ptr(fixtureNow.Add(-d)) }

func fixtureSession(pid int32, user, app, state string, xact, stateChange time.Duration, query string) *health.Session {
	return &health.Session{PID: pid, BackendStart: ago(26 * time.Hour), BackendType: "client backend", User: user, Application: app,
		Client: "10.0.4.17:51234", Database: "trading", State: state, XactStart: ago(xact), QueryStart: ago(stateChange), StateChange: ago(stateChange),
		Query: query, XminAge: ptr(int64(1_204_331)), MaySignal: true}
}

func sessionEvidence(s *health.Session) []health.Evidence {
	src := "pg_stat_activity"
	return []health.Evidence{
		{Label: "pid", Value: fmt.Sprint(s.PID), Source: src}, {Label: "user", Value: s.User, Source: src},
		{Label: "application", Value: s.Application, Source: src}, {Label: "client", Value: s.Client, Source: src},
		{Label: "state", Value: s.State + " for 14m", Source: src}, {Label: "transaction started", Value: "11:46:00 UTC (14m ago)", Source: src},
		{Label: "last query", Value: s.Query, Source: src},
	}
}

func fixtureHealth() *health.Report {
	idle := fixtureSession(4242, "billing", "invoice-worker", "idle in transaction", 14*time.Minute, 14*time.Minute,
		"UPDATE invoices SET status = 'sent' WHERE id = 99812")
	mig := fixtureSession(5120, "deploy", "alembic", "active", 3*time.Minute, 3*time.Minute, "ALTER TABLE invoices ADD COLUMN due date")
	mig.WaitType, mig.Wait = "Lock", "relation"
	own := fixtureSession(3001, "pgtend", "pgtend", "active", 0, 0, "SELECT … FROM pg_stat_activity")
	own.Own = true
	pool := fixtureSession(3388, "trader", "order-router", "idle", 0, 3*time.Hour, "COMMIT")
	pool.XactStart, pool.XminAge = nil, nil
	r := &health.Report{GeneratedAt: fixtureNow, Database: "trading", Role: "postgres", Server: "16.4", SeesAllSessions: true}
	for _, f := range []health.Finding{
		{Check: health.CheckConnections, Title: "connections", Status: health.Critical, Summary: "93 of 97 usable slots in use (96%)",
			Meaning: "Once every usable slot is taken, new connections fail with \"sorry, too many clients already\".",
			Action:  "End the sessions nobody needs, one by one (K), rather than restarting PostgreSQL.",
			Evidence: []health.Evidence{{Label: "in use", Value: "93 client sessions, this one included", Source: "pg_stat_activity"},
				{Label: "max_connections", Value: "100", Source: "pg_settings"}, {Label: "by state", Value: "idle 71, active 19, idle in transaction 3", Source: "pg_stat_activity"}},
			Items: []health.Item{{Kind: health.KindSession, Status: health.OK, Name: "pid 3388", Text: "pid 3388 (trader, order-router) idle 3h",
				Session: pool, Fix: health.FixTerminate, Evidence: sessionEvidence(pool)}}},
		{Check: health.CheckIdleInTransaction, Title: "idle in transaction", Status: health.Warning,
			Summary: "1 session, the longest pid 4242 (billing, invoice-worker) idle 14m",
			Meaning: "A session idle in a transaction keeps its locks and its snapshot.", Action: "Terminate it (K).",
			Items: []health.Item{{Kind: health.KindSession, Status: health.Warning, Name: "pid 4242",
				Text: "pid 4242 (billing, invoice-worker) idle 14m, transaction open 14m", Session: idle, Fix: health.FixTerminate, Evidence: sessionEvidence(idle)}}},
		{Check: health.CheckLongTransactions, Title: "long transactions", Status: health.OK, Summary: "oldest transaction 14m, pid 4242 (billing, invoice-worker)"},
		{Check: health.CheckLocks, Title: "locks", Status: health.Warning, Summary: "1 session blocked by 1 session",
			Meaning: "A session waiting for a lock does nothing until the holder lets go.", Action: "End the session at the head of the chain (K).",
			Items: []health.Item{
				{Kind: health.KindSession, Status: health.Warning, Name: "pid 4242", Text: "pid 4242 (billing, invoice-worker) blocks 1 session; it is idle in transaction for 14m",
					Session: idle, Fix: health.FixTerminate, Evidence: sessionEvidence(idle)},
				{Kind: health.KindSession, Status: health.Warning, Name: "pid 5120", Text: "  pid 5120 (deploy, alembic) waits 3m for AccessExclusiveLock on invoices, blocked by pid 4242",
					Session: mig, Fix: health.FixCancel, Evidence: sessionEvidence(mig)},
				{Kind: health.KindSession, Status: health.OK, Name: "pid 3001", Text: "  pid 3001 (pgtend, pgtend) waits 1s for AccessShareLock on invoices, blocked by pid 5120",
					Session: own, NoFix: "one of pgtend's own sessions", Evidence: sessionEvidence(own)},
			}},
		{Check: health.CheckXminHorizon, Title: "xmin horizon", Status: health.Warning, Summary: "1,204,331 XIDs back: replication slot replica_b (physical, inactive)",
			Meaning: "VACUUM removes only the rows that died before the oldest snapshot anyone still holds.",
			Action:  "Drop a replication slot whose standby is gone for good (SELECT pg_drop_replication_slot('name')).",
			Items: []health.Item{{Kind: health.KindSlot, Status: health.Warning, Name: "replica_b",
				Text: "replication slot replica_b (physical, inactive) holds xmin 1,204,331 XIDs back",
				Evidence: []health.Evidence{{Label: "state", Value: "inactive: no standby or client is using it", Source: "pg_replication_slots.active"},
					{Label: "WAL kept for it", Value: "38 GiB", Source: "pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)"}}}}},
		{Check: health.CheckDeadTuples, Title: "dead tuples", Status: health.Warning, Summary: "1 table past autovacuum's threshold, 1 with autovacuum off",
			Meaning: "Dead tuples take space and slow every scan until VACUUM removes them.", Action: "VACUUM it now (v).",
			Items: []health.Item{{Kind: health.KindTable, Status: health.Warning, Name: "public.trade_history",
				Text:  "public.trade_history: 1,950,000 dead tuples > threshold 62,000,050 (3%); autovacuum off for it",
				Table: "public.trade_history", Fix: "vacuum",
				Evidence: []health.Evidence{{Label: "dead tuples", Value: "1,950,000 in public.trade_history", Source: "pg_stat_all_tables.n_dead_tup"},
					{Label: "autovacuum", Value: "off", Source: "the table's reloptions (autovacuum_enabled)"}}}}},
		{Check: health.CheckAutovacuum, Title: "autovacuum", Status: health.OK, Summary: "1 of 3 workers busy",
			Items: []health.Item{{Kind: health.KindWorker, Status: health.OK, Name: "pid 611", Text: "pid 611 autovacuum of _timescaledb_internal._hyper_1_1190_chunk: scanning heap 40%, for 2m"}}},
		{Check: health.CheckWraparound, Title: "wraparound", Status: health.OK, Summary: "oldest database trading 187,000,112 XIDs (94% of autovacuum_freeze_max_age)"},
		{Check: health.CheckCompression, Title: "compression", Status: health.Warning, Summary: "1 hypertable of 3 not compressing",
			Meaning: "Chunks that should be compressed and are not take their full size on disk.", Action: "Read the job's error and run it once by hand.",
			Items: []health.Item{{Kind: health.KindHypertable, Status: health.Warning, Name: "public.ml_features",
				Text:  "public.ml_features: its job 1004 failed 20h ago; 3 chunks past compress_after still uncompressed",
				Table: "public.ml_features", Fix: "compress",
				Evidence: []health.Evidence{{Label: "last error", Value: "cannot drop portal \"\" while it is being set up", Source: "timescaledb_information.job_errors"}}}}},
		{Check: health.CheckBackups, Title: "backups", Status: health.Warning, Summary: "no verified backup within 26h: the newest is 2d4h old, 1.1 TiB free",
			Items: []health.Item{{Kind: health.KindBackup, Status: health.Warning, Name: "trading_20260703_030000.dump",
				Text: "newest verified: trading_20260703_030000.dump, 48 GiB, 2d4h old", Fix: "backup"}}},
	} {
		r.Set(f)
	}
	return r
}

// fakeHealth is a Health loader whose answers the test controls.
type fakeHealth struct {
	mu    sync.Mutex
	calls int
	down  bool
	edit  func(*health.Report)
}

func (f *fakeHealth) load(context.Context) (*health.Report, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.down {
		return nil, errDown
	}
	r := fixtureHealth()
	if f.edit != nil {
		f.edit(r)
	}
	return r, nil
}

// fakeSignals plans as ops would, from what the pane gave it, and runs by
// emitting the step's events.
type fakeSignals struct {
	mu      sync.Mutex
	planned []string // "terminate 4242"
	runs    []*maint.Plan
	refuse  error
}

func (f *fakeSignals) PlanSignal(_ context.Context, sig maint.Signal, b maint.Backend) (*maint.Plan, error) {
	f.mu.Lock()
	f.planned = append(f.planned, fmt.Sprintf("%s %d %s", sig, b.PID, b.Start.UTC().Format("15:04")))
	f.mu.Unlock()
	if f.refuse != nil {
		return nil, f.refuse
	}
	stmt := fmt.Sprintf("SELECT pg_terminate_backend(%d, 5000)", b.PID)
	if sig == maint.SignalCancel {
		stmt = fmt.Sprintf("SELECT pg_cancel_backend(%d)", b.PID)
	}
	who := fmt.Sprintf("pid %d (user billing, application \"invoice-worker\", client 10.0.4.17:51234)", b.PID)
	return &maint.Plan{Action: string(sig), Target: who, Created: fixtureNow,
		Steps: []maint.Step{{Title: string(sig) + " " + who, Target: fmt.Sprintf("pid %d", b.PID), Statements: []string{stmt}, Unit: "sessions"}},
		Notes: []string{
			fmt.Sprintf("who: pid %d, user billing, application \"invoice-worker\", client 10.0.4.17:51234, database trading", b.PID),
			"state: idle in transaction for 14m0s",
			"connected 2026-11-27 10:00:00 UTC (26h0m0s ago); transaction started 2026-11-28 11:46:00 UTC (14m0s ago); query started 2026-11-28 11:46:00 UTC (14m0s ago)",
			"query: UPDATE invoices SET status = 'sent' WHERE id = 99812",
			"terminating ends the session: its open transaction rolls back, its locks are released",
		}}, nil
}

func (f *fakeSignals) RunSignal(_ context.Context, plan *maint.Plan, emit func(maint.Event)) (maint.Result, error) {
	f.mu.Lock()
	f.runs = append(f.runs, plan)
	f.mu.Unlock()
	emit(maint.Event{Kind: maint.StepStarted, Step: 0, Of: 1, Title: plan.Steps[0].Title})
	emit(maint.Event{Kind: maint.StepFinished, Step: 0, Of: 1, Title: plan.Steps[0].Title, Duration: 30 * time.Millisecond})
	return maint.Result{Outcome: maint.OutcomeOK, Started: fixtureNow, Finished: fixtureNow.Add(30 * time.Millisecond)}, nil
}

// withHealth gives the console the fixture's findings and, unless nil,
// signals.
func withHealth(h *fakeHealth, s Signals) func(*Options) {
	return func(o *Options) {
		o.Health = h.load
		if s != nil {
			o.Signals = s
		}
	}
}
