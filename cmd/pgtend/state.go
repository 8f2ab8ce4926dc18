package main

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pgtend/pgtend/ops/maint"
	"github.com/pgtend/pgtend/ops/report"
	"github.com/pgtend/pgtend/ops/state"
)

// memory is what pgtend remembers about one database on this machine.
type memory struct {
	database, role string
	history        *state.History
	sizes          *state.Sizes
}

// tickFunc records a person's tick-off of a calendar task where runs go:
// pgtend.history in the database, else the history file (tickFile); with
// --read-only, which writes nothing in the database, the file only. The
// demo's throwaway database thus keeps its ticks in its own history.
func tickFunc(t target, readOnly bool, mem *memory) func(ctx context.Context, task, note string) error {
	if readOnly {
		return mem.tickFile()
	}
	return func(ctx context.Context, task, note string) error {
		conn, err := t.connect(ctx)
		if err != nil {
			return err
		}
		defer closeConn(conn)
		now := time.Now().UTC()
		e := state.Entry{Start: now, End: now, Database: conn.Config().Database, Role: conn.Config().User, Task: task, Outcome: state.OutcomeTicked, Note: note}
		_, err = maint.Record(ctx, conn, e, mem.historyFile())
		return err
	}
}

// tickFile records a tick-off in the history file; nil without one.
func (m *memory) tickFile() func(ctx context.Context, task, note string) error {
	if m == nil {
		return nil
	}
	return func(_ context.Context, task, note string) error {
		now := time.Now().UTC()
		return m.history.Append(state.Entry{Start: now, End: now, Database: m.database, Role: m.role, Task: task, Outcome: state.OutcomeTicked, Note: note})
	}
}

// historyFile is the history file, nil when there is none.
func (m *memory) historyFile() *state.History {
	if m == nil {
		return nil
	}
	return m.history
}

// openMemory finds the state files of the database the DSN names; nil when
// there is no state directory (pgtend then remembers nothing).
func openMemory(t target) *memory {
	if t.throwaway {
		return nil
	}
	dir, err := state.Dir()
	if err != nil {
		return nil
	}
	cfg, err := pgx.ParseConfig(t.dsn)
	if err != nil {
		return nil
	}
	key := state.DatabaseKey(cfg.Host, cfg.Port, cfg.Database)
	return &memory{database: cfg.Database, role: cfg.User, history: state.OpenHistory(dir, key), sizes: state.OpenSizes(dir, key)}
}

// annotate fills the calendar's "last done" from the history. A history
// that cannot be read leaves the calendar as "never done" rather than
// failing the report.
func (m *memory) annotate(r *report.Report) {
	if m == nil {
		return
	}
	if last, err := m.history.LastDone(); err == nil {
		r.MergeLastRuns(last)
	}
}

// record stores size samples (at most one per table every 10 minutes).
func (m *memory) record(r *report.Report) {
	if m == nil {
		return
	}
	var samples []state.Sample
	for _, t := range r.Tables {
		if t.TotalBytes != nil {
			samples = append(samples, state.Sample{At: r.GeneratedAt, Table: t.Key(), Bytes: *t.TotalBytes})
		}
	}
	_ = m.sizes.Record(samples) // growth history is a convenience: never fail a refresh over it
}

func (m *memory) loadSizes(now time.Time) []state.Sample {
	if m == nil {
		return nil
	}
	samples, _ := m.sizes.Load(now)
	return samples
}
