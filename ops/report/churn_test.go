package report

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pgtend/pgtend/ops/config"
	"github.com/pgtend/pgtend/ops/pgtest"
)

// Reports taken while other sessions rewrite, create and drop tables (and,
// with TimescaleDB, hypertables and chunks) never fail, and a table nobody
// touches is always measured, to the byte.
func TestReportsDuringConcurrentDDL(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	conn := connect(t, dsn)
	exec(t, conn, `CREATE TABLE churn (id int PRIMARY KEY, v text);
		CREATE TABLE rewritten (id int PRIMARY KEY, v text);
		INSERT INTO rewritten SELECT i, md5(i::text) FROM generate_series(1, 20000) i;
		CREATE TABLE untouched (id int PRIMARY KEY);
		INSERT INTO untouched SELECT generate_series(1, 10000);`)
	workers := map[string]func(i int) string{
		"truncate": func(int) string {
			return "BEGIN; TRUNCATE churn; INSERT INTO churn SELECT g, md5(g::text) FROM generate_series(1, 3000) g; COMMIT"
		},
		"vacuum full": func(int) string { return "VACUUM FULL rewritten" },
		"create/drop": func(i int) string {
			return fmt.Sprintf("CREATE TABLE t_%d (id int PRIMARY KEY); INSERT INTO t_%d SELECT generate_series(1, 100); DROP TABLE IF EXISTS t_%d", i%5, i%5, (i+3)%5)
		},
	}
	if pgtest.Cluster.Timescale {
		exec(t, conn, `CREATE EXTENSION timescaledb;
			CREATE TABLE metrics (time timestamptz NOT NULL, exchange text, v double precision);
			SELECT create_hypertable('metrics', 'time', chunk_time_interval => interval '1 hour');
			ALTER TABLE metrics SET (timescaledb.compress, timescaledb.compress_segmentby = 'exchange');`)
		workers["chunks"] = func(i int) string {
			return fmt.Sprintf(`INSERT INTO metrics SELECT now() - interval '%d hours' + g * interval '1 second', 'x' || g %% 3, g FROM generate_series(1, 2000) g;
				SELECT compress_chunk(c, true) FROM show_chunks('metrics', older_than => interval '%d hours') c;
				SELECT drop_chunks('metrics', older_than => interval '%d hours');`, 200-i%100, 195-i%100, 198-i%100)
		}
		workers["hypertables"] = func(i int) string {
			return fmt.Sprintf(`CREATE TABLE h_%d (ts timestamptz NOT NULL, v int); SELECT create_hypertable('h_%d', 'ts');
				INSERT INTO h_%d VALUES (now(), 1); DROP TABLE IF EXISTS h_%d`, i%3, i%3, i%3, (i+2)%3)
		}
	} else {
		t.Log("SKIPPED in part: TimescaleDB is not installed; no hypertable or chunk churn")
	}
	var want int64
	pgtest.QueryRow(t, conn, "SELECT pg_total_relation_size('untouched')").Scan(&want)

	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for name, statement := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := pgx.Connect(context.Background(), dsn)
			if err != nil {
				t.Error(err)
				return
			}
			defer c.Close(context.Background())
			for i := 0; ctx.Err() == nil; i++ {
				if _, err := c.Exec(context.Background(), statement(i)); err != nil && ctx.Err() == nil {
					t.Logf("%s: %v", name, err) // deadlocks and the like between workers: not the report's business
				}
			}
		}()
	}
	defer func() { stop(); wg.Wait() }()

	reports := 0
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); reports++ {
		c := connect(t, dsn)
		r, err := Collect(context.Background(), c, config.Policy{})
		c.Close(context.Background())
		if err != nil {
			t.Fatalf("report %d failed during concurrent DDL: %v", reports+1, err)
		}
		if u := find(t, r, "public", "untouched"); u.Locked || u.TotalBytes == nil || *u.TotalBytes != want {
			t.Errorf("report %d: untouched table locked=%v total=%v, want %d", reports+1, u.Locked, u.TotalBytes, want)
		}
	}
	t.Logf("%d reports during concurrent DDL", reports)
}
