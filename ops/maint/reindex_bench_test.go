package maint

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pgtend/pgtend/ops/config"
	"github.com/pgtend/pgtend/ops/pg"
	"github.com/pgtend/pgtend/ops/pgtest"
)

// latencyWriter inserts a row every 10 ms and keeps every insert's
// latency, from a given moment on.
type latencyWriter struct {
	mu        sync.Mutex
	latencies []time.Duration
	errs      []error
	stop      chan struct{}
	done      chan struct{}
}

func startLatencyWriter(b *testing.B, dsn, insert string) *latencyWriter {
	conn := pgtest.Connect(b, dsn)
	w := &latencyWriter{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		defer conn.Close(context.Background())
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-w.stop:
				return
			case <-tick.C:
			}
			start := time.Now()
			_, err := conn.Exec(context.Background(), insert)
			w.mu.Lock()
			w.latencies = append(w.latencies, time.Since(start))
			if err != nil {
				w.errs = append(w.errs, err)
			}
			w.mu.Unlock()
		}
	}()
	return w
}

// take returns the latencies so far and starts afresh.
func (w *latencyWriter) take() []time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := w.latencies
	w.latencies = nil
	return out
}

func (w *latencyWriter) finish() []error { close(w.stop); <-w.done; return w.errs }

func worstAndP99(ls []time.Duration) (worst, p99 time.Duration) {
	if len(ls) == 0 {
		return 0, 0
	}
	s := slices.Clone(ls)
	slices.Sort(s)
	return s[len(s)-1], s[(len(s)*99)/100]
}

// reindexBenchTable is 30 days of a row every 0.6 s (4.3 million rows) in
// 1-day chunks or partitions, indexed on (ts) and (symbol, ts), half of
// the rows deleted and vacuumed: every index bloated.
func reindexBenchTable(b *testing.B, conn *pgx.Conn, kind string) {
	switch kind {
	case "hypertable":
		pgtest.RequireTimescale(b)
		exec(b, conn, `CREATE EXTENSION IF NOT EXISTS timescaledb;
			CREATE TABLE ticks (ts timestamptz NOT NULL, symbol text NOT NULL, px float8);
			SELECT create_hypertable('ticks', 'ts', chunk_time_interval => interval '1 day', create_default_indexes => false)`)
	default:
		exec(b, conn, `CREATE TABLE ticks (ts timestamptz NOT NULL, symbol text NOT NULL, px float8) PARTITION BY RANGE (ts);
			DO $$ BEGIN FOR d IN -31..2 LOOP
				EXECUTE format('CREATE TABLE ticks_%s PARTITION OF ticks FOR VALUES FROM (%L) TO (%L)', d + 31,
					date_trunc('day', now()) + d * interval '1 day', date_trunc('day', now()) + (d + 1) * interval '1 day');
			END LOOP; END $$`)
	}
	exec(b, conn, `CREATE INDEX ticks_ts ON ticks (ts); CREATE INDEX ticks_symbol_ts ON ticks (symbol, ts)`)
	exec(b, conn, `INSERT INTO ticks SELECT now() - g * interval '600 milliseconds', (ARRAY['SPY', 'QQQ', 'IWM', 'DIA', 'TLT'])[g % 5 + 1], g
		FROM generate_series(1, 30 * 144000) g`)
	exec(b, conn, `DELETE FROM ticks WHERE px::bigint % 2 = 0`)
	exec(b, conn, `VACUUM ANALYZE ticks`)
}

// BenchmarkReindex compares pgtend's reindex (REINDEX INDEX CONCURRENTLY,
// chunk by chunk, partition by partition) with REINDEX TABLE on the same
// hypertable and partitioned table, with a writer inserting every 10 ms:
// wall time, and the writer's worst and p99 insert latency idle and
// during. Run it once:
//
//	go test ./ops/maint -run XXX -bench Reindex -benchtime 1x
func BenchmarkReindex(b *testing.B) {
	for _, kind := range []string{"hypertable", "partitioned"} {
		for _, how := range []string{"reindex-table", "pgtend"} {
			b.Run(kind+"/"+how, func(b *testing.B) {
				var wall, idleWorst, idleP99, worst, p99 time.Duration
				for i := 0; i < b.N; i++ {
					b.StopTimer()
					dsn := pgtest.NewDatabase(b)
					conn := pgtest.Connect(b, dsn)
					reindexBenchTable(b, conn, kind)
					policy := config.Policy{Reindex: config.Reindex{MinBloatPercent: 10, MinBloatBytes: 1}}
					plan, err := PlanReindex(context.Background(), conn, policy, "ticks")
					if err != nil || len(plan.Steps) == 0 {
						b.Fatalf("plan: %v %v", err, plan)
					}
					w := startLatencyWriter(b, dsn, `INSERT INTO ticks VALUES (now(), 'SPY', 1)`)
					time.Sleep(3 * time.Second)
					iw, ip := worstAndP99(w.take())
					idleWorst, idleP99 = max(idleWorst, iw), max(idleP99, ip)
					b.StartTimer()
					start := time.Now()
					if how == "reindex-table" {
						exec(b, conn, "REINDEX TABLE ticks")
					} else if res, err := Run(context.Background(), dsn, pg.Settings{}, plan, Options{Confirmed: true}, func(Event) {}); err != nil || res.Outcome != OutcomeOK {
						b.Fatalf("%v %+v", err, res)
					}
					wall += time.Since(start)
					b.StopTimer()
					dw, dp := worstAndP99(w.take())
					worst, p99 = max(worst, dw), max(p99, dp)
					if errs := w.finish(); len(errs) > 0 {
						b.Errorf("writer errors: %v", errs)
					}
					b.ReportMetric(float64(len(plan.Steps)), "indexes")
				}
				n := float64(b.N)
				b.ReportMetric(wall.Seconds()/n, "s-wall")
				b.ReportMetric(float64(idleWorst.Microseconds())/1000, "idle-worst-ms")
				b.ReportMetric(float64(idleP99.Microseconds())/1000, "idle-p99-ms")
				b.ReportMetric(float64(worst.Microseconds())/1000, "worst-insert-ms")
				b.ReportMetric(float64(p99.Microseconds())/1000, "p99-insert-ms")
			})
		}
	}
}
