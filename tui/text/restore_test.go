package text

import (
	"strings"
	"testing"

	"github.com/pgtend/pgtend/ops/backup"
)

// The counts line up in columns within 80 of them; estimates are marked
// and explained, a table missing from the restore is said and fails.
func TestRestoreCountsInColumns(t *testing.T) {
	var b strings.Builder
	missing := WriteRestoreCounts(&b, []backup.TableCount{
		{Table: "public.option_chain_snapshots", Source: 771840, Restored: 771840, Estimated: true},
		{Table: "public.instruments", Source: 6, Restored: 6},
		{Table: "public.gone", Source: 3, Missing: true},
	}, "pgtend_demo")
	if missing != 1 {
		t.Errorf("%d tables missing, want 1", missing)
	}
	lines := strings.Split(strings.TrimRight(b.String(), "\n"), "\n")
	for _, l := range lines {
		if n := len([]rune(l)); n > 80 {
			t.Errorf("%d columns: %q", n, l)
		}
	}
	out := b.String()
	for _, want := range []string{"~771,840", "~ the catalog's estimates", "MISSING from the restore", "pgtend_demo  restored"} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in\n%s", want, out)
		}
	}
	// The counts' column ends in the same place on every line.
	at := strings.Index(lines[1], "~771,840") + len("~771,840")
	if strings.Index(lines[2], "6") != at-1 {
		t.Errorf("columns do not line up:\n%s", out)
	}
}
