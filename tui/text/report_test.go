package text

import (
	"strings"
	"testing"

	"github.com/pgtend/pgtend/ops/report"
)

// Sizes read with the size functions are slow on thousands of chunks: the
// text report says how to let pgtend read the files instead.
func TestTextReportNamesTheGrantWhenSizesCameFromFunctions(t *testing.T) {
	for by, want := range map[string]bool{report.MeasuredBySizeFunctions: true, report.MeasuredByFiles: false} {
		var b strings.Builder
		r := &report.Report{MeasuredBy: by, Disk: report.Disk{Reason: "not on this host"}}
		if err := WriteReport(&b, r); err != nil {
			t.Fatal(err)
		}
		if got := strings.Contains(b.String(), "GRANT EXECUTE ON FUNCTION pg_ls_dir(text, boolean, boolean), pg_stat_file(text, boolean)"); got != want {
			t.Errorf("measured by %s: GRANT hint shown = %v, want %v\n%s", by, got, want, b.String())
		}
	}
}
