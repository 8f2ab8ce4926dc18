package tui

import (
	"strings"
	"testing"

	"github.com/pgtend/pgtend/ops/report"
)

// A chunk only partly past retention (a DEFAULT partition, one straddling
// the cutoff) says "part", and the pane's foot adds the estimate of those
// rows, the table's own figure (an inheritance parent's rows included), to
// what is past retention.
func TestChunksPanePartlyPastRetention(t *testing.T) {
	var partChunk string
	db := &fakeDB{edit: func(r *report.Report) *report.Report {
		for i, c := range r.Chunks {
			if c.Table == "ml_features" && !c.Expired && partChunk == "" {
				rows, bytes := int64(240), int64(3*1024*1024)
				r.Chunks[i].PartlyExpiredRows, r.Chunks[i].PartlyExpiredBytes = &rows, &bytes
				partChunk = c.Chunk
			}
		}
		for i, tb := range r.Tables {
			if tb.Name == "ml_features" {
				b := int64(5 * 1024 * 1024)
				r.Tables[i].PartlyExpiredBytes = &b
			}
		}
		return r
	}}
	m, _ := newTestModel(db)
	start(t, m, 160, 300)
	press(m, "j", "j", "2")
	if m.chunks.table != "ml_features" || partChunk == "" {
		t.Fatalf("chunks of %q, partly past chunk %q", m.chunks.table, partChunk)
	}
	v := plain(t, m)
	var row string
	for _, line := range strings.Split(v, "\n") {
		if strings.Contains(line, partChunk+" ") {
			row = line
		}
	}
	if !strings.Contains(row, " part ") && !strings.HasSuffix(strings.TrimRight(row, " │|"), "part") {
		t.Errorf("the partly past chunk's row does not say part: %q", row)
	}
	if !strings.Contains(v, "+ ~5.0 MiB in rows of 1 chunk partly past (est.)") {
		t.Errorf("the foot does not add the partly past rows:\n%s", v)
	}
}
