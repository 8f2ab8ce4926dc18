package maint

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pgtend/pgtend/ops/config"
	"github.com/pgtend/pgtend/ops/demo"
	"github.com/pgtend/pgtend/ops/pg"
	"github.com/pgtend/pgtend/ops/pgtest"
)

// writer inserts one row every 50 ms, like the trading system's feed,
// and records its errors and its worst insert latency.
type writer struct {
	stop  chan struct{}
	done  chan struct{}
	mu    sync.Mutex
	worst time.Duration
	n     int
	errs  []error
}

func startWriter(t testing.TB, dsn, insert string) *writer {
	t.Helper()
	conn := pgtest.Connect(t, dsn)
	w := &writer{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		defer conn.Close(context.Background())
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-w.stop:
				return
			case <-tick.C:
			}
			start := time.Now()
			_, err := conn.Exec(context.Background(), insert)
			d := time.Since(start)
			w.mu.Lock()
			w.n++
			w.worst = max(w.worst, d)
			if err != nil {
				w.errs = append(w.errs, err)
			}
			w.mu.Unlock()
		}
	}()
	return w
}

func (w *writer) finish() (inserts int, worst time.Duration, errs []error) {
	close(w.stop)
	<-w.done
	return w.n, w.worst, w.errs
}

// scenario is one table of each kind with 120 days of data under a 90-day
// retention, and the insert its writer runs.
type scenario struct {
	name, table, col, insert string
	mode                     demo.Mode
}

var scenarios = []scenario{
	{"hypertable", "option_chain_snapshots", `"timestamp"`, `INSERT INTO option_chain_snapshots ("timestamp", exchange, symbol, bid, ask) VALUES (now(), 'CBOE', 'SPY', 1, 2)`, demo.Timescale},
	{"partitioned", "option_chain_snapshots", `"timestamp"`, `INSERT INTO option_chain_snapshots ("timestamp", exchange, symbol, bid, ask) VALUES (now(), 'CBOE', 'SPY', 1, 2)`, demo.Native},
	{"plain", "events", "ts", `INSERT INTO events (ts, payload) VALUES (now(), 'tick')`, demo.Native},
}

var monthlyPolicy = config.Policy{Tables: []config.TablePolicy{
	{Name: "option_chain_snapshots", TimeColumn: "timestamp", RetentionDays: 90},
	{Name: "events", TimeColumn: "ts", RetentionDays: 90},
}}

func setUp(t testing.TB, s scenario, scale float64) (string, *pgx.Conn) {
	t.Helper()
	if s.mode == demo.Timescale {
		pgtest.RequireTimescale(t)
	}
	dsn := pgtest.NewDatabase(t)
	conn := connect(t, dsn)
	if s.name == "plain" {
		exec(t, conn, `CREATE TABLE events (id bigserial PRIMARY KEY, ts timestamptz NOT NULL, payload text);
			CREATE INDEX ON events (ts)`)
		exec(t, conn, `INSERT INTO events (ts, payload) SELECT now() - interval '120 days' + g * interval '1 minute' * $1::float8, md5(g::text)
			FROM generate_series(1, (120 * 1440 / $1::float8)::int) g`, 1/scale)
		exec(t, conn, "ANALYZE events")
		return dsn, conn
	}
	// The demo's scale 1 is 3,840 option-chain rows a day: the benchmark's
	// scale 2 seeds ~400 a day, the volume the README's figures are of.
	if _, err := demo.Seed(context.Background(), conn, demo.Options{Days: 120, Mode: s.mode, Scale: scale * 0.052}); err != nil {
		t.Fatal(err)
	}
	return dsn, conn
}

func TestConcurrentWriterSeesNoError(t *testing.T) {
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			dsn, conn := setUp(t, s, 0.5)
			plan, err := PlanRetention(context.Background(), conn, monthlyPolicy, s.table, RetentionOptions{})
			if err != nil {
				t.Fatal(err)
			}
			w := startWriter(t, dsn, s.insert)
			time.Sleep(200 * time.Millisecond)
			res, err := Run(context.Background(), dsn, pg.Settings{}, plan, Options{Confirmed: true, Policy: monthlyPolicy, BatchSize: 1000}, func(Event) {})
			time.Sleep(200 * time.Millisecond)
			n, worst, errs := w.finish()
			if err != nil || res.Outcome != OutcomeOK {
				t.Fatalf("run: %v %+v", err, res)
			}
			if len(errs) > 0 || n < 4 {
				t.Errorf("writer: %d inserts, errors %v", n, errs)
			}
			t.Logf("%s: %d inserts during the cleanup, worst latency %v", s.name, n, worst)
		})
	}
}

// BenchmarkMonthly compares the maintenance guide's monthly script
// (DELETE … WHERE ts < now() - 90 days; VACUUM ANALYZE) with pgtend's
// retention cleanup + VACUUM ANALYZE, on the same data, with a writer
// inserting every 50 ms. Run it once:
//
//	go test ./ops/maint -run XXX -bench Monthly -benchtime 1x
func BenchmarkMonthly(b *testing.B) {
	for _, s := range scenarios {
		for _, how := range []string{"guide", "pgtend"} {
			b.Run(s.name+"/"+how, func(b *testing.B) {
				var wall, worst time.Duration
				var freed, wal int64
				for i := 0; i < b.N; i++ {
					b.StopTimer()
					dsn, conn := setUp(b, s, 2)
					var walBefore string
					var sizeBefore int64
					pgtest.QueryRow(b, conn, "SELECT pg_current_wal_lsn()::text, pg_database_size(current_database())").Scan(&walBefore, &sizeBefore)
					w := startWriter(b, dsn, s.insert)
					b.StartTimer()
					start := time.Now()
					if how == "guide" {
						exec(b, conn, fmt.Sprintf("DELETE FROM %s WHERE %s < now() - interval '90 days'", s.table, s.col))
						exec(b, conn, "VACUUM ANALYZE "+s.table)
					} else {
						for _, mk := range []func() (*Plan, error){
							func() (*Plan, error) {
								return PlanRetention(context.Background(), conn, monthlyPolicy, s.table, RetentionOptions{})
							},
							func() (*Plan, error) { return PlanVacuum(context.Background(), conn, monthlyPolicy, s.table) },
						} {
							plan, err := mk()
							if err != nil {
								b.Fatal(err)
							}
							if res, err := Run(context.Background(), dsn, pg.Settings{}, plan, Options{Confirmed: true, Policy: monthlyPolicy}, func(Event) {}); err != nil || res.Outcome != OutcomeOK {
								b.Fatalf("%v %+v", err, res)
							}
						}
					}
					wall += time.Since(start)
					b.StopTimer()
					_, wst, errs := w.finish()
					if len(errs) > 0 {
						b.Errorf("writer errors: %v", errs)
					}
					worst = max(worst, wst)
					var sizeAfter, walBytes int64
					pgtest.QueryRow(b, conn, "SELECT pg_database_size(current_database()), pg_current_wal_lsn() - $1::pg_lsn", walBefore).Scan(&sizeAfter, &walBytes)
					freed += sizeBefore - sizeAfter
					wal += walBytes
				}
				n := float64(b.N)
				b.ReportMetric(float64(freed)/n/(1<<20), "MiB-freed")
				b.ReportMetric(float64(wal)/n/(1<<20), "MiB-WAL")
				b.ReportMetric(float64(worst.Microseconds())/1000, "worst-insert-ms")
				b.ReportMetric(wall.Seconds()/n, "s-wall")
			})
		}
	}
}
