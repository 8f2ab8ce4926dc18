package backup

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// Checked is what a full read of a backup found.
type Checked struct {
	Bytes  int64
	SHA256 string            // custom and plain: the file's
	Files  map[string]string // directory: each file's, by relative path
}

// dumpComplete ends every plain dump pg_dump finished.
const dumpComplete = "-- PostgreSQL database dump complete"

// Verify reads a backup whole: pg_restore --file=/dev/null for the custom
// and directory formats (it reads every table's data, where `pg_restore
// --list` reads only the table of contents and passes a dump cut at 60%),
// every byte through gzip (its CRC and length) and pg_dump's closing marker
// for plain SQL; and the SHA-256 of every byte, computed alongside. It holds
// a shared lock on the backup meanwhile: rotation leaves it alone.
func Verify(ctx context.Context, tools Tools, path string, f Format, progress func(Progress)) (Checked, error) {
	l, err := readLock(path)
	if err != nil {
		return Checked{}, err
	}
	defer l.release()
	return verify(ctx, tools, path, f, DefaultJobs, progress)
}

// verify is Verify for a caller that holds the backup's lock already; a
// plain backup is read on jobs goroutines.
func verify(ctx context.Context, tools Tools, path string, f Format, jobs int, progress func(Progress)) (Checked, error) {
	if progress == nil {
		progress = func(Progress) {}
	}
	total, _, err := footprint(path)
	if err != nil {
		return Checked{}, err
	}
	if f == Plain {
		return verifyPlain(ctx, path, total, jobs, progress)
	}
	sums := make(chan Checked, 1)
	sumErr := make(chan error, 1)
	go func() {
		c, err := checksum(ctx, path, f)
		sums <- c
		sumErr <- err
	}()
	cmd, done, err := Conn{}.command(ctx, tools.PgRestore, "--file="+os.DevNull, path)
	if err != nil {
		return Checked{}, err
	}
	defer done()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return Checked{}, err
	}
	stop := make(chan struct{})
	polled := make(chan struct{})
	go func() {
		defer close(polled)
		r := readPosition{root: path, sizes: map[string]int64{}}
		t := time.NewTicker(300 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				progress(Progress{Phase: PhaseVerifying, Bytes: r.poll(cmd.Process.Pid), Total: total})
			}
		}
	}()
	runErr := cmd.Wait()
	close(stop)
	<-polled
	c, cerr := <-sums, <-sumErr
	if ctx.Err() != nil {
		return Checked{}, ctx.Err()
	}
	if runErr != nil {
		msg := strings.Join(strings.Fields(stderr.String()), " ")
		if len(msg) > 1000 {
			msg = msg[:1000] + "…"
		}
		return Checked{}, fmt.Errorf("pg_restore --file=%s %s: %v: %s", os.DevNull, filepath.Base(path), runErr, msg)
	}
	if cerr != nil {
		return Checked{}, cerr
	}
	progress(Progress{Phase: PhaseVerifying, Bytes: total, Total: total})
	return c, nil
}

// verifyPlain reads a .sql.gz whole: gzip checks each member's CRC and
// length at its end (what `gzip -t` checks), and the SQL must end with
// pg_dump's closing marker. pgtend's own files are read member by member
// on jobs goroutines, their SHA-256 alongside; any other gzip in one pass.
func verifyPlain(ctx context.Context, path string, total int64, jobs int, progress func(Progress)) (Checked, error) {
	f, err := os.Open(path)
	if err != nil {
		return Checked{}, err
	}
	defer f.Close()
	var read atomic.Int64
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		t := time.NewTicker(300 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				progress(Progress{Phase: PhaseVerifying, Bytes: read.Load(), Total: total})
			}
		}
	}()
	ms, err := members(f, total)
	var c Checked
	var tail []byte
	switch {
	case errors.Is(err, errNoLengths):
		c, tail, err = readGzipStream(ctx, f, path, &read)
	case err != nil:
		return Checked{}, fmt.Errorf("gzip: %s is damaged or cut short: %w", filepath.Base(path), err)
	default:
		c, tail, err = readGzipMembers(ctx, f, path, ms, jobs, &read)
	}
	if err != nil {
		return Checked{}, err
	}
	if !strings.Contains(string(tail), dumpComplete) {
		return Checked{}, fmt.Errorf("%s: %w", filepath.Base(path), errNoMarker)
	}
	progress(Progress{Phase: PhaseVerifying, Bytes: total, Total: total})
	return c, nil
}

// readGzipMembers decompresses pgtend's members in parallel while one more
// goroutine reads the file for its SHA-256.
func readGzipMembers(ctx context.Context, f *os.File, path string, ms []member, jobs int, read *atomic.Int64) (Checked, []byte, error) {
	type summed struct {
		sum string
		n   int64
		err error
	}
	sumCtx, stopSum := context.WithCancel(ctx)
	defer stopSum()
	sums := make(chan summed, 1)
	go func() {
		sum, n, err := fileSum(sumCtx, path)
		sums <- summed{sum, n, err}
	}()
	tail, err := readMembers(ctx, f, ms, jobs, read)
	if err != nil {
		stopSum() // a damaged member is the answer: no need to read on
	}
	s := <-sums
	if err != nil {
		if ctx.Err() != nil {
			return Checked{}, nil, ctx.Err()
		}
		return Checked{}, nil, fmt.Errorf("gzip: %s is damaged or cut short: %w", filepath.Base(path), err)
	}
	if s.err != nil {
		return Checked{}, nil, s.err
	}
	return Checked{Bytes: s.n, SHA256: s.sum}, tail, nil
}

// readGzipStream reads a gzip file front to back, its SHA-256 alongside.
func readGzipStream(ctx context.Context, f *os.File, path string, read *atomic.Int64) (Checked, []byte, error) {
	sum := sha256.New()
	in := io.TeeReader(&ctxReader{ctx: ctx, r: f, n: read}, sum)
	zr, err := gzip.NewReader(in)
	if err != nil {
		return Checked{}, nil, fmt.Errorf("%s is not gzip: %w", filepath.Base(path), err)
	}
	tail := &tailWriter{}
	if _, err := io.Copy(tail, zr); err != nil {
		if ctx.Err() != nil {
			return Checked{}, nil, ctx.Err()
		}
		return Checked{}, nil, fmt.Errorf("gzip: %s is damaged or cut short: %w", filepath.Base(path), err)
	}
	return Checked{Bytes: read.Load(), SHA256: hex.EncodeToString(sum.Sum(nil))}, tail.last, nil
}

// tailKeep is how much of a dump's end is kept to find its closing marker.
const tailKeep = 512

// tailWriter keeps the last bytes written through it.
type tailWriter struct{ last []byte }

func (t *tailWriter) Write(p []byte) (int, error) {
	t.last = append(t.last, p[max(len(p)-tailKeep, 0):]...)
	if len(t.last) > tailKeep {
		t.last = t.last[len(t.last)-tailKeep:]
	}
	return len(p), nil
}

type ctxReader struct {
	ctx context.Context
	r   io.Reader
	n   *atomic.Int64
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// checksum is the SHA-256 of a file, or of each file of a directory.
func checksum(ctx context.Context, path string, f Format) (Checked, error) {
	if f != Directory {
		sum, n, err := fileSum(ctx, path)
		return Checked{Bytes: n, SHA256: sum}, err
	}
	c := Checked{Files: map[string]string{}}
	err := filepath.WalkDir(path, func(p string, d os.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		sum, n, err := fileSum(ctx, p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(path, p)
		c.Files[filepath.ToSlash(rel)], c.Bytes = sum, c.Bytes+n
		return nil
	})
	return c, err
}

func fileSum(ctx context.Context, path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	var n atomic.Int64
	if _, err := io.Copy(h, &ctxReader{ctx: ctx, r: f, n: &n}); err != nil {
		return "", 0, err
	}
	return hex.EncodeToString(h.Sum(nil)), n.Load(), nil
}

// readPosition follows how far a process has read a file (or a
// directory's files) through /proc (Linux; elsewhere it stays 0): the
// files it has opened and where it is in the one open now.
type readPosition struct {
	root  string
	sizes map[string]int64 // files opened so far, by their size
	done  int64
}

func (r *readPosition) poll(pid int) int64 {
	fds, err := os.ReadDir("/proc/" + strconv.Itoa(pid) + "/fd")
	if err != nil {
		return r.done
	}
	var current, pos int64
	open := ""
	for _, fd := range fds {
		link, err := os.Readlink("/proc/" + strconv.Itoa(pid) + "/fd/" + fd.Name())
		if err != nil || (link != r.root && !strings.HasPrefix(link, r.root+"/")) {
			continue
		}
		fi, err := os.Stat(link)
		if err != nil || fi.IsDir() {
			continue
		}
		if _, ok := r.sizes[link]; !ok {
			r.sizes[link] = fi.Size()
		}
		open, current = link, fi.Size()
		if info, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/fdinfo/" + fd.Name()); err == nil {
			for _, line := range strings.Split(string(info), "\n") {
				if v, ok := strings.CutPrefix(line, "pos:"); ok {
					pos, _ = strconv.ParseInt(strings.TrimSpace(v), 10, 64)
				}
			}
		}
	}
	var sum int64
	for p, n := range r.sizes {
		if p != open {
			sum += n
		}
	}
	if open != "" {
		sum += min(pos, current)
	}
	r.done = max(r.done, sum)
	return r.done
}
