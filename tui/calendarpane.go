package tui

import (
	"context"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/pgtend/pgtend/ops/report"
	"github.com/pgtend/pgtend/theme"
)

// calendarPane shows the maintenance calendar; manual tasks can be ticked
// off with a note.
type calendarPane struct {
	paneBase
	items  []report.CalendarItem
	now    time.Time // when the report was made: "last done" ages count from it
	loaded bool
	cursor listCursor

	tick   func(ctx context.Context, task, note string) error
	noting bool            // typing the note of a tick-off
	task   string          // the task being ticked off
	input  textinput.Model // the note
	status string          // the outcome of the last tick-off
}

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

func (p *calendarPane) setContext(s theme.Styles, stale bool) {
	p.paneBase.setContext(s, stale)
	p.input.SetStyles(s.Input)
}

func (p *calendarPane) Title() string { return "Calendar" }

func (p *calendarPane) SetSize(w, h int) {
	p.paneBase.SetSize(w, h)
	p.cursor.setHeight(max(p.height-3, 1)) // title, note or status line, headings
}

func (p *calendarPane) setReport(r *report.Report) {
	p.items, p.now, p.loaded = r.Calendar, r.GeneratedAt, true
	p.cursor.setLen(len(p.items))
}

func (p *calendarPane) bindings(k KeyMap) []key.Binding {
	if p.tick == nil { // nowhere to record a tick-off
		return nil
	}
	return []key.Binding{k.Tick}
}

// keys offer the tick-off on manual tasks only, where it does something.
func (p *calendarPane) keys(k KeyMap) []key.Binding {
	if c := p.selected(); c != nil && c.Manual {
		return append([]key.Binding{k.Up, k.Down}, p.bindings(k)...)
	}
	return []key.Binding{k.Up, k.Down}
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
	case key.Matches(msg, k.Tick):
		if c := p.selected(); c != nil && c.Manual && p.tick != nil {
			p.noting, p.task, p.status = true, c.Task, ""
			p.input.SetValue("")
			p.input.SetWidth(max(p.width-len(p.input.Prompt)-1, 1))
			return p.input.Focus()
		}
	case p.cursor.navigate(msg, k):
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
	switch {
	case p.noting:
		lines = append(lines, p.input.View())
	case p.status != "":
		lines = append(lines, s.Dim.Render(p.clean(p.status)))
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
