// Package backup makes, verifies, lists and rotates pgtend's backups: dumps
// of the database by the server's own pg_dump (custom, plain SQL gzip or
// directory format) and tar.gz archives of directories. Nothing is counted
// good before it has been read back whole: a dump by pg_restore into
// /dev/null (or, for plain SQL, every byte through gzip and its closing
// marker), an archive entry by entry against what was written, both with a
// SHA-256 recorded in a sidecar file. Rotation deletes only what pgtend
// made and verified, never the newest verified backup, never one another
// pgtend is reading. It has no UI: ops/maint makes plans of it.
package backup

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Format is a pg_dump output format.
type Format string

// Formats.
const (
	Custom    Format = "custom"    // pg_dump -Fc: <database>_<stamp>.dump
	Plain     Format = "plain"     // pg_dump -Fp through gzip: <database>_<stamp>.sql.gz
	Directory Format = "directory" // pg_dump -Fd -j N: <database>_<stamp>.dir/
)

// ParseFormat reads a format as the policy and --format spell it; "" is
// custom.
func ParseFormat(s string) (Format, error) {
	switch f := Format(s); f {
	case "":
		return Custom, nil
	case Custom, Plain, Directory:
		return f, nil
	}
	return "", fmt.Errorf("unknown backup format %q: use custom, plain or directory", s)
}

// Ext is the format's file name extension.
func (f Format) Ext() string {
	switch f {
	case Plain:
		return "sql.gz"
	case Directory:
		return "dir"
	}
	return "dump"
}

func formatOfExt(ext string) Format {
	switch ext {
	case "sql.gz":
		return Plain
	case "dir":
		return Directory
	}
	return Custom
}

// stampLayout is the time in a backup's name, in this machine's zone, as
// `date +%Y%m%d_%H%M%S` writes it in a cron line.
const stampLayout = "20060102_150405"

// FileName is the name of a backup of database made at t.
func FileName(database string, t time.Time, f Format) string {
	return database + "_" + t.Local().Format(stampLayout) + "." + f.Ext()
}

var nameRe = regexp.MustCompile(`^(.+)_(\d{8}_\d{6})\.(dump|sql\.gz|dir)$`)

// Name is what a backup's file name says.
type Name struct {
	Database string
	Time     time.Time
	Format   Format
}

// ParseName reads a backup's file name (its base); ok is false for a name
// pgtend does not give.
func ParseName(base string) (Name, bool) {
	m := nameRe.FindStringSubmatch(base)
	if m == nil {
		return Name{}, false
	}
	t, err := time.ParseInLocation(stampLayout, m[2], time.Local)
	if err != nil {
		return Name{}, false
	}
	return Name{Database: m[1], Time: t, Format: formatOfExt(m[3])}, true
}

// startedBefore is the instant a backup's name stamp means. In the hour
// a clock is set back, a local time names two instants; the backup started
// at the later one that is not after its file was last written (its file
// is written after it starts). Without this the second backup of that hour
// sorts as the older one, and a rotation keeping one would delete it.
func startedBefore(parsed, modified time.Time) time.Time {
	stamp := parsed.Local().Format(stampLayout)
	best := parsed
	for k := -8; k <= 8; k++ { // offsets change by 15-minute multiples, up to 2 hours
		t := parsed.Add(time.Duration(k) * 15 * time.Minute)
		if k == 0 || t.Local().Format(stampLayout) != stamp || t.After(modified) {
			continue
		}
		if best.After(modified) || t.After(best) {
			best = t
		}
	}
	return best
}

// The names around a backup: its checksum sidecar (written only once it
// verified), the name it is written under, the name it is kept aside under
// when it failed.
const (
	SidecarExt = ".sha256"
	FailedExt  = ".failed"
	partialExt = ".partial"
)

func partialName(base string) string { return "." + base + partialExt }

// States of a listed backup.
const (
	StateVerified   = "verified"   // its sidecar says it was read back whole
	StateUnverified = "unverified" // no sidecar: not made by pgtend, or not finished
	StateFailed     = "failed"     // pg_dump or the verification failed: kept aside, never counted
	StatePartial    = "partial"    // being written, or left by a run that was killed
)

// Checksum states of a listed backup.
const (
	ChecksumRecorded = "recorded" // the sidecar matches the file's size and it was not modified since
	ChecksumChanged  = "changed"  // the file changed after it was verified
	ChecksumNone     = "none"
)

// Entry is one backup in a directory.
type Entry struct {
	Name     string    `json:"name"` // the file (or directory) name
	Path     string    `json:"path"`
	Database string    `json:"database"`
	Created  time.Time `json:"created"` // from the name
	Format   Format    `json:"format"`
	Bytes    int64     `json:"bytes"`
	State    string    `json:"state"`
	Checksum string    `json:"checksum"`
	// Verified is when the sidecar was written; nil when none.
	Verified *time.Time `json:"verified"`
	SHA256   string     `json:"sha256,omitempty"` // custom and plain: the whole file's, from the sidecar
	// DatabaseBytes is the database's size when it was dumped (from the
	// sidecar): with Bytes, the compression ratio of the next estimate.
	DatabaseBytes int64 `json:"database_bytes,omitempty"`
	// InUse: another pgtend holds it (writing, verifying or restoring it):
	// rotation leaves it.
	InUse bool `json:"in_use"`
}

// Age is how old the backup is at now.
func (e Entry) Age(now time.Time) time.Duration { return now.Sub(e.Created) }

// Listing is what a backup directory holds, newest first.
type Listing struct {
	Dir     string  `json:"dir"`
	Entries []Entry `json:"entries"`
	// Other counts the files pgtend did not make, which it never touches.
	Other int `json:"other_files"`
}

// List reads dir. A directory that does not exist yet lists empty; one that
// cannot be read is an error.
func List(dir string) (Listing, error) {
	l := Listing{Dir: dir, Entries: []Entry{}}
	des, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return l, nil
	}
	if err != nil {
		return l, err
	}
	names := map[string]bool{}
	for _, de := range des {
		names[de.Name()] = true
	}
	for _, de := range des {
		name := de.Name()
		state, base := StateUnverified, name
		switch {
		case strings.HasSuffix(name, SidecarExt) && names[strings.TrimSuffix(name, SidecarExt)]:
			continue // counted with its backup
		case strings.HasPrefix(name, ".") && strings.HasSuffix(name, partialExt):
			state, base = StatePartial, strings.TrimSuffix(strings.TrimPrefix(name, "."), partialExt)
		case strings.HasSuffix(name, FailedExt):
			state, base = StateFailed, strings.TrimSuffix(name, FailedExt)
		}
		n, ok := ParseName(base)
		if !ok {
			if !strings.HasSuffix(name, SidecarExt+partialExt) {
				l.Other++
			}
			continue
		}
		e := Entry{Name: name, Path: filepath.Join(dir, name), Database: n.Database, Created: n.Time, Format: n.Format, State: state, Checksum: ChecksumNone}
		size, modified, err := footprint(e.Path)
		if err != nil {
			continue // gone meanwhile
		}
		e.Bytes = size
		e.Created = startedBefore(n.Time, modified)
		if state == StateUnverified {
			if sc, err := readSidecar(e.Path + SidecarExt); err == nil {
				e.State = StateVerified
				v := sc.written
				e.Verified, e.SHA256, e.DatabaseBytes = &v, sc.whole, sc.databaseBytes
				e.Checksum = ChecksumRecorded
				if sc.bytes != size || modified.After(sc.written.Add(time.Second)) {
					e.Checksum = ChecksumChanged
				}
			}
		}
		e.InUse = inUse(e.Path)
		l.Entries = append(l.Entries, e)
	}
	slices.SortStableFunc(l.Entries, func(a, b Entry) int {
		if c := b.Created.Compare(a.Created); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
	return l, nil
}

// Newest is the newest verified backup of database, if any.
func (l Listing) Newest(database string) (Entry, bool) {
	for _, e := range l.Entries {
		if e.Database == database && e.State == StateVerified && e.Checksum == ChecksumRecorded {
			return e, true
		}
	}
	return Entry{}, false
}

// footprint is a file's size and modification time, or a directory's
// files' total and latest.
func footprint(path string) (int64, time.Time, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return 0, time.Time{}, err
	}
	if !fi.IsDir() {
		return fi.Size(), fi.ModTime(), nil
	}
	var n int64
	latest := fi.ModTime()
	err = filepath.WalkDir(path, func(_ string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			if i, err := d.Info(); err == nil {
				n += i.Size()
				if i.ModTime().After(latest) {
					latest = i.ModTime()
				}
			}
		}
		return nil
	})
	return n, latest, err
}
