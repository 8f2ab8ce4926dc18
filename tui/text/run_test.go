package text

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/pgtend/pgtend/ops/maint"
)

// The headless lines say what the console says: a cancelled step is
// "cancelled", never "FAILED … context canceled"; a failed one FAILED with
// its reason; progress carries the rate and the ETA.
func TestEventWriterSaysWhatHappened(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	var b strings.Builder
	emit := EventWriter(&b)
	for _, e := range []maint.Event{
		{Kind: maint.StepStarted, At: t0, Step: 0, Of: 3, Title: "DELETE FROM ticks", Unit: "rows"},
		{Kind: maint.Progress, At: t0.Add(2 * time.Second), Step: 0, Of: 3, Done: 2000, Total: 4000, Unit: "rows"},
		{Kind: maint.StepFinished, At: t0.Add(4 * time.Second), Step: 0, Of: 3, Rows: 4000, Bytes: 1 << 20, Duration: 4 * time.Second},
		{Kind: maint.StepStarted, At: t0.Add(4 * time.Second), Step: 1, Of: 3, Title: "drop_chunks"},
		{Kind: maint.StepFailed, At: t0.Add(5 * time.Second), Step: 1, Of: 3, Err: errors.New("could not lock x"), Duration: time.Second},
		{Kind: maint.StepStarted, At: t0.Add(5 * time.Second), Step: 2, Of: 3, Title: "DELETE FROM more"},
		{Kind: maint.StepCancelled, At: t0.Add(6 * time.Second), Step: 2, Of: 3, Rows: 300, Duration: time.Second},
	} {
		emit(e)
	}
	out := b.String()
	for _, want := range []string{
		"[1/3] progress 2,000/4,000 rows, 1,000 rows/s, ETA 2s",
		"[1/3] done in 4s, 4,000 rows, 1.0 MiB removed",
		"[2/3] FAILED after 1s: could not lock x",
		"[3/3] cancelled after 1s, 300 rows",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "context canceled") {
		t.Errorf("a cancel reads as an error:\n%s", out)
	}
}
