package tui

import (
	"context"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/pgtend/pgtend/ops/report"
)

// runBatch runs a command and, when it is a batch, its parts (not ticks,
// which would wait), returning the messages.
func runBatch(cmd tea.Cmd) []tea.Msg {
	if cmd == nil {
		return nil
	}
	msg := cmd()
	batch, ok := msg.(tea.BatchMsg)
	if !ok {
		return []tea.Msg{msg}
	}
	var out []tea.Msg
	for _, c := range batch {
		if c != nil {
			out = append(out, c())
		}
	}
	return out
}

func TestFirstFrameFromEstimateThenMeasured(t *testing.T) {
	db := &fakeDB{}
	estimates := 0
	m, _ := newTestModel(db, func(o *Options) {
		o.Estimate = func(ctx context.Context) (*report.Report, error) {
			estimates++
			r, err := db.load(ctx)
			r.Estimated = true
			for i := range r.Tables { // estimates run low
				if r.Tables[i].TotalBytes != nil {
					v := *r.Tables[i].TotalBytes / 2
					r.Tables[i].TotalBytes = &v
				}
			}
			return r, err
		}
	})
	m.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
	_, cmd := m.Update(m.load()())
	if estimates != 1 || !strings.Contains(plain(t, m), "sizes estimated") {
		t.Fatalf("first frame not from the estimate (%d estimates):\n%s", estimates, plain(t, m))
	}
	if cmd == nil {
		t.Fatal("no measured load follows the estimate")
	}
	// The measured load comes at once (not after the refresh interval).
	msgs := runBatch(cmd)
	var refreshed bool
	for _, msg := range msgs {
		if r, ok := msg.(refreshMsg); ok {
			refreshed = true
			_, load := m.Update(r)
			m.Update(load())
		}
	}
	if !refreshed || estimates != 1 || strings.Contains(plain(t, m), "estimated") || !strings.Contains(plain(t, m), "connected") {
		t.Fatalf("measured report did not replace the estimate:\n%s", plain(t, m))
	}
	if m.tables.highlighting(m.opts.Now()) {
		t.Error("estimate → measured highlighted every size as changed")
	}
	for _, tb := range m.report.Tables {
		if n := len(m.tables.growth.first); n > len(m.report.Tables) || m.tables.growth.first[tb.Key()].bytes != m.tables.growth.last[tb.Key()].bytes {
			t.Errorf("estimated sizes fed the growth measurement")
			break
		}
	}
}
