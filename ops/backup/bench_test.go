package backup

import (
	"context"

	"path/filepath"
	"testing"
	"time"

	"github.com/pgtend/pgtend/ops/demo"
	"github.com/pgtend/pgtend/ops/pgtest"
)

// BenchmarkBackup compares, on the demo database, the guide's `pg_dump |
// gzip > file` (unverified, and a pipeline whose status is gzip's) with
// pgtend's verified custom-format backup and its directory format with two
// jobs. Each reports its wall time (verification included for pgtend's),
// its size and whether it was verified.
//
//	go test ./ops/backup -run XXX -bench Backup -benchtime 1x
func BenchmarkBackup(b *testing.B) {
	dsn := pgtest.NewDatabase(b)
	conn := pgtest.Connect(b, dsn)
	if _, err := demo.Seed(context.Background(), conn, demo.Options{Days: 200}); err != nil {
		b.Fatal(err)
	}
	var num int
	var version string
	pgtest.QueryRow(b, conn, "SELECT current_setting('server_version_num')::int, current_setting('server_version')").Scan(&num, &version)
	tools, err := FindTools(context.Background(), num, version, pgtest.Cluster.BinDir)
	if err != nil {
		b.Fatal(err)
	}
	var dbBytes int64
	pgtest.QueryRow(b, conn, "SELECT pg_database_size(current_database())").Scan(&dbBytes)
	var tables int
	pgtest.QueryRow(b, conn, "SELECT count(*) FROM pg_class WHERE relkind = 'r'").Scan(&tables)
	// pg_dump's custom and directory formats compress each table's data on its own.
	b.Logf("database %d MB, %d tables", dbBytes>>20, tables)
	cfg := connOf(&testing.T{}, dsn)
	b.Run("guide", func(b *testing.B) {
		for range b.N {
			out := filepath.Join(b.TempDir(), "guide.sql.gz")
			cmd, done, err := cfg.command(context.Background(), "sh", "-c", tools.PgDump+" \"$@\" | gzip > "+out, "sh")
			if err != nil {
				b.Fatal(err)
			}
			cmd.Args = append(cmd.Args, cfg.Args()...)
			start := time.Now()
			if o, err := cmd.CombinedOutput(); err != nil {
				b.Fatalf("%v\n%s", err, o)
			}
			done()
			report(b, time.Since(start), out, false)
		}
	})
	for _, c := range []struct {
		name string
		f    Format
		jobs int
	}{{"pgtend-custom", Custom, 0}, {"pgtend-directory-j2", Directory, 2}, {"pgtend-plain", Plain, 0}} {
		b.Run(c.name, func(b *testing.B) {
			for range b.N {
				start := time.Now()
				made, err := Make(context.Background(), Options{Tools: tools, Conn: cfg, Dir: b.TempDir(), Format: c.f, Jobs: c.jobs})
				if err != nil {
					b.Fatal(err)
				}
				report(b, time.Since(start), made.Path, true)
			}
		})
	}
}

func report(b *testing.B, took time.Duration, path string, verified bool) {
	size, _, _ := footprint(path)
	v := 0.0
	if verified {
		v = 1
	}
	b.ReportMetric(took.Seconds(), "s")
	b.ReportMetric(float64(size)/(1<<20), "MiB")
	b.ReportMetric(v, "verified")

}
