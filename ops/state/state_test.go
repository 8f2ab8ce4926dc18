package state

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)

func TestHistoryLastDone(t *testing.T) {
	h := OpenHistory(t.TempDir(), DatabaseKey("/tmp", 5432, "oi"))
	if last, err := h.LastDone(); err != nil || len(last) != 0 {
		t.Fatalf("empty history: %v %v", last, err)
	}
	for _, e := range []Entry{
		{Task: "review_logs", End: t0.Add(-48 * time.Hour), Outcome: OutcomeTicked, Note: "nothing odd"},
		{Task: "review_logs", End: t0.Add(-24 * time.Hour), Outcome: OutcomeTicked},
		{Task: "vacuum_analyze", End: t0, Outcome: "failed"},
	} {
		if err := h.Append(e); err != nil {
			t.Fatal(err)
		}
	}
	// A damaged last line (a crash mid-write) is skipped.
	f, _ := os.OpenFile(h.Path(), os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"task":"review_lo`)
	f.Close()
	last, err := h.LastDone()
	if err != nil {
		t.Fatal(err)
	}
	if !last["review_logs"].Equal(t0.Add(-24*time.Hour)) || !last["vacuum_analyze"].IsZero() {
		t.Errorf("last done: %v", last)
	}
	entries, _ := h.Entries()
	if len(entries) != 3 || entries[0].Note != "nothing odd" {
		t.Errorf("entries: %+v", entries)
	}
}

func TestSizesThrottleWindowAndCompaction(t *testing.T) {
	dir := t.TempDir()
	s := OpenSizes(dir, "db")
	for i := 0; i < 12; i++ { // every 5 minutes for an hour: one line per 10 minutes
		if err := s.Record([]Sample{{At: t0.Add(time.Duration(i) * 5 * time.Minute), Table: "public.t", Bytes: int64(i)}}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := OpenSizes(dir, "db").Load(t0.Add(time.Hour))
	if err != nil || len(got) != 6 {
		t.Fatalf("loaded %d samples (%v), want 6", len(got), err)
	}
	// Ten days later the old samples are out of the window, and a large
	// file of mostly old samples is compacted.
	s2 := OpenSizes(dir, "db")
	var many []Sample
	for i := 0; i < 1200; i++ {
		many = append(many, Sample{At: t0.Add(-9*24*time.Hour + time.Duration(i)*time.Second), Table: "public.u", Bytes: 1})
	}
	s2.Record(many[:1])
	f, _ := os.OpenFile(filepath.Join(dir, "db", "sizes.jsonl"), os.O_APPEND|os.O_WRONLY, 0)
	for _, m := range many {
		f.WriteString(`{"at":"` + m.At.Format(time.RFC3339) + `","table":"public.u","bytes":1}` + "\n")
	}
	f.Close()
	got, err = OpenSizes(dir, "db").Load(t0.Add(time.Hour))
	if err != nil || len(got) != 6 {
		t.Fatalf("after old samples: %d samples (%v), want 6", len(got), err)
	}
	fi, _ := os.Stat(filepath.Join(dir, "db", "sizes.jsonl"))
	if fi.Size() > 2000 {
		t.Errorf("file not compacted: %d bytes", fi.Size())
	}
}

func TestDatabaseKeyIsAFileName(t *testing.T) {
	k := DatabaseKey("/var/run/postgresql", 5432, "we/ird db\x1b")
	if filepath.Base(k) != k || len(k) > 60 {
		t.Errorf("key %q is not a plain file name", k)
	}
	if DatabaseKey("a", 1, "x") == DatabaseKey("b", 1, "x") {
		t.Error("different hosts share a key")
	}
}
