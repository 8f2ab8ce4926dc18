package config

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"

	"github.com/dustin/go-humanize"
)

// Reindex says when an index needs rebuilding: its bloat (estimated from
// statistics, or measured with pgstatindex when asked) is at least
// MinBloatPercent of the index and at least MinBloatBytes. The zero value
// (no [reindex] section) means DefaultReindex.
type Reindex struct {
	MinBloatPercent int   // 1 to 100
	MinBloatBytes   int64 // at least 1
}

// DefaultReindex: estimated bloat of 30% or more, and 10 MB or more.
var DefaultReindex = Reindex{MinBloatPercent: 30, MinBloatBytes: 10_000_000}

// Effective is r with DefaultReindex's values where r sets none.
func (r Reindex) Effective() Reindex {
	if r.MinBloatPercent == 0 {
		r.MinBloatPercent = DefaultReindex.MinBloatPercent
	}
	if r.MinBloatBytes == 0 {
		r.MinBloatBytes = DefaultReindex.MinBloatBytes
	}
	return r
}

// Disk is how much of the data directory's filesystem maintenance leaves
// free: a REINDEX's new copy of an index, a decompressed chunk, must fit
// with KeepFreeBytes to spare, or the step is refused with the numbers.
// The zero value (no [disk] section) means DefaultDisk.
type Disk struct {
	KeepFreeBytes int64 // at least 1
	// TriageAtPercent: when the filesystem is at least this full, the
	// console opens on its Triage pane (what frees space) by itself.
	TriageAtPercent int // 1 to 100
}

// DefaultDisk keeps 1 GB free and opens the console on Triage at 90%.
var DefaultDisk = Disk{KeepFreeBytes: 1_000_000_000, TriageAtPercent: 90}

// Effective is d with DefaultDisk's value where d sets none.
func (d Disk) Effective() Disk {
	if d.KeepFreeBytes == 0 {
		d.KeepFreeBytes = DefaultDisk.KeepFreeBytes
	}
	if d.TriageAtPercent == 0 {
		d.TriageAtPercent = DefaultDisk.TriageAtPercent
	}
	return d
}

// reindex reads [reindex]; keys it omits keep DefaultReindex's values.
func (p *parser) reindex(s section) Reindex {
	s.unknown("min_bloat", "min_bloat_size")
	r := DefaultReindex
	if v, ok := s.str("min_bloat", "30%"); ok {
		n, err := parsePercent(v)
		if err != nil {
			s.errorf("min_bloat", "%v", err)
		} else {
			r.MinBloatPercent = n
		}
	}
	if v, ok := s.str("min_bloat_size", "10 MB"); ok {
		n, err := parseSize(v)
		switch {
		case err != nil:
			s.errorf("min_bloat_size", "%v", err)
		case n < 1:
			s.errorf("min_bloat_size", "must be at least 1 B (got %q)", v)
		default:
			r.MinBloatBytes = n
		}
	}
	return r
}

// disk reads [disk].
func (p *parser) disk(s section) Disk {
	s.unknown("keep_free", "triage_at")
	d := DefaultDisk
	if v, ok := s.str("keep_free", "1 GB"); ok {
		n, err := parseSize(v)
		switch {
		case err != nil:
			s.errorf("keep_free", "%v", err)
		case n < 1:
			s.errorf("keep_free", "must be at least 1 B (got %q)", v)
		default:
			d.KeepFreeBytes = n
		}
	}
	if v, ok := s.str("triage_at", "90%"); ok {
		n, err := parsePercent(v)
		if err != nil {
			s.errorf("triage_at", "%v", err)
		} else {
			d.TriageAtPercent = n
		}
	}
	return d
}

var percentRe = regexp.MustCompile(`^([0-9]+)\s*%$`)

// parsePercent reads "30%": a whole percentage from 1 to 100.
func parsePercent(s string) (int, error) {
	m := percentRe.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return 0, fmt.Errorf("bad percentage %q: want a whole percentage like \"30%%\"", s)
	}
	n, err := strconv.Atoi(m[1])
	if err != nil || n < 1 || n > 100 {
		return 0, fmt.Errorf("bad percentage %q: must be 1%% to 100%%", s)
	}
	return n, nil
}

// parseSize reads a size: "10 MB", "512 MiB", "1048576 B".
func parseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	if strings.HasPrefix(t, "-") {
		return 0, fmt.Errorf("bad size %q: must not be negative", s)
	}
	n, err := humanize.ParseBytes(t)
	if n > math.MaxInt64 || err != nil && strings.Contains(err.Error(), "too large") {
		return 0, fmt.Errorf("bad size %q: too large", s)
	}
	if err != nil || t == "" {
		return 0, fmt.Errorf("bad size %q: want a size like \"10 MB\", \"512 MiB\" or \"1048576 B\"", s)
	}
	return int64(n), nil
}

// formatSize writes n bytes in a spelling parseSize reads back exactly.
func formatSize(n int64) string {
	u := uint64(max(n, 0))
	for _, s := range []string{humanize.Bytes(u), humanize.IBytes(u)} {
		if back, err := humanize.ParseBytes(s); err == nil && back == u {
			return s
		}
	}
	return strconv.FormatUint(u, 10) + " B"
}

type (
	encodedReindex struct {
		MinBloat     string `toml:"min_bloat"`
		MinBloatSize string `toml:"min_bloat_size"`
	}
	encodedDisk struct {
		KeepFree string `toml:"keep_free"`
		TriageAt string `toml:"triage_at"`
	}
)

// encodedMaintenance is [reindex] and [disk] as Encode writes them: only
// when the policy sets them, with the effective values.
func (p Policy) encodedMaintenance() (*encodedReindex, *encodedDisk) {
	var r *encodedReindex
	var d *encodedDisk
	if p.Reindex != (Reindex{}) {
		e := p.Reindex.Effective()
		r = &encodedReindex{MinBloat: strconv.Itoa(e.MinBloatPercent) + "%", MinBloatSize: formatSize(e.MinBloatBytes)}
	}
	if p.Disk != (Disk{}) {
		e := p.Disk.Effective()
		d = &encodedDisk{KeepFree: formatSize(e.KeepFreeBytes), TriageAt: strconv.Itoa(e.TriageAtPercent) + "%"}
	}
	return r, d
}
