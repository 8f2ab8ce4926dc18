package tui

import (
	"fmt"
	"github.com/pgtend/pgtend/tui/text"
	"strings"
	"time"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/pgtend/pgtend/ops/maint"
)

// The run view shows the last logMessages log lines, wrapped (a lock
// message ends with what matters: "trying again"), in at most logLines.
const (
	logMessages = 4
	logLines    = 6
)

// View draws the phase the action is in.
func (v *actionView) View() string {
	switch v.phase {
	case phaseRunning:
		return v.runView()
	case phaseFinished:
		return v.summaryView()
	}
	return v.planView()
}

// runView streams the run: the step in flight with its progress, the
// finished steps, the last log lines.
func (v *actionView) runView() string {
	s, r, now := v.styles, v.run, v.now()
	status := s.Dim.Render("  running " + fmtDur(now.Sub(r.Started)))
	prompt := ""
	switch {
	case v.asking:
		prompt = s.Due.Render("cancel the run? y/n")
	case r.cancelling:
		status = s.Due.Render("  cancelling" + s.Glyphs.Wait)
		prompt = s.Dim.Render("the statement in flight is cancelled; no further step starts")
	}
	lines := []string{s.PaneTitle.Render(v.heading()) + status, prompt}
	lines = append(lines, v.currentLines(now)...)
	var logs []string
	if n := min(len(r.Logs), logMessages); n > 0 {
		for _, l := range r.Logs[len(r.Logs)-n:] {
			logs = append(logs, v.wrap(s.Dim, text.OneLine(l), "  ", "    ")...)
		}
		logs = append([]string{"", s.PaneTitle.Render("Log")}, logs[max(len(logs)-logLines, 0):]...)
	}
	c := r.Counts()
	head := fmt.Sprintf("Finished: %d of %s", len(r.Finished), text.Plural(len(r.Plan.Steps), "step"))
	if c.Failed+c.Cancelled+c.Skipped > 0 {
		head += " (" + countsText(c) + ")"
	}
	lines = append(lines, "", s.PaneTitle.Render(head))
	room := v.height - len(lines) - len(logs)
	lines = append(lines, v.finishedLines(room)...)
	for len(lines) < v.height-len(logs) {
		lines = append(lines, "")
	}
	return v.frame(append(lines, logs...))
}

// currentLines are the step in flight, its progress bar and its pace.
func (v *actionView) currentLines(now time.Time) []string {
	s, r := v.styles, v.run
	if r.Current < 0 {
		return []string{s.Dim.Render("between steps" + s.Glyphs.Wait), "", ""}
	}
	step := fmt.Sprintf("step %d of %d: %s", r.Current+1, len(r.Plan.Steps), v.clean(text.OneLine(r.Title)))
	unit := v.clean(r.Unit)
	var progress string
	switch {
	case r.Total > 0:
		frac := float64(r.Done) / float64(r.Total)
		count := fmt.Sprintf("%3.0f%%  %s of %s %s", 100*min(frac, 1), text.Count(r.Done), text.Count(r.Total), unit)
		barW := min(max(v.width-ansi.StringWidth(count)-3, 0), 40)
		filled, rest := bar(frac, barW, s.Glyphs.BarFull, s.Glyphs.BarHalf, s.Glyphs.BarEmpty)
		progress = "[" + s.Bar.Render(filled) + s.BarEmpty.Render(rest) + "] " + count
	case r.Done > 0:
		progress = text.Count(r.Done) + " " + unit + " so far"
	default:
		progress = s.Dim.Render("waiting for progress" + s.Glyphs.Wait)
	}
	var pace []string
	if rate := r.Rate(now); rate > 0 {
		pace = append(pace, text.Count(int64(rate+0.5))+" "+unit+"/s")
	}
	if eta, ok := r.ETA(now); ok {
		pace = append(pace, "ETA "+fmtDur(eta))
	}
	if r.Phase != "" {
		pace = append(pace, v.clean(text.OneLine(r.Phase)))
	}
	return []string{s.PaneTitle.Render(step), progress, s.Dim.Render(strings.Join(pace, s.Glyphs.Sep))}
}

// finishedLines are the last finished steps that fit in room lines: a mark,
// the title (cut first), rows and duration; a failure adds its reason.
func (v *actionView) finishedLines(room int) []string {
	s, g := v.styles, v.styles.Glyphs
	var out []string
	for i := len(v.run.Finished) - 1; i >= 0 && len(out) < room; i-- {
		f := v.run.Finished[i]
		mark := s.OK.Render(g.Check)
		switch f.Outcome {
		case maint.OutcomeOK:
		case maint.OutcomeSkipped: // did nothing: not a failure, not done either
			mark = s.Due.Render(g.Cross)
		default:
			mark = s.Error.Render(g.Cross)
		}
		right := fmtDur(f.Duration)
		if f.Rows > 0 || f.Unit == "rows" { // rows mean nothing to a VACUUM
			right = text.Count(f.Rows) + " rows  " + right
		}
		titleW := max(v.width-2-2-ansi.StringWidth(right), 1)
		line := []string{mark + " " + cell(v.clean(text.OneLine(f.Title)), titleW, false, g.Ellipsis) + "  " + s.Dim.Render(right)}
		if f.Outcome != maint.OutcomeOK {
			line = append(line, "    "+s.Error.Render(v.clean(text.OneLine(f.Reason))))
		}
		if len(out)+len(line) > room {
			line = line[:1]
		}
		out = append(line, out...)
	}
	return out
}

// summaryView sums the finished run up; closing it refreshes the panes.
func (v *actionView) summaryView() string {
	s, r, g := v.styles, v.run, v.styles.Glyphs
	res := r.result
	outcome := s.OK
	switch res.Outcome {
	case maint.OutcomeFailed:
		outcome = s.Error
	case maint.OutcomeCancelled, maint.OutcomeSkipped:
		outcome = s.Due
	}
	took := r.ended.Sub(r.Started)
	if !res.Started.IsZero() && !res.Finished.IsZero() {
		took = res.Finished.Sub(res.Started)
	}
	db := g.Unknown
	if res.BytesBefore > 0 && res.BytesAfter > 0 {
		db = text.BytesOf(res.BytesBefore) + " " + g.Arrow + " " + text.BytesOf(res.BytesAfter)
		switch d := res.BytesBefore - res.BytesAfter; {
		case d > 0:
			db += " (" + text.BytesOf(d) + " freed)"
		case d < 0:
			db += " (grew " + text.BytesOf(-d) + ")"
		}
	}
	steps := countsText(r.Counts()) + fmt.Sprintf(", of %d", len(r.Plan.Steps))
	if n := len(r.Plan.LeftOut); n > 0 { // the operator picked some
		steps += fmt.Sprintf(" picked (%d left out)", n)
	}
	field := func(name, value string) string { return s.Dim.Render(fmt.Sprintf("%-9s ", name)) + value }
	lines := []string{
		s.PaneTitle.Render(v.heading()+": ") + outcome.Render(v.clean(res.Outcome)), "",
		field("rows", rowsSummary(res)),
		field("database", db),
		field("duration", fmtDur(took)),
		field("steps", steps),
	}
	var more []string
	if len(res.Failed) > 0 {
		more = append(more, "", s.PaneTitle.Render("Failed"))
		for _, f := range res.Failed {
			more = append(more, v.wrap(s.Error, g.Cross+" "+text.OneLine(f), "", "  ")...)
		}
	}
	if len(res.Skipped) > 0 {
		more = append(more, "", s.PaneTitle.Render("Skipped: nothing done"))
		for _, f := range res.Skipped {
			more = append(more, v.wrap(s.Due, "- "+text.OneLine(f), "", "  ")...)
		}
	}
	if r.err != nil {
		more = append(more, "")
		more = append(more, v.wrap(s.Error, "error: "+text.OneLine(r.err.Error()), "", "  ")...)
	}
	room := max(v.height-len(lines)-2, 0)
	if len(more) > room && room > 0 {
		more = append(more[:room-1], s.Dim.Render(fmt.Sprintf("%s %d more lines", g.Ellipsis, len(more)-room+1)))
	}
	lines = append(lines, more[:min(len(more), room)]...)
	for len(lines) < v.height-1 {
		lines = append(lines, "")
	}
	return v.frame(append(lines, s.Dim.Render(hint(v.keyset.closeDone))))
}

// wrap cleans text and breaks it to the view's width, the first line after
// lead and the others after indent: errors, failure reasons and log lines
// are read whole, not cut.
func (v *actionView) wrap(st lipgloss.Style, text, lead, indent string) []string {
	w := max(v.width-max(ansi.StringWidth(lead), len(indent)), 8)
	var out []string
	for i, l := range strings.Split(ansi.Wrap(v.clean(text), w, ""), "\n") {
		pre := indent
		if i == 0 {
			pre = lead
		}
		out = append(out, pre+st.Render(l))
	}
	return out
}

// fmtDur rounds a duration to what a person reads: ms below a second,
// tenths below a minute, seconds above.
func fmtDur(d time.Duration) string {
	switch {
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	case d < time.Minute:
		return d.Round(100 * time.Millisecond).String()
	}
	return d.Round(time.Second).String()
}

// rowsSummary is the rows a run removed: counted by DELETE, estimated
// from the catalog for dropped chunks and partitions.
func rowsSummary(res maint.Result) string {
	rows := text.Count(res.Rows)
	if res.EstimatedRows > 0 {
		rows += " deleted, " + text.RowsText(res.EstimatedRows, true) + " in dropped chunks"
	}
	return rows
}

// countsText is "3 ok, 1 failed", with the cancelled and skipped steps
// when there are any: the words every writer uses.
func countsText(c maint.StepCounts) string {
	out := fmt.Sprintf("%d ok, %d %s", c.OK, c.Failed, maint.OutcomeFailed)
	if c.Cancelled > 0 {
		out += fmt.Sprintf(", %d %s", c.Cancelled, maint.OutcomeCancelled)
	}
	if c.Skipped > 0 {
		out += fmt.Sprintf(", %d %s", c.Skipped, maint.OutcomeSkipped)
	}
	return out
}
