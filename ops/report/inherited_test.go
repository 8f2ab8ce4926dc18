package report

import (
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/pgtend/pgtend/ops/config"
	"github.com/pgtend/pgtend/ops/pgtest"
)

func TestCheckBounds(t *testing.T) {
	tz := TypeTimestamptz
	for _, c := range []struct {
		def, col, typ string
		want          []bound
	}{
		{`CHECK (((ts >= '2026-01-01 00:00:00+00'::timestamp with time zone) AND (ts < '2026-02-01 00:00:00+00'::timestamp with time zone)))`, "ts", tz,
			[]bound{{lit: "2026-01-01 00:00:00+00", inclusive: true}, {lit: "2026-02-01 00:00:00+00", upper: true}}},
		{`CHECK ((ts <= '2026-03-01 00:00:00+00'::timestamp with time zone))`, "ts", tz,
			[]bound{{lit: "2026-03-01 00:00:00+00", upper: true, inclusive: true}}},
		{`CHECK (('2026-03-01'::date > "Day"))`, `"Day"`, TypeDate, []bound{{lit: "2026-03-01", upper: true}}},
		{`CHECK ((d = '2026-03-01'::date))`, "d", TypeDate, []bound{{lit: "2026-03-01", inclusive: true}, {lit: "2026-03-01", upper: true, inclusive: true}}},
		// Nothing proven: an OR, a NOT VALID constraint, another type's
		// constant, another column, a function of the column.
		{`CHECK (((ts < '2026-01-01 00:00:00+00'::timestamp with time zone) OR (ts > '2027-01-01 00:00:00+00'::timestamp with time zone)))`, "ts", tz, nil},
		{`CHECK ((ts < '2026-01-01 00:00:00+00'::timestamp with time zone)) NOT VALID`, "ts", tz, nil},
		{`CHECK ((ts < '2026-01-01'::date))`, "ts", tz, nil},
		{`CHECK ((other < '2026-01-01 00:00:00+00'::timestamp with time zone))`, "ts", tz, nil},
		{`CHECK ((date_trunc('day'::text, ts) < '2026-01-01 00:00:00+00'::timestamp with time zone))`, "ts", tz, nil},
		// One proven side among others, parentheses in a literal.
		{`CHECK (((v > 0) AND (note <> 'a) AND (b'::text) AND (ts >= '2026-01-01 00:00:00'::timestamp without time zone)))`, "ts", TypeTimestamp,
			[]bound{{lit: "2026-01-01 00:00:00", inclusive: true}}},
	} {
		if got := checkBounds(c.def, c.col, c.typ); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s\n got %+v\nwant %+v", c.def, got, c.want)
		}
	}
}

// The report counts an inheritance parent with its children (kind
// inherited, sizes exact), reads their ranges from their CHECK
// constraints, and counts in what is past retention, estimated, the rows
// no whole child or partition holds: a DEFAULT partition's, a child's
// without a proven range, the parent's own.
func TestInheritanceAndDefaultPartitionsInTheReport(t *testing.T) {
	conn := connect(t, pgtest.NewDatabase(t))
	exec(t, conn, `
		CREATE TABLE dp (ts timestamptz NOT NULL, v int) PARTITION BY RANGE (ts);
		DO $$ BEGIN
		  EXECUTE format('CREATE TABLE dp_old PARTITION OF dp FOR VALUES FROM (MINVALUE) TO (%L)', date_trunc('day', now()) - interval '60 days');
		  EXECUTE format('CREATE TABLE dp_recent PARTITION OF dp FOR VALUES FROM (%L) TO (%L)', date_trunc('day', now()) - interval '20 days', date_trunc('day', now()) + interval '1 day');
		END $$;
		CREATE TABLE dp_default PARTITION OF dp DEFAULT;
		CREATE INDEX ON dp (ts);
		INSERT INTO dp SELECT now() - g * interval '1 hour', 1 FROM generate_series(0, 70 * 24) g;
		CREATE TABLE inh (ts date NOT NULL, v int, pad text);
		DO $$ BEGIN
		  EXECUTE format('CREATE TABLE inh_old (CHECK (ts BETWEEN %L AND %L)) INHERITS (inh)', current_date - 60, current_date - 41);
		  EXECUTE format('CREATE TABLE inh_new (CHECK (%L <= ts)) INHERITS (inh)', current_date - 40);
		END $$;
		CREATE TABLE inh_free () INHERITS (inh);
		CREATE TABLE inh_grand () INHERITS (inh_free);
		INSERT INTO inh_old SELECT current_date - 60 + g % 20, g, repeat('o', 300) FROM generate_series(0, 999) g;
		INSERT INTO inh_new SELECT current_date - g % 41, g, repeat('n', 300) FROM generate_series(0, 999) g;
		INSERT INTO inh_free SELECT current_date - g % 50, g, repeat('f', 300) FROM generate_series(0, 999) g;
		INSERT INTO inh_grand SELECT current_date - g % 50, g, 'g' FROM generate_series(0, 499) g;
		INSERT INTO inh SELECT current_date - g % 50, g, 'p' FROM generate_series(0, 499) g;
		CREATE INDEX ON inh (ts); CREATE INDEX ON inh_free (ts);
		ANALYZE`)
	policy := config.Policy{Tables: []config.TablePolicy{
		{Name: "dp", TimeColumn: "ts", RetentionDays: 30}, {Name: "inh", TimeColumn: "ts", RetentionDays: 30}}}
	r := collect(t, conn, policy)
	catalogConn = conn
	cutoff := r.GeneratedAt.Add(-30 * 24 * time.Hour)

	inh := find(t, r, "public", "inh")
	checkSizes(t, inh)
	if inh.Kind == nil || *inh.Kind != KindInherited || inh.Chunks != 4 || inh.PartitionColumn == nil || *inh.PartitionColumn != "ts" {
		t.Errorf("inh: %+v", inh)
	}
	for _, tb := range r.Tables {
		if strings.HasPrefix(tb.Name, "inh_") || strings.HasPrefix(tb.Name, "dp_") {
			t.Errorf("%s is reported as a table of its own", tb.Name)
		}
	}
	day := func(d int) time.Time {
		return time.Date(r.GeneratedAt.Year(), r.GeneratedAt.Month(), r.GeneratedAt.Day()+d, 0, 0, 0, 0, time.UTC)
	}
	// near: an estimate within 25% (and 20 rows) of the true count.
	near := func(est *int64, n int64) bool {
		return est != nil && math.Abs(float64(*est-n)) <= math.Max(20, 0.25*float64(n))
	}
	var chunkBytes, whole, partly int64
	var order []string
	for _, c := range r.Chunks {
		if c.Table != "inh" {
			continue
		}
		order = append(order, c.Chunk)
		m := pgtest.MeasureChunk(t, conn, c.ChunkSchema, c.Chunk, false)
		if c.TotalBytes == nil || *c.TotalBytes != m.Total {
			t.Errorf("%s: %v bytes, catalog %d", c.Chunk, c.TotalBytes, m.Total)
		}
		chunkBytes += *c.TotalBytes
		past := pgtest.Count(t, conn, fmt.Sprintf("SELECT count(*) FROM ONLY %s WHERE ts < ($1::timestamptz AT TIME ZONE 'UTC')::date", c.Chunk), cutoff)
		switch c.Chunk {
		case "inh_old": // BETWEEN: the last day included
			if c.RangeStart == nil || !c.RangeStart.Equal(day(-60)) || c.RangeEnd == nil || !c.RangeEnd.Equal(day(-40)) || !c.Expired || c.PartlyExpiredBytes != nil {
				t.Errorf("inh_old: %v – %v, expired %v, partly %v", c.RangeStart, c.RangeEnd, c.Expired, c.PartlyExpiredBytes)
			}
			whole += *c.TotalBytes
			continue
		case "inh_new":
			if c.RangeStart == nil || !c.RangeStart.Equal(day(-40)) || c.RangeEnd != nil || c.Expired {
				t.Errorf("inh_new: %v – %v, expired %v", c.RangeStart, c.RangeEnd, c.Expired)
			}
		default: // no CHECK: no range, never expired whole
			if c.RangeStart != nil || c.RangeEnd != nil || c.Expired {
				t.Errorf("%s: %v – %v, expired %v", c.Chunk, c.RangeStart, c.RangeEnd, c.Expired)
			}
		}
		if !near(c.PartlyExpiredRows, past) || c.PartlyExpiredBytes == nil || *c.PartlyExpiredBytes <= 0 {
			t.Errorf("%s: ~%v rows (%v bytes) past retention estimated, %d are", c.Chunk, c.PartlyExpiredRows, c.PartlyExpiredBytes, past)
		}
		partly += *c.PartlyExpiredBytes
	}
	if fmt.Sprint(order) != "[inh_free inh_grand inh_old inh_new]" {
		t.Errorf("children in the order %v, want those of no range first, then by range", order)
	}
	// The parent's own rows past the cutoff are counted too.
	if inh.PartlyExpiredBytes == nil || *inh.PartlyExpiredBytes <= partly || inh.ExpiredBytes == nil || *inh.ExpiredBytes != whole+*inh.PartlyExpiredBytes {
		t.Errorf("inh: expired %v, partly %v; chunks: whole %d, partly %d", inh.ExpiredBytes, inh.PartlyExpiredBytes, whole, partly)
	}
	if own := *inh.PartlyExpiredBytes - partly; own > *inh.TotalBytes-chunkBytes {
		t.Errorf("the parent's own rows past retention: %d bytes, of its %d", own, *inh.TotalBytes-chunkBytes)
	}

	dp := find(t, r, "public", "dp")
	checkSizes(t, dp)
	var oldBytes int64
	for _, c := range r.Chunks {
		if c.Table != "dp" {
			continue
		}
		past := pgtest.Count(t, conn, "SELECT count(*) FROM ONLY "+c.Chunk+" WHERE ts < $1", cutoff)
		switch c.Chunk {
		case "dp_default":
			if !c.Default || c.Expired || !near(c.PartlyExpiredRows, past) || dp.PartlyExpiredBytes == nil || c.PartlyExpiredBytes == nil || *dp.PartlyExpiredBytes != *c.PartlyExpiredBytes {
				t.Errorf("dp_default: default %v, expired %v, ~%v rows past retention (%d are), table's %v", c.Default, c.Expired, c.PartlyExpiredRows, past, dp.PartlyExpiredBytes)
			}
		case "dp_old":
			if c.Default || !c.Expired {
				t.Errorf("dp_old: default %v, expired %v", c.Default, c.Expired)
			}
			oldBytes = *c.TotalBytes
		default:
			if c.Default || c.Expired || c.PartlyExpiredBytes != nil || past != 0 {
				t.Errorf("%s: default %v, expired %v, partly %v", c.Chunk, c.Default, c.Expired, c.PartlyExpiredBytes)
			}
		}
	}
	if dp.ExpiredBytes == nil || dp.PartlyExpiredBytes == nil || *dp.ExpiredBytes != oldBytes+*dp.PartlyExpiredBytes {
		t.Errorf("dp: expired %v, want dp_old's %d + the DEFAULT's %v", dp.ExpiredBytes, oldBytes, dp.PartlyExpiredBytes)
	}
}
