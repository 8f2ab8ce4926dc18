package backup

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// DefaultJobs is a backup's parallelism unless --jobs says otherwise: on a
// database host the other cores serve the database.
const DefaultJobs = 2

// Progress is what a backup is doing.
type Progress struct {
	Phase string // PhaseDumping or PhaseVerifying
	Bytes int64  // written so far (dumping), read so far (verifying)
	Total int64  // verifying: the backup's size; dumping: 0 (unknown)
	Table string // dumping: the table pg_dump is on (its --verbose)
}

// Phases of a backup.
const (
	PhaseDumping   = "dumping"
	PhaseVerifying = "verifying"
)

// Options say what to dump, where and how.
type Options struct {
	Tools  Tools
	Conn   Conn
	Dir    string
	Format Format
	// Jobs: the directory format's pg_dump -j; plain SQL's compressing
	// (and verifying) goroutines. 0 = DefaultJobs.
	Jobs int
	Now  time.Time // the name's time; zero = now
	// AppName is pg_dump's application_name (PGAPPNAME), by which its
	// sessions are found in pg_stat_activity and pg_stat_progress_copy.
	AppName string
	// LockWait bounds pg_dump's wait for each table's ACCESS SHARE lock
	// (--lock-wait-timeout): a dump never queues forever behind DDL.
	LockWait time.Duration
	// What the sidecar records besides the checksum: the database's size
	// (the next estimate's compression ratio), the server's and the
	// extension's versions.
	DatabaseBytes int64
	Meta          map[string]string
	Progress      func(Progress)
	Log           func(string) // pg_dump's warnings and notices, once each
	started       func(*exec.Cmd)
}

// Made is a backup that was written, read back whole and sealed.
type Made struct {
	Path   string
	Name   string
	Bytes  int64
	SHA256 string // custom and plain: the file's
	Took   time.Duration
}

// Error is a backup that failed: what failed, and where the file was kept
// aside (Kept, "" when nothing was written).
type Error struct {
	Stage string // "pg_dump", "gzipping the table of contents", "verification", "sealing"
	Kept  string
	Err   error
}

func (e *Error) Error() string {
	kept := ""
	if e.Kept != "" {
		kept = " (kept aside as " + e.Kept + ", never counted as a backup)"
	}
	return fmt.Sprintf("%s failed: %v%s", e.Stage, e.Err, kept)
}

func (e *Error) Unwrap() error { return e.Err }

// Make dumps the database into Dir under a temporary name, reads the dump
// back whole, writes its SHA-256 sidecar and only then gives it its name.
// A dump or verification that fails is kept aside as <name>.failed; one
// cancelled (ctx) is killed — pg_dump and its workers — and its partial
// file removed.
func Make(ctx context.Context, o Options) (Made, error) {
	start := time.Now()
	if o.Now.IsZero() {
		o.Now = start
	}
	if o.Jobs <= 0 {
		o.Jobs = DefaultJobs
	}
	if o.Progress == nil {
		o.Progress = func(Progress) {}
	}
	if o.Log == nil {
		o.Log = func(string) {}
	}
	if err := os.MkdirAll(o.Dir, 0o700); err != nil {
		return Made{}, &Error{Stage: "pg_dump", Err: err}
	}
	name := FileName(o.Conn.Database, o.Now, o.Format)
	final := filepath.Join(o.Dir, name)
	partial := filepath.Join(o.Dir, partialName(name))
	for _, p := range []string{final, final + FailedExt} {
		if _, err := os.Lstat(p); err == nil {
			return Made{}, &Error{Stage: "pg_dump", Err: fmt.Errorf("%s already exists", p)}
		}
	}
	held, err := createPartial(partial, o.Format)
	if err != nil {
		return Made{}, &Error{Stage: "pg_dump", Err: err}
	}
	defer held.release()
	fail := func(stage string, err error) (Made, error) {
		if ctx.Err() != nil {
			os.RemoveAll(partial)
			return Made{}, fmt.Errorf("cancelled, the partial backup removed: %w", ctx.Err())
		}
		if filesystemFull(err) { // kept aside, it would keep the filesystem full
			os.RemoveAll(partial)
			return Made{}, &Error{Stage: stage, Err: fmt.Errorf("%w; the partial backup was removed", err)}
		}
		kept := final + FailedExt
		if rerr := os.Rename(partial, kept); rerr != nil {
			os.RemoveAll(partial)
			kept = ""
		}
		return Made{}, &Error{Stage: stage, Kept: kept, Err: err}
	}

	written, err := runDump(ctx, o, partial)
	if err != nil {
		return fail("pg_dump", err)
	}
	if o.Format == Directory {
		if err := compressTOC(partial); err != nil {
			return fail("gzipping the table of contents", err)
		}
	}
	o.Progress(Progress{Phase: PhaseVerifying})
	checked, err := verify(ctx, o.Tools, partial, o.Format, o.Jobs, o.Progress)
	if err != nil {
		return fail("verification", err)
	}
	if written != "" && written != checked.SHA256 {
		return fail("verification", fmt.Errorf("the file reads back as SHA-256 %s, but %s was written", checked.SHA256, written))
	}
	if err := os.Rename(partial, final); err != nil {
		return fail("sealing", err)
	}
	how := "pg_restore --file=/dev/null"
	if o.Format == Plain {
		how = "gzip and the closing marker"
	}
	sc := sidecar{
		title:   fmt.Sprintf("backup of database %q, %s format, verified by a full read (%s)", o.Conn.Database, o.Format, how),
		written: time.Now(), bytes: checked.Bytes, databaseBytes: o.DatabaseBytes,
		meta:  map[string]string{"format": string(o.Format), "pg_dump": o.Tools.Version},
		whole: checked.SHA256, files: checked.Files,
	}
	for k, v := range o.Meta {
		sc.meta[k] = v
	}
	if err := writeSidecar(final+SidecarExt, sc); err != nil {
		// Named but unsealed: it lists as unverified and no rotation
		// counts or deletes it.
		return Made{}, &Error{Stage: "sealing", Err: fmt.Errorf("writing %s: %w", final+SidecarExt, err)}
	}
	return Made{Path: final, Name: name, Bytes: checked.Bytes, SHA256: checked.SHA256, Took: time.Since(start)}, nil
}

// createPartial makes the file (or directory) pg_dump writes into, and
// holds its lock: no rotation deletes it while it is written.
func createPartial(path string, f Format) (*lock, error) {
	if f == Directory {
		if err := os.Mkdir(path, 0o700); err != nil {
			return nil, err
		}
	} else {
		fh, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
		if err != nil {
			return nil, err
		}
		fh.Close()
	}
	l, err := tryLock(path, true)
	if err != nil {
		os.RemoveAll(path)
		return nil, err
	}
	return l, nil
}

// runDump runs pg_dump into partial; for plain SQL it gzips pg_dump's
// output itself and returns the SHA-256 of what it wrote. pg_dump's own
// exit status decides, never a pipeline's.
func runDump(ctx context.Context, o Options, partial string) (written string, err error) {
	args := []string{"--format=" + string(o.Format), "--verbose"}
	if o.LockWait > 0 {
		args = append(args, "--lock-wait-timeout="+strconv.FormatInt(o.LockWait.Milliseconds(), 10))
	}
	switch o.Format {
	case Directory:
		args = append(args, "--jobs="+strconv.Itoa(o.Jobs), "--file="+partial)
	case Custom:
		args = append(args, "--file="+partial)
	}
	args = append(args, o.Conn.Args()...)
	// A write that fails (a full filesystem) stops pg_dump at once: it
	// would hold its snapshot and its locks to the end for nothing.
	dumpCtx, stopDump := context.WithCancel(ctx)
	defer stopDump()
	cmd, done, err := o.Conn.command(dumpCtx, o.Tools.PgDump, args...)
	if err != nil {
		return "", err
	}
	defer done()
	if o.AppName != "" {
		cmd.Env = append(cmd.Env, "PGAPPNAME="+o.AppName)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return "", err
	}
	var out *gzipFile
	var stdout io.ReadCloser
	if o.Format == Plain {
		if out, err = newGzipFile(partial, o.Jobs); err != nil {
			return "", err
		}
		defer out.abort()
		if stdout, err = cmd.StdoutPipe(); err != nil {
			return "", err
		}
	}
	if o.started != nil {
		o.started(cmd)
	}
	if err := cmd.Start(); err != nil {
		return "", fmt.Errorf("starting %s: %w", o.Tools.PgDump, err)
	}
	var wg sync.WaitGroup
	log := &dumpLog{emit: o.Log, timescale: o.Meta["timescaledb"] != ""}
	wg.Add(1)
	go func() { defer wg.Done(); log.read(stderr) }()
	var copyErr error
	if out != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := io.Copy(out, stdout); err != nil {
				copyErr = err
				stopDump()
				io.Copy(io.Discard, stdout) // to its end, which the kill brings
			}
		}()
	}
	stop := make(chan struct{})
	ticked := make(chan struct{})
	go func() {
		defer close(ticked)
		t := time.NewTicker(300 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
			}
			var n int64
			if out != nil {
				n = out.written.Load()
			} else {
				n, _, _ = footprint(partial)
			}
			o.Progress(Progress{Phase: PhaseDumping, Bytes: n, Table: log.table()})
		}
	}()
	wg.Wait()
	waitErr := cmd.Wait()
	close(stop)
	<-ticked
	log.flush()
	if ctx.Err() != nil {
		return "", ctx.Err()
	}
	if copyErr != nil {
		return "", fmt.Errorf("writing %s (pg_dump stopped): %w", partial, copyErr)
	}
	if waitErr != nil {
		return "", fmt.Errorf("%v%s", waitErr, log.errors())
	}
	if out != nil {
		sum, err := out.finish()
		if err != nil {
			return "", fmt.Errorf("writing %s: %w", partial, err)
		}
		return sum, nil
	}
	return "", nil
}

// dumpLog reads pg_dump's --verbose stderr: the table it is on, its
// warnings and notices (passed on once each), and its errors.
type dumpLog struct {
	emit      func(string)
	timescale bool // the database has TimescaleDB: its catalog's warnings are explained

	mu         sync.Mutex
	current    string
	seen       map[string]bool
	hypertable int
	errs, tail []string
	pending    string // a warning or notice waiting for its detail lines
}

const hypertableNotice = "hypertable data are in the chunks, no data will be copied"

func (l *dumpLog) read(r io.Reader) {
	s := bufio.NewScanner(r)
	s.Buffer(make([]byte, 64<<10), 1<<20)
	for s.Scan() {
		l.line(s.Text())
	}
}

func (l *dumpLog) line(line string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.tail = append(l.tail, line)
	if len(l.tail) > 20 {
		l.tail = l.tail[1:]
	}
	msg, prefixed := strings.CutPrefix(line, "pg_dump: ")
	if !prefixed || strings.HasPrefix(msg, "detail: ") || strings.HasPrefix(msg, "hint: ") {
		if l.pending != "" && !strings.Contains(l.pending, hypertableNotice) {
			l.pending += " " + strings.TrimSpace(line)
		}
		return
	}
	l.flushLocked()
	switch {
	case strings.HasPrefix(msg, "dumping contents of table "):
		l.current = strings.Trim(strings.TrimPrefix(msg, "dumping contents of table "), `"`)
	case strings.HasPrefix(msg, "error: "):
		l.errs = append(l.errs, msg)
	case strings.HasPrefix(msg, "warning: "), strings.HasPrefix(msg, "NOTICE: "), strings.HasPrefix(msg, "WARNING: "):
		if strings.Contains(msg, hypertableNotice) {
			l.hypertable++
			return
		}
		l.pending = msg
	}
}

// catalogCycle is how pg_dump warns of TimescaleDB's catalog table
// continuous_agg, whose foreign keys refer to itself: a warning in every
// dump of a database with a continuous aggregate, and harmless.
const catalogCycle = "warning: there are circular foreign-key constraints on this table: pg_dump: detail: continuous_agg pg_dump: hint:"

func (l *dumpLog) flushLocked() {
	if l.pending == "" {
		return
	}
	msg := l.pending
	l.pending = ""
	if l.timescale && strings.HasPrefix(msg, catalogCycle) {
		msg = "warning: circular foreign keys on TimescaleDB's catalog table continuous_agg: harmless, " +
			"the catalog is restored between timescaledb_pre_restore() and timescaledb_post_restore() (as pgtend backup verify does)"
	}
	if l.seen == nil {
		l.seen = map[string]bool{}
	}
	if !l.seen[msg] {
		l.seen[msg] = true
		l.emit("pg_dump: " + msg)
	}
}

func (l *dumpLog) flush() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.flushLocked()
	if l.hypertable > 0 {
		l.emit(fmt.Sprintf("pg_dump: NOTICE %q, %d times: harmless, TimescaleDB keeps a hypertable's rows in its chunks, which are dumped", hypertableNotice, l.hypertable))
		l.hypertable = 0
	}
}

func (l *dumpLog) table() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.current
}

// errors is what pg_dump said of its failure: its error lines, else the
// last lines it wrote.
func (l *dumpLog) errors() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	lines := l.errs
	if len(lines) == 0 {
		lines = l.tail
	}
	if len(lines) == 0 {
		return ""
	}
	return ": pg_dump said: " + strings.Join(lines, "; ")
}

// gzipFile is pg_dump's plain output compressed into a file (gzip members
// made on jobs goroutines, see memberWriter), counted and checksummed as
// it is written.
type gzipFile struct {
	f       *os.File
	sum     hash.Hash
	gz      *memberWriter
	written atomic.Int64
	closed  bool
}

func newGzipFile(path string, jobs int) (*gzipFile, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, err
	}
	g := &gzipFile{f: f, sum: sha256.New()}
	g.gz = newMemberWriter(io.MultiWriter(countingWriter{f, &g.written}, g.sum), jobs)
	return g, nil
}

func (g *gzipFile) Write(p []byte) (int, error) { return g.gz.Write(p) }

// finish closes the gzip stream, syncs the file and returns its checksum.
func (g *gzipFile) finish() (string, error) {
	g.closed = true
	if err := g.gz.Close(); err != nil {
		g.f.Close()
		return "", err
	}
	if err := g.f.Sync(); err != nil {
		g.f.Close()
		return "", err
	}
	if err := g.f.Close(); err != nil {
		return "", err
	}
	return hex.EncodeToString(g.sum.Sum(nil)), nil
}

func (g *gzipFile) abort() {
	if !g.closed {
		g.gz.Close() // its goroutines end
		g.f.Close()
	}
}

type countingWriter struct {
	w io.Writer
	n *atomic.Int64
}

func (c countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n.Add(int64(n))
	return n, err
}

var errNoMarker = errors.New(`it does not end with pg_dump's "-- PostgreSQL database dump complete": the dump stopped before its end`)

// compressTOC gzips a directory archive's table of contents in place:
// pg_restore opens toc.dat.gz when there is no toc.dat (every version
// since the directory format's first). pg_dump writes the TOC uncompressed
// whatever --compress says, and with one entry per table and per index it
// is about a tenth of a TimescaleDB database's backup (each chunk is a
// table), where gzip makes it a twentieth of itself.
func compressTOC(dir string) error {
	toc := filepath.Join(dir, "toc.dat")
	in, err := os.Open(toc)
	if err != nil {
		return err
	}
	defer in.Close()
	tmp := filepath.Join(dir, ".toc.dat.gz.partial")
	out, err := os.OpenFile(tmp, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	defer os.Remove(tmp) // a no-op once renamed
	zw := newMemberWriter(out, 1)
	_, err = io.Copy(zw, in)
	err = errors.Join(err, zw.Close(), out.Sync(), out.Close())
	if err != nil {
		return fmt.Errorf("compressing %s: %w", toc, err)
	}
	if err := os.Rename(tmp, toc+".gz"); err != nil {
		return err
	}
	// pg_restore opens toc.dat first: one left behind only costs its room.
	os.Remove(toc)
	if d, err := os.Open(dir); err == nil { // the rename and the removal, on disk
		d.Sync()
		d.Close()
	}
	return nil
}

// filesystemFull: err is, or pg_dump said, "No space left on device".
func filesystemFull(err error) bool {
	return errors.Is(err, syscall.ENOSPC) || strings.Contains(err.Error(), "No space left on device")
}
