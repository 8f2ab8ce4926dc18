package tui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/x/ansi"
	"github.com/pgtend/pgtend/ops/report"
	"github.com/pgtend/pgtend/tui/text"
)

// Continuous aggregates in the Tables pane: a continuous aggregate's notes
// say what it aggregates and how its refresh goes; a hypertable's, which
// aggregates are built on it (a retention on it must stay clear of their
// refresh windows). The footer reconciles the database's size: the listed
// tables plus what no listed table holds, by group.

// aggregateNotes are the table's notes on continuous aggregates.
func (p *tablesPane) aggregateNotes(t report.Table) []note {
	name := p.displayName(t)
	var out []note
	if a := t.Aggregate; a != nil {
		n := fmt.Sprintf("%s: continuous aggregate of %s", name, p.clean(strings.TrimPrefix(a.Source, "public.")))
		if r := a.Refresh; r == nil {
			n += ", no refresh policy (refreshed by hand)"
		} else {
			n += fmt.Sprintf(", refreshed every %s over %s (job %d)", p.clean(r.Schedule), p.clean(text.RefreshWindow(*r)), r.JobID)
			if !r.Active {
				n += ", paused"
			}
			switch {
			case r.LastRun == nil:
				n += "; never refreshed by its policy"
			default:
				n += "; last refresh " + shortAgo(r.LastRun, p.now)
				if r.LastStatus != "" {
					n += " " + p.clean(r.LastStatus)
				}
			}
		}
		out = append(out, note{text: n, warn: a.Refresh != nil && a.Refresh.LastStatus == "failed"})
	}
	if len(t.AggregatedBy) > 0 {
		names := make([]string, len(t.AggregatedBy))
		for i, k := range t.AggregatedBy {
			names[i] = p.clean(strings.TrimPrefix(k, "public."))
		}
		out = append(out, note{text: fmt.Sprintf("%s: aggregated by %s; its retention must stay older than their refresh windows (the plan warns)",
			name, strings.Join(names, ", "))})
	}
	return out
}

// accounting is the footer's content: listed + unlisted = database, and
// the unlisted groups ("catalogs 96 MiB").
type accounting struct {
	line   string
	groups []string
}

func accountingOf(r *report.Report) accounting {
	if r.Server.DatabaseBytes <= 0 {
		return accounting{}
	}
	a := accounting{line: text.Accounting(r)}
	if r.Estimated { // the catalog's estimates, replaced by the measured figures a moment later
		a.line = "estimated: " + a.line
	}
	for _, g := range r.Unlisted {
		a.groups = append(a.groups, text.UnlistedShort(g.Group)+" "+text.BytesOf(g.Bytes))
	}
	return a
}

// footerLine is the footer in width cells: the unlisted groups that fit,
// largest first, the others left to pgtend report.
func (a accounting) footerLine(width int, ellipsis string) string {
	line := a.line
	for i := len(a.groups); i > 0; i-- {
		more := ""
		if i < len(a.groups) {
			more = ", " + ellipsis
		}
		if l := a.line + " (" + strings.Join(a.groups[:i], ", ") + more + ")"; ansi.StringWidth(l) <= width {
			return l
		}
	}
	return line
}

// footerHeight is the footer's lines: one when there is a report to
// reconcile and room for it.
func (p *tablesPane) footerHeight() int {
	if p.footer.line == "" || p.height < 6 {
		return 0
	}
	return 1
}
