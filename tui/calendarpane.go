package tui

import (
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/pgtend/pgtend/ops/report"
)

// calendarPane shows the maintenance calendar.
type calendarPane struct {
	paneBase
	items  []report.CalendarItem
	now    report.Report
	cursor listCursor
}

func newCalendarPane() *calendarPane { return &calendarPane{} }

func (p *calendarPane) Title() string { return "Calendar" }

func (p *calendarPane) SetSize(w, h int) {
	p.paneBase.SetSize(w, h)
	p.cursor.setHeight(max(p.height-2, 1))
}

func (p *calendarPane) setReport(r *report.Report) {
	p.items = r.Calendar
	p.now = *r
	p.cursor.setLen(len(p.items))
}

func (p *calendarPane) keys(k KeyMap) []key.Binding { return []key.Binding{k.Up, k.Down} }

func (p *calendarPane) update(msg tea.KeyPressMsg, k KeyMap) tea.Cmd {
	switch {
	case key.Matches(msg, k.Up):
		p.cursor.move(-1)
	case key.Matches(msg, k.Down):
		p.cursor.move(1)
	case key.Matches(msg, k.Top):
		p.cursor.top()
	case key.Matches(msg, k.Bottom):
		p.cursor.bottom()
	}
	return nil
}

var calendarColumns = []column{
	{title: "TASK", width: 26, flex: true},
	{title: "CADENCE", width: 9, priority: 2},
	{title: "LAST DONE", width: 12, priority: 1},
	{title: "NEXT DUE", width: 14},
	{title: "STATUS", width: 7},
}

func (p *calendarPane) View() string {
	s := p.styles
	lines := []string{s.PaneTitle.Render("Maintenance calendar")}
	keep, widths := fitColumns(calendarColumns, p.width-2)
	lines = append(lines, "  "+gridHeader(calendarColumns, keep, widths, s.Column, s.Glyphs.Ellipsis))
	from, to := p.cursor.visible()
	for i := from; i < to; i++ {
		c := p.items[i]
		title := c.Title
		if c.Manual {
			title += " (manual)"
		}
		cells := []string{title, c.Cadence, shortAgo(c.LastRun, p.now.GeneratedAt), c.NextDue.Format("Mon 2006-01-02"), p.style(s.Status(c.Status)).Render(c.Status)}
		row := gridRow(calendarColumns, keep, widths, cells, s.Glyphs.Ellipsis)
		marker := "  "
		if i == p.cursor.index {
			marker = s.Glyphs.Cursor + " "
		} else if p.stale {
			row = s.Stale.Render(row)
		}
		lines = append(lines, marker+row)
	}
	return p.frame(lines)
}
