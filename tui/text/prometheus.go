package text

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strings"

	"github.com/pgtend/pgtend/ops/report"
	"github.com/pgtend/pgtend/ops/triage"
)

// WritePrometheus writes the metrics of `pgtend report --prometheus` in
// Prometheus' text exposition format, for node_exporter's textfile
// collector: table and expired bytes per table, the filesystem's size and
// free bytes, the days until it is full, the bytes each kind of triage
// option would reclaim, and the last successful run of each task. A
// figure pgtend does not know is left out, never written as zero.
func WritePrometheus(w io.Writer, r *report.Report, t *triage.Triage) error {
	var b strings.Builder
	db := r.Server.Database
	family := func(name, help string) {
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name)
	}
	sample := func(name string, v float64, labels ...string) {
		b.WriteString(name)
		if len(labels) > 0 {
			b.WriteByte('{')
			for i := 0; i < len(labels); i += 2 {
				if i > 0 {
					b.WriteByte(',')
				}
				fmt.Fprintf(&b, "%s=\"%s\"", labels[i], labelValue(labels[i+1]))
			}
			b.WriteByte('}')
		}
		fmt.Fprintf(&b, " %s\n", promFloat(v))
	}
	family("pgtend_report_timestamp_seconds", "When pgtend read these figures (Unix time).")
	sample("pgtend_report_timestamp_seconds", float64(r.GeneratedAt.Unix()), "database", db)

	family("pgtend_table_bytes", "A table's total size: heap, indexes and TOAST, with its chunks or partitions.")
	for _, tb := range r.Tables {
		if tb.TotalBytes != nil {
			sample("pgtend_table_bytes", float64(*tb.TotalBytes), "database", db, "schema", tb.Schema, "table", tb.Name)
		}
	}
	family("pgtend_table_expired_bytes", "A table's bytes past its retention (whole chunks or partitions measured, rows estimated).")
	for _, tb := range r.Tables {
		if tb.ExpiredBytes != nil {
			sample("pgtend_table_expired_bytes", float64(*tb.ExpiredBytes), "database", db, "schema", tb.Schema, "table", tb.Name)
		}
	}
	if total, free, ok := r.Disk.Space(); ok {
		path := StringOr(r.Disk.Path, "")
		family("pgtend_filesystem_size_bytes", "Size of the filesystem holding the data directory (statfs).")
		sample("pgtend_filesystem_size_bytes", float64(total), "database", db, "path", path)
		family("pgtend_filesystem_free_bytes", "Free bytes of the filesystem holding the data directory, as unprivileged users see them (statfs).")
		sample("pgtend_filesystem_free_bytes", float64(free), "database", db, "path", path)
	}
	if t != nil {
		if t.DaysUntilFull != nil {
			family("pgtend_days_until_full", "Days until the data directory's filesystem is full at the measured growth.")
			sample("pgtend_days_until_full", *t.DaysUntilFull, "database", db)
		}
		family("pgtend_reclaimable_bytes", "Bytes the triage options of each kind would free (reuse-only and blocked ones included; see pgtend triage).")
		by := t.Reclaimable()
		kinds := make([]string, 0, len(by))
		for k := range by {
			kinds = append(kinds, k)
		}
		slices.Sort(kinds)
		for _, k := range kinds {
			sample("pgtend_reclaimable_bytes", float64(by[k]), "database", db, "kind", k)
		}
	}
	family("pgtend_last_success_timestamp_seconds", "When each maintenance task last succeeded (Unix time), from pgtend's history and the database's job engines.")
	for _, c := range r.Calendar {
		if c.LastRun != nil {
			sample("pgtend_last_success_timestamp_seconds", float64(c.LastRun.Unix()), "database", db, "task", c.Task)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// labelValue escapes a label value as the exposition format wants:
// backslash, double quote and newline; other control characters dropped.
func labelValue(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(strings.Map(func(r rune) rune {
		if r != '\n' && isControl(r) {
			return -1
		}
		return r
	}, s))
}

func promFloat(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	case math.IsNaN(v):
		return "NaN"
	case v == math.Trunc(v) && math.Abs(v) < 1e15:
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%g", v)
}
