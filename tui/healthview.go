package tui

import (
	"fmt"
	"strings"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/pgtend/pgtend/ops/health"
	"github.com/pgtend/pgtend/tui/text"
)

// The findings' list: the status in a word (colour is not needed to read
// it), the check, its summary; an item under its finding, indented.
var (
	findingColumns = []column{
		{title: "STATUS", width: 8},
		{title: "CHECK", width: 19, priority: 1},
		{title: "FINDING", width: 30, flex: true},
	}
	itemColumns = []column{
		{title: "STATUS", width: 8},
		{title: "ITEM", width: 50, flex: true},
	}
)

// statusWord is how the list spells a status: loud when it is not well.
func statusWord(s health.Status) string {
	switch s {
	case health.Critical:
		return "CRITICAL"
	case health.Warning:
		return "WARNING"
	case health.Unknown:
		return "UNKNOWN"
	}
	return "ok"
}

func (p *healthPane) statusStyle(s health.Status) lipgloss.Style {
	switch s {
	case health.Critical:
		return p.styles.Overdue
	case health.Warning:
		return p.styles.Due
	case health.Unknown:
		return p.styles.Due
	}
	return p.styles.OK
}

func (p *healthPane) View() string {
	s := p.styles
	title := s.PaneTitle.Render("Health")
	switch {
	case !p.enabled:
		return p.frame([]string{title, s.Dim.Render("no health findings: this console reads none")})
	case p.report == nil && p.err != nil:
		return p.frame(append([]string{title}, p.wrapped(s.Error, "cannot read the findings: "+text.OneLine(p.err.Error()), "", "")...))
	case p.report == nil:
		return p.frame([]string{title, s.Dim.Render("reading the findings" + s.Glyphs.Wait)})
	}
	r := p.report
	counts := r.Counts()
	var parts []string
	for _, st := range []health.Status{health.Critical, health.Warning, health.Unknown, health.OK} {
		if n := counts[st]; n > 0 {
			word := map[health.Status]string{health.Critical: "critical", health.Warning: "warning", health.Unknown: "unknown", health.OK: "ok"}[st]
			if st == health.Warning && n > 1 {
				word = "warnings"
			}
			parts = append(parts, p.style(p.statusStyle(st)).Render(fmt.Sprintf("%d %s", n, word)))
		}
	}
	head := title + "  " + strings.Join(parts, s.Dim.Render(s.Glyphs.Sep)) + s.Dim.Render(s.Glyphs.Sep+"as of "+r.GeneratedAt.UTC().Format("15:04:05"))
	lines := []string{head}
	if !r.SeesAllSessions {
		role := p.clean(r.Role)
		lines = append(lines, s.Due.Render(role+" sees other roles' sessions as counts only (pg_read_all_stats)"))
	}
	if p.err != nil {
		lines[0] = title + "  " + s.Error.Render("cannot refresh: "+p.clean(text.OneLine(p.err.Error())))
	}
	fk, fw := fitColumns(findingColumns, p.width-2)
	ik, iw := fitColumns(itemColumns, p.width-2)
	from, to := p.cursor.visible()
	for i := from; i < to; i++ {
		row := p.rows[i]
		f := r.Findings[row.finding]
		sel := i == p.cursor.index
		marker, pt := p.rowLook(sel, false, lipgloss.Style{})
		if row.item < 0 {
			pt.own = map[int]lipgloss.Style{0: p.style(p.statusStyle(f.Status))}
			cells := []string{statusWord(f.Status), p.clean(f.Title), p.clean(f.Summary)}
			lines = append(lines, marker+gridRow(findingColumns, fk, fw, cells, s.Glyphs.Ellipsis, pt))
			continue
		}
		it := f.Items[row.item]
		pt.own = map[int]lipgloss.Style{0: p.style(p.statusStyle(it.Status))}
		word := statusWord(it.Status)
		if it.Status == health.OK {
			word = "" // its finding's status says it
		}
		cells := []string{word, "  " + p.clean(it.Text)}
		lines = append(lines, marker+gridRow(itemColumns, ik, iw, cells, s.Glyphs.Ellipsis, pt))
	}
	for len(lines) < p.headLines()+p.listHeight() {
		lines = append(lines, "")
	}
	rule := strings.Repeat(ruleGlyph(s.ASCII), max(p.width, 1))
	lines = append(lines, s.Dim.Render(rule))
	lines = append(lines, p.detail()...)
	return p.frame(lines)
}

func ruleGlyph(ascii bool) string {
	if ascii {
		return "-"
	}
	return "─"
}

// detail is the selected row in full: what it is, the keys that fix it,
// the evidence with its sources, what it means.
func (p *healthPane) detail() []string {
	s := p.styles
	f, it := p.selected()
	if f == nil {
		return nil
	}
	var lines []string
	if it != nil {
		lines = append(lines, p.wrapped(s.PaneTitle, p.clean(it.Text), "", "  ")...)
		lines = append(lines, p.wrapped(lipgloss.NewStyle(), p.fixLine(f, it), "key: ", "     ")...)
		lines = append(lines, p.evidence(it.Evidence)...)
		lines = append(lines, p.wrapped(s.Dim, p.clean(f.Meaning), "means: ", "       ")...)
		lines = append(lines, p.wrapped(lipgloss.NewStyle(), p.clean(f.Action), "fix: ", "     ")...)
		return lines
	}
	lines = append(lines, p.wrapped(s.PaneTitle, p.clean(f.Title+": "+f.Summary), "", "  ")...)
	lines = append(lines, p.evidence(f.Evidence)...)
	if !listsItems(*f) {
		for _, x := range f.Items {
			lines = append(lines, p.wrapped(lipgloss.NewStyle(), p.clean(x.Text), "  - ", "    ")...)
		}
	}
	lines = append(lines, p.wrapped(s.Dim, p.clean(f.Meaning), "means: ", "       ")...)
	lines = append(lines, p.wrapped(lipgloss.NewStyle(), p.clean(f.Action), "fix: ", "     ")...)
	return lines
}

// fixLine says what fixes an item here: its keys, or why there is none,
// else the finding's words.
func (p *healthPane) fixLine(f *health.Finding, it *health.Item) string {
	if it.NoFix != "" {
		return "none here: " + p.clean(it.NoFix)
	}
	if it.Session != nil && it.Fix != "" {
		if !p.signals {
			return "none here: pgtend runs read-only, so it cancels and terminates nothing"
		}
		k := p.km.Terminate.Help().Key + " terminate the session"
		if it.Session.State == "active" {
			k += ", " + p.km.Cancel.Help().Key + " cancel its query"
		}
		return k + " (each shows who it is and asks first)"
	}
	if b, ok := p.fixKey(it); ok && b.Enabled() {
		what := "the database"
		if it.Table != "" {
			what = p.clean(it.Table)
		}
		return b.Help().Key + " " + b.Help().Desc + " " + what + " (its plan first)"
	}
	return p.clean(f.Action)
}

// evidence lays out figures one a line: "label  value  (source)".
func (p *healthPane) evidence(ev []health.Evidence) []string {
	s := p.styles
	labelW := 0
	for _, e := range ev {
		labelW = max(labelW, ansi.StringWidth(p.clean(e.Label)))
	}
	labelW = min(labelW, 24)
	var out []string
	for i, e := range ev {
		label := p.clean(e.Label)
		if w := ansi.StringWidth(label); w < labelW {
			label += strings.Repeat(" ", labelW-w)
		}
		line := "  " + s.Dim.Render(label) + " " + p.clean(e.Value)
		if i == 0 || ev[i-1].Source != e.Source { // a run of figures from one source names it once
			line += " " + s.Dim.Render("("+p.clean(e.Source)+")")
		}
		out = append(out, line)
	}
	return out
}

// wrapped word-wraps a paragraph to the pane: lead before its first line,
// indent before the others.
func (p *paneBase) wrapped(st lipgloss.Style, body, lead, indent string) []string {
	w := max(p.width-ansi.StringWidth(lead), 8)
	var out []string
	for i, l := range strings.Split(ansi.Wordwrap(body, w, " "), "\n") {
		pre := indent
		if i == 0 {
			pre = lead
		}
		out = append(out, p.styles.Dim.Render(pre)+st.Render(l))
	}
	return out
}
