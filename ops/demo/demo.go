// Package demo seeds an empty database with the six tables of a time-series
// trading system and a few months of generated data, so every pgtend screen
// (sizes, chunks, compression, partitions, bloat, retention) has something real
// to show and the tests have a known database to work on. With
// Options.Extras and WriteFiles it also makes what the features still to
// come act on (see Objects): `pgtend demo` is both.
//
// The option chains are computed here, deterministic functions of the day
// and the contract, and streamed with COPY; the other tables are generated
// server-side with generate_series under a fixed setseed. Either way a given
// Options value always yields the same rows.
package demo

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// Mode chooses how the time-series tables are partitioned.
type Mode int

const (
	// Auto uses Timescale when the timescaledb extension can be created in
	// the database, else Native.
	Auto Mode = iota
	// Timescale makes each time-series table a hypertable with 1-day chunks
	// and compresses the older chunks of the two biggest tables.
	Timescale
	// Native uses declarative range partitioning with one partition per UTC
	// day.
	Native
)

func (m Mode) String() string {
	switch m {
	case Auto:
		return "auto"
	case Timescale:
		return "timescale"
	case Native:
		return "native"
	}
	return fmt.Sprintf("Mode(%d)", int(m))
}

// Options tune the seeded database. The zero value is valid.
type Options struct {
	Days     int       // span of data ending at Now; default 200
	Now      time.Time // default time.Now(); data ends here
	Mode     Mode
	Scale    float64      // row-volume multiplier; default 1.0 => 3,840 option chain rows a day, ~130 MB in all
	Progress func(string) // optional: one line per step, never two calls at once
	// Extras adds what the console's other panes and actions are shown
	// with (see Objects): instruments and a foreign key to it from
	// trade_history, open_orders with dead tuples and bloated indexes,
	// option_chain_daily with its refresh policy, and replication slot
	// IdleSlot, which belongs to the whole cluster. Off, the database
	// holds the six tables only, as the tests of other packages expect.
	Extras bool
}

// Result describes what Seed did.
type Result struct {
	Timescale  bool             // hypertables were made
	Tables     []string         // the six table names
	Rows       map[string]int64 // rows inserted per table
	Compressed int              // chunks compressed
	Duration   time.Duration
}

const (
	defaultDays = 200
	// compressAfter is the age (from Now) a chunk's whole range must exceed
	// before Seed compresses it: recent data stays row-oriented, as under a
	// typical compression policy.
	compressAfter = 7 * 24 * time.Hour
	// aheadDays native partitions are created beyond Now, so inserting
	// "now" keeps working for a week after seeding.
	aheadDays = 7
)

// Seed creates the demo tables in schema public of an empty database and
// fills them. It refuses a database that already has tables and never drops
// anything. Each step commits on its own (a single transaction would need a
// lock per partition or chunk, thousands of them), so a failed Seed can leave
// a partly seeded database behind: drop it and seed a fresh one.
func Seed(ctx context.Context, conn *pgx.Conn, o Options) (*Result, error) {
	began := time.Now()
	o = withDefaults(o)
	progress := func(string) {}
	if o.Progress != nil {
		// Two sessions report their steps (runJobs): one line at a time.
		var mu sync.Mutex
		progress = func(s string) {
			mu.Lock()
			defer mu.Unlock()
			o.Progress(s)
		}
	}
	sp := newSpan(o.Now, o.Days)

	// pgtend's own connections carry a statement_timeout; filling and
	// compressing legitimately takes longer than any console query, so it
	// is lifted for the duration of Seed and put back afterwards.
	restore, err := liftStatementTimeout(ctx, conn)
	if err != nil {
		return nil, err
	}
	defer restore()

	if err := requireEmpty(ctx, conn); err != nil {
		return nil, err
	}
	ts, err := chooseTimescale(ctx, conn, o.Mode, progress)
	if err != nil {
		return nil, err
	}

	res := &Result{Timescale: ts != nil, Rows: map[string]int64{}}
	for _, t := range tables {
		res.Tables = append(res.Tables, t.name)
	}

	progress("creating tables")
	if err := createTables(ctx, conn, ts == nil); err != nil {
		return nil, err
	}
	// Indexes go on the parents while they have no partitions or chunks,
	// so each new partition or chunk builds its own with it rather than
	// one statement building (and locking) a thousand at once.
	if err := createIndexes(ctx, conn, ts != nil); err != nil {
		return nil, err
	}
	if ts != nil {
		progress("creating hypertables")
		if err := ts.makeHypertables(ctx, conn); err != nil {
			return nil, err
		}
	} else {
		progress(fmt.Sprintf("creating %d partitions", len(seriesTables())*(sp.days+aheadDays)))
		if err := createPartitions(ctx, conn, sp); err != nil {
			return nil, err
		}
	}
	if err := fill(ctx, conn, sp, o.Scale, ts != nil, res.Rows, progress); err != nil {
		return nil, err
	}

	// The aggregate reads the rows before compression: over compressed
	// chunks the same query takes several times as long.
	if o.Extras {
		progress("creating " + dailyView)
		if err := createDailyAggregate(ctx, conn, ts); err != nil {
			return nil, err
		}
	}
	if ts != nil {
		n, err := ts.compressOld(ctx, conn, sp.end.Add(-compressAfter), progress)
		res.Compressed = n
		if err != nil {
			return nil, err
		}
	}

	names := res.Tables
	if o.Extras {
		if err := addExtras(ctx, conn, ts, o.Now, progress); err != nil {
			return nil, err
		}
		names = append(slices.Clone(names), "instruments", "open_orders")
	}

	progress("analyzing")
	if err := analyze(ctx, conn, names); err != nil {
		return nil, err
	}
	res.Duration = time.Since(began)
	return res, nil
}

func withDefaults(o Options) Options {
	if o.Days <= 0 {
		o.Days = defaultDays
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	// PostgreSQL keeps microseconds; truncating here keeps Go-side and
	// server-side arithmetic on the same instants.
	o.Now = o.Now.UTC().Truncate(time.Microsecond)
	if o.Scale <= 0 {
		o.Scale = 1
	}
	return o
}

// liftStatementTimeout sets statement_timeout to 0 for the session and
// returns a function that restores the previous value.
func liftStatementTimeout(ctx context.Context, conn *pgx.Conn) (func(), error) {
	var old string
	err := conn.QueryRow(ctx,
		"SELECT current_setting('statement_timeout'), set_config('statement_timeout', '0', false)").Scan(&old, new(string))
	if err != nil {
		return nil, fmt.Errorf("reading statement_timeout: %w", err)
	}
	return func() {
		// Restore even when ctx was cancelled: the connection belongs to
		// the caller and should come back as it was handed over.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_, _ = conn.Exec(rctx, "SELECT set_config('statement_timeout', $1, false)", old)
	}, nil
}

// analyze analyzes the tables, two sessions at once (runJobs). ANALYZE on
// a hypertable or a partitioned table recurses into every chunk or
// partition.
func analyze(ctx context.Context, conn *pgx.Conn, names []string) error {
	jobs := make([]job, len(names))
	for i, name := range names {
		jobs[i] = job{name: name, run: func(ctx context.Context, conn *pgx.Conn) error {
			if _, err := conn.Exec(ctx, "ANALYZE "+pgx.Identifier{"public", name}.Sanitize()); err != nil {
				return fmt.Errorf("analyzing %s: %w", name, err)
			}
			return nil
		}}
	}
	return runJobs(ctx, conn, jobs)
}

// errNotEmpty is wrapped by the error Seed returns for a database that already
// has tables.
var errNotEmpty = errors.New("demo needs an empty database")
