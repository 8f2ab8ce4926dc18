package tui

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"charm.land/lipgloss/v2"
	"github.com/pgtend/pgtend/ops/maint"
	"github.com/pgtend/pgtend/tui/text"
)

// planText is the plan laid out for the current width, theme and folds;
// SetSize and setStyles drop it, and it is laid out again when next drawn,
// so resizing during a run does not lay out a plan nobody sees (a fold or
// unfold lays it out at once: see relayout).
func (v *actionView) planText() []string {
	if v.planLines == nil && v.plan != nil {
		v.layoutPlan()
	}
	return v.planLines
}

// foldable says the plan sums itself up per table: then each table's
// steps start folded into one line under its summary, and the statements
// hidden, each one key away. A plan without summaries (one made by hand)
// lists every step with its statements, and has nothing to fold.
func (v *actionView) foldable() bool {
	return v.plan != nil && len(v.plan.Tables) > 0 && len(v.plan.Steps) > 0
}

// relayout lays the plan out again at once (a fold or unfold), the scroll
// kept where it still can be.
func (v *actionView) relayout() {
	v.planLines = nil
	v.layoutPlan()
}

// layoutPlan renders the plan's lines once per plan, width, theme and
// fold, not on every frame: a vacuum of a hypertable has a step per chunk.
// The plan opens with each table's summary (what goes, what stays, the
// locks, the foreign keys, the findings) and its steps, folded or listed;
// the steps of no summary follow, then the tables left alone and the notes.
func (v *actionView) layoutPlan() {
	s, p := v.styles, v.plan
	head := "target " + v.clean(p.Target) + s.Glyphs.Sep + text.Plural(len(p.Steps), "step")
	if len(p.Tables) > 1 {
		head += " on " + text.Plural(len(p.Tables), "table")
	}
	if n := v.pickCount(v.listedOrder()); n != "" {
		head += " (" + n + ")"
	}
	if f := v.flagsText(); f != "" {
		head += s.Glyphs.Sep + f
	}
	if p.Cutoff != nil {
		head += s.Glyphs.Sep + "cutoff " + p.Cutoff.UTC().Format("2006-01-02 15:04")
	}
	lines := []string{s.Dim.Render(head)}
	v.stepsAt, v.statementAt, v.stepLine = 0, 0, map[int]int{}
	numW := len(fmt.Sprint(len(p.Steps)))
	listed := make([]bool, len(p.Steps))
	for _, t := range p.Tables {
		var steps []int
		for _, i := range t.Steps {
			if i >= 0 && i < len(p.Steps) && !listed[i] {
				steps, listed[i] = append(steps, i), true
			}
		}
		lines = append(lines, "")
		lines = append(lines, v.tableSummary(t, steps)...)
		lines = v.appendGroup(lines, steps, numW)
	}
	var rest []int // steps of no summary
	for i := range p.Steps {
		if !listed[i] {
			rest = append(rest, i)
		}
	}
	if len(rest) > 0 {
		lines = append(lines, "")
		if len(p.Tables) > 0 {
			lines = append(lines, s.PaneTitle.Render("Other steps"))
		}
		v.stepsAt = cmp.Or(v.stepsAt, len(lines))
		for _, i := range rest {
			lines = v.appendStep(lines, i, numW, "")
		}
	}
	if len(p.Refused) > 0 {
		lines = append(lines, "", s.PaneTitle.Render("Left alone"))
		for _, r := range p.Refused {
			lines = append(lines, v.wrap(lipgloss.NewStyle(), text.OneLine(r.Reason), "  - ", "    ")...)
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

// tableSummary is a table's title and its summary as the headless plan
// writes it (text.SummaryLines), one fact a line, wrapped under its value.
func (v *actionView) tableSummary(t maint.TableSummary, steps []int) []string {
	s := v.styles
	loc := time.UTC
	if l, err := time.LoadLocation(t.TimeZone); err == nil && t.TimeZone != "" {
		loc = l
	}
	title := s.PaneTitle.Render(v.clean(t.Table))
	var about []string
	if t.Kind != "" {
		about = append(about, v.clean(t.Kind))
	}
	if loc != time.UTC {
		about = append(about, "times in "+v.clean(loc.String()))
	}
	if len(about) > 0 {
		title += " " + s.Dim.Render("("+strings.Join(about, ", ")+")")
	}
	lines := []string{title}
	goes := s.Dim
	if slices.ContainsFunc(steps, func(i int) bool { return v.plan.Steps[i].Destructive }) {
		goes = s.Error
	}
	// The writers' own arrows and ellipses, as this terminal draws them.
	glyphs := strings.NewReplacer("→", s.Glyphs.Arrow, "…", s.Glyphs.Ellipsis)
	for _, l := range text.SummaryLines(t, loc, s.Glyphs.Arrow) {
		l = glyphs.Replace(l)
		if finding, ok := strings.CutPrefix(l, "- "); ok {
			lines = append(lines, v.wrap(lipgloss.NewStyle(), finding, "  - ", "    ")...)
			continue
		}
		label, value, _ := strings.Cut(l, " ")
		st := s.Dim
		if label == "goes" {
			st = goes
		}
		lead := "  " + st.Render(fmt.Sprintf("%-7s", label)) + " "
		lines = append(lines, v.wrap(lipgloss.NewStyle(), strings.TrimLeft(value, " "), lead, strings.Repeat(" ", 10))...)
	}
	return lines
}

// appendGroup adds a table's steps: folded, one line saying how many and
// what they do; unfolded, that count and every step.
func (v *actionView) appendGroup(lines []string, steps []int, numW int) []string {
	if len(steps) == 0 {
		return lines
	}
	v.stepsAt = cmp.Or(v.stepsAt, len(lines))
	s := v.styles
	mark := ""
	if slices.ContainsFunc(steps, func(i int) bool { return v.plan.Steps[i].Destructive }) {
		mark = " " + s.Error.Render("[destructive]")
	}
	if slices.ContainsFunc(steps, func(i int) bool { return v.plan.Steps[i].Blocking }) {
		mark += " " + s.Error.Render("[blocks writes]")
	}
	if n := v.pickCount(steps); n != "" {
		mark += " " + s.Dim.Render("("+n+")")
	}
	if v.expanded {
		lines = append(lines, "  "+s.Glyphs.Unfold+" "+s.PaneTitle.Render(text.Plural(len(steps), "step"))+mark)
		for _, i := range steps {
			lines = v.appendStep(lines, i, numW, "  ")
		}
		return lines
	}
	lead := "  " + s.Glyphs.Fold + " " + s.PaneTitle.Render(text.Plural(len(steps), "step")+":") + mark + " "
	return append(lines, v.wrap(lipgloss.NewStyle(), v.foldedTitle(steps), lead, "    ")...)
}

// foldedTitle says what a table's steps do in one line: the one title,
// the words their titles share ("detach and drop partition …"), else the
// titles of a few steps.
func (v *actionView) foldedTitle(steps []int) string {
	titles := make([]string, len(steps))
	for k, i := range steps {
		titles[k] = text.OneLine(v.plan.Steps[i].Title)
	}
	words := strings.Fields(titles[0])
	shared := len(words)
	for _, t := range titles[1:] {
		w := strings.Fields(t)
		n := 0
		for n < shared && n < len(w) && w[n] == words[n] {
			n++
		}
		shared = n
	}
	switch {
	case shared == len(words): // one step, or steps alike
		return titles[0]
	case shared > 0:
		return strings.Join(words[:shared], " ") + " " + v.styles.Glyphs.Ellipsis
	case len(titles) <= 3:
		return strings.Join(titles, "; ")
	}
	return titles[0] + "; " + v.styles.Glyphs.Ellipsis
}

// appendStep adds one step, pad in: its number and title, lock and
// estimates, its statements (when shown), what it removes.
func (v *actionView) appendStep(lines []string, i, numW int, pad string) []string {
	s, st := v.styles, v.plan.Steps[i]
	v.stepLine[i] = len(lines)
	lead := pad
	title := s.PaneTitle
	if v.pickable() { // the cursor, and whether the step runs: [x] or [ ]
		cursor, box := " ", "[ ] "
		if i == v.cursor {
			cursor = s.Glyphs.Cursor
		}
		if v.isPicked(i) {
			box = "[x] "
		} else {
			title = s.Dim
		}
		lead = pad[:max(len(pad)-2, 0)] + cursor + " " + box // the cursor in the pad's place
	}
	lead += s.PaneTitle.Render(fmt.Sprintf("%*d. ", numW, i+1))
	if st.Destructive {
		lead += s.Error.Render("[destructive]") + " "
	}
	if st.Blocking {
		lead += s.Error.Render("[blocks writes]") + " "
	}
	if v.pickable() {
		pad = strings.Repeat(" ", max(len(pad)-2, 0)+2+4) // continuation lines under the step's number
	}
	indent := pad + strings.Repeat(" ", numW+2)
	// A title says what goes (and the cutoff at its end): wrapped, not cut.
	lines = append(lines, v.wrap(title, text.OneLine(st.Title), lead, indent)...)
	if detail := v.stepDetail(st); detail != "" {
		lines = append(lines, v.wrap(lipgloss.NewStyle(), detail, indent, indent)...)
	}
	if st.Denied != "" { // foreseen: the run skips it
		lines = append(lines, v.wrap(s.Due, "not allowed, will be skipped: "+text.OneLine(st.Denied), indent, indent+"  ")...)
	}
	if v.statements || !v.foldable() {
		if len(st.Statements) > 0 {
			v.statementAt = cmp.Or(v.statementAt, len(lines))
		}
		for _, stmt := range st.Statements {
			// Shown to be read whole: wrapped, its continuation indented
			// further, so it never reads like another statement.
			lines = append(lines, v.wrap(s.Dim, text.OneLine(stmt), indent+"  ", indent+"      ")...)
		}
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
	return lines
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
		est = append(est, text.RowsText(*st.EstRows, st.RowsFromCatalog))
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
	switch {
	case v.plan.Destructive():
		title += " " + s.Error.Render("[destructive]")
	case v.plan.Blocking():
		title += " " + s.Error.Render("[blocks writes]")
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
	case v.flagAsk != nil:
		return v.flagQuestion()
	case v.notice != "":
		return []string{"", s.Error.Render(v.notice)}
	case len(v.plan.Steps) == 0:
		return []string{"", s.Dim.Render("nothing to do" + s.Glyphs.Sep + hint(v.keyset.close))}
	case v.phase == phaseConfirm:
		help := s.Dim.Render(v.keyset.enterRun.Help().Key + " runs once the name matches; " + v.keyset.back.Help().Key + " goes back")
		if v.mismatch {
			help = s.Error.Render("that is not " + v.shown + ": type the name exactly as shown")
		}
		return []string{"", v.input.View(), help}
	case v.plan.NeedsConfirmation():
		what := "This plan deletes data."
		if !v.plan.Destructive() {
			what = "This plan blocks writers."
		}
		// One line: the footer has the keys too; what y leads to is said here.
		return []string{"", s.Due.Render(what) + " " + s.Dim.Render("after "+v.keyset.confirm.Help().Key+", type "+v.shown+" to run it"+s.Glyphs.Sep+hint(v.keyset.no))}
	}
	return []string{"", s.Due.Render("Run this plan?") + " " + s.Dim.Render(hint(v.keyset.run)+s.Glyphs.Sep+hint(v.keyset.no))}
}
