package text

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/pgtend/pgtend/ops/maint"
)

// WritePlan shows a plan summary first: per table what goes, what stays,
// the locks, the foreign keys and what the plan found; then each table's
// steps with their statements, locks, estimates and the chunks or
// partitions they remove; then the tables left alone and the notes.
func WritePlan(w io.Writer, p *maint.Plan) {
	kind := "changes nothing destructive"
	switch {
	case p.Destructive():
		kind = "DELETES DATA"
	case p.Blocking():
		kind = "BLOCKS WRITERS (needs --yes)"
	}
	on := ""
	if len(p.Tables) > 1 {
		on = " on " + Plural(len(p.Tables), "table")
	}
	fmt.Fprintf(w, "Plan: %s of %s — %s%s, %s\n", p.Action, Clean(p.Target), Plural(len(p.Steps), "step"), on, kind)
	shown := make([]bool, len(p.Steps))
	for _, t := range p.Tables {
		loc := zoneOf(t)
		fmt.Fprintf(w, "\n%s (%s)\n", Clean(t.Table), Clean(t.Kind))
		for _, line := range SummaryLines(t, loc, "→") {
			fmt.Fprintf(w, "  %s\n", line)
		}
		for _, i := range t.Steps {
			writeStep(w, p, i)
			shown[i] = true
		}
	}
	for i := range p.Steps { // steps of no summary: a plan made by hand
		if !shown[i] {
			writeStep(w, p, i)
		}
	}
	if len(p.Refused) > 0 {
		fmt.Fprintln(w, "\nLeft alone")
		for _, r := range p.Refused {
			fmt.Fprintf(w, "  refused: %s\n", Clean(OneLine(r.Reason)))
		}
	}
	for _, n := range p.Notes {
		fmt.Fprintf(w, "  note: %s\n", Clean(n))
	}
}

func writeStep(w io.Writer, p *maint.Plan, i int) {
	s := p.Steps[i]
	est := ""
	if s.EstRows != nil {
		est += ", " + RowsText(*s.EstRows, s.RowsFromCatalog)
	}
	if s.EstBytes != nil {
		est += ", " + BytesOf(*s.EstBytes)
	}
	mark := ""
	if s.Destructive {
		mark = " [destructive]"
	}
	if s.Blocking {
		mark += " [blocks writes]"
	}
	fmt.Fprintf(w, "  %d. %s%s (lock: %s%s)\n", i+1, Clean(s.Title), mark, Clean(s.Lock), est)
	if s.Denied != "" {
		fmt.Fprintf(w, "       NOT ALLOWED, will be skipped: %s\n", Clean(s.Denied))
	}
	for _, st := range s.Statements {
		fmt.Fprintf(w, "       %s;\n", Clean(st))
	}
	for _, a := range s.Affected {
		fmt.Fprintf(w, "       - %s  %s → %s  %s\n", Clean(a.Name), RangeText(a.From, nil, s.Zone, "?"), RangeText(a.To, nil, s.Zone, "?"), Bytes(a.Bytes))
	}
}

// zoneOf is where a summary's times are shown.
func zoneOf(t maint.TableSummary) *time.Location {
	if loc, err := time.LoadLocation(t.TimeZone); err == nil && t.TimeZone != "" {
		return loc
	}
	return time.UTC
}

// SummaryLines are a table's summary as the plan writers show it, one
// fact a line: what goes, what stays, the locks, the foreign keys, the
// findings. arrow joins a range's ends.
func SummaryLines(t maint.TableSummary, loc *time.Location, arrow string) []string {
	var out []string
	if !empty(t.Goes) || !empty(t.Stays) {
		noun := "chunk"
		switch t.Kind {
		case "partitioned":
			noun = "partition"
		case "inherited":
			noun = "child table"
		}
		out = append(out, "goes    "+PortionText(t.Goes, noun, loc, arrow), "stays   "+PortionText(t.Stays, noun, loc, arrow))
	}
	if len(t.Locks) > 0 {
		out = append(out, "locks   "+Clean(strings.Join(t.Locks, "; ")))
	}
	for _, f := range t.ForeignKeys {
		out = append(out, "fkey    "+ForeignKeyText(f))
	}
	for _, f := range t.Findings {
		out = append(out, "- "+Clean(OneLine(f)))
	}
	return out
}

func empty(p maint.Portion) bool { return p.Parts == 0 && p.Rows == nil && p.Bytes == nil }

// PortionText is "110 chunks, 2026-05-15 → 2026-09-02, 3.4 MiB, ~1,234
// rows (catalog estimate)"; "nothing" for none.
func PortionText(p maint.Portion, noun string, loc *time.Location, arrow string) string {
	var parts []string
	if p.Parts > 0 {
		parts = append(parts, Plural(p.Parts, noun))
	}
	if p.From != nil || p.To != nil {
		parts = append(parts, RangeText(p.From, nil, loc, "…")+" "+arrow+" "+RangeText(p.To, nil, loc, "now"))
	}
	if p.Bytes != nil {
		parts = append(parts, BytesOf(*p.Bytes))
	}
	if p.Rows != nil {
		parts = append(parts, RowsText(*p.Rows, p.RowsFromCatalog))
	}
	empty := len(parts) == 0 || (p.Parts == 0 && p.Rows != nil && *p.Rows == 0 && p.From == nil)
	if p.RowsPastCutoff != nil { // counted, in what is not removed whole
		past := Count(*p.RowsPastCutoff) + " rows past the cutoff not in whole " + noun + "s"
		if p.BytesPastCutoff != nil {
			past += " (~" + BytesOf(*p.BytesPastCutoff) + ")"
		}
		if empty {
			return past
		}
		parts = append(parts, past)
	}
	if empty {
		return "nothing"
	}
	return strings.Join(parts, ", ")
}

// RowsText is "1,234 rows", or "~1,234 rows (catalog estimate)".
func RowsText(n int64, fromCatalog bool) string {
	if fromCatalog {
		return "~" + Count(n) + " rows (catalog estimate)"
	}
	return Count(n) + " rows"
}

// ForeignKeyText is "fills_signal_fkey: public.fills → public.signals, ON
// DELETE CASCADE (references it)".
func ForeignKeyText(f maint.ForeignKey) string {
	side := "held by it"
	if f.Incoming {
		side = "references it"
	}
	to := Clean(f.To)
	if f.ToPart {
		to += " (a partition)"
	}
	return fmt.Sprintf("%s: %s → %s, ON DELETE %s (%s)", Clean(f.Name), Clean(f.From), to, f.OnDelete, side)
}
