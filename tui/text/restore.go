package text

import (
	"fmt"
	"io"

	"github.com/pgtend/pgtend/ops/backup"
)

// WriteRestoreCounts writes each table's rows in the source and the
// restore, in columns as wide as their widest entry (a terminal's 80
// columns hold the usual names), then what they say; it returns how many
// tables the restore is missing (the check fails on those).
func WriteRestoreCounts(w io.Writer, counts []backup.TableCount, source string) (missing int) {
	type row struct{ table, src, restored, mark string }
	rows := make([]row, 0, len(counts))
	head := row{"table", Clean(source), "restored", ""}
	widths := [3]int{len(head.table), len([]rune(head.src)), len(head.restored)}
	differ, estimated := 0, false
	for _, k := range counts {
		r := row{table: Clean(k.Table), src: Count(k.Source), restored: Count(k.Restored), mark: "equal"}
		if k.Estimated {
			r.src, r.restored, estimated = "~"+r.src, "~"+r.restored, true
		}
		switch {
		case k.Missing:
			r.restored, r.mark, missing = "-", "MISSING from the restore", missing+1
		case !k.Equal():
			r.mark, differ = "differs", differ+1
		}
		for i, f := range []string{r.table, r.src, r.restored} {
			widths[i] = max(widths[i], len([]rune(f)))
		}
		rows = append(rows, r)
	}
	for _, r := range append([]row{head}, rows...) {
		fmt.Fprintf(w, "  %-*s  %*s  %*s  %s\n", widths[0], r.table, widths[1], r.src, widths[2], r.restored, r.mark)
	}
	if estimated {
		fmt.Fprintln(w, "  ~ the catalog's estimates (after ANALYZE) for tables over --count-limit")
	}
	switch {
	case missing > 0:
	case differ > 0:
		fmt.Fprintf(w, "%s differ: the database changed since the dump, or the dump is not of it\n", Plural(differ, "table"))
	default:
		fmt.Fprintf(w, "every table's rows match (%s)\n", Plural(len(counts), "table"))
	}
	return missing
}
