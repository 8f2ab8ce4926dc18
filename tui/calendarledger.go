package tui

import (
	"fmt"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/pgtend/pgtend/ops/maint"
	"github.com/pgtend/pgtend/ops/report"
	"github.com/pgtend/pgtend/tui/text"
)

// The job ledger in the Calendar pane: for each task of the calendar, who
// does it — TimescaleDB's jobs, pg_cron, pg_partman, a systemd timer of
// pgtend's, pgtend by hand — when it last succeeded, its state and its last
// error. Failures cannot be missed: the calendar opens with the warnings
// of the jobs that fail (or cannot start, or have not run when due), its
// rows say failing, and the ledger shows each job's error and since when.

// openActionMsg asks the root to open a registry action from the Calendar
// pane, on a table or ("") the whole database.
type openActionMsg struct {
	action maint.Action
	table  string
}

func (p *calendarPane) open(a maint.Action, table string) tea.Cmd {
	return func() tea.Msg { return openActionMsg{action: a, table: table} }
}

// openActionOn opens the action view the Calendar pane asked for; the
// database's name (or the table's) confirms a destructive plan.
func (m *Model) openActionOn(msg openActionMsg) tea.Cmd {
	if !m.opts.actionsEnabled() || m.report == nil || m.action != nil {
		return nil
	}
	shown := "database " + m.clean(m.report.Server.Database)
	if msg.table != "" {
		shown = m.clean(msg.table)
	}
	m.actionSeq++
	m.action = newActionView(m.actionSeq, msg.action, msg.table, shown, m.opts.Actions, m.opts.Now, m.styles, m.keys)
	m.action.SetSize(m.width-2, m.bodyHeight()-2)
	return m.action.startPlan()
}

// stateLabel is a job state in at most nine cells.
func stateLabel(state string) string {
	switch state {
	case report.JobCannotStart:
		return "no worker"
	case report.JobUnscheduled:
		return "nobody"
	case "":
		return "?"
	}
	return state
}

func (p *calendarPane) stateStyle(state string) lipgloss.Style {
	s := p.styles
	switch state {
	case report.JobFailing, report.JobCannotStart:
		return s.Error
	case report.JobLate, report.JobUnscheduled, report.JobDue:
		return s.Due
	case report.JobOK:
		return s.OK
	}
	return s.Dim
}

// bannerLines is how many lines the calendar's warnings take.
func (p *calendarPane) bannerLines() int { return len(p.banner()) }

// banner is the warnings of the jobs, worst first, each on up to two
// lines, in what the pane leaves beside the tasks (two to six lines); when
// they do not all fit, the last line says how many more the ledger shows.
func (p *calendarPane) banner() []string {
	ws := p.jobs.Warnings
	if len(ws) == 0 {
		return nil
	}
	limit := 4
	if p.height >= 30 {
		limit = 6
	}
	budget := min(max(p.height-3-len(p.items), 2), limit)
	var out []string
	for i, w := range ws {
		after := len(ws) - i - 1
		room := budget - len(out)
		if after > 0 {
			room-- // for "n more"
		}
		if room <= 0 {
			out = append(out, p.styles.Due.Render(fmt.Sprintf("! %d more: l shows the job ledger", len(ws)-i)))
			break
		}
		st := p.styles.Due
		if w.Code == report.WarnJobFailing || w.Code == report.WarnJobsCannotStart {
			st = p.styles.Error
		}
		for _, l := range wrapText("! "+p.clean(text.OneLine(w.Text)), p.width, min(room, 2)) {
			out = append(out, st.Render(l))
		}
	}
	return out
}

// taskJobs says, under the calendar, who does the selected task and how it
// went: one line a job, while there is room.
func (p *calendarPane) taskJobs(c report.CalendarItem, room int) []string {
	s := p.styles
	var jobs []report.Job
	for _, j := range p.jobs.Ledger {
		if j.Task == c.Task {
			jobs = append(jobs, j)
		}
	}
	if room < 2 || len(jobs) == 0 {
		return nil
	}
	out := []string{s.Dim.Render(p.clean(c.Title) + " is done by:")}
	for i, j := range jobs {
		if len(out) == room-1 && i < len(jobs)-1 {
			out = append(out, s.Dim.Render(fmt.Sprintf("  and %d more: l shows the job ledger", len(jobs)-i)))
			break
		}
		state := stateLabel(j.State)
		if j.Why != "" && j.State != report.JobOK {
			state = p.clean(text.OneLine(j.Why))
			if !strings.HasPrefix(state, j.State) {
				state = stateLabel(j.State) + ": " + state
			}
		}
		line := fmt.Sprintf("  %-7s %s%slast ok %s%s%s", engineShort(j.Engine), p.jobLabel(j), s.Glyphs.Sep, shortAgo(j.LastSuccess, p.now), s.Glyphs.Sep, state)
		st := s.Dim
		if j.Warned() {
			st = p.stateStyle(j.State)
		}
		out = append(out, st.Render(line))
	}
	return out
}

// taskStatus is what the calendar's STATUS says of a task: failing when a
// job doing it fails (or cannot start, or pgtend's own last run failed),
// late when one has not run when due, else the calendar's status.
func (p *calendarPane) taskStatus(c report.CalendarItem) (string, lipgloss.Style) {
	worst := ""
	for _, j := range p.jobs.Ledger {
		if j.Task != c.Task {
			continue
		}
		switch {
		case j.Failing():
			worst = "failing"
		case worst == "" && j.Engine != report.EnginePgtend && j.Engine != report.EngineSystemd && (j.State == report.JobLate || j.State == report.JobUnscheduled):
			worst = "late"
		}
	}
	switch worst {
	case "failing":
		return worst, p.styles.Error
	case "late":
		if c.Status == "ok" {
			return worst, p.styles.Due
		}
	}
	return p.clean(c.Status), p.styles.Status(c.Status)
}

// engineShort names an engine in a few cells.
func engineShort(engine string) string {
	switch engine {
	case report.EngineTimescale:
		return "tsdb"
	case report.EngineCron:
		return "cron"
	case report.EnginePartman:
		return "pman"
	}
	return engine
}

// doneBy says who does a task: its engines, with how many jobs ("tsdb×3
// cron"), or pgtend's line (pgtend by hand, a systemd timer).
func (p *calendarPane) doneBy(task string) (string, lipgloss.Style) {
	counts := map[string]int{}
	var order []string
	base, failing := report.EnginePgtend, false
	for _, j := range p.jobs.Ledger {
		if j.Task != task {
			continue
		}
		failing = failing || j.Failing()
		if j.Engine == report.EnginePgtend || j.Engine == report.EngineSystemd {
			base = j.Engine
			continue
		}
		if counts[j.Engine] == 0 {
			order = append(order, j.Engine)
		}
		counts[j.Engine]++
	}
	times := "×"
	if p.styles.ASCII {
		times = "x"
	}
	var parts []string
	for _, e := range order {
		part := engineShort(e)
		if counts[e] > 1 && len(order) == 1 {
			part += times + fmt.Sprint(counts[e])
		}
		parts = append(parts, part)
	}
	if len(parts) == 0 {
		parts = append(parts, base)
	}
	st := p.styles.Dim
	if failing {
		st = p.styles.Error
	}
	return strings.Join(parts, " "), st
}

var ledgerColumns = []column{
	{title: "TASK", width: 20},
	{title: "BY", width: 7},
	{title: "JOB", width: 20, flex: true},
	{title: "LAST OK", width: 8, priority: 1},
	{title: "STATUS", width: 9},
	{title: "NEXT", width: 7, priority: 2},
}

const ledgerStatus = 4 // index into ledgerColumns

func (p *calendarPane) selectedJob() *report.Job {
	if i := p.ledgerCursor.index; i >= 0 && i < len(p.jobs.Ledger) {
		return &p.jobs.Ledger[i]
	}
	return nil
}

// taskTitle is the calendar's title of a task ("Other jobs" for none).
func (p *calendarPane) taskTitle(task string) string {
	for _, c := range p.items {
		if c.Task == task {
			return p.clean(c.Title)
		}
	}
	if task == "" {
		return "Other jobs"
	}
	return p.clean(task)
}

// jobLabel is the JOB cell: what the job is, in a few words.
func (p *calendarPane) jobLabel(j report.Job) string {
	id := ""
	if j.ID != nil {
		id = fmt.Sprintf("#%d ", *j.ID)
	}
	switch j.Engine {
	case report.EngineTimescale:
		// Under a task, the table tells its jobs apart; among the other
		// jobs, what they do too.
		what := j.Name
		if j.Table != nil {
			what = strings.TrimPrefix(*j.Table, "public.")
			if j.Task == "" {
				what = report.KindLabel(j.Kind) + " " + what
			}
		}
		return id + p.clean(what)
	case report.EngineCron:
		if j.Table != nil && j.Task != "" { // pgtend's retention job of a table
			return id + p.clean(strings.TrimPrefix(*j.Table, "public."))
		}
		return id + p.clean(j.Name)
	}
	return p.clean(j.Name)
}

// engineParts say what each engine is here, for the ledger's head.
func (p *calendarPane) engineParts() []string {
	var out []string
	j := p.jobs
	count := func(engine string) int {
		n := 0
		for _, job := range j.Ledger {
			if job.Engine == engine {
				n++
			}
		}
		return n
	}
	if ts := j.Timescale; ts != nil {
		part := fmt.Sprintf("TimescaleDB: %s, %d scheduled, %d can run at once (max_background_workers %d, max_worker_processes %d, %s)",
			text.Plural(count(report.EngineTimescale), "job"), ts.Scheduled, max(ts.JobSlots, 0), ts.MaxBackgroundWorkers, ts.MaxWorkerProcesses, text.Plural(ts.Schedulers, "scheduler"))
		if !ts.SchedulerHere {
			part = "TimescaleDB: no scheduler runs for this database: its jobs do not start"
		}
		out = append(out, part)
	}
	if c := j.Cron; c != nil {
		switch {
		case c.Usable:
			part := fmt.Sprintf("pg_cron %s: %s", p.clean(text.StringOr(c.Version, "?")), text.Plural(count(report.EngineCron), "job"))
			if c.RunDetailsSince != nil {
				part += fmt.Sprintf(", job_run_details ~%s rows (%s) since %s", text.Count(c.RunDetailsRows), text.BytesOf(c.RunDetailsBytes), c.RunDetailsSince.Format("2006-01-02"))
				if !c.Trimmed {
					part += ", never trimmed"
				}
			}
			if c.OwnOnly {
				part += " (this role sees its own jobs only)"
			}
			out = append(out, part)
		default:
			out = append(out, p.clean(c.Problem))
		}
	}
	if pm := j.Partman; pm != nil {
		part := fmt.Sprintf("pg_partman %s: %s", p.clean(pm.Version), text.Plural(len(pm.Sets), "set"))
		for _, job := range j.Ledger {
			if job.Engine == report.EnginePartman && job.Schedule != "" {
				part += ", run by " + p.clean(job.Schedule)
			}
		}
		out = append(out, part)
	}
	for _, t := range j.Timers {
		state := "disabled"
		if t.Enabled {
			state = "enabled"
		}
		out = append(out, fmt.Sprintf("systemd: %s %s on this host", p.clean(t.Unit), state))
	}
	if len(out) == 0 {
		out = append(out, "no job engine here: pgtend does every task (S plans what the engines could take; pgtend schedule print gives cron and systemd)")
	}
	return out
}

// engineLines is how many lines the ledger's head takes.
func (p *calendarPane) engineLines() int {
	limit := 1
	if p.height >= 30 {
		limit = 4
	}
	return min(len(p.engineParts()), limit)
}

// detailLines is how many lines the selected job's detail takes under
// the list (a blank line, then the detail).
func (p *calendarPane) detailLines() int {
	switch {
	case p.height >= 30:
		return 6
	case p.height >= 16:
		return 5
	}
	return 0
}

func (p *calendarPane) ledgerView() string {
	s := p.styles
	lines := []string{s.PaneTitle.Render("Job ledger") + s.Dim.Render("  who does each task, and how it went")}
	parts := p.engineParts()
	n := p.engineLines()
	for i := 0; i < n; i++ {
		if i == n-1 && len(parts) > n { // the rest on the last line
			lines = append(lines, s.Dim.Render(strings.Join(parts[i:], s.Glyphs.Sep)))
			break
		}
		lines = append(lines, s.Dim.Render(parts[i]))
	}
	keep, widths := fitColumns(ledgerColumns, p.width-2)
	lines = append(lines, "  "+gridHeader(ledgerColumns, keep, widths, s.Column, s.Glyphs.Ellipsis))
	from, to := p.ledgerCursor.visible()
	for i := from; i < to; i++ {
		j := p.jobs.Ledger[i]
		task := ""
		if i == from || p.jobs.Ledger[i-1].Task != j.Task {
			task = p.taskTitle(j.Task)
		}
		next := s.Glyphs.Unknown
		if j.NextStart != nil {
			next = shortUntil(*j.NextStart, p.now)
		}
		cells := []string{task, engineShort(j.Engine), p.jobLabel(j), shortAgo(j.LastSuccess, p.now), stateLabel(j.State), next}
		marker, pt := p.rowLook(i == p.ledgerCursor.index, j.Failing(), s.Error)
		if pt.own == nil {
			pt.own = map[int]lipgloss.Style{}
		}
		pt.own[ledgerStatus] = p.stateStyle(j.State)
		lines = append(lines, marker+gridRow(ledgerColumns, keep, widths, cells, s.Glyphs.Ellipsis, pt))
	}
	if d := p.detailLines(); d > 0 {
		body := p.detail()
		lines = append(lines, "")
		lines = append(lines, body[:min(len(body), d-1)]...)
	}
	return p.frame(lines)
}

// detail says everything about the selected job.
func (p *calendarPane) detail() []string {
	s := p.styles
	j := p.selectedJob()
	if j == nil {
		return []string{s.Dim.Render("no job")}
	}
	head := j.Describe()
	if j.Engine == report.EnginePgtend || j.Engine == report.EngineSystemd {
		head = p.taskTitle(j.Task) + ": " + j.Name
	}
	var meta []string
	if j.Schedule != "" {
		meta = append(meta, j.Schedule)
	}
	if j.Owner != "" {
		meta = append(meta, "as "+j.Owner)
	}
	if !j.Active && j.Engine != report.EnginePgtend {
		meta = append(meta, "not scheduled")
	}
	out := []string{s.Header.Render(p.clean(text.OneLine(strings.Join(append([]string{head}, meta...), s.Glyphs.Sep))))}
	why := stateLabel(j.State)
	if j.Why != "" {
		why = j.Why
		if !strings.HasPrefix(why, j.State) {
			why = stateLabel(j.State) + ": " + why
		}
	}
	for _, l := range wrapText(p.clean(text.OneLine(why)), p.width, 2) {
		out = append(out, p.stateStyle(j.State).Render(l))
	}
	var runs []string
	if j.LastRun != nil {
		by := ""
		switch j.LastRunBy {
		case report.RunByPgtend:
			by = " by pgtend"
			if j.Engine == report.EngineTimescale {
				by = " by pgtend (CALL run_job)"
			}
		case report.RunByScheduler:
			by = " by its scheduler"
		}
		runs = append(runs, fmt.Sprintf("last run %s%s, %s", shortAgo(j.LastRun, p.now), by, p.clean(text.StringOr(&j.LastStatus, "?"))))
	} else {
		runs = append(runs, "never ran")
	}
	runs = append(runs, "last ok "+shortAgo(j.LastSuccess, p.now))
	if j.NextStart != nil {
		runs = append(runs, "next "+shortUntil(*j.NextStart, p.now))
	}
	if j.TotalRuns != nil {
		runs = append(runs, fmt.Sprintf("%d of %s failed", derefInt64(j.TotalFailures), text.Plural(int(*j.TotalRuns), "run")))
	}
	out = append(out, s.Dim.Render(strings.Join(runs, s.Glyphs.Sep)))
	if j.Command != "" {
		out = append(out, s.Dim.Render(p.clean(text.OneLine(j.Command))))
	}
	return out
}

func derefInt64(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}

// wrapText cuts s into at most n lines of width cells, the last ending
// with an ellipsis when cut.
func wrapText(s string, width, n int) []string {
	if width < 8 {
		return []string{s}
	}
	var out []string
	for s != "" && len(out) < n {
		if ansi.StringWidth(s) <= width {
			out = append(out, s)
			break
		}
		cut := ansi.Truncate(s, width, "")
		if i := strings.LastIndexByte(cut, ' '); i > width/2 {
			cut = cut[:i]
		}
		if len(out) == n-1 {
			out = append(out, s) // the frame cuts it with an ellipsis
			break
		}
		out = append(out, cut)
		s = strings.TrimLeft(s[len(cut):], " ")
	}
	return out
}

// shortUntil is a compact wait ("in 3h", "in 2d"); a time passed is an
// age ("3h ago").
func shortUntil(t, now time.Time) string {
	d := t.Sub(now)
	switch {
	case d < 0: // a start time that passed: as long ago as that
		return shortAgo(&t, now)
	case d < time.Minute:
		return "now"
	case d < time.Hour:
		return fmt.Sprintf("in %dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("in %dh", int(d.Hours()))
	}
	return fmt.Sprintf("in %dd", int(d.Hours()/24))
}
