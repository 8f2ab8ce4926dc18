package report

import (
	"context"
	"testing"
	"time"

	"github.com/pgtend/pgtend/ops/config"
	"github.com/pgtend/pgtend/ops/pgtest"
)

func TestHypertableSizesMatchCatalog(t *testing.T) {
	pgtest.RequireTimescale(t)
	conn := connect(t, pgtest.NewDatabase(t))
	exec(t, conn, `
		CREATE EXTENSION timescaledb;
		CREATE TABLE metrics (time timestamptz NOT NULL, exchange text, v double precision, note text);
		SELECT create_hypertable('metrics', 'time', chunk_time_interval => interval '1 day');
		INSERT INTO metrics SELECT g, 'x' || (extract(epoch FROM g)::bigint % 4), random(), repeat('n', 40)
		  FROM generate_series(now() - interval '20 days', now(), interval '30 seconds') g;
		ALTER TABLE metrics SET (timescaledb.compress, timescaledb.compress_segmentby = 'exchange');
		SELECT compress_chunk(c) FROM show_chunks('metrics', older_than => interval '7 days') c;
		CREATE TABLE plain_next_door (id int);
		ANALYZE;`)
	r := collect(t, conn, config.Policy{Tables: []config.TablePolicy{{Name: "metrics", TimeColumn: "time", RetentionDays: 10}}})
	if r.Server.Timescale == nil {
		t.Fatal("server.timescaledb is null on a database with the extension")
	}
	m := find(t, r, "public", "metrics")
	if m.Kind == nil || *m.Kind != KindHypertable {
		t.Fatalf("metrics kind %v", m.Kind)
	}
	catalogConn = conn
	checkSizes(t, m)
	// And TimescaleDB's own figure, which pgtend reproduces at a fraction of its cost.
	var ts [4]int64
	if err := conn.QueryRow(context.Background(), "SELECT table_bytes, index_bytes, toast_bytes, total_bytes FROM hypertable_detailed_size('metrics')").Scan(&ts[0], &ts[1], &ts[2], &ts[3]); err != nil {
		t.Fatal(err)
	}
	if got := [4]int64{*m.TableBytes, *m.IndexBytes, *m.ToastBytes, *m.TotalBytes}; got != ts {
		t.Errorf("report %v, hypertable_detailed_size %v", got, ts)
	}
	var rootOnly int64
	if err := conn.QueryRow(context.Background(), "SELECT pg_total_relation_size('metrics')").Scan(&rootOnly); err != nil {
		t.Fatal(err)
	}
	if *m.TotalBytes < 50*rootOnly {
		t.Errorf("hypertable total %d is not far above the root's own %d: chunks not counted", *m.TotalBytes, rootOnly)
	}

	var compressed, chunks int
	var expired, partly int64
	for _, c := range r.Chunks {
		if c.Table != "metrics" {
			continue
		}
		chunks++
		m := pgtest.MeasureChunk(t, conn, c.ChunkSchema, c.Chunk, true)
		total, before, after := m.Total, m.Before, m.After
		if c.TotalBytes == nil || *c.TotalBytes != total {
			t.Errorf("%s: total %v, catalog %d", c.Chunk, c.TotalBytes, total)
		}
		if c.Compressed {
			compressed++
			if c.BeforeBytes == nil || c.AfterBytes == nil || *c.BeforeBytes != *before || *c.AfterBytes != *after {
				t.Errorf("%s: before/after %v/%v, catalog %v/%v", c.Chunk, c.BeforeBytes, c.AfterBytes, before, after)
			}
		} else if c.BeforeBytes != nil || c.AfterBytes != nil {
			t.Errorf("%s: uncompressed chunk with before/after figures", c.Chunk)
		}
		if c.RangeStart == nil || c.RangeEnd == nil {
			t.Errorf("%s: no range", c.Chunk)
		} else if !c.RangeEnd.After(r.GeneratedAt.AddDate(0, 0, -10)) != c.Expired {
			t.Errorf("%s: expired=%v for range end %v", c.Chunk, c.Expired, c.RangeEnd)
		} else if c.Expired {
			expired += total
		}
		if c.PartlyExpiredBytes != nil {
			partly += *c.PartlyExpiredBytes
		}
	}
	if chunks < 20 || compressed < 12 || m.Chunks != chunks {
		t.Errorf("%d chunks (%d compressed), table says %d", chunks, compressed, m.Chunks)
	}
	// Past retention: the chunks wholly past it, and the estimate of the
	// rows past it in the chunk that straddles the cutoff.
	if m.PartlyExpiredBytes == nil || *m.PartlyExpiredBytes != partly {
		t.Errorf("partly expired bytes %v, the chunks' %d", m.PartlyExpiredBytes, partly)
	}
	if m.ExpiredBytes == nil || *m.ExpiredBytes != expired+partly || expired == 0 {
		t.Errorf("expired bytes %v, want %d + %d", m.ExpiredBytes, expired, partly)
	}
	if m.RowEstimate < 50000 {
		t.Errorf("row estimate %d, want about 57600 (compressed chunks included)", m.RowEstimate)
	}
	var oldest time.Time
	if err := conn.QueryRow(context.Background(), "SELECT min(time) FROM metrics").Scan(&oldest); err != nil {
		t.Fatal(err)
	}
	if m.Oldest == nil || !m.Oldest.Equal(oldest) {
		t.Errorf("oldest %v, want %v (from a compressed chunk)", m.Oldest, oldest)
	}
	for _, tb := range r.Tables {
		if tb.Schema == "_timescaledb_internal" {
			t.Errorf("internal relation listed as a table: %s", tb.Name)
		}
	}
}
