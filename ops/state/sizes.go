package state

import (
	"bufio"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"time"
)

// SampleEvery is the least time between two stored samples of a table: a
// console refreshing every 5 s must not write a line every 5 s.
const SampleEvery = 10 * time.Minute

// SampleWindow is how far back samples are kept and read.
const SampleWindow = 8 * 24 * time.Hour

// Sample is one table's total size at one time.
type Sample struct {
	At    time.Time `json:"at"`
	Table string    `json:"table"` // schema.name
	Bytes int64     `json:"bytes"`
}

// Sizes stores size samples of one database.
type Sizes struct {
	path string
	last map[string]time.Time // when each table was last written
}

// OpenSizes opens (without creating) the size samples of the database key.
func OpenSizes(dir, key string) *Sizes {
	return &Sizes{path: filepath.Join(dir, key, "sizes.jsonl"), last: map[string]time.Time{}}
}

// Load returns the samples of the last SampleWindow before now, oldest
// first, and compacts the file when most of it is older.
func (s *Sizes) Load(now time.Time) ([]Sample, error) {
	f, err := os.Open(s.path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var keep []Sample
	total := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		total++
		var smp Sample
		if json.Unmarshal(sc.Bytes(), &smp) != nil || smp.Table == "" || now.Sub(smp.At) > SampleWindow {
			continue
		}
		keep = append(keep, smp)
		if smp.At.After(s.last[smp.Table]) {
			s.last[smp.Table] = smp.At
		}
	}
	f.Close()
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if total > 1000 && len(keep) < total/2 {
		if err := s.rewrite(keep); err != nil {
			return keep, err
		}
	}
	return keep, nil
}

// rewrite replaces the file atomically with the kept samples.
func (s *Sizes) rewrite(keep []Sample) error {
	tmp := s.path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	enc := json.NewEncoder(w)
	for _, smp := range keep {
		if err := enc.Encode(smp); err != nil {
			f.Close()
			return err
		}
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, s.path)
}

// Record appends the samples of tables not written within SampleEvery.
func (s *Sizes) Record(samples []Sample) error {
	var due []Sample
	for _, smp := range samples {
		if smp.At.Sub(s.last[smp.Table]) >= SampleEvery {
			due = append(due, smp)
		}
	}
	if len(due) == 0 {
		return nil
	}
	f, err := openAppend(s.path)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(f)
	for _, smp := range due {
		if err := enc.Encode(smp); err != nil {
			f.Close()
			return err
		}
		s.last[smp.Table] = smp.At
	}
	return f.Close()
}
