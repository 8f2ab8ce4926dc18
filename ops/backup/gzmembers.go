package backup

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"sync"
	"sync/atomic"

	"github.com/klauspost/compress/flate"
)

// A plain backup is a gzip file of independent members, each holding
// memberRaw bytes of pg_dump's SQL (RFC 1952 allows members one after
// another; gunzip, zcat and every gzip reader read them as one stream).
// Independent members are what let both the compression and the full-read
// verification use every core: the guide's `pg_dump | gzip` keeps one core
// compressing while the server's output waits for it. Each member's header
// carries its own length in an extra subfield (as BGZF does), so a verifier
// finds every member without decompressing the ones before it.
const (
	memberRaw = 4 << 20
	// memberLevel: klauspost's level 8 gives a file about 1% smaller than
	// gzip -6 at about its CPU cost; its lower levels are larger than
	// gzip -6, and level 9 (here or zlib's) costs several times as much.
	memberLevel = 8
)

// The extra subfield "Pg", eight bytes: the whole member's length in bytes,
// header and trailer included, little-endian.
var memberField = [2]byte{'P', 'g'}

const memberHeaderLen = 10 + 2 + 4 + 8

// memberHeader is a gzip header (deflate, no name, no time, Unix) with the
// length subfield.
func memberHeader(total int64) []byte {
	h := make([]byte, memberHeaderLen)
	h[0], h[1], h[2], h[3] = 0x1f, 0x8b, 8, 1<<2 // ID1 ID2 CM=deflate FLG=FEXTRA
	h[9] = 3                                     // OS: Unix
	binary.LittleEndian.PutUint16(h[10:], 4+8)   // XLEN
	h[12], h[13] = memberField[0], memberField[1]
	binary.LittleEndian.PutUint16(h[14:], 8)
	binary.LittleEndian.PutUint64(h[16:], uint64(total))
	return h
}

// memberWriter compresses what is written to it into gzip members on
// several goroutines and writes them to w in order.
type memberWriter struct {
	w    io.Writer
	buf  []byte
	made int // members handed to the compressors
	// jobs are the members waiting for a compressor, taken in order; its
	// room (two members) lets pg_dump's output be read ahead of the
	// compressors, so the server keeps dumping while they catch up. At most
	// workers + 3 raw members are held (the one filling, two queued, one a
	// compressor), workers + 2 compressed ones waiting for the disk, and
	// each compressor's scratch: about (3 × workers + 5) × memberRaw when
	// nothing compresses and the disk is slow.
	jobs chan memberJob
	// pending are the same members in order, for drain to write each once
	// its compressor is done.
	pending chan chan []byte
	failed  atomic.Pointer[error] // the first write that failed
	done    chan struct{}         // drain has written (or dropped) every member
	closed  bool
}

type memberJob struct {
	raw []byte
	out chan []byte
}

// newMemberWriter compresses on workers goroutines (the backup's --jobs: on
// a database host the other cores are the server's).
func newMemberWriter(w io.Writer, workers int) *memberWriter {
	workers = max(workers, 1)
	m := &memberWriter{
		w:       w,
		buf:     make([]byte, 0, memberRaw),
		jobs:    make(chan memberJob, 2),
		pending: make(chan chan []byte, workers+2),
		done:    make(chan struct{}),
	}
	for range workers {
		go func() {
			var c memberCompressor
			for j := range m.jobs {
				j.out <- c.compress(j.raw)
			}
		}()
	}
	go m.drain()
	return m
}

// drain writes the members in order as they are compressed; after a write
// fails it still takes the rest, so no compressor blocks.
func (m *memberWriter) drain() {
	defer close(m.done)
	for c := range m.pending {
		member := <-c
		if m.failed.Load() == nil {
			if _, err := m.w.Write(member); err != nil {
				m.failed.Store(&err)
			}
		}
	}
}

func (m *memberWriter) err() error {
	if e := m.failed.Load(); e != nil {
		return *e
	}
	return nil
}

func (m *memberWriter) Write(p []byte) (int, error) {
	if err := m.err(); err != nil {
		return 0, err
	}
	if m.closed {
		return 0, errors.New("gzip members: write after close")
	}
	n := len(p)
	for len(p) > 0 {
		k := min(len(p), memberRaw-len(m.buf))
		m.buf = append(m.buf, p[:k]...)
		p = p[k:]
		if len(m.buf) == memberRaw {
			m.flush()
		}
	}
	return n, nil
}

// flush hands the buffered bytes to the compressors.
func (m *memberWriter) flush() {
	j := memberJob{raw: m.buf, out: make(chan []byte, 1)}
	m.buf = make([]byte, 0, memberRaw)
	m.made++
	m.pending <- j.out
	m.jobs <- j
}

// memberCompressor is one compressing goroutine's deflate state and
// scratch buffer, used again for each member.
type memberCompressor struct {
	fw  *flate.Writer
	out bytes.Buffer
}

// compress makes raw one gzip member: its header (with its length), the
// deflate stream, the CRC-32 and the length of raw. The member is a copy of
// exactly its size: the scratch, grown once for data that does not
// compress, is not held by members waiting for the disk.
func (c *memberCompressor) compress(raw []byte) []byte {
	c.out.Reset()
	c.out.Grow(memberHeaderLen + len(raw) + len(raw)/16384*5 + 64) // deflate's bound for stored blocks
	c.out.Write(make([]byte, memberHeaderLen))                     // filled in once the length is known
	if c.fw == nil {
		c.fw, _ = flate.NewWriter(&c.out, memberLevel)
	} else {
		c.fw.Reset(&c.out)
	}
	c.fw.Write(raw) // a bytes.Buffer does not fail
	c.fw.Close()
	var trailer [8]byte
	binary.LittleEndian.PutUint32(trailer[:], crc32.ChecksumIEEE(raw))
	binary.LittleEndian.PutUint32(trailer[4:], uint32(len(raw)))
	c.out.Write(trailer[:])
	member := bytes.Clone(c.out.Bytes())
	copy(member, memberHeader(int64(len(member))))
	return member
}

// Close compresses what is left (at least one member: an empty input is an
// empty member, still gzip) and waits for every member to be written.
func (m *memberWriter) Close() error {
	if !m.closed {
		m.closed = true
		if len(m.buf) > 0 || m.made == 0 {
			m.flush()
		}
		close(m.jobs)
		close(m.pending)
		<-m.done
	}
	return m.err()
}

// member is where one gzip member lies in a file.
type member struct{ off, len int64 }

// errNoLengths: the file's members do not say their lengths (a .sql.gz
// another gzip wrote); it is read in one pass instead.
var errNoLengths = errors.New("gzip members without lengths")

// members lists a file's gzip members from their length subfields, which
// must tile the file exactly.
func members(f *os.File, size int64) ([]member, error) {
	var out []member
	h := make([]byte, memberHeaderLen)
	for off := int64(0); off < size; {
		if _, err := f.ReadAt(h, off); err != nil {
			if len(out) == 0 {
				return nil, errNoLengths
			}
			return nil, fmt.Errorf("a gzip member header at byte %d is cut short: the file ends at %d", off, size)
		}
		if h[0] != 0x1f || h[1] != 0x8b || h[3]&(1<<2) == 0 || binary.LittleEndian.Uint16(h[10:]) != 12 ||
			h[12] != memberField[0] || h[13] != memberField[1] || binary.LittleEndian.Uint16(h[14:]) != 8 {
			if len(out) == 0 {
				return nil, errNoLengths
			}
			return nil, fmt.Errorf("no gzip member header at byte %d, where the member before it ends", off)
		}
		n := int64(binary.LittleEndian.Uint64(h[16:]))
		if n < memberHeaderLen+8 || n > size-off {
			return nil, fmt.Errorf("the gzip member at byte %d says it is %d bytes long, but the file ends %d bytes further: it is cut short", off, n, size-off)
		}
		out = append(out, member{off, n})
		off += n
	}
	if len(out) == 0 {
		return nil, errors.New("the file is empty")
	}
	return out, nil
}

// readMembers decompresses every member in parallel, each to its exact end
// (its CRC and length checked, nothing after it within its span), and
// returns the last bytes of the whole stream.
func readMembers(ctx context.Context, f *os.File, ms []member, workers int, read *atomic.Int64) ([]byte, error) {
	tails := make([][]byte, len(ms))
	errs := make([]error, len(ms))
	next := atomic.Int64{}
	var wg sync.WaitGroup
	for range max(workers, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(ms) || ctx.Err() != nil {
					return
				}
				var tail []byte
				tail, errs[i] = readMember(f, ms[i])
				if i >= len(ms)-2 { // only the last can be short of tailKeep
					tails[i] = tail
				}
				if errs[i] != nil {
					next.Store(int64(len(ms))) // stop the others early
					return
				}
				read.Add(ms[i].len)
			}
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	var tail []byte
	for i := len(ms) - 1; i >= 0 && len(tail) < tailKeep; i-- {
		tail = append(append([]byte{}, tails[i]...), tail...)
	}
	return tail[max(len(tail)-tailKeep, 0):], nil
}

func readMember(f *os.File, m member) ([]byte, error) {
	sec := io.NewSectionReader(f, m.off, m.len)
	br := bufio.NewReaderSize(sec, 256<<10)
	zr, err := gzip.NewReader(br)
	if err != nil {
		return nil, fmt.Errorf("the gzip member at byte %d: %w", m.off, err)
	}
	zr.Multistream(false)
	tail := &tailWriter{}
	if _, err := io.Copy(tail, zr); err != nil {
		return nil, fmt.Errorf("the gzip member at byte %d is damaged: %w", m.off, err)
	}
	if _, err := br.ReadByte(); err != io.EOF {
		return nil, fmt.Errorf("the gzip member at byte %d ends before the length its header gives", m.off)
	}
	return tail.last, nil
}
