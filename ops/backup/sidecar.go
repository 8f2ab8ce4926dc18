package backup

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// A sidecar is `sha256sum -c` input (from the backup's directory) whose
// comment lines, which sha256sum skips, say what pgtend knows of the
// backup:
//
//	# pgtend backup of database "trading", custom format, verified by a full read (pg_restore --file=/dev/null)
//	# pgtend: written=2026-07-05T03:00:12Z bytes=123456 database_bytes=987654 server=15.20 pg_dump=15.20 timescaledb=2.28.3
//	<sha256>  trading_20260705_030000.dump
//
// A directory-format backup has one line per file (name.dir/toc.dat.gz, …).
type sidecar struct {
	title         string
	written       time.Time
	bytes         int64
	databaseBytes int64
	meta          map[string]string
	whole         string            // the file's checksum (custom, plain, archives)
	files         map[string]string // relative path → checksum
}

const sidecarMagic = "# pgtend "

// writeSidecar writes path atomically (a temporary name, then rename) and
// syncs it.
func writeSidecar(path string, sc sidecar) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s%s\n", sidecarMagic, oneLine(sc.title))
	keys := []string{"written=" + sc.written.UTC().Format(time.RFC3339), "bytes=" + strconv.FormatInt(sc.bytes, 10)}
	if sc.databaseBytes > 0 {
		keys = append(keys, "database_bytes="+strconv.FormatInt(sc.databaseBytes, 10))
	}
	var extra []string
	for k, v := range sc.meta {
		if v != "" {
			extra = append(extra, k+"="+strings.ReplaceAll(oneLine(v), " ", "_"))
		}
	}
	slices.Sort(extra)
	fmt.Fprintf(&b, "# pgtend: %s\n", strings.Join(append(keys, extra...), " "))
	base := filepath.Base(strings.TrimSuffix(path, SidecarExt))
	if sc.whole != "" {
		fmt.Fprintf(&b, "%s  %s\n", sc.whole, base)
	}
	rels := make([]string, 0, len(sc.files))
	for rel := range sc.files {
		rels = append(rels, rel)
	}
	slices.Sort(rels)
	for _, rel := range rels {
		fmt.Fprintf(&b, "%s  %s\n", sc.files[rel], filepath.ToSlash(filepath.Join(base, rel)))
	}
	tmp := path + partialExt
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(b.String()); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return syncDir(filepath.Dir(path))
}

// readSidecar reads a sidecar pgtend wrote; anything else is an error.
func readSidecar(path string) (sidecar, error) {
	f, err := os.Open(path)
	if err != nil {
		return sidecar{}, err
	}
	defer f.Close()
	sc := sidecar{meta: map[string]string{}, files: map[string]string{}}
	s := bufio.NewScanner(f)
	s.Buffer(make([]byte, 64<<10), 1<<20)
	first := true
	for s.Scan() {
		line := s.Text()
		switch {
		case first:
			if !strings.HasPrefix(line, sidecarMagic) {
				return sidecar{}, fmt.Errorf("%s was not written by pgtend", path)
			}
			sc.title, first = strings.TrimPrefix(line, sidecarMagic), false
		case strings.HasPrefix(line, "# pgtend: "):
			for _, kv := range strings.Fields(strings.TrimPrefix(line, "# pgtend: ")) {
				k, v, _ := strings.Cut(kv, "=")
				switch k {
				case "written":
					sc.written, _ = time.Parse(time.RFC3339, v)
				case "bytes":
					sc.bytes, _ = strconv.ParseInt(v, 10, 64)
				case "database_bytes":
					sc.databaseBytes, _ = strconv.ParseInt(v, 10, 64)
				default:
					sc.meta[k] = v
				}
			}
		case strings.HasPrefix(line, "#"), strings.TrimSpace(line) == "":
		default:
			sum, name, ok := strings.Cut(line, "  ")
			if !ok || len(sum) != 64 {
				return sidecar{}, fmt.Errorf("%s: unexpected line %q", path, line)
			}
			if _, rel, nested := strings.Cut(name, "/"); nested {
				sc.files[rel] = sum
			} else {
				sc.whole = sum
			}
		}
	}
	if err := s.Err(); err != nil {
		return sidecar{}, err
	}
	if first || sc.written.IsZero() {
		return sidecar{}, fmt.Errorf("%s was not written by pgtend", path)
	}
	return sc, nil
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !isUnsupported(err) {
		return err
	}
	return nil
}

// MatchesSidecar checks a full read's checksums against the backup's
// sidecar; a backup without one was never verified by pgtend.
func MatchesSidecar(path string, c Checked) error {
	sc, err := readSidecar(path + SidecarExt)
	if err != nil {
		return fmt.Errorf("%s has no pgtend sidecar (%v): it reads back whole, but nothing says it is what was written", path, err)
	}
	if sc.whole != "" && sc.whole != c.SHA256 {
		return fmt.Errorf("%s reads back as SHA-256 %s, its sidecar says %s: it changed since it was verified", path, c.SHA256, sc.whole)
	}
	for rel, sum := range sc.files {
		if c.Files[rel] != sum {
			return fmt.Errorf("%s/%s changed since it was verified (SHA-256 %s, its sidecar says %s)", path, rel, c.Files[rel], sum)
		}
	}
	if len(sc.files) != len(c.Files) && sc.whole == "" {
		return fmt.Errorf("%s holds %d files, its sidecar lists %d", path, len(c.Files), len(sc.files))
	}
	return nil
}

// SidecarMeta is what a backup's sidecar records (server, pg_dump,
// timescaledb, format); empty when it has none.
func SidecarMeta(path string) map[string]string {
	sc, err := readSidecar(path + SidecarExt)
	if err != nil {
		return map[string]string{}
	}
	return sc.meta
}
