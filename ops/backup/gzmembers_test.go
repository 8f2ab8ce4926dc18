package backup

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// sqlLike is text of about n bytes that compresses like a dump's COPY data
// and ends with pg_dump's closing marker.
func sqlLike(n int) []byte {
	var b bytes.Buffer
	for i := 0; b.Len() < n; i++ {
		fmt.Fprintf(&b, "%d\tSPY%06d\t%d.%02d\t2026-11-%02d 10:%02d:00+00\n", i, i*7919%1000003, i%977, i%100, 1+i%28, i%60)
	}
	b.WriteString("\n--\n" + dumpComplete + "\n--\n\n")
	return b.Bytes()
}

func writeMembers(t *testing.T, raw []byte, jobs int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "x.sql.gz")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := newMemberWriter(f, jobs)
	for p := raw; len(p) > 0; { // pg_dump's writes are small and uneven
		k := min(len(p), 1+len(p)%65521)
		if _, err := w.Write(p[:k]); err != nil {
			t.Fatal(err)
		}
		p = p[k:]
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	return path
}

// Members are one gzip stream to every reader, list themselves by their
// headers and read back in parallel to the same bytes.
func TestGzipMembersReadAsOneStream(t *testing.T) {
	raw := sqlLike(2*memberRaw + memberRaw/3)
	path := writeMembers(t, raw, 3)
	f, _ := os.Open(path)
	defer f.Close()
	fi, _ := f.Stat()
	ms, err := members(f, fi.Size())
	if err != nil || len(ms) != 3 {
		t.Fatalf("members: %v %v", ms, err)
	}
	zr, err := gzip.NewReader(f) // multistream, as zcat reads it
	if err != nil {
		t.Fatal(err)
	}
	back, err := io.ReadAll(zr)
	if err != nil || !bytes.Equal(back, raw) {
		t.Fatalf("read back %d bytes of %d: %v", len(back), len(raw), err)
	}
	if gz, err := exec.LookPath("gzip"); err == nil {
		if out, err := exec.Command(gz, "-t", path).CombinedOutput(); err != nil {
			t.Errorf("gzip -t: %v\n%s", err, out)
		}
	}
	c, err := Verify(context.Background(), Tools{}, path, Plain, nil)
	if err != nil || c.Bytes != fi.Size() {
		t.Fatalf("verify: %+v %v", c, err)
	}
	if want, _, _ := fileSum(context.Background(), path); c.SHA256 != want {
		t.Errorf("checksum %s, the file's %s", c.SHA256, want)
	}
}

// A damaged byte, a cut anywhere (within a member or between two) and a
// file without its marker never verify; a .sql.gz another gzip wrote is
// read in one pass.
func TestGzipMembersDamagedOrCut(t *testing.T) {
	raw := sqlLike(2*memberRaw + 1000)
	good := writeMembers(t, raw, 2)
	data, _ := os.ReadFile(good)
	f, _ := os.Open(good)
	ms, err := members(f, int64(len(data)))
	f.Close()
	if err != nil || len(ms) != 3 {
		t.Fatalf("members: %v %v", ms, err)
	}
	flipped := bytes.Clone(data)
	flipped[ms[1].off+ms[1].len/2] ^= 0x40
	cases := map[string][]byte{
		"a byte flipped in the second member": flipped,
		"cut at 60%":                          data[:len(data)*6/10],
		"cut between two members":             data[:ms[2].off],
		"cut in a member's header":            data[:ms[1].off+5],
	}
	for name, b := range cases {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "x.sql.gz")
			os.WriteFile(path, b, 0o600)
			if _, err := Verify(context.Background(), Tools{}, path, Plain, nil); err == nil {
				t.Fatal("verified")
			} else {
				t.Logf("%v", err)
			}
		})
	}
	t.Run("another gzip's file", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "x.sql.gz")
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		zw.Write(raw)
		zw.Close()
		os.WriteFile(path, b.Bytes(), 0o600)
		if _, err := Verify(context.Background(), Tools{}, path, Plain, nil); err != nil {
			t.Fatal(err)
		}
		os.WriteFile(path, b.Bytes()[:b.Len()-100], 0o600)
		if _, err := Verify(context.Background(), Tools{}, path, Plain, nil); err == nil || !strings.Contains(err.Error(), "cut short") {
			t.Fatalf("cut: %v", err)
		}
	})
	t.Run("no marker", func(t *testing.T) {
		path := writeMembers(t, raw[:len(raw)-20], 2)
		if _, err := Verify(context.Background(), Tools{}, path, Plain, nil); err == nil || !strings.Contains(err.Error(), "dump complete") {
			t.Fatalf("%v", err)
		}
	})
}

func TestGzipMembersEmptyInputIsGzip(t *testing.T) {
	path := writeMembers(t, nil, 2)
	f, _ := os.Open(path)
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	if b, err := io.ReadAll(zr); err != nil || len(b) != 0 {
		t.Fatalf("%q %v", b, err)
	}
}
