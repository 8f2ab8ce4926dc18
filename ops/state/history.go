package state

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// Outcomes of a history entry.
const (
	OutcomeOK     = "ok"
	OutcomeTicked = "ticked" // a manual task ticked off by a person
)

// Entry is one line of the maintenance history.
type Entry struct {
	Start       time.Time `json:"start"`
	End         time.Time `json:"end"`
	Database    string    `json:"database"`
	Role        string    `json:"role,omitempty"`
	Task        string    `json:"task"`             // calendar task id, e.g. "review_logs"
	Action      string    `json:"action,omitempty"` // e.g. "vacuum", "retention"
	Target      string    `json:"target,omitempty"`
	Statements  []string  `json:"statements,omitempty"`
	Rows        int64     `json:"rows,omitempty"`
	BytesBefore int64     `json:"bytes_before,omitempty"`
	BytesAfter  int64     `json:"bytes_after,omitempty"`
	Outcome     string    `json:"outcome"`
	Note        string    `json:"note,omitempty"`
	Error       string    `json:"error,omitempty"`
}

// History is the maintenance history of one database.
type History struct{ path string }

// OpenHistory opens (without creating) the history of the database key.
func OpenHistory(dir, key string) *History {
	return &History{path: filepath.Join(dir, key, "history.jsonl")}
}

// Path is the history file.
func (h *History) Path() string { return h.path }

// Append records an entry.
func (h *History) Append(e Entry) error {
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	f, err := openAppend(h.path)
	if err != nil {
		return fmt.Errorf("recording history: %w", err)
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return fmt.Errorf("recording history in %s: %w", h.path, err)
	}
	return f.Close()
}

// Entries reads the whole history; a missing file is an empty history. A
// damaged line (a crash mid-write) is skipped, not fatal.
func (h *History) Entries() ([]Entry, error) {
	f, err := os.Open(h.path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []Entry
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 4*1024*1024)
	for sc.Scan() {
		var e Entry
		if json.Unmarshal(sc.Bytes(), &e) == nil && e.Task != "" {
			out = append(out, e)
		}
	}
	return out, sc.Err()
}

// LastDone returns, per task, when it last finished successfully or was
// ticked off.
func (h *History) LastDone() (map[string]time.Time, error) {
	entries, err := h.Entries()
	if err != nil {
		return nil, err
	}
	last := map[string]time.Time{}
	for _, e := range entries {
		if e.Outcome != OutcomeOK && e.Outcome != OutcomeTicked {
			continue
		}
		if e.End.After(last[e.Task]) {
			last[e.Task] = e.End
		}
	}
	return last, nil
}
