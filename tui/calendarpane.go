package tui

import (
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/pgtend/pgtend/ops/report"
)

// calendarPane shows the maintenance calendar.
type calendarPane struct {
	paneBase
	items  []report.CalendarItem
	now    time.Time // when the report was made: "last done" ages count from it
	loaded bool
	cursor listCursor
}

func newCalendarPane() *calendarPane { return &calendarPane{} }

func (p *calendarPane) Title() string { return "Calendar" }

func (p *calendarPane) SetSize(w, h int) {
	p.paneBase.SetSize(w, h)
	p.cursor.setHeight(max(p.height-2, 1))
}

func (p *calendarPane) setReport(r *report.Report) {
	p.items, p.now, p.loaded = r.Calendar, r.GeneratedAt, true
	p.cursor.setLen(len(p.items))
}

func (p *calendarPane) keys(k KeyMap) []key.Binding { return []key.Binding{k.Up, k.Down} }

func (p *calendarPane) update(msg tea.KeyPressMsg, k KeyMap) tea.Cmd {
	switch {
	case key.Matches(msg, k.Up):
		p.cursor.move(-1)
	case key.Matches(msg, k.Down):
		p.cursor.move(1)
	case key.Matches(msg, k.PageUp):
		p.cursor.move(-p.cursor.height)
	case key.Matches(msg, k.PageDown):
		p.cursor.move(p.cursor.height)
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

const colStatus = 4 // index into calendarColumns

func (p *calendarPane) View() string {
	s := p.styles
	lines := []string{s.PaneTitle.Render("Maintenance calendar")}
	if !p.loaded {
		return p.frame(append(lines, s.Dim.Render("loading"+s.Glyphs.Wait)))
	}
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
		cells := []string{title, p.clean(c.Cadence), shortAgo(c.LastRun, p.now), c.NextDue.Format("Mon 2006-01-02"), p.clean(c.Status)}
		pt := paint{own: map[int]lipgloss.Style{colStatus: s.Status(c.Status)}}
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
	return p.frame(lines)
}
