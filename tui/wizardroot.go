package tui

import (
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/pgtend/pgtend/ops/calendar"
	"github.com/pgtend/pgtend/ops/report"
)

// openChecklistMsg asks the root to open a checklist (Enter on a task of
// the Calendar pane: its cadence's, at that task).
type openChecklistMsg struct{ script, task string }

// checklistsEnabled says whether the console may walk checklists: it may
// run actions, and has somewhere to read sheets and record walks.
func (o Options) checklistsEnabled() bool { return o.actionsEnabled() && o.Checklists != nil }

func (k *KeyMap) enableChecklists(enabled bool) {
	k.Weekly.SetEnabled(enabled)
	k.Monthly.SetEnabled(enabled)
	k.Quarterly.SetEnabled(enabled)
}

// checklistKeys are the keys that open a checklist, weekly first.
func (k KeyMap) checklistKeys() []key.Binding { return []key.Binding{k.Weekly, k.Monthly, k.Quarterly} }

// matchChecklist finds the checklist whose key was pressed: the script of
// the cadence's name.
func (k KeyMap) matchChecklist(msg tea.KeyPressMsg) (string, bool) {
	for script, b := range map[string]key.Binding{calendar.Weekly: k.Weekly, calendar.Monthly: k.Monthly, calendar.Quarterly: k.Quarterly} {
		if key.Matches(msg, b) {
			return script, true
		}
	}
	return "", false
}

// openChecklist opens the wizard on script, resuming at the first step not
// done in its period (or at task's).
func (m *Model) openChecklist(script, task string) tea.Cmd {
	if !m.opts.checklistsEnabled() || m.report == nil || m.action != nil || m.wizard != nil {
		return nil
	}
	steps, err := m.opts.Registry.Checklist(script)
	if err != nil {
		m.calendar.status = "no checklist: " + err.Error()
		return nil
	}
	m.actionSeq++
	m.wizard = newWizard(m.actionSeq, script, steps, m.report.Calendar, task, m)
	m.wizard.SetSize(m.width-2, m.bodyHeight()-2)
	return m.wizard.start()
}

// wizardKey routes a key to the wizard and closes it when it is done;
// closing after it ran something reloads the panes and the findings.
func (m *Model) wizardKey(msg tea.KeyPressMsg) tea.Cmd {
	cmd, closed := m.wizard.update(msg)
	if !closed {
		return cmd
	}
	ran := m.wizard.ranAny
	m.wizard = nil
	if !ran {
		return nil
	}
	m.healthLoading = false
	return tea.Batch(m.reloadNow(), m.loadHealth())
}

// wizardMsg routes the wizard's messages; one for a wizard since closed
// is dropped.
func (m *Model) wizardMsg(msg tea.Msg) tea.Cmd {
	if o, ok := msg.(openChecklistMsg); ok {
		return m.openChecklist(o.script, o.task)
	}
	if m.wizard == nil {
		return nil
	}
	return m.wizard.gotMsg(msg)
}

// keys are the footer's keys of the moment: the action view's during an
// action step, else the step's own.
func (w *wizardView) keys() []key.Binding {
	if w.phase == wizAction && w.act != nil {
		switch w.act.phase {
		case phasePlanning:
			return []key.Binding{w.keyset().leave}
		case phasePlanFailed:
			return []key.Binding{w.act.keyset.close, w.keyset().leave}
		case phaseReview: // leaving right after the answers: a narrow footer cuts the end
			keys := w.act.keys(w.km)
			at := min(2, len(keys))
			return append(append(keys[:at:at], w.keyset().leave), keys[at:]...)
		}
		return w.act.keys(w.km)
	}
	a := w.keyset()
	switch w.phase {
	case wizSheet:
		return []key.Binding{a.looked, a.skip, a.leave, a.scroll}
	case wizSheetError:
		return []key.Binding{a.skip, a.leave}
	case wizManual:
		if w.tick == nil {
			return []key.Binding{a.skip, a.leave}
		}
		return []key.Binding{a.tick, a.skip, a.leave}
	case wizNoting:
		return []key.Binding{a.record, a.cancelNote}
	case wizSummary:
		return []key.Binding{a.closeSummary, a.scroll}
	case wizFinishing, wizLooking, wizTicking, wizRecordingEmpty:
		return nil
	}
	return []key.Binding{a.leave}
}

// dueChecklist is the checklist Enter opens on a calendar task: its
// cadence's, when the task is due or overdue.
func dueChecklist(c *report.CalendarItem) (openChecklistMsg, bool) {
	if c == nil || c.Status == calendar.OK {
		return openChecklistMsg{}, false
	}
	return openChecklistMsg{script: c.Cadence, task: c.Task}, true
}
