package tui

import (
	"fmt"
	"strings"

	"charm.land/lipgloss/v2"
	"github.com/pgtend/pgtend/ops/triage"
	"github.com/pgtend/pgtend/tui/text"
)

// The options' list: when the space comes back (a word, colour not needed
// to read it), the bytes (~ an estimate), the days they buy, what it is,
// and the command.
var triageColumns = []column{
	{title: "FREES", width: 13},
	{title: "BYTES", width: 10, right: true},
	{title: "BUYS", width: 8, right: true, priority: 2},
	{title: "OPTION", width: 30, flex: true},
	{title: "ACTION", width: 40, priority: 1},
}

func (p *triagePane) freesStyle(o triage.Option) lipgloss.Style {
	switch {
	case o.Blocked != "":
		return p.styles.Overdue
	case o.Frees == triage.FreesNow:
		return p.styles.OK
	case o.Frees == triage.FreesReuseOnly:
		return p.styles.Dim
	}
	return p.styles.Due
}

func (p *triagePane) View() string {
	s := p.styles
	title := s.PaneTitle.Render("Triage")
	switch {
	case !p.enabled:
		return p.frame([]string{title, s.Dim.Render("no triage: this console reads none")})
	case p.triage == nil && p.err != nil:
		return p.frame(append([]string{title}, p.wrapped(s.Error, "cannot read the triage: "+p.clean(text.OneLine(p.err.Error())), "", "")...))
	case p.triage == nil:
		return p.frame([]string{title, s.Dim.Render("looking for space to free" + s.Glyphs.Wait)})
	}
	t := p.triage
	head := title + "  " + p.headline(t)
	if p.err != nil {
		head = title + "  " + s.Error.Render("cannot refresh: "+p.clean(text.OneLine(p.err.Error())))
	}
	lines := []string{head}
	keep, widths := fitColumns(triageColumns, p.width-2)
	heads := make([]string, len(triageColumns))
	for i, c := range triageColumns {
		heads[i] = c.title
	}
	lines = append(lines, "  "+gridRow(triageColumns, keep, widths, heads, s.Glyphs.Ellipsis, rowPaint(s.Column)))
	if len(t.Options) == 0 {
		lines = append(lines, s.Dim.Render("  nothing to free: no expired data, bloat, slot, leftover or file beyond the rules"))
	}
	from, to := p.cursor.visible()
	for i := from; i < to; i++ {
		o := t.Options[i]
		marker, pt := p.rowLook(i == p.cursor.index, false, lipgloss.Style{})
		pt.own = map[int]lipgloss.Style{0: p.style(p.freesStyle(o))}
		frees := text.FreesText(o.Frees)
		if o.Blocked != "" {
			frees = "BLOCKED"
		}
		action := "—"
		if o.Action != nil {
			action = p.clean(*o.Action)
		}
		cells := []string{frees, text.OptionBytes(o), text.DaysText(o.DaysBought), p.clean(text.OptionWhat(o)), action}
		lines = append(lines, marker+gridRow(triageColumns, keep, widths, cells, s.Glyphs.Ellipsis, pt))
	}
	for len(lines) < 2+p.listHeight() {
		lines = append(lines, "")
	}
	lines = append(lines, s.Dim.Render(strings.Repeat(ruleGlyph(s.ASCII), max(p.width, 1))))
	lines = append(lines, p.detail(p.height-len(lines))...)
	return p.frame(lines)
}

// detail is the selected option in full, then its parts (chunks) as many
// as the room rows leave besides the notes, then the notes.
func (p *triagePane) detail(room int) []string {
	s := p.styles
	var lines []string
	if o := p.selected(); o != nil {
		lines = append(lines, p.wrapped(s.PaneTitle, p.clean(text.OptionWhat(*o))+": "+text.OptionBytes(*o)+", "+text.FreesPhrase(o.Frees), "", "  ")...)
		lines = append(lines, p.wrapped(lipgloss.NewStyle(), p.clean(o.Detail), "", "")...)
		if o.NeedsFreeBytes > 0 {
			lines = append(lines, p.wrapped(lipgloss.NewStyle(), text.BytesOf(o.NeedsFreeBytes)+" free while it runs", "needs: ", "       ")...)
		}
		lines = append(lines, p.wrapped(lipgloss.NewStyle(), p.clean(o.Locks), "locks: ", "       ")...)
		lines = append(lines, p.wrapped(s.Dim, p.clean(o.Basis), "figure: ", "        ")...)
		switch {
		case o.Blocked != "":
			lines = append(lines, p.wrapped(s.Overdue, p.clean(o.Blocked), "", "  ")...)
		case o.Run != nil && p.runs:
			lines = append(lines, p.wrapped(lipgloss.NewStyle(), p.km.Enter.Help().Key+" opens its plan: "+p.clean(*o.Action), "key: ", "     ")...)
		case o.Action != nil:
			lines = append(lines, p.wrapped(lipgloss.NewStyle(), p.clean(*o.Action)+" (read-only here)", "run: ", "     ")...)
		}
	}
	var notes []string
	for _, n := range p.triage.Notes {
		notes = append(notes, p.wrapped(s.Dim, p.clean(n), "note: ", "      ")...)
	}
	if o := p.selected(); o != nil {
		lines = append(lines, p.parts(*o, room-len(lines)-len(notes))...)
	}
	return append(lines, notes...)
}

// parts lists the option's pieces (chunks to compress), largest first,
// in at most rows lines: those that fit, then a count of the rest; in
// fewer than three, only the count.
func (p *triagePane) parts(o triage.Option, rows int) []string {
	if len(o.Parts) == 0 || rows < 1 {
		return nil
	}
	n := text.Plural(len(o.Parts), "chunk")
	if rows < 3 {
		return []string{p.styles.Dim.Render(n + ", one at a time, each with the room it needs: pgtend triage lists them")}
	}
	lines := []string{p.styles.Dim.Render(n + ", one at a time, largest first:")}
	for i, part := range o.Parts {
		l := p.wrapped(lipgloss.NewStyle(), text.PartLine(o, part), "  - ", "    ")
		if len(lines)+len(l)+1 > rows && i < len(o.Parts)-1 || len(lines)+len(l) > rows {
			return append(lines, p.styles.Dim.Render(fmt.Sprintf("  %s and %d more (pgtend triage lists them all)", p.styles.Glyphs.Ellipsis, len(o.Parts)-i)))
		}
		lines = append(lines, l...)
	}
	return lines
}

// headline is the filesystem in a few words — free, size, share used —
// loud from [disk] triage_at on, then the forecast.
func (p *triagePane) headline(t *triage.Triage) string {
	s := p.styles
	fs := t.Filesystem
	pct, ok := fs.UsedPercent()
	if !ok {
		return s.Due.Render("filesystem not visible: " + p.clean(fs.Reason))
	}
	used := fmt.Sprintf("%s free of %s (%.0f%% used)", text.BytesOf(*fs.FreeBytes), text.BytesOf(*fs.TotalBytes), pct)
	if pct >= p.loudAt {
		used = p.style(s.Overdue).Render(used)
	}
	forecast := "growth unknown"
	switch {
	case t.DaysUntilFull != nil:
		forecast = "full in about " + text.DaysText(t.DaysUntilFull) + " at " + text.BytesOf(int64(t.GrowthPerDay)) + "/day"
	case t.GrowthBasis != "":
		forecast = "not growing"
	}
	return used + s.Dim.Render(s.Glyphs.Sep+forecast+s.Glyphs.Sep+p.clean(text.StringOr(fs.Path, "")))
}
