package tui

import (
	"context"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/pgtend/pgtend/ops/maint"
	"github.com/pgtend/pgtend/ops/report"
	"github.com/pgtend/pgtend/theme"
)

// calendarPane shows the maintenance calendar, who does each task (the
// job ledger, see calendarledger.go) and the warnings of the jobs that fail;
// manual tasks can be ticked off with a note.
type calendarPane struct {
	paneBase
	items  []report.CalendarItem
	jobs   report.Jobs
	now    time.Time // when the report was made: "last done" ages count from it
	loaded bool
	cursor listCursor

	// ledger: the job ledger is shown in the calendar's place (l).
	ledger       bool
	ledgerCursor listCursor
	// schedule and runJobs: the registry's actions the pane opens (S, J);
	// nil when there is none or nothing may run it.
	schedule, runJobs *maint.Action

	checklists bool // Enter on a due task opens its checklist

	tick   func(ctx context.Context, task, note string) error
	noting bool            // typing the note of a tick-off
	task   string          // the task being ticked off
	input  textinput.Model // the note
	status string          // the outcome of the last tick-off
}

// The pane's own keys.
var (
	ledgerKey   = key.NewBinding(key.WithKeys("l"), key.WithHelp("l", "job ledger"))
	calendarKey = key.NewBinding(key.WithKeys("l"), key.WithHelp("l", "calendar"))
	scheduleKey = key.NewBinding(key.WithKeys("S"), key.WithHelp("S", "install schedules"))
	runJobsKey  = key.NewBinding(key.WithKeys("J"), key.WithHelp("J", "run jobs now"))
)

// tickedMsg reports a recorded (or failed) tick-off.
type tickedMsg struct {
	task string
	err  error
}

func newCalendarPane() *calendarPane {
	in := textinput.New()
	in.Prompt = "note: "
	in.Placeholder = "what was done (optional)"
	in.CharLimit = 500
	return &calendarPane{input: in}
}

// enableActions gives the pane the registry's schedule and jobs actions,
// when the console may run them.
func (p *calendarPane) enableActions(reg *maint.Registry, enabled bool) {
	p.schedule, p.runJobs = nil, nil
	if !enabled || reg == nil {
		return
	}
	if a, ok := reg.Action("schedule"); ok {
		p.schedule = &a
	}
	if a, ok := reg.Action("jobs"); ok {
		p.runJobs = &a
	}
}

func (p *calendarPane) setContext(s theme.Styles, stale bool) {
	p.paneBase.setContext(s, stale)
	p.input.SetStyles(s.Input)
}

func (p *calendarPane) Title() string { return "Calendar" }

func (p *calendarPane) SetSize(w, h int) {
	p.paneBase.SetSize(w, h)
	p.layoutLists()
}

// layoutLists sizes the two lists for the lines around them.
func (p *calendarPane) layoutLists() {
	p.cursor.setHeight(max(p.height-3-p.bannerLines(), 1)) // title, note or status line, headings
	p.ledgerCursor.setHeight(max(p.height-3-p.engineLines()-p.detailLines(), 1))
}

func (p *calendarPane) setReport(r *report.Report) {
	p.items, p.jobs, p.now, p.loaded = r.Calendar, r.Jobs, r.GeneratedAt, true
	p.cursor.setLen(len(p.items))
	p.ledgerCursor.setLen(len(p.jobs.Ledger))
	p.layoutLists()
}

func (p *calendarPane) bindings(k KeyMap) []key.Binding {
	out := []key.Binding{ledgerKey}
	if p.tick != nil { // somewhere to record a tick-off
		out = append(out, k.Tick)
	}
	if p.schedule != nil {
		out = append(out, scheduleKey)
	}
	if p.runJobs != nil {
		out = append(out, runJobsKey)
	}
	return out
}

// keys offer the tick-off on manual tasks only, where it does something.
func (p *calendarPane) keys(k KeyMap) []key.Binding {
	out := []key.Binding{k.Up, k.Down}
	switch {
	case p.ledger:
		out = append(out, calendarKey)
	default:
		out = append(out, ledgerKey)
		if c := p.selected(); c != nil && c.Manual && p.tick != nil {
			out = append(out, k.Tick)
		}
		if _, ok := dueChecklist(p.selected()); ok && p.checklists {
			out = append(out, as(k.Enter, "checklist"))
		}
		if p.checklists {
			out = append(out, k.checklistKeys()...)
		}
	}
	if p.schedule != nil {
		out = append(out, scheduleKey)
	}
	if p.runJobs != nil && p.jobs.Timescale != nil {
		out = append(out, runJobsKey)
	}
	return out
}

// checklistBinding is Enter on a due task, as the help lists it in the
// pane's group (the footer shows it on a due task only).
func (p *calendarPane) checklistBinding(k KeyMap) []key.Binding {
	if !p.checklists {
		return nil
	}
	return []key.Binding{as(k.Enter, "a due task's checklist")}
}

// noteKeys are the keys while the tick-off's note is typed.
func (p *calendarPane) noteKeys(k KeyMap) []key.Binding {
	return []key.Binding{as(k.Submit, "record"), as(k.Back, "cancel")}
}

func (p *calendarPane) selected() *report.CalendarItem {
	if p.cursor.index < 0 || p.cursor.index >= len(p.items) {
		return nil
	}
	return &p.items[p.cursor.index]
}

func (p *calendarPane) update(msg tea.KeyPressMsg, k KeyMap) tea.Cmd {
	if p.noting {
		switch {
		case key.Matches(msg, k.Submit):
			p.noting = false
			p.input.Blur()
			task, note, tick := p.task, p.input.Value(), p.tick
			p.status = "recording " + task + p.styles.Glyphs.Wait
			return func() tea.Msg {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				return tickedMsg{task: task, err: tick(ctx, task, note)}
			}
		case key.Matches(msg, k.Back):
			p.noting = false
			p.input.Blur()
			p.status = ""
			return nil
		}
		var cmd tea.Cmd
		p.input, cmd = p.input.Update(msg)
		return cmd
	}
	switch {
	case key.Matches(msg, ledgerKey):
		p.ledger = !p.ledger
		p.status = ""
		if p.ledger { // open the ledger on the task the calendar cursor is on
			if c := p.selected(); c != nil {
				p.ledgerCursor.find(len(p.jobs.Ledger), func(i int) bool { return p.jobs.Ledger[i].Task == c.Task })
			}
		}
	case key.Matches(msg, scheduleKey):
		if p.schedule != nil {
			return p.open(*p.schedule, "")
		}
	case key.Matches(msg, runJobsKey):
		if p.runJobs != nil && p.jobs.Timescale != nil {
			table := ""
			if j := p.selectedJob(); p.ledger && j != nil && j.Engine == report.EngineTimescale && j.Table != nil {
				table = *j.Table // that table's jobs
			}
			return p.open(*p.runJobs, table)
		}
	case !p.ledger && p.checklists && key.Matches(msg, k.Enter):
		if open, ok := dueChecklist(p.selected()); ok {
			return func() tea.Msg { return open }
		}
	case !p.ledger && key.Matches(msg, k.Tick):
		if c := p.selected(); c != nil && c.Manual && p.tick != nil {
			p.noting, p.task, p.status = true, c.Task, ""
			p.input.SetValue("")
			p.input.SetWidth(max(p.width-len(p.input.Prompt)-1, 1))
			return p.input.Focus()
		}
	case p.ledger && p.ledgerCursor.navigate(msg, k):
	case !p.ledger && p.cursor.navigate(msg, k):
	}
	return nil
}

var calendarColumns = []column{
	{title: "TASK", width: 26, flex: true},
	{title: "DONE BY", width: 14, priority: 2},
	{title: "CADENCE", width: 9, priority: 3},
	{title: "LAST DONE", width: 10, priority: 1},
	{title: "NEXT DUE", width: 14},
	{title: "STATUS", width: 7},
}

const colStatus = 5 // index into calendarColumns

func (p *calendarPane) View() string {
	if p.ledger && p.loaded && !p.noting {
		return p.ledgerView()
	}
	s := p.styles
	lines := []string{s.PaneTitle.Render("Maintenance calendar")}
	if !p.loaded {
		return p.frame(append(lines, s.Dim.Render("loading"+s.Glyphs.Wait)))
	}
	switch {
	case p.noting:
		lines = append(lines, p.input.View())
	case p.status != "":
		lines = append(lines, s.Dim.Render(p.clean(p.status)))
	}
	lines = append(lines, p.banner()...)
	keep, widths := fitColumns(calendarColumns, p.width-2)
	lines = append(lines, "  "+gridHeader(calendarColumns, keep, widths, s.Column, s.Glyphs.Ellipsis))
	if len(p.items) == 0 {
		return p.frame(append(lines, s.Dim.Render("  no maintenance tasks")))
	}
	from, to := p.cursor.visible()
	for i := from; i < to; i++ {
		c := p.items[i]
		title := p.clean(c.Title)
		if c.Manual {
			title += " (manual)"
		}
		status, style := p.taskStatus(c)
		by, byStyle := p.doneBy(c.Task)
		cells := []string{title, by, p.clean(c.Cadence), shortAgo(c.LastRun, p.now), c.NextDue.Format("Mon 2006-01-02"), status}
		pt := paint{own: map[int]lipgloss.Style{colStatus: style, 1: byStyle}}
		marker := "  "
		switch {
		case i == p.cursor.index:
			marker = s.Glyphs.Cursor + " "
			pt.row, pt.styled = s.Selected, true
		case p.stale:
			pt = rowPaint(s.Stale)
		}
		lines = append(lines, marker+gridRow(calendarColumns, keep, widths, cells, s.Glyphs.Ellipsis, pt))
	}
	if c := p.selected(); c != nil {
		if more := p.taskJobs(*c, p.height-len(lines)-1); len(more) > 0 {
			lines = append(append(lines, ""), more...)
		}
	}
	return p.frame(lines)
}
