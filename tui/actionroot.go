package tui

import (
	tea "charm.land/bubbletea/v2"
	"github.com/pgtend/pgtend/ops/maint"
	"time"
)

// actionsEnabled says whether the console may offer maintenance: there is
// something to run it, and pgtend may write.
func (o Options) actionsEnabled() bool { return o.Actions != nil && !o.ReadOnly }

// actionTarget is the table a maintenance key works on: the one under the
// Tables cursor, or the one whose chunks the Chunks pane shows. It returns
// schema.name for ops and the name as the Tables pane shows it. An action
// on the whole database (backup) works from the Disk pane, on "".
func (m *Model) actionTarget(action maint.Action) (table, shown string, ok bool) {
	if action.Database && m.active == paneHealth && m.health.fixes(action.Name) && m.report != nil {
		return "", "database " + m.clean(m.report.Server.Database), true // a finding's fix: "no verified backup"
	}
	if action.Database != (m.active == paneDisk) {
		return "", "", false // table actions on a table's pane, the database's on the Disk pane
	}
	switch m.active {
	case paneDisk:
		if m.report != nil {
			return "", "database " + m.clean(m.report.Server.Database), true
		}
	case paneTables:
		if t := m.tables.selected(); t != nil {
			return t.Key(), m.tables.displayName(*t), true
		}
	case paneChunks:
		if m.chunks.table != "" {
			return m.chunks.schema + "." + m.chunks.table, m.chunks.qualified(m.chunks.schema, m.chunks.table), true
		}
	case paneHealth: // the table of the finding under the cursor
		if t, ok := m.health.table(); ok {
			return t, m.clean(t), true
		}
	}
	return "", "", false
}

// openAction opens the action view on the table under the cursor and starts
// planning.
func (m *Model) openAction(action maint.Action) tea.Cmd {
	table, shown, ok := m.actionTarget(action)
	if !ok || !m.opts.actionsEnabled() {
		return nil
	}
	m.actionSeq++
	m.action = newActionView(m.actionSeq, action, table, shown, m.opts.Actions, m.opts.Now, m.styles, m.keys)
	m.action.SetSize(m.width-2, m.bodyHeight()-2)
	return m.action.startPlan()
}

// actionKey routes a key to the open action view and closes it when it is
// done; closing after a run reloads the panes, whose figures it changed.
func (m *Model) actionKey(msg tea.KeyPressMsg) tea.Cmd {
	cmd, closed := m.action.update(msg, m.keys)
	if !closed { // closing never has a command of its own
		return cmd
	}
	ran := m.action.phase == phaseFinished
	m.action = nil
	if ran {
		return m.reloadNow() // the Disk pane's backups too
	}
	return nil
}

// actionMsg routes a plan or run message to the view that asked for it;
// one for a view since closed is dropped.
func (m *Model) actionMsg(msg tea.Msg) tea.Cmd {
	v := m.action
	if m.wizard != nil { // a checklist's action step
		v = m.wizard.act
	}
	switch msg := msg.(type) {
	case planMsg:
		if v != nil && v.id == msg.id {
			v.gotPlan(msg)
		}
	case runEventMsg:
		if v != nil && v.id == msg.id {
			return v.gotEvent(&msg.ev)
		}
	case runIdleMsg:
		if v != nil {
			return v.gotEvent(nil)
		}
	case runDoneMsg:
		if v != nil && v.id == msg.id {
			v.gotDone(msg)
		}
	}
	return nil
}

// reloadNow loads at once, even when a load is in flight: that one began
// before the maintenance ended, so its figures would be out of date (its
// answer is dropped, as its sequence number is no longer current).
func (m *Model) reloadNow() tea.Cmd {
	m.loading = false
	m.triage.read = time.Time{} // what a run freed shows on Triage with the next report
	return m.load()
}
