package text

import (
	"fmt"
	"strings"

	"github.com/pgtend/pgtend/ops/report"
)

// writeAggregates lists the continuous aggregates: what each aggregates,
// its refresh window and schedule, and how its last refresh went.
func writeAggregates(b *strings.Builder, r *report.Report) {
	rows := [][]string{{"AGGREGATE", "SOURCE", "REFRESH WINDOW", "SCHEDULE", "LAST RUN", "STATUS", "LAST OK", "NEXT"}}
	for _, t := range r.Tables {
		a := t.Aggregate
		if a == nil {
			continue
		}
		row := []string{Clean(t.Key()), Clean(a.Source), "no refresh policy", "—", "—", "—", "—", "—"}
		if p := a.Refresh; p != nil {
			row[2], row[3] = RefreshWindow(*p), "every "+Clean(p.Schedule)
			if !p.Active {
				row[3] += " (paused)"
			}
			row[4], row[6] = Ago(p.LastRun, r.GeneratedAt), Ago(p.LastSuccess, r.GeneratedAt)
			if p.LastStatus != "" {
				row[5] = Clean(p.LastStatus)
			}
			if p.NextStart != nil {
				row[7] = p.NextStart.UTC().Format("2006-01-02 15:04")
			}
		}
		rows = append(rows, row)
	}
	if len(rows) == 1 {
		return
	}
	b.WriteString("\nContinuous aggregates\n")
	writeTable(b, rows, nil)
}

// RefreshWindow says a refresh policy's window by its offsets: "30 days …
// 01:00:00 ago", "from the first row … 1 hour ago".
func RefreshWindow(p report.RefreshPolicy) string {
	start := "from the first row"
	if p.StartOffset != nil {
		start = Clean(*p.StartOffset)
	}
	end := "now"
	if p.EndOffset != nil {
		end = Clean(*p.EndOffset) + " ago"
	}
	return start + " … " + end
}

// writeAccounting reconciles the database's size: the listed tables plus
// each unlisted group.
func writeAccounting(b *strings.Builder, r *report.Report) {
	fmt.Fprintf(b, "\nEvery byte: %s\n", Accounting(r))
	rows := [][]string{}
	for _, g := range r.Unlisted {
		what := UnlistedLabel(g.Group)
		if g.Relations > 0 {
			what += fmt.Sprintf(" (%s relations)", Count(int64(g.Relations)))
		}
		if g.Unmeasured > 0 {
			what += fmt.Sprintf(" (%s locked relations not measured)", Count(int64(g.Unmeasured)))
		}
		rows = append(rows, []string{what, BytesOf(g.Bytes)})
	}
	if len(rows) > 0 {
		writeTable(b, rows, map[int]bool{1: true})
	}
}

// Accounting is the database's size reconciled in a line: "listed tables
// 34 MiB + unlisted 13 MiB = database 47 MiB".
func Accounting(r *report.Report) string {
	return fmt.Sprintf("listed tables %s + unlisted %s = database %s",
		BytesOf(r.ListedBytes()), BytesOf(r.UnlistedBytes), BytesOf(r.Server.DatabaseBytes))
}

// UnlistedShort names an unlisted group in a word or two, for the
// console's footer.
func UnlistedShort(group string) string {
	switch group {
	case report.UnlistedSystemCatalogs:
		return "catalogs"
	case report.UnlistedLargeObjects:
		return "large objects"
	case report.UnlistedSequences:
		return "sequences"
	case report.UnlistedTimescale:
		return "TimescaleDB"
	case report.UnlistedPgtend:
		return "pgtend"
	case report.UnlistedTemporary:
		return "temp"
	case report.UnlistedOther:
		return "other"
	case report.UnlistedFiles:
		return "files"
	}
	return Clean(group)
}

// UnlistedLabel names an unlisted group in words.
func UnlistedLabel(group string) string {
	switch group {
	case report.UnlistedSystemCatalogs:
		return "system catalogs: pg_catalog, information_schema"
	case report.UnlistedLargeObjects:
		return "large objects: pg_largeobject"
	case report.UnlistedSequences:
		return "sequences"
	case report.UnlistedTimescale:
		return "TimescaleDB catalog and internal tables"
	case report.UnlistedPgtend:
		return "pgtend's history"
	case report.UnlistedTemporary:
		return "temporary tables"
	case report.UnlistedOther:
		return "other relations: extensions' tables"
	case report.UnlistedFiles:
		return "files of no relation: PG_VERSION, relation map, cache init file"
	}
	return Clean(group)
}

// IntegerTimeText says what is old on an integer time column: its
// integer_now and the cutoff the policy makes, or why nothing can tell.
func IntegerTimeText(it report.IntegerTime) string {
	switch {
	case it.IntegerNow == nil:
		return "no integer_now function: nothing says which values are old, retention is refused (set_integer_now_func)"
	case it.Now == nil:
		return Clean(*it.IntegerNow) + "() could not be called"
	case it.Cutoff == nil:
		return fmt.Sprintf("%s() = %d; no integer_retention in the policy", Clean(*it.IntegerNow), *it.Now)
	}
	return fmt.Sprintf("%s() = %d, chunks ending by %d are past retention", Clean(*it.IntegerNow), *it.Now, *it.Cutoff)
}
