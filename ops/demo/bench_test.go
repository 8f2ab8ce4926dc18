package demo

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/pgtend/pgtend/ops/pgtest"
)

// BenchmarkSeed is what `pgtend demo` spends between starting its cluster
// and showing the console: Seed with the extras at the default scale and
// span, then the files (the pg_dump backup), with hypertables (when
// TimescaleDB is installed) and with native partitions. The README has the
// figures. Run it with -benchtime 3x: one iteration is seconds long.
func BenchmarkSeed(b *testing.B) {
	for _, mode := range []Mode{Timescale, Native} {
		b.Run(mode.String(), func(b *testing.B) {
			if mode == Timescale {
				pgtest.RequireTimescale(b)
			}
			benchmarkSeed(b, mode)
		})
	}
}

func benchmarkSeed(b *testing.B, mode Mode) {
	ctx := context.Background()
	var seed, files time.Duration
	var ratio float64
	for b.Loop() {
		b.StopTimer()
		dsn := pgtest.NewDatabase(b)
		conn := connect(b, dsn)
		b.StartTimer()
		began := time.Now()
		if _, err := Seed(ctx, conn, Options{Mode: mode, Extras: true}); err != nil {
			b.Fatal(err)
		}
		seed += time.Since(began)
		began = time.Now()
		if _, err := WriteFiles(ctx, FilesOptions{Dir: b.TempDir(), PgDump: filepath.Join(pgtest.Cluster.BinDir, "pg_dump"), DSN: dsn, Now: time.Now()}); err != nil {
			b.Fatal(err)
		}
		files += time.Since(began)
		b.StopTimer()
		if mode == Timescale {
			var before, after float64
			pgtest.QueryRow(b, conn, `SELECT sum(before_compression_total_bytes), sum(after_compression_total_bytes)
				FROM chunk_compression_stats('public.option_chain_snapshots') WHERE compression_status = 'Compressed'`).Scan(&before, &after)
			ratio = before / after
		}
		pgtest.Exec(b, conn, "SELECT pg_drop_replication_slot($1)", IdleSlot)
		b.StartTimer()
	}
	b.ReportMetric(seed.Seconds()/float64(b.N), "s-seed/op")
	b.ReportMetric(files.Seconds()/float64(b.N), "s-files/op")
	if mode == Timescale {
		b.ReportMetric(ratio, "x-compressed")
	}
}
