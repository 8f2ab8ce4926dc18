package text

import (
	"fmt"
	"io"
	"strings"

	"github.com/charmbracelet/x/ansi"
	"github.com/pgtend/pgtend/ops/report"
)

// WriteReport prints the report as aligned plain-text tables (no colour, no
// escape sequences), for `pgtend report` and for terminals-less runs.
func WriteReport(w io.Writer, r *report.Report) error {
	var b strings.Builder
	ts := "not installed"
	if r.Server.Timescale != nil {
		ts = Clean(*r.Server.Timescale)
	}
	fmt.Fprintf(&b, "Database %s — PostgreSQL %s — TimescaleDB %s — %s — generated %s\n\n",
		Clean(r.Server.Database), Clean(r.Server.Version), ts, BytesOf(r.Server.DatabaseBytes), r.GeneratedAt.Format("2006-01-02 15:04:05 MST"))

	tables := [][]string{{"TABLE", "KIND", "TOTAL", "TABLE", "INDEX", "TOAST", "ROWS", "DEAD", "CHUNKS", "RETENTION", "OLDEST", "PAST RETENTION", "LAST VACUUM"}}
	detached := map[string]bool{}
	for _, d := range r.DetachedTables {
		detached[d.Key()] = true
	}
	for _, t := range r.Tables {
		kind := "missing"
		if t.Kind != nil {
			kind = *t.Kind
		}
		if t.Locked {
			kind += " (locked)"
		}
		if detached[t.Key()] {
			kind += " (detached)"
		}
		expired := "—"
		if t.ExpiredBytes != nil && (t.RetentionDays != nil || t.IntegerRetention != nil) {
			expired = BytesOf(*t.ExpiredBytes)
		}
		tables = append(tables, []string{
			Clean(t.Schema + "." + t.Name), kind, Bytes(t.TotalBytes), Bytes(t.TableBytes), Bytes(t.IndexBytes), Bytes(t.ToastBytes),
			Count(t.RowEstimate), Count(t.DeadTuples), chunkCount(t), TableRetention(t), TableOldest(t), expired, Ago(t.LastVacuumed(), r.GeneratedAt),
		})
	}
	writeTable(&b, tables, map[int]bool{2: true, 3: true, 4: true, 5: true, 6: true, 7: true, 8: true, 11: true})
	for _, t := range r.Tables {
		if t.PartlyExpiredBytes != nil && *t.PartlyExpiredBytes > 0 && t.RetentionDays != nil && t.Kind != nil {
			where := map[string]string{
				report.KindHypertable:          "chunks straddling the cutoff",
				report.KindContinuousAggregate: "chunks straddling the cutoff",
				report.KindPartitioned:         "DEFAULT partitions and partitions straddling the cutoff",
				report.KindInherited:           "children not proven wholly past it, and the parent's own",
			}[*t.Kind]
			fmt.Fprintf(&b, "  %s: PAST RETENTION includes ~%s (estimated) of rows no whole removal takes, in %s\n",
				Clean(t.Key()), BytesOf(*t.PartlyExpiredBytes), where)
		}
		if it := t.IntegerTime; it != nil {
			fmt.Fprintf(&b, "  %s: integer time (%s %s): %s\n", Clean(t.Key()), Clean(StringOr(t.TimeColumn, "?")), Clean(it.ColumnType), IntegerTimeText(*it))
		}
		if t.TimeZone != nil {
			fmt.Fprintf(&b, "  %s: %s (no time zone of its own) is read in time zone %s, and its dates are shown there\n",
				Clean(t.Key()), Clean(StringOr(t.TimeColumn, "?")), Clean(*t.TimeZone))
		}
	}

	writeAggregates(&b, r)
	writeAccounting(&b, r)
	writeManagers(&b, r)

	b.WriteString("\nCompression\n")
	comp := [][]string{{"TABLE", "CHUNKS", "COMPRESSED", "BEFORE", "AFTER", "RATIO"}}
	for _, s := range report.TotalsByTable(r.Chunks) {
		if s.Compressed == 0 {
			continue
		}
		comp = append(comp, []string{Clean(s.Table), Count(int64(s.Chunks)), Count(int64(s.Compressed)), BytesOf(s.Before), BytesOf(s.After), Ratio(&s.Before, &s.After)})
	}
	if len(comp) == 1 {
		b.WriteString("  no compressed chunks\n")
	} else {
		writeTable(&b, comp, map[int]bool{1: true, 2: true, 3: true, 4: true, 5: true})
	}

	b.WriteString("\nDisk\n")
	d := r.Disk
	if total, free, ok := d.Space(); ok {
		used := total - free
		fmt.Fprintf(&b, "  %s: %s used of %s, %s free (%.0f%% used)\n", Clean(StringOr(d.Path, "?")), BytesOf(used), BytesOf(total), BytesOf(free), 100*float64(used)/float64(max(total, 1)))
	} else {
		fmt.Fprintf(&b, "  filesystem not visible: %s\n", Clean(d.Reason))
	}
	fmt.Fprintf(&b, "  database %s, WAL %s\n", BytesOf(d.DatabaseBytes), Bytes(d.WALBytes))
	if r.MeasuredBy == report.MeasuredBySizeFunctions {
		b.WriteString("  sizes read with the size functions, which open every relation (slow on thousands of chunks);\n" +
			"  GRANT EXECUTE ON FUNCTION pg_ls_dir(text, boolean, boolean), pg_stat_file(text, boolean) TO this role\n" +
			"  lets pgtend read the files instead\n")
	}

	b.WriteString("\nMaintenance calendar\n")
	cal := [][]string{{"TASK", "CADENCE", "LAST RUN", "NEXT DUE", "STATUS"}}
	for _, c := range r.Calendar {
		title := c.Title
		if c.Manual {
			title += " (manual)"
		}
		cal = append(cal, []string{title, c.Cadence, Ago(c.LastRun, r.GeneratedAt), c.NextDue.Format("Mon 2006-01-02"), c.Status})
	}
	writeTable(&b, cal, nil)
	writeJobs(&b, r)
	_, err := io.WriteString(w, b.String())
	return err
}

func chunkCount(t report.Table) string {
	if t.Kind == nil || *t.Kind == report.KindTable || *t.Kind == report.KindMaterializedView {
		return "—"
	}
	return Count(int64(t.Chunks))
}

// writeTable aligns rows by display width; columns in right are
// right-aligned (numbers).
func writeTable(b *strings.Builder, rows [][]string, right map[int]bool) {
	widths := map[int]int{}
	for _, row := range rows {
		for i, cell := range row {
			widths[i] = max(widths[i], ansi.StringWidth(cell))
		}
	}
	for _, row := range rows {
		b.WriteString(" ")
		for i, cell := range row {
			pad := strings.Repeat(" ", widths[i]-ansi.StringWidth(cell))
			b.WriteString(" ")
			if right[i] {
				b.WriteString(pad + cell)
			} else if i < len(row)-1 {
				b.WriteString(cell + pad)
			} else {
				b.WriteString(cell)
			}
			if i < len(row)-1 {
				b.WriteString(" ")
			}
		}
		b.WriteString("\n")
	}
}

// writeManagers prints who else drops tables' old data, the warnings, and
// the tables pg_partman detached and kept; nothing when there are none.
func writeManagers(b *strings.Builder, r *report.Report) {
	managed := [][]string{{"TABLE", "BY", "THEIR RETENTION", "PGTEND'S", "JOB", "SCHEDULE", "ACTIVE", "KEEPS DETACHED"}}
	for _, t := range r.Tables {
		for _, m := range t.RetentionManagedBy {
			job, keep := "—", "—"
			if m.JobID != nil {
				job = fmt.Sprint(*m.JobID)
			}
			if m.KeepTable != nil {
				keep = "no"
				if *m.KeepTable {
					keep = "yes, in " + Clean(StringOr(m.RetentionSchema, t.Schema))
				}
			}
			managed = append(managed, []string{
				Clean(t.Key()), ManagerName(m.By), Clean(m.Setting + " " + m.Retention), Retention(t.RetentionDays, t.Permanent),
				job, Clean(StringOr(m.Schedule, "—")), yesNo(m.Active), keep,
			})
		}
	}
	if len(managed) > 1 {
		b.WriteString("\nRetention managed elsewhere (the tighter retention wins)\n")
		writeTable(b, managed, map[int]bool{4: true})
	}
	if len(r.Warnings) > 0 {
		b.WriteString("\nWarnings\n")
		for _, w := range r.Warnings {
			if w.Schema != nil && w.Table != nil {
				fmt.Fprintf(b, "  %s: %s\n", Clean(*w.Schema+"."+*w.Table), Clean(w.Text))
			} else {
				fmt.Fprintf(b, "  %s\n", Clean(w.Text))
			}
		}
	}
	if len(r.DetachedTables) > 0 {
		b.WriteString("\nDetached by pg_partman and kept (retention_keep_table): still on disk\n")
		kept := [][]string{{"TABLE", "DETACHED FROM", "SIZE"}}
		var total int64
		for _, d := range r.DetachedTables {
			kept = append(kept, []string{Clean(d.Key()), Clean(d.ParentSchema + "." + d.Parent), Bytes(d.TotalBytes)})
			if d.TotalBytes != nil {
				total += *d.TotalBytes
			}
		}
		kept = append(kept, []string{fmt.Sprintf("%d tables", len(r.DetachedTables)), "", BytesOf(total)})
		writeTable(b, kept, map[int]bool{2: true})
	}
}

// ManagerName is how a retention manager is named to people.
func ManagerName(by string) string {
	switch by {
	case report.ManagerTimescale:
		return "TimescaleDB"
	case report.ManagerPartman:
		return "pg_partman"
	}
	return Clean(by)
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
