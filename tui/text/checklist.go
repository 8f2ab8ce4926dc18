package text

import (
	"fmt"
	"strings"
	"time"

	"github.com/pgtend/pgtend/ops/checklist"
	"github.com/pgtend/pgtend/ops/maint"
	"github.com/pgtend/pgtend/ops/state"
)

// SheetLines lays a checklist's sheet out as plain lines, for `pgtend run`
// and the console's wizard alike; headings are the lines without
// indentation.
func SheetLines(s *checklist.Sheet) []string {
	var b strings.Builder
	switch {
	case s.Name == maint.SheetSizes && s.Report != nil:
		_ = WriteReport(&b, s.Report)
	case s.Logs != nil:
		writeLogs(&b, s.Logs)
	case s.Retention != nil:
		writeRetention(&b, s.Retention)
	case s.Cold != nil:
		writeCold(&b, s.Cold)
	case s.Capacity != nil:
		writeCapacity(&b, s.Capacity)
	case s.Audit != nil:
		writeAudit(&b, s.Audit)
	}
	return strings.Split(strings.TrimRight(b.String(), "\n"), "\n")
}

func writeLogs(b *strings.Builder, l *checklist.Logs) {
	since := "in the log files read (no weekly review yet)"
	if !l.Since.IsZero() {
		since = "since the last weekly review, " + Stamp(l.Since)
	}
	if !l.Readable {
		fmt.Fprintf(b, "The server log cannot be read: %s\n", OneLine(Clean(l.Reason)))
		switch {
		case l.Denied:
			b.WriteString("  review it where the server writes it, or GRANT EXECUTE ON FUNCTION pg_current_logfile(), pg_read_file(text, bigint, bigint) and pg_stat_file(text) to this role, and pg_monitor for the rotated files\n")
		case l.File == "":
			b.WriteString("  review it where the server's standard error goes, or set logging_collector = on (a restart) for pgtend to read it\n")
		default:
			b.WriteString("  review it where the server writes it\n")
		}
		return
	}
	fmt.Fprintf(b, "Server log %s (read with %s)\n", Clean(l.File), l.Via)
	if len(l.Files) > 1 {
		fmt.Fprintf(b, "  and %s rotated out of it since: %s\n", Plural(len(l.Files)-1, "older file"), Clean(strings.Join(l.Files[:len(l.Files)-1], ", ")))
	}
	if l.Zone != "" {
		fmt.Fprintf(b, "  line times read in log_timezone %s\n", Clean(l.Zone))
	}
	if l.Note != "" {
		b.WriteString("  " + OneLine(Clean(l.Note)) + "\n")
	}
	switch {
	case l.Total == 0:
		fmt.Fprintf(b, "  no ERROR, FATAL or PANIC lines %s\n", since)
	default:
		fmt.Fprintf(b, "  %s %s", Plural(l.Total, "ERROR, FATAL or PANIC line"), since)
		if l.Total > len(l.Lines) {
			fmt.Fprintf(b, ", the latest %d shown", len(l.Lines))
		}
		b.WriteString("\n")
		for _, line := range l.Lines {
			b.WriteString("  " + OneLine(Clean(line)) + "\n")
		}
	}
	if l.Partial {
		fmt.Fprintf(b, "  (the %s read limit was reached: only the latest part was read", BytesOf(l.Budget))
		if l.Skipped > 0 {
			fmt.Fprintf(b, ", %s modified since not read", Plural(l.Skipped, "older file"))
		}
		b.WriteString(")\n")
	}
}

func writeRetention(b *strings.Builder, r *checklist.RetentionReview) {
	b.WriteString("Retention policy review\n")
	rows := [][]string{{"TABLE", "KIND", "POLICY", "HOLDS", "SIZE", "GROWTH", "VERDICT"}}
	for _, t := range r.Rows {
		holds := "—"
		if t.SpanDays != nil {
			holds = fmt.Sprintf("%.0f days", *t.SpanDays)
		}
		rows = append(rows, []string{Clean(t.Table), Clean(t.Kind), Retention(t.RetentionDays, t.Permanent), holds, Bytes(t.Bytes), growthText(t.Growth), verdictText(t)})
	}
	writeTable(b, rows, map[int]bool{3: true, 4: true, 5: true})
	if len(r.NoPolicy) > 0 {
		fmt.Fprintf(b, "\nTables with no policy (kept for ever): %s\n", Clean(strings.Join(r.NoPolicy, ", ")))
	}
}

func verdictText(t checklist.RetentionRow) string {
	switch t.Verdict {
	case checklist.RetentionOver:
		return fmt.Sprintf("holds %.0f days past its retention", *t.SpanDays-float64(*t.RetentionDays))
	case checklist.RetentionWithin:
		return "within its retention"
	case checklist.RetentionPermanent:
		return "permanent"
	case checklist.RetentionNone:
		return "no retention: grows for ever"
	}
	return "oldest row unknown"
}

// growthText is a growth a day, and where it comes from.
func growthText(g checklist.Growth) string {
	switch {
	case !g.Known:
		return "unknown"
	case g.Measured:
		return signedBytes(g.PerDay) + "/day"
	}
	return signedBytes(g.PerDay) + "/day expected"
}

func signedBytes(f float64) string {
	if f < 0 {
		return "-" + BytesOf(int64(-f))
	}
	return BytesOf(int64(f))
}

func writeCold(b *strings.Builder, c *checklist.ColdStorage) {
	fmt.Fprintf(b, "Cold storage: %s older than %s ([backup] cold_after)\n", BytesOf(c.Bytes), Plural(c.AfterDays, "day"))
	if c.BackupDir == "" && c.ArchiveDir == "" {
		b.WriteString("  the policy has no [backup] dir and no [archive] dest\n")
		return
	}
	rows := [][]string{{"FILE", "MADE", "SIZE", "STATE"}}
	for _, e := range c.Backups {
		rows = append(rows, []string{Clean(e.Path), e.Created.Format("2006-01-02"), BytesOf(e.Bytes), Clean(e.State)})
	}
	for _, a := range c.Archives {
		state := "unverified"
		if a.Verified {
			state = "verified"
		}
		rows = append(rows, []string{Clean(a.Path), a.Day.Format("2006-01-02"), BytesOf(a.Bytes), state})
	}
	if len(rows) == 1 {
		if c.Kept == 1 {
			b.WriteString("  none (1 backup or archive younger stays)\n")
		} else {
			fmt.Fprintf(b, "  none (%d backups or archives younger stay)\n", c.Kept)
		}
		return
	}
	writeTable(b, rows, map[int]bool{2: true})
	fmt.Fprintf(b, "  copy them to cold storage, check the copies, then remove them here; %s younger stay\n", Plural(c.Kept, "backup or archive"))
}

func writeCapacity(b *strings.Builder, c *checklist.Capacity) {
	b.WriteString("Storage capacity forecast\n")
	if c.Visible {
		fmt.Fprintf(b, "  filesystem  %s used of %s, %s free\n", BytesOf(c.Total-c.Free), BytesOf(c.Total), BytesOf(c.Free))
	} else {
		fmt.Fprintf(b, "  filesystem  not visible: %s\n", OneLine(Clean(c.Reason)))
	}
	fmt.Fprintf(b, "  database    %s\n", BytesOf(c.Database))
	// On two lines: one is too long for 80 columns.
	fmt.Fprintf(b, "  growth      %s\n              of the tables: %d measured, %d expected by the policy, %d unknown\n", growthText(c.Growth), c.Measured, c.Expected, c.UnknownCount)
	switch {
	case !c.Visible:
		b.WriteString("  full in     unknown (free space not visible)\n")
	case c.DaysToFull < 0:
		b.WriteString("  full in     not growing\n")
	default:
		fmt.Fprintf(b, "  full in     about %.0f days\n", c.DaysToFull)
	}
	if len(c.Growers) > 0 {
		b.WriteString("\nFastest growing\n")
		rows := [][]string{{"TABLE", "SIZE", "GROWTH"}}
		for _, g := range c.Growers {
			rows = append(rows, []string{Clean(g.Table), Bytes(g.Bytes), growthText(g.Growth)})
		}
		writeTable(b, rows, map[int]bool{1: true, 2: true})
	}
}

func writeAudit(b *strings.Builder, a *checklist.Audit) {
	b.WriteString("Largest tables\n")
	rows := [][]string{{"TABLE", "SIZE", "ROWS"}}
	for _, t := range a.Largest {
		rows = append(rows, []string{Clean(t.Table), BytesOf(t.Bytes), Count(t.Rows)})
	}
	writeTable(b, rows, map[int]bool{1: true, 2: true})

	since := "since the statistics began"
	if a.StatsReset != nil {
		since = "since the statistics were reset, " + a.StatsReset.UTC().Format("2006-01-02")
	}
	fmt.Fprintf(b, "\nUnused indexes (never scanned %s; unique ones and hypertables' own left out)\n", since)
	if len(a.Unused) == 0 {
		b.WriteString("  none\n")
	} else {
		rows = [][]string{{"INDEX", "TABLE", "SIZE"}}
		for _, i := range a.Unused {
			rows = append(rows, []string{Clean(i.Index), Clean(i.Table), BytesOf(i.Bytes)})
		}
		writeTable(b, rows, map[int]bool{2: true})
	}
	b.WriteString("\nDuplicate indexes (same columns, classes, expressions and predicate)\n")
	if len(a.Duplicates) == 0 {
		b.WriteString("  none\n")
	}
	for _, d := range a.Duplicates {
		fmt.Fprintf(b, "  %s: %s (%s in all but the first)\n", Clean(d.Table), Clean(strings.Join(d.Indexes, ", ")), BytesOf(d.Bytes))
	}
	b.WriteString("\nTables never vacuumed (by hand or by autovacuum)\n")
	if len(a.NeverVacuum) == 0 {
		b.WriteString("  none\n")
	} else {
		rows = [][]string{{"TABLE", "SIZE", "ROWS"}}
		for _, t := range a.NeverVacuum {
			rows = append(rows, []string{Clean(t.Table), BytesOf(t.Bytes), Count(t.Rows)})
		}
		writeTable(b, rows, map[int]bool{1: true, 2: true})
	}
	x := a.XID
	pct := 0.0
	if x.FreezeMaxAge > 0 {
		pct = 100 * float64(x.Database) / float64(x.FreezeMaxAge)
	}
	fmt.Fprintf(b, "\nTransaction-ID age: %s of autovacuum_freeze_max_age %s (%.0f%%)", Count(x.Database), Count(x.FreezeMaxAge), pct)
	if pct >= 80 {
		b.WriteString(": an anti-wraparound vacuum is near; VACUUM (FREEZE) the oldest tables")
	}
	b.WriteString("\n")
	rows = [][]string{{"TABLE", "XID AGE"}}
	for _, t := range x.Oldest {
		rows = append(rows, []string{Clean(t.Table), Count(t.Age)})
	}
	writeTable(b, rows, map[int]bool{1: true})
}

// ChecklistOutcome is a step's outcome in a word or two.
func ChecklistOutcome(r checklist.StepResult) string {
	switch r.Outcome {
	case maint.OutcomeOK:
		if r.Step.Kind == maint.KindSheet {
			return "looked at"
		}
		return "ran"
	case checklist.OutcomeDeclined:
		if r.Step.Kind == maint.KindManual {
			return "left to do"
		}
		return "skipped"
	case checklist.OutcomeUnconfigured:
		return "not set up"
	case checklist.OutcomePrinted:
		return "printed"
	case checklist.OutcomeEarlier:
		return "done earlier"
	case state.OutcomeTicked:
		return "ticked off"
	case maint.OutcomeSkipped:
		return "did nothing"
	}
	return r.Outcome
}

// ChecklistSummaryLines sum a checklist walk up: what ran, what was
// skipped and why, rows removed, bytes freed, duration.
func ChecklistSummaryLines(s *checklist.Summary, arrow string) []string {
	deleted, dropped := s.Rows()
	rows := Count(deleted) + " deleted"
	if dropped > 0 {
		rows += ", " + RowsText(dropped, true) + " in dropped chunks"
	}
	before, after, fs := s.Space()
	where := "database"
	if fs {
		where = "filesystem used"
	}
	space := fmt.Sprintf("%s %s %s %s", where, BytesOf(before), arrow, BytesOf(after))
	if BytesOf(before) == BytesOf(after) { // "185 GiB → 185 GiB (grew 680 MiB)" reads as a contradiction
		space = where + " " + BytesOf(after)
	}
	switch d := before - after; {
	case d > 0:
		space += " (" + BytesOf(d) + " freed)"
	case d < 0:
		space += " (grew " + BytesOf(-d) + ")"
	}
	lines := []string{
		fmt.Sprintf("%s checklist: %s", s.Script, s.Outcome()),
		"rows      " + rows,
		"space     " + space,
		"duration  " + s.Finished.Sub(s.Started).Round(time.Second).String(),
	}
	for _, r := range s.Steps {
		line := fmt.Sprintf("- %-12s %s", ChecklistOutcome(r), Clean(r.Step.Title))
		if r.Reason != "" {
			line += ": " + OneLine(Clean(r.Reason))
		}
		lines = append(lines, line)
	}
	return lines
}

// ChecklistNote is the summary as the history keeps it, on one line.
func ChecklistNote(s *checklist.Summary) string {
	var parts []string
	for _, r := range s.Steps {
		p := r.Step.Name + " " + ChecklistOutcome(r)
		if r.Reason != "" && r.Outcome != maint.OutcomeOK {
			p += " (" + OneLine(Clean(r.Reason)) + ")"
		}
		parts = append(parts, p)
	}
	if before, after, fs := s.Space(); fs {
		parts = append(parts, fmt.Sprintf("filesystem used %s -> %s", BytesOf(before), BytesOf(after)))
	}
	return strings.Join(parts, "; ")
}
