package backup

import (
	"archive/tar"
	"bytes"
	stdflate "compress/flate"
	"compress/gzip"
	"context"
	"encoding/binary"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/klauspost/compress/flate"
	"github.com/pgtend/pgtend/ops/demo"
	"github.com/pgtend/pgtend/ops/pgtest"
)

// benchDemo is the demo database of 200 days, vacuumed and checkpointed:
// no autovacuum of the fresh rows, nor a checkpoint's writes, lands in one
// run and not in the others.
func benchDemo(b *testing.B) (Tools, Conn) {
	dsn := pgtest.NewDatabase(b)
	conn := pgtest.Connect(b, dsn)
	if _, err := demo.Seed(context.Background(), conn, demo.Options{Days: 200}); err != nil {
		b.Fatal(err)
	}
	pgtest.Exec(b, conn, "VACUUM (ANALYZE)")
	pgtest.Exec(b, conn, "CHECKPOINT")
	var num int
	var version string
	pgtest.QueryRow(b, conn, "SELECT current_setting('server_version_num')::int, current_setting('server_version')").Scan(&num, &version)
	tools, err := FindTools(context.Background(), num, version, pgtest.Cluster.BinDir)
	if err != nil {
		b.Fatal(err)
	}
	var dbBytes int64
	var tables, indexes int
	pgtest.QueryRow(b, conn, "SELECT pg_database_size(current_database()), count(*) FILTER (WHERE relkind = 'r'), count(*) FILTER (WHERE relkind = 'i') FROM pg_class").
		Scan(&dbBytes, &tables, &indexes)
	// pg_dump's custom and directory formats compress each table's data on
	// its own, and list each table and index in their table of contents.
	b.Logf("database %d MB, %d tables, %d indexes", dbBytes>>20, tables, indexes)
	return tools, connOf(&testing.T{}, dsn)
}

// BenchmarkBackup compares, on the demo database, the guide's `pg_dump |
// gzip > file` (unverified, and a pipeline whose status is gzip's) with
// pgtend's verified backups: custom (the default), directory with two jobs
// and plain. Each reports its wall time (verification included for
// pgtend's), its CPU time (its processes', not the server's), its size and
// whether it was verified. It logs what the README's explanation rests on:
// pg_dump's catalog phase alone (--schema-only) and its data without
// compression (to /dev/null), and the SQL's size.
//
//	go test ./ops/backup -run XXX -bench Backup -benchtime 1x -count 3
func BenchmarkBackup(b *testing.B) {
	tools, cfg := benchDemo(b)
	run := func(args ...string) (time.Duration, time.Duration) {
		cmd, done, err := cfg.command(context.Background(), tools.PgDump, append(args, cfg.Args()...)...)
		if err != nil {
			b.Fatal(err)
		}
		defer done()
		start := time.Now()
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("%v\n%s", err, out)
		}
		return time.Since(start), cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	}
	catalog, _ := run("--schema-only", "--file=/dev/null")
	data, dumpCPU := run("--file=/dev/null")
	b.Logf("pg_dump alone: its catalog phase (--schema-only) %.2f s; everything to /dev/null %.2f s, %.2f s of pg_dump's CPU",
		catalog.Seconds(), data.Seconds(), dumpCPU.Seconds())
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
			took := time.Since(start)
			done()
			// sh's usage counts the children it waited for: pg_dump and gzip.
			report(b, took, cmd.ProcessState.UserTime()+cmd.ProcessState.SystemTime(), out, false)
		}
	})
	for _, c := range []struct {
		name string
		f    Format
		jobs int
	}{{"pgtend-custom", Custom, 0}, {"pgtend-directory-j2", Directory, 2}, {"pgtend-plain", Plain, 0}} {
		b.Run(c.name, func(b *testing.B) {
			for range b.N {
				before := cpuUsed()
				start := time.Now()
				made, err := Make(context.Background(), Options{Tools: tools, Conn: cfg, Dir: b.TempDir(), Format: c.f, Jobs: c.jobs})
				if err != nil {
					b.Fatal(err)
				}
				report(b, time.Since(start), cpuUsed()-before, made.Path, true)
				if c.f == Directory {
					logTOC(b, made.Path)
				}
			}
		})
	}
}

// logTOC logs the size of a directory backup's table of contents, which
// the custom format keeps uncompressed, and gzipped as pgtend keeps it.
func logTOC(b *testing.B, dir string) {
	path := filepath.Join(dir, "toc.dat.gz")
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		b.Fatal(err)
	}
	n, err := io.Copy(io.Discard, zr)
	if err != nil {
		b.Fatal(err)
	}
	fi, _ := f.Stat()
	b.Logf("the table of contents: %.2f MiB, gzipped %.2f MiB", float64(n)/(1<<20), float64(fi.Size())/(1<<20))
}

// cpuUsed is this process's CPU time and its waited-for children's.
func cpuUsed() time.Duration {
	var self, children syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &self)
	syscall.Getrusage(syscall.RUSAGE_CHILDREN, &children)
	var d time.Duration
	for _, t := range []syscall.Timeval{self.Utime, self.Stime, children.Utime, children.Stime} {
		d += time.Duration(t.Nano())
	}
	return d
}

func report(b *testing.B, took, cpu time.Duration, path string, verified bool) {
	size, _, _ := footprint(path)
	v := 0.0
	if verified {
		v = 1
	}
	b.ReportMetric(took.Seconds(), "s")
	b.ReportMetric(cpu.Seconds(), "cpu-s")
	b.ReportMetric(float64(size)/(1<<20), "MiB")
	b.ReportMetric(v, "verified")
}

// BenchmarkDeflate compresses the demo's plain SQL into 4 MiB members, as
// a plain backup does, with the deflates at hand: the CPU each needs and
// the size it gives, against gzip -6 (the guide's) on the whole stream.
//
//	go test ./ops/backup -run XXX -bench Deflate -benchtime 1x
func BenchmarkDeflate(b *testing.B) {
	tools, cfg := benchDemo(b)
	cmd, done, err := cfg.command(context.Background(), tools.PgDump, cfg.Args()...)
	if err != nil {
		b.Fatal(err)
	}
	sql, err := cmd.Output()
	done()
	if err != nil {
		b.Fatal(err)
	}
	gz := exec.Command("gzip", "-6")
	gz.Stdin = bytes.NewReader(sql)
	start := time.Now()
	whole, err := gz.Output()
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("the SQL: %.1f MiB; gzip -6 on the whole stream: %.2f MiB in %.2f s", float64(len(sql))/(1<<20), float64(len(whole))/(1<<20), time.Since(start).Seconds())
	type deflater interface {
		Write([]byte) (int, error)
		Close() error
	}
	for _, c := range []struct {
		name string
		make func(*bytes.Buffer) deflater
	}{
		{"klauspost-8", func(w *bytes.Buffer) deflater { d, _ := flate.NewWriter(w, 8); return d }},
		{"klauspost-6", func(w *bytes.Buffer) deflater { d, _ := flate.NewWriter(w, 6); return d }},
		{"stdlib-6", func(w *bytes.Buffer) deflater { d, _ := stdflate.NewWriter(w, 6); return d }},
	} {
		b.Run(c.name, func(b *testing.B) {
			for range b.N {
				var total int
				start := time.Now()
				for off := 0; off < len(sql); off += memberRaw {
					var out bytes.Buffer
					d := c.make(&out)
					d.Write(sql[off:min(off+memberRaw, len(sql))])
					d.Close()
					total += out.Len() + memberHeaderLen + 8
				}
				b.ReportMetric(time.Since(start).Seconds(), "cpu-s") // one goroutine: its wall time is its CPU time
				b.ReportMetric(float64(total)/(1<<20), "MiB")
				b.ReportMetric(float64(total)/float64(len(whole)), "x-gzip-6-size")
			}
		})
	}
}

// BenchmarkArchive archives a models/ directory as the archive action does
// (gzip members on two goroutines), against one goroutine of the standard
// library's gzip writing the same tar: 256 MiB of weights, which do not
// compress, and 16 MiB of CSV trade logs, which do.
//
//	go test ./ops/backup -run XXX -bench Archive -benchtime 3x
func BenchmarkArchive(b *testing.B) {
	src := filepath.Join(b.TempDir(), "models")
	os.MkdirAll(src, 0o755)
	weights := make([]byte, 64<<20)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 4 {
		for j := 0; j < len(weights); j += 8 {
			binary.LittleEndian.PutUint64(weights[j:], rng.Uint64())
		}
		os.WriteFile(filepath.Join(src, "model_v"+strconv.Itoa(i)+".onnx"), weights, 0o644)
	}
	os.WriteFile(filepath.Join(src, "trades.csv"), sqlLike(16<<20), 0o644)
	members, total, err := Scan(src, time.Time{}, time.Time{})
	if err != nil {
		b.Fatal(err)
	}
	b.Run("pgtend", func(b *testing.B) {
		for i := range b.N {
			start := time.Now()
			a, err := MakeArchive(context.Background(), members, b.TempDir(), "models_backup_2026120"+strconv.Itoa(i)+".tar.gz", func(int64, int64) {})
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(total)/(1<<20)/time.Since(start).Seconds(), "MiB/s")
			b.ReportMetric(float64(a.Bytes)/float64(total), "ratio")
		}
	})
	b.Run("stdlib-gzip-unverified", func(b *testing.B) {
		for range b.N {
			start := time.Now()
			var out countingWriter
			out.w, out.n = io.Discard, new(atomic.Int64)
			zw := gzip.NewWriter(out)
			tw := tar.NewWriter(zw)
			for _, m := range members {
				tw.WriteHeader(&tar.Header{Name: m.Name, Typeflag: m.Type, Size: m.Size, Mode: 0o644})
				if m.Type == tar.TypeReg {
					f, _ := os.Open(m.Path)
					io.Copy(tw, f)
					f.Close()
				}
			}
			tw.Close()
			zw.Close()
			b.ReportMetric(float64(total)/(1<<20)/time.Since(start).Seconds(), "MiB/s")
			b.ReportMetric(float64(out.n.Load())/float64(total), "ratio")
		}
	})
}
