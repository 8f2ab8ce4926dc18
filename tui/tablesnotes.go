package tui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/x/ansi"
	"github.com/pgtend/pgtend/ops/report"
	"github.com/pgtend/pgtend/tui/text"
)

// Retention managed elsewhere, in the Tables pane: a table whose old data
// a TimescaleDB retention policy or pg_partman drops too has its manager
// in the RETENTION cell ("90d·tsdb") or, where the pane is wide enough, in
// its own MANAGED BY column; a table with a warning has "!" beside the
// cursor's column. Under the list, the notes say in full what the
// selected table's managers do and what its warnings are (or, on another
// table, which tables to look at): a few lines, reserved only when the
// report has anything to say, so the list does not jump as the cursor
// moves.

// setManagers takes what the report says of other retention managers.
func (p *tablesPane) setManagers(r *report.Report) {
	p.warnings, p.dbWarnings, p.detached = map[string][]report.Warning{}, nil, map[string]report.DetachedTable{}
	for _, w := range r.Warnings {
		if w.Schema == nil || w.Table == nil {
			p.dbWarnings = append(p.dbWarnings, w)
			continue
		}
		k := *w.Schema + "." + *w.Table
		p.warnings[k] = append(p.warnings[k], w)
	}
	for _, d := range r.DetachedTables {
		p.detached[d.Key()] = d
	}
}

// noteworthy: the table has notes of its own.
func (p *tablesPane) noteworthy(t report.Table) bool {
	_, kept := p.detached[t.Key()]
	return len(t.RetentionManagedBy) > 0 || len(p.warnings[t.Key()]) > 0 || kept || t.Aggregate != nil || len(t.AggregatedBy) > 0
}

// shortManager is a manager in a few letters, for the RETENTION cell.
func shortManager(by string) string {
	switch by {
	case report.ManagerTimescale:
		return "tsdb"
	case report.ManagerPartman:
		return "pman"
	}
	return by
}

// retentionCell is pgtend's retention, with the first other manager's
// short name when the MANAGED BY column is not shown.
func (p *tablesPane) retentionCell(t report.Table, managedShown bool) string {
	ret := text.TableRetention(t)
	if managedShown || len(t.RetentionManagedBy) == 0 {
		return ret
	}
	if t.Permanent {
		ret = "perm"
	}
	dot := "·"
	if p.styles.ASCII {
		dot = "+"
	}
	ret += dot + shortManager(t.RetentionManagedBy[0].By)
	if len(t.RetentionManagedBy) > 1 {
		ret += "+"
	}
	return ret
}

// managedCell is the MANAGED BY column: who, and their retention.
func (p *tablesPane) managedCell(t report.Table) string {
	if len(t.RetentionManagedBy) == 0 {
		return p.styles.Glyphs.Unknown
	}
	parts := make([]string, len(t.RetentionManagedBy))
	for i, m := range t.RetentionManagedBy {
		ret := m.Retention
		if m.RetentionDays != nil {
			ret = fmt.Sprintf("%dd", *m.RetentionDays)
		}
		parts[i] = text.ManagerName(m.By) + " " + p.clean(ret)
		if !m.Active {
			parts[i] += " paused"
		}
	}
	return strings.Join(parts, ", ")
}

// note is one paragraph of the notes; warn ones are marked "!".
type note struct {
	text string
	warn bool
}

// notesOf says what the table's managers do, what pg_partman left of it,
// and its warnings.
func (p *tablesPane) notesOf(t report.Table) []note {
	name := p.displayName(t)
	var out []note
	for _, m := range t.RetentionManagedBy {
		ret := p.clean(m.Retention)
		var n string
		switch m.By {
		case report.ManagerTimescale:
			older := "older than " + ret
			if m.Setting == "drop_created_before" {
				older = "created more than " + ret + " ago"
			}
			var how []string
			if m.JobID != nil {
				how = append(how, fmt.Sprintf("job %d", *m.JobID))
			}
			if !m.Active {
				how = append(how, "paused")
			} else if m.Schedule != nil {
				how = append(how, "every "+p.clean(*m.Schedule))
			}
			n = fmt.Sprintf("%s: TimescaleDB's retention policy drops chunks %s (%s)", name, older, strings.Join(how, ", "))
		case report.ManagerPartman:
			fate := "drops them"
			if m.KeepTable != nil && *m.KeepTable {
				fate = "keeps them as tables in " + p.clean(text.StringOr(m.RetentionSchema, t.Schema))
			}
			n = fmt.Sprintf("%s: pg_partman detaches partitions older than %s and %s", name, ret, fate)
			if !m.Active {
				n += " (automatic_maintenance off)"
			}
		default:
			n = fmt.Sprintf("%s: %s drops data older than %s", name, p.clean(m.By), ret)
		}
		out = append(out, note{text: n})
	}
	if d, ok := p.detached[t.Key()]; ok {
		out = append(out, note{text: fmt.Sprintf("%s: detached by pg_partman from %s and kept (retention_keep_table): %s still on disk",
			name, p.qualified(d.ParentSchema, d.Parent), p.bytes(d.TotalBytes))})
	}
	out = append(out, p.aggregateNotes(t)...)
	for _, w := range p.warnings[t.Key()] {
		out = append(out, note{text: p.clean(w.Text), warn: true})
	}
	return out
}

// summaryNotes are the notes on a table without notes of its own: which
// tables have some.
func (p *tablesPane) summaryNotes() []note {
	var managed, aggregates []string
	warned := false
	for _, t := range p.all {
		if len(t.RetentionManagedBy) > 0 {
			managed = append(managed, p.displayName(t))
		}
		if t.Aggregate != nil {
			aggregates = append(aggregates, p.displayName(t)+" (of "+p.clean(strings.TrimPrefix(t.Aggregate.Source, "public."))+")")
		}
		warned = warned || len(p.warnings[t.Key()]) > 0
	}
	var out []note
	if len(managed) > 0 {
		out = append(out, note{text: "retention also managed elsewhere: " + strings.Join(managed, ", ")})
	}
	if len(aggregates) > 0 {
		out = append(out, note{text: "continuous aggregates: " + strings.Join(aggregates, ", ") + ": select one for its refresh"})
	}
	if warned {
		out = append(out, note{text: "marks a table with a warning: select it to read it", warn: true})
	}
	return out
}

func (p *tablesPane) databaseNotes() []note {
	out := make([]note, len(p.dbWarnings))
	for i, w := range p.dbWarnings {
		out[i] = note{text: p.clean(w.Text), warn: true}
	}
	return out
}

// notesWidth is the width notes wrap at, after the two-cell gutter.
func (p *tablesPane) notesWidth() int { return max(p.width-2, 10) }

// wrapNotes lays notes out in lines of the pane's width: "!" in the gutter
// of a warning's first line.
func (p *tablesPane) wrapNotes(notes []note) []string {
	var lines []string
	bang := p.style(p.styles.Error).Render("!")
	for _, n := range notes {
		for i, l := range strings.Split(ansi.Wrap(n.text, p.notesWidth(), ""), "\n") {
			gutter := "  "
			if n.warn && i == 0 {
				gutter = bang + " "
			}
			lines = append(lines, gutter+p.style(p.styles.HeaderValue).Render(l))
		}
	}
	return lines
}

// notesHeight is the lines reserved under the list: a blank line and the
// longest notes any table may show, at most a third of the pane; none when
// the report says nothing of other managers, or the pane is too short.
func (p *tablesPane) notesHeight() int {
	if p.height < 9 {
		return 0
	}
	need := len(p.wrapNotes(p.summaryNotes()))
	for _, t := range p.all {
		if p.noteworthy(t) {
			need = max(need, len(p.wrapNotes(p.notesOf(t))))
		}
	}
	need += len(p.wrapNotes(p.databaseNotes()))
	if need == 0 {
		return 0
	}
	return min(need+1, p.height/3)
}

// notesView is the notes on the selected table, exactly h lines.
func (p *tablesPane) notesView(h int) []string {
	var notes []note
	if t := p.selected(); t != nil && p.noteworthy(*t) {
		notes = p.notesOf(*t)
	} else {
		notes = p.summaryNotes()
	}
	lines := append([]string{""}, p.wrapNotes(append(notes, p.databaseNotes()...))...)
	if len(lines) > h { // cut: the last line kept says so
		lines = lines[:h]
		lines[h-1] = p.style(p.styles.Dim).Render("  " + p.styles.Glyphs.Ellipsis + " the rest in pgtend report")
	}
	for len(lines) < h {
		lines = append(lines, "")
	}
	return lines
}
