package maint

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pgtend/pgtend/ops/config"
	"github.com/pgtend/pgtend/ops/pg"
	"github.com/pgtend/pgtend/ops/pgtest"
)

// localFeed makes table name with a time column ts of type typ, of kind
// plain, partitioned (one partition a local day) or hypertable (1-day
// chunks), filled the way an application in the database's zone fills it:
// localtimestamp every hour (current_date every day for a date column)
// over the last days days.
func localFeed(t *testing.T, conn *pgx.Conn, name, kind, typ string, days int) {
	t.Helper()
	id := pgx.Identifier{name}.Sanitize()
	switch kind {
	case "plain":
		exec(t, conn, fmt.Sprintf("CREATE TABLE %s (ts %s NOT NULL, n int)", id, typ))
	case "partitioned":
		exec(t, conn, fmt.Sprintf(`CREATE TABLE %s (ts %s NOT NULL, n int) PARTITION BY RANGE (ts);
		DO $$ BEGIN
		  FOR d IN -%d..2 LOOP
		    EXECUTE format('CREATE TABLE %%I PARTITION OF %s FOR VALUES FROM (%%L) TO (%%L)', %s || '_' || (d + 1000), current_date + d, current_date + d + 1);
		  END LOOP;
		END $$`, id, typ, days+2, id, pgLiteral(name)))
	case "hypertable":
		exec(t, conn, fmt.Sprintf("CREATE TABLE %s (ts %s NOT NULL, n int); SELECT create_hypertable(%s, 'ts', chunk_time_interval => interval '1 day')", id, typ, pgLiteral(name)))
	}
	if typ == "date" {
		exec(t, conn, fmt.Sprintf("INSERT INTO %s SELECT current_date - g, g FROM generate_series(0, %d) g", id, days))
	} else {
		exec(t, conn, fmt.Sprintf("INSERT INTO %s SELECT localtimestamp - g * interval '1 hour', g FROM generate_series(0, %d) g", id, days*24))
	}
	exec(t, conn, "ANALYZE "+id)
}

func pgLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// In a database whose TimeZone is west of UTC (New York, with the DST
// change of 1 November inside a 35-day window) or east of it (Kolkata),
// retention of timestamp and date columns keeps every row inside the local
// window and leaves no row older than the local cutoff (plus one day, the
// partition or chunk that straddles it), for each kind of table.
func TestRetentionOfLocalTimesKeepsTheLocalWindow(t *testing.T) {
	kinds := []string{"plain", "partitioned", "hypertable"}
	for _, zone := range []struct {
		name string
		days int
	}{{"America/New_York", 35}, {"Asia/Kolkata", 10}} {
		t.Run(zone.name, func(t *testing.T) {
			dsn := pgtest.NewDatabase(t)
			admin := connect(t, dsn)
			var db string
			pgtest.QueryRow(t, admin, "SELECT current_database()").Scan(&db)
			exec(t, admin, fmt.Sprintf(`ALTER DATABASE %s SET timezone = %s`, pgx.Identifier{db}.Sanitize(), pgLiteral(zone.name)))
			app := connect(t, dsn) // the application's session, in the database's zone
			var policy config.Policy
			typeOf := map[string]string{}
			for _, kind := range kinds {
				if kind == "hypertable" && (pgtest.Cluster == nil || !pgtest.Cluster.Timescale) {
					t.Log("SKIPPED hypertables: TimescaleDB is not installed")
					continue
				}
				if kind == "hypertable" {
					exec(t, app, "CREATE EXTENSION IF NOT EXISTS timescaledb")
				}
				for _, typ := range []string{"timestamp", "date"} {
					name := kind + "_" + typ
					localFeed(t, app, name, kind, typ, zone.days+20)
					typeOf[name] = typ
					policy.Tables = append(policy.Tables, config.TablePolicy{Name: name, TimeColumn: "ts", RetentionDays: zone.days})
				}
			}
			// pgtend's own session runs in UTC, as pg.Connect makes it.
			conn, err := pg.Connect(context.Background(), dsn, pg.Settings{})
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close(context.Background())
			plan, err := registryAction(t, "retention").Plan(context.Background(), conn, policy, "")
			if err != nil {
				t.Fatal(err)
			}
			cutoff := plan.Created.Add(-time.Duration(zone.days) * 24 * time.Hour)
			// Rows inside the window, by the application's own clock: a
			// timestamp at or after the cutoff's local time, a date whose
			// day ends after it.
			inside := func(name, typ string) int64 {
				bound := "($1::timestamptz AT TIME ZONE current_setting('TimeZone'))"
				if typ == "date" {
					bound += "::date"
				}
				return pgtest.Count(t, app, fmt.Sprintf("SELECT count(*) FROM %s WHERE ts >= %s", pgx.Identifier{name}.Sanitize(), bound), cutoff)
			}
			before := map[string]int64{}
			for _, tp := range policy.Tables {
				before[tp.Name] = inside(tp.Name, typeOf[tp.Name])
			}
			res, err := Run(context.Background(), dsn, pg.Settings{}, plan, Options{Confirmed: true, Policy: policy}, func(Event) {})
			if err != nil || res.Outcome != OutcomeOK {
				t.Fatalf("run: %v %+v", err, res)
			}
			for _, tp := range policy.Tables {
				typ := typeOf[tp.Name]
				if got := inside(tp.Name, typ); got != before[tp.Name] {
					t.Errorf("%s: %d rows inside the local window before, %d after", tp.Name, before[tp.Name], got)
				}
				// Whole partitions and chunks go: one day past the cutoff
				// may stay; a plain table keeps nothing older.
				slack := "interval '1 day'"
				if strings.HasPrefix(tp.Name, "plain") {
					slack = "interval '0'"
				}
				bound := "(($1::timestamptz - " + slack + ") AT TIME ZONE current_setting('TimeZone'))"
				if typ == "date" {
					bound += "::date"
				}
				if old := pgtest.Count(t, app, fmt.Sprintf("SELECT count(*) FROM %s WHERE ts < %s", pgx.Identifier{tp.Name}.Sanitize(), bound), cutoff); old != 0 {
					t.Errorf("%s: %d rows older than the local cutoff (less %s) remain", tp.Name, old, slack)
				}
			}
		})
	}
}
