package tui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/lipgloss/v2"
	"github.com/pgtend/pgtend/ops/checklist"
	"github.com/pgtend/pgtend/ops/maint"
	"github.com/pgtend/pgtend/ops/state"
	"github.com/pgtend/pgtend/tui/text"
)

// wizardPrompt is the blank line and the line of keys under a sheet,
// a manual task and the summary.
const wizardPrompt = 2

// bodyHeight is the room under the header and above the prompt.
func (w *wizardView) bodyHeight() int { return max(w.height-wizardHeader-wizardPrompt, 1) }

// View draws the header and the current step.
func (w *wizardView) View() string {
	s := w.styles
	lines := w.headerLines()
	if w.phase == wizAction && w.act != nil {
		return w.frame(append(lines, strings.Split(w.act.View(), "\n")...))
	}
	body, prompt := w.stepLines()
	if len(body) > w.bodyHeight() {
		lines[0] += s.Dim.Render(fmt.Sprintf("  lines %d-%d of %d", w.scroll+1, min(w.scroll+w.bodyHeight(), len(body)), len(body)))
		body = body[min(w.scroll, len(body)):min(w.scroll+w.bodyHeight(), len(body))]
	}
	lines = append(lines, body...)
	for len(lines) < w.height-wizardPrompt {
		lines = append(lines, "")
	}
	return w.frame(append(lines, "", prompt))
}

// headerLines are the checklist's title with the step at hand, and every
// step as a mark and its name.
func (w *wizardView) headerLines() []string {
	s, g := w.styles, w.styles.Glyphs
	title := strings.ToUpper(w.script[:1]) + w.script[1:] + " checklist"
	switch {
	case w.at < len(w.steps):
		title += fmt.Sprintf(": step %d of %d, %s", w.at+1, len(w.steps), w.steps[w.at].Title)
	default:
		title += ": summary"
	}
	var marks []string
	for i, st := range w.steps {
		mark, style := g.Unknown, s.Dim
		switch r := w.results[i]; {
		case i == w.at:
			mark, style = g.Cursor, s.PaneTitle
		case r.Outcome == maint.OutcomeOK || r.Outcome == state.OutcomeTicked:
			mark, style = g.Check, s.OK
		case r.Outcome == checklist.OutcomeEarlier || r.Outcome == checklist.OutcomeUnconfigured:
			mark = g.Check
		case r.Outcome == maint.OutcomeFailed:
			mark, style = g.Cross, s.Error
		case r.Outcome != "":
			mark, style = g.Cross, s.Due
		}
		marks = append(marks, style.Render(mark+" "+st.Name))
	}
	return []string{s.PaneTitle.Render(title), strings.Join(marks, "  ")}
}

// stepLines are the current step's body and its line of keys.
func (w *wizardView) stepLines() (body []string, prompt string) {
	s, a := w.styles, w.keyset()
	keys := func(bs ...key.Binding) string {
		var out []string
		for _, b := range bs {
			out = append(out, hint(b))
		}
		return s.Dim.Render(strings.Join(out, s.Glyphs.Sep))
	}
	waiting := func(what string) []string { return []string{"", s.Dim.Render(what + s.Glyphs.Wait)} }
	switch w.phase {
	case wizOpening:
		return waiting("measuring the disk before the first step"), keys(a.leave)
	case wizRecordingEmpty:
		return waiting("nothing to do: recording the step as done"), ""
	case wizSheetLoading:
		return waiting("reading"), keys(a.leave)
	case wizSheet:
		return w.sheetBody(), s.Due.Render("Looked at?") + " " + keys(a.looked, a.skip, a.leave, a.scroll)
	case wizSheetError:
		return w.wrapped(s.Error, "cannot read: "+text.OneLine(w.sheetErr.Error())), keys(a.skip, a.leave)
	case wizLooking, wizTicking:
		return waiting("recording"), ""
	case wizManual, wizNoting:
		body = w.wrapped(lipgloss.NewStyle(), "A person's task: do it, then tick it off here with a note of what was done (the Calendar keeps the note); or skip it, and it stays due.")
		if w.tickErr != nil {
			body = append(append(body, ""), w.wrapped(s.Error, text.OneLine(w.tickErr.Error()))...)
		}
		if w.phase == wizNoting {
			return append(body, "", w.input.View()), keys(a.record, a.cancelNote)
		}
		if w.tick == nil {
			return append(body, "", s.Dim.Render("(no history to record a tick-off in)")), keys(a.skip, a.leave)
		}
		return body, keys(a.tick, a.skip, a.leave)
	case wizFinishing:
		return waiting("measuring the disk and recording the summary"), ""
	}
	return w.summaryBody(), keys(a.closeSummary, a.scroll)
}

func (w *wizardView) bodyLines() []string {
	body, _ := w.stepLines()
	return body
}

// sheetBody is the sheet's text: its headings (the lines not indented)
// titled, the rest as written.
func (w *wizardView) sheetBody() []string {
	out := make([]string, 0, len(w.sheetLines)+1)
	out = append(out, "")
	// The log's lines are read whole: wrapped, not cut; the sheets of
	// tables keep their columns. Headings say what a list holds and why
	// (why the log cannot be read): wrapped too, but in the sizes sheet,
	// which is the report's own layout.
	name := ""
	if w.at < len(w.steps) {
		name = w.steps[w.at].Name
	}
	wrap, wrapHeadings := name == maint.SheetLogs, name != maint.SheetSizes
	v := actionView{paneBase: w.paneBase}
	for _, l := range w.sheetLines {
		switch {
		case l != "" && !strings.HasPrefix(l, " ") && wrapHeadings:
			out = append(out, v.wrap(w.styles.PaneTitle, l, "", "  ")...)
		case l != "" && !strings.HasPrefix(l, " "):
			out = append(out, w.styles.PaneTitle.Render(w.clean(l)))
		case wrap:
			out = append(out, v.wrap(lipgloss.NewStyle(), strings.TrimLeft(l, " "), "  ", "      ")...)
		default:
			out = append(out, w.clean(l))
		}
	}
	return out
}

// summaryBody sums the walk up: the figures, then each step and what
// became of it.
func (w *wizardView) summaryBody() []string {
	s := w.styles
	lines := []string{""}
	all := text.ChecklistSummaryLines(w.sum, s.Glyphs.Arrow)
	outcome := s.OK
	switch w.sum.Outcome() {
	case maint.OutcomeFailed:
		outcome = s.Error
	case maint.OutcomeCancelled, maint.OutcomeSkipped:
		outcome = s.Due
	}
	lines = append(lines, outcome.Render(w.clean(all[0])))
	for _, l := range all[1:4] {
		label, value, _ := strings.Cut(l, " ")
		lines = append(lines, s.Dim.Render(fmt.Sprintf("%-9s ", label))+w.clean(strings.TrimLeft(value, " ")))
	}
	lines = append(lines, "")
	for _, r := range w.results {
		if r.Outcome == "" {
			continue
		}
		mark, style := s.Glyphs.Check, s.OK
		switch r.Outcome {
		case maint.OutcomeOK, state.OutcomeTicked:
		case checklist.OutcomeEarlier, checklist.OutcomeUnconfigured:
			style = s.Dim
		case maint.OutcomeFailed:
			mark, style = s.Glyphs.Cross, s.Error
		default:
			mark, style = s.Glyphs.Cross, s.Due
		}
		line := style.Render(mark+" "+fmt.Sprintf("%-12s", text.ChecklistOutcome(r))) + " " + w.clean(r.Step.Title)
		if r.Reason != "" {
			line += s.Dim.Render(": " + w.clean(text.OneLine(r.Reason)))
		}
		lines = append(lines, w.wrapLine(line)...)
	}
	for _, r := range w.results {
		if r.Outcome == checklist.OutcomeEarlier {
			lines = append(lines, w.wrapped(s.Dim, "the steps done earlier count in the history (pgtend history), not in the figures above")...)
			break
		}
	}
	lines = append(lines, "")
	switch {
	case w.recordErr != nil:
		lines = append(lines, w.wrapped(s.Error, "the summary was not recorded: "+text.OneLine(w.recordErr.Error()))...)
	case w.recorded != "":
		where := w.recorded
		if !strings.HasPrefix(where, "nothing recorded") {
			where = "recorded in " + where
		}
		lines = append(lines, s.Dim.Render(w.clean(where)))
	}
	return lines
}

// wrapped breaks text to the width, continuation lines indented.
func (w *wizardView) wrapped(st lipgloss.Style, t string) []string {
	v := actionView{paneBase: w.paneBase}
	return v.wrap(st, t, "", "  ")
}

// wrapLine keeps a styled line within the width, cut at its end.
func (w *wizardView) wrapLine(l string) []string {
	return []string{cell(l, w.width, false, w.styles.Glyphs.Ellipsis)}
}
