package backup

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sync/atomic"
	"time"
)

// Archives are tar.gz files of a directory: whole (the model files,
// weekly: <name>_backup_YYYYMMDD.tar.gz) or one month of it (last month's
// trade logs: <name>_archive_YYYYMM.tar.gz). Written in Go under a
// temporary name, read back entry by entry against what was written, sealed
// with a SHA-256 sidecar. Symbolic links are stored as links, never
// followed out of the directory.

// ArchiveKinds.
const (
	ArchiveWhole   = "whole"
	ArchiveMonthly = "monthly"
)

// ArchiveName is the archive of the directory named base: whole at day,
// or of the month of day.
func ArchiveName(base, kind string, day time.Time) string {
	if kind == ArchiveMonthly {
		return base + "_archive_" + day.Format("200601") + ".tar.gz"
	}
	return base + "_backup_" + day.Format("20060102") + ".tar.gz"
}

var archiveRe = regexp.MustCompile(`^(.+)_(backup_(\d{8})|archive_(\d{6}))\.tar\.gz$`)

// ArchiveEntry is one archive in the destination.
type ArchiveEntry struct {
	Name     string    `json:"name"`
	Path     string    `json:"path"`
	Source   string    `json:"source"` // the directory's name
	Kind     string    `json:"kind"`
	Day      time.Time `json:"day"` // whole: the day; monthly: the month's first day
	Bytes    int64     `json:"bytes"`
	Verified bool      `json:"verified"` // sealed by its sidecar
	InUse    bool      `json:"in_use"`
}

// ListArchives lists dest's archives, newest first; a missing dest is
// empty.
func ListArchives(dest string) ([]ArchiveEntry, error) {
	des, err := os.ReadDir(dest)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []ArchiveEntry
	for _, de := range des {
		m := archiveRe.FindStringSubmatch(de.Name())
		if m == nil || !de.Type().IsRegular() {
			continue
		}
		e := ArchiveEntry{Name: de.Name(), Path: filepath.Join(dest, de.Name()), Source: m[1], Kind: ArchiveWhole}
		if m[3] != "" {
			e.Day, err = time.ParseInLocation("20060102", m[3], time.Local)
		} else {
			e.Kind = ArchiveMonthly
			e.Day, err = time.ParseInLocation("200601", m[4], time.Local)
		}
		if err != nil {
			continue
		}
		if fi, err := de.Info(); err == nil {
			e.Bytes = fi.Size()
		}
		if sc, err := readSidecar(e.Path + SidecarExt); err == nil && sc.bytes == e.Bytes {
			e.Verified = true
		}
		e.InUse = inUse(e.Path)
		out = append(out, e)
	}
	slices.SortStableFunc(out, func(a, b ArchiveEntry) int { return b.Day.Compare(a.Day) })
	return out, nil
}

// PlanArchiveRotation is which whole archives of source go: the verified
// ones beyond the newest keep (never the newest). Monthly archives are
// never rotated: they may be the only copy of their month.
func PlanArchiveRotation(list []ArchiveEntry, source string, keep int) []ArchiveEntry {
	keep = max(keep, 1)
	var out []ArchiveEntry
	n := 0
	for _, e := range list {
		if e.Source != source || e.Kind != ArchiveWhole || !e.Verified {
			continue
		}
		n++
		if n > keep && !e.InUse {
			out = append(out, e)
		}
	}
	return out
}

// RemoveArchive deletes an archive and its sidecar under an exclusive lock.
func RemoveArchive(e ArchiveEntry) error {
	return Remove(Doomed{Entry: Entry{Path: e.Path, State: StateVerified}})
}

// Member is one entry of an archive: what was written, checked again when
// it is read back.
type Member struct {
	Name   string // in the archive: <dir>/<path>
	Path   string // on disk
	Type   byte   // tar.TypeReg, TypeDir, TypeSymlink
	Size   int64
	Link   string
	SHA256 string // regular files, filled when written
	mtime  time.Time
}

// ErrNothingToArchive: the directory is missing or holds no file (of the
// month): it is reported, never archived as an empty file.
var ErrNothingToArchive = errors.New("nothing to archive")

// Scan lists what an archive of dir would hold: everything (from and to
// zero), or the files modified in [from, to). Symbolic links are listed as
// links; other special files are skipped.
func Scan(dir string, from, to time.Time) (members []Member, bytes int64, err error) {
	fi, err := os.Stat(dir)
	if err != nil {
		if os.IsNotExist(err) {
			return nil, 0, fmt.Errorf("%w: %s does not exist", ErrNothingToArchive, dir)
		}
		return nil, 0, err
	}
	if !fi.IsDir() {
		return nil, 0, fmt.Errorf("%s is not a directory", dir)
	}
	base := filepath.Base(filepath.Clean(dir))
	files := 0
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		name := filepath.ToSlash(filepath.Join(base, rel))
		info, err := d.Info()
		if err != nil {
			return err
		}
		inRange := from.IsZero() || (!info.ModTime().Before(from) && info.ModTime().Before(to))
		switch {
		case d.IsDir():
			if from.IsZero() {
				members = append(members, Member{Name: name + "/", Path: p, Type: tar.TypeDir, mtime: info.ModTime()})
			}
		case d.Type()&fs.ModeSymlink != 0:
			if inRange {
				link, err := os.Readlink(p)
				if err != nil {
					return err
				}
				members = append(members, Member{Name: name, Path: p, Type: tar.TypeSymlink, Link: link, mtime: info.ModTime()})
			}
		case d.Type().IsRegular():
			if inRange {
				files++
				bytes += info.Size()
				members = append(members, Member{Name: name, Path: p, Type: tar.TypeReg, Size: info.Size(), mtime: info.ModTime()})
			}
		}
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	if files == 0 {
		what := "no files"
		if !from.IsZero() {
			what = "no files modified in " + from.Format("2006-01")
		}
		return nil, 0, fmt.Errorf("%w: %s has %s", ErrNothingToArchive, dir, what)
	}
	return members, bytes, nil
}

// Archived is an archive written, read back and sealed.
type Archived struct {
	Path   string
	Files  int
	Bytes  int64 // the archive's size
	Source int64 // the files' bytes
	SHA256 string
}

// MakeArchive writes members (from Scan) into dest/name, reads it back
// entry by entry, and seals it. Cancelled, it removes what it wrote; a
// failed one is kept aside as name.failed.
func MakeArchive(ctx context.Context, members []Member, dest, name string, progress func(done, total int64)) (Archived, error) {
	if progress == nil {
		progress = func(int64, int64) {}
	}
	if err := os.MkdirAll(dest, 0o700); err != nil {
		return Archived{}, err
	}
	final := filepath.Join(dest, name)
	if _, err := os.Lstat(final); err == nil {
		return Archived{}, fmt.Errorf("%s already exists", final)
	}
	partial := filepath.Join(dest, partialName(name))
	held, err := createPartial(partial, Custom)
	if err != nil {
		return Archived{}, err
	}
	defer held.release()
	fail := func(err error) (Archived, error) {
		if ctx.Err() != nil {
			os.Remove(partial)
			return Archived{}, fmt.Errorf("cancelled, the partial archive removed: %w", ctx.Err())
		}
		if rerr := os.Rename(partial, final+FailedExt); rerr != nil {
			os.Remove(partial)
			return Archived{}, err
		}
		return Archived{}, fmt.Errorf("%w (kept aside as %s)", err, final+FailedExt)
	}
	var total int64
	for _, m := range members {
		total += m.Size
	}
	sum, written, err := writeArchive(ctx, partial, members, total, progress)
	if err != nil {
		return fail(err)
	}
	read, err := VerifyArchive(ctx, partial, members)
	if err != nil {
		return fail(fmt.Errorf("reading the archive back: %w", err))
	}
	if read != sum {
		return fail(fmt.Errorf("the archive reads back as SHA-256 %s, but %s was written", read, sum))
	}
	if err := os.Rename(partial, final); err != nil {
		return fail(err)
	}
	files := 0
	for _, m := range members {
		if m.Type == tar.TypeReg {
			files++
		}
	}
	sc := sidecar{title: fmt.Sprintf("archive of %d files, verified by reading every entry back", files), written: time.Now(), bytes: written, whole: sum}
	if err := writeSidecar(final+SidecarExt, sc); err != nil {
		return Archived{}, fmt.Errorf("writing %s: %w", final+SidecarExt, err)
	}
	return Archived{Path: final, Files: files, Bytes: written, Source: total, SHA256: sum}, nil
}

func writeArchive(ctx context.Context, path string, members []Member, total int64, progress func(done, total int64)) (string, int64, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	sum := sha256.New()
	var written atomic.Int64
	// Gzip members on goroutines, as a plain backup's: model weights do not
	// compress, and one goroutine of the standard library's gzip goes
	// through them at a tenth of the speed (BenchmarkArchive).
	zw := newMemberWriter(io.MultiWriter(countingWriter{f, &written}, sum), DefaultJobs)
	defer zw.Close() // its goroutines end on every path; a no-op after the Close below
	tw := tar.NewWriter(zw)
	var done int64
	last := time.Now()
	for i := range members {
		m := &members[i]
		if err := ctx.Err(); err != nil {
			return "", 0, err
		}
		hdr := &tar.Header{Name: m.Name, Typeflag: m.Type, Size: m.Size, Linkname: m.Link, ModTime: m.mtime, Mode: 0o644, Format: tar.FormatPAX}
		if fi, err := os.Lstat(m.Path); err == nil {
			hdr.Mode = int64(fi.Mode().Perm())
		}
		if m.Type == tar.TypeDir {
			hdr.Mode |= 0o700
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return "", 0, err
		}
		if m.Type != tar.TypeReg {
			continue
		}
		in, err := os.Open(m.Path)
		if err != nil {
			return "", 0, err
		}
		h := sha256.New()
		n, err := io.Copy(io.MultiWriter(tw, h), io.LimitReader(&ctxReader{ctx: ctx, r: in, n: new(atomic.Int64)}, m.Size))
		in.Close()
		if err != nil {
			return "", 0, err
		}
		if n != m.Size {
			return "", 0, fmt.Errorf("%s changed while it was archived (%d bytes read, %d expected)", m.Path, n, m.Size)
		}
		m.SHA256 = hex.EncodeToString(h.Sum(nil))
		done += n
		if time.Since(last) > 300*time.Millisecond {
			progress(done, total)
			last = time.Now()
		}
	}
	if err := tw.Close(); err != nil {
		return "", 0, err
	}
	if err := zw.Close(); err != nil {
		return "", 0, err
	}
	if err := f.Sync(); err != nil {
		return "", 0, err
	}
	progress(total, total)
	return hex.EncodeToString(sum.Sum(nil)), written.Load(), f.Close()
}

// VerifyArchive reads an archive whole: every entry must be the member
// written (name, type, size, link, and the SHA-256 of its content), none
// missing, none more, and gzip's CRC and length must hold. It returns the
// archive file's SHA-256.
func VerifyArchive(ctx context.Context, path string, members []Member) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	sum := sha256.New()
	in := io.TeeReader(&ctxReader{ctx: ctx, r: f, n: new(atomic.Int64)}, sum)
	zr, err := gzip.NewReader(in)
	if err != nil {
		return "", err
	}
	tr := tar.NewReader(zr)
	for i := 0; ; i++ {
		hdr, err := tr.Next()
		if err == io.EOF {
			if i != len(members) {
				return "", fmt.Errorf("%d entries, %d were written", i, len(members))
			}
			break
		}
		if err != nil {
			return "", err
		}
		if i >= len(members) {
			return "", fmt.Errorf("entry %s was never written", hdr.Name)
		}
		m := members[i]
		if hdr.Name != m.Name || hdr.Typeflag != m.Type || hdr.Size != m.Size || hdr.Linkname != m.Link {
			return "", fmt.Errorf("entry %d is %s (%d bytes), %s (%d bytes) was written", i+1, hdr.Name, hdr.Size, m.Name, m.Size)
		}
		if m.Type == tar.TypeReg {
			h := sha256.New()
			if _, err := io.Copy(h, tr); err != nil {
				return "", fmt.Errorf("%s: %w", m.Name, err)
			}
			if got := hex.EncodeToString(h.Sum(nil)); m.SHA256 != "" && got != m.SHA256 {
				return "", fmt.Errorf("%s reads back as SHA-256 %s, %s was written", m.Name, got, m.SHA256)
			}
		}
	}
	// The tar's end is not the gzip stream's: read it out, so its CRC and
	// length are checked.
	if _, err := io.Copy(io.Discard, zr); err != nil {
		return "", err
	}
	if _, err := io.Copy(io.Discard, in); err != nil { // anything after the stream counts in the checksum
		return "", err
	}
	return hex.EncodeToString(sum.Sum(nil)), nil
}
