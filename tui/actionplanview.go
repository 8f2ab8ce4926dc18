package tui

import (
	"fmt"
	"github.com/pgtend/pgtend/tui/text"
	"strings"
	"time"

	"charm.land/lipgloss/v2"
	"github.com/pgtend/pgtend/ops/maint"
)

// planText is the plan laid out for the current width and theme; SetSize
// and setStyles drop it, and it is laid out again when next drawn, so
// resizing during a run does not lay out a plan nobody sees.
func (v *actionView) planText() []string {
	if v.planLines == nil && v.plan != nil {
		v.layoutPlan()
	}
	return v.planLines
}

// layoutPlan renders the plan's lines once per plan, width and theme, not
// on every frame: a vacuum of a hypertable has a step per chunk.
func (v *actionView) layoutPlan() {
	s, p := v.styles, v.plan
	var lines []string
	head := "target " + v.clean(p.Target) + s.Glyphs.Sep + text.Plural(len(p.Steps), "step")
	if p.Cutoff != nil {
		head += s.Glyphs.Sep + "cutoff " + p.Cutoff.UTC().Format("2006-01-02 15:04")
	}
	lines = append(lines, s.Dim.Render(head), "")
	numW := len(fmt.Sprint(len(p.Steps)))
	for i, st := range p.Steps {
		lead := s.PaneTitle.Render(fmt.Sprintf("%*d. ", numW, i+1))
		if st.Destructive {
			lead += s.Error.Render("[destructive]") + " "
		}
		indent := strings.Repeat(" ", numW+2)
		// A title says what goes (and the cutoff at its end): wrapped, not cut.
		lines = append(lines, v.wrap(s.PaneTitle, text.OneLine(st.Title), lead, indent)...)
		if detail := v.stepDetail(st); detail != "" {
			lines = append(lines, indent+detail)
		}
		for _, stmt := range st.Statements {
			// One line each, cut by the frame: a statement never wraps
			// into something that reads like another one.
			lines = append(lines, indent+"  "+s.Dim.Render(v.clean(text.OneLine(stmt))))
		}
		// What the step removes, one chunk or partition a line.
		for _, a := range st.Affected {
			size := s.Glyphs.Unknown
			if a.Bytes != nil {
				size = text.BytesOf(*a.Bytes)
			}
			// Size first and quotes off, so an 80-column line keeps what matters.
			lines = append(lines, indent+"  "+fmt.Sprintf("%s %9s  %s  %s", s.Glyphs.Cursor, size,
				affectedRange(a, st.Zone, s.Glyphs.Arrow, s.Glyphs.Unknown), v.clean(strings.ReplaceAll(a.Name, `"`, ""))))
		}
	}
	if len(p.Notes) > 0 {
		lines = append(lines, "", s.PaneTitle.Render("Notes"))
		for _, n := range p.Notes { // read whole: they say what the plan cannot
			lines = append(lines, v.wrap(lipgloss.NewStyle(), text.OneLine(n), "  - ", "    ")...)
		}
	}
	v.planLines = lines
	v.clampScroll()
}

// affectedRange is a removed chunk's range, "from → to".
func affectedRange(a maint.Affected, loc *time.Location, arrow, unknown string) string {
	return text.RangeText(a.From, nil, loc, unknown) + " " + arrow + " " + text.RangeText(a.To, nil, loc, unknown)
}

// stepDetail is a step's lock and estimates.
func (v *actionView) stepDetail(st maint.Step) string {
	var parts []string
	if st.Lock != "" {
		parts = append(parts, "lock "+v.clean(st.Lock))
	}
	var est []string
	if st.EstRows != nil {
		est = append(est, text.Count(*st.EstRows)+" rows")
	}
	if st.EstBytes != nil {
		est = append(est, text.BytesOf(*st.EstBytes))
	}
	if len(est) > 0 {
		parts = append(parts, "est. "+strings.Join(est, ", "))
	}
	return strings.Join(parts, v.styles.Glyphs.Sep)
}

// planView draws planning, a refused plan, or the plan and its prompt.
func (v *actionView) planView() string {
	s := v.styles
	title := s.PaneTitle.Render(v.heading())
	switch v.phase {
	case phasePlanning:
		return v.frame([]string{title, "", s.Dim.Render("planning" + s.Glyphs.Wait)})
	case phasePlanFailed:
		lines := []string{title, ""}
		lines = append(lines, v.wrap(s.Error, "cannot plan: "+text.OneLine(v.planErr.Error()), "", "")...)
		return v.frame(append(lines, "", s.Dim.Render(hint(v.keyset.close))))
	}
	if v.plan.Destructive() {
		title += " " + s.Error.Render("[destructive]")
	}
	bodyH := v.bodyHeight()
	text := v.planText()
	if len(text) > bodyH {
		title += s.Dim.Render(fmt.Sprintf("  lines %d-%d of %d", v.scroll+1, min(v.scroll+bodyH, len(text)), len(text)))
	}
	lines := []string{title}
	body := text[v.scroll:min(v.scroll+bodyH, len(text))]
	lines = append(lines, body...)
	for len(lines) < 1+bodyH {
		lines = append(lines, "")
	}
	return v.frame(append(lines, v.prompt()...))
}

// prompt is what the plan asks of the operator.
func (v *actionView) prompt() []string {
	s := v.styles
	switch {
	case len(v.plan.Steps) == 0:
		return []string{"", s.Dim.Render("nothing to do" + s.Glyphs.Sep + hint(v.keyset.close))}
	case v.phase == phaseConfirm:
		help := s.Dim.Render(v.keyset.enterRun.Help().Key + " runs once the name matches; " + v.keyset.back.Help().Key + " goes back")
		if v.mismatch {
			help = s.Error.Render("that is not " + v.shown + ": type the name exactly as shown")
		}
		return []string{"", v.input.View(), help}
	case v.plan.Destructive():
		return []string{"", s.Due.Render("This plan deletes data.") + " " + s.Dim.Render(hint(v.keyset.confirm)+" by typing the table's name"+s.Glyphs.Sep+hint(v.keyset.no))}
	}
	return []string{"", s.Due.Render("Run this plan?") + " " + s.Dim.Render(hint(v.keyset.run)+s.Glyphs.Sep+hint(v.keyset.no))}
}
