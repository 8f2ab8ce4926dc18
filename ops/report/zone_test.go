package report

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pgtend/pgtend/ops/config"
	"github.com/pgtend/pgtend/ops/pg"
	"github.com/pgtend/pgtend/ops/pgtest"
)

// A database in New York: its timestamp and date columns are read there
// (or in the policy's zone), so their oldest rows and partition ranges are
// the instants the application meant; timestamptz columns carry no zone.
func TestLocalTimeColumnsAreReadInTheirZone(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	admin := pgtest.Connect(t, dsn)
	var db string
	pgtest.QueryRow(t, admin, "SELECT current_database()").Scan(&db)
	pgtest.Exec(t, admin, "ALTER DATABASE "+pgx.Identifier{db}.Sanitize()+" SET timezone = 'America/New_York'")
	app := pgtest.Connect(t, dsn)
	pgtest.Exec(t, app, `
		CREATE TABLE local_ts (ts timestamp NOT NULL) PARTITION BY RANGE (ts);
		CREATE TABLE local_ts_a PARTITION OF local_ts FOR VALUES FROM ('2026-11-01') TO ('2026-11-02');
		INSERT INTO local_ts VALUES ('2026-11-01 06:00');
		CREATE TABLE kolkata_day (d date NOT NULL); INSERT INTO kolkata_day VALUES ('2026-11-03');
		CREATE TABLE absolute (ts timestamptz NOT NULL); INSERT INTO absolute VALUES ('2026-11-01 06:00+00')`)
	policy := config.Policy{TimeZone: "Asia/Tokyo", Tables: []config.TablePolicy{
		{Name: "local_ts", TimeColumn: "ts", RetentionDays: 30},
		{Name: "kolkata_day", TimeColumn: "d", RetentionDays: 30, TimeZone: "Asia/Kolkata"},
		{Name: "absolute", TimeColumn: "ts", RetentionDays: 30},
	}}
	policy.TimeZone = "" // first: the database's zone for values
	conn, err := pg.Connect(context.Background(), dsn, pg.Settings{})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	r, err := Collect(context.Background(), conn, policy)
	if err != nil {
		t.Fatal(err)
	}
	ny, _ := time.LoadLocation("America/New_York")
	kolkata, _ := time.LoadLocation("Asia/Kolkata")
	want := map[string]struct {
		zone   string
		oldest time.Time
	}{
		"local_ts":    {"America/New_York", time.Date(2026, 11, 1, 6, 0, 0, 0, ny)},
		"kolkata_day": {"Asia/Kolkata", time.Date(2026, 11, 3, 0, 0, 0, 0, kolkata)},
		"absolute":    {"", time.Date(2026, 11, 1, 6, 0, 0, 0, time.UTC)},
	}
	for _, tb := range r.Tables {
		w, ok := want[tb.Name]
		if !ok {
			continue
		}
		zone := ""
		if tb.TimeZone != nil {
			zone = *tb.TimeZone
		}
		if zone != w.zone || tb.Oldest == nil || !tb.Oldest.Equal(w.oldest) {
			t.Errorf("%s: zone %q, oldest %v; want %q, %v", tb.Name, zone, tb.Oldest, w.zone, w.oldest)
		}
	}
	for _, c := range r.Chunks {
		if c.Table == "local_ts" {
			// 1 November 2026 in New York: EDT until 02:00, then EST; 25 hours.
			if !c.RangeStart.Equal(time.Date(2026, 11, 1, 0, 0, 0, 0, ny)) || c.RangeEnd.Sub(*c.RangeStart) != 25*time.Hour {
				t.Errorf("partition range %v → %v, want New York's 1 November, 25 hours", c.RangeStart, c.RangeEnd)
			}
		}
	}
	// The policy's zone is the calendar's.
	policy.TimeZone = "Asia/Tokyo"
	r, err = Collect(context.Background(), conn, policy)
	if err != nil {
		t.Fatal(err)
	}
	if loc := r.Calendar[0].NextDue.Location().String(); loc != "Asia/Tokyo" {
		t.Errorf("calendar in %s, want the policy's Asia/Tokyo", loc)
	}
	for _, tb := range r.Tables {
		if tb.Name == "local_ts" && (tb.TimeZone == nil || *tb.TimeZone != "Asia/Tokyo") {
			t.Errorf("the policy's zone does not replace the database's for local_ts: %v", tb.TimeZone)
		}
	}
}

// The same in hypertables: a timestamp dimension's chunk ranges are local
// instants, whatever zone the reading session is in.
func TestHypertableChunksOfLocalTimes(t *testing.T) {
	pgtest.RequireTimescale(t)
	dsn := pgtest.NewDatabase(t)
	app := pgtest.Connect(t, dsn)
	pgtest.Exec(t, app, `SET timezone = 'Asia/Kolkata'; CREATE EXTENSION IF NOT EXISTS timescaledb;
		CREATE TABLE ht (ts timestamp NOT NULL, v int);
		SELECT create_hypertable('ht', 'ts', chunk_time_interval => interval '1 day');
		INSERT INTO ht VALUES ('2026-11-05 10:00', 1)`)
	policy := config.Policy{TimeZone: "Asia/Kolkata", Tables: []config.TablePolicy{{Name: "ht", TimeColumn: "ts", RetentionDays: 30}}}
	kolkata, _ := time.LoadLocation("Asia/Kolkata")
	for _, session := range []string{"UTC", "America/New_York"} {
		pgtest.Exec(t, app, "SET timezone = "+Literal(session))
		r, err := Collect(context.Background(), app, policy)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range r.Chunks {
			if c.Table == "ht" && !c.RangeStart.Equal(time.Date(2026, 11, 5, 0, 0, 0, 0, kolkata)) {
				t.Errorf("session in %s: chunk from %v, want 5 November 00:00 in Kolkata", session, c.RangeStart)
			}
		}
	}
}
