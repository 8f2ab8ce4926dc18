package tui

import (
	"fmt"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/pgtend/pgtend/ops/report"
)

// TestGoldenLedger draws the Calendar pane's job ledger at both sizes in
// every look, the cursor on the failing job: its error and since when in
// the detail under the list.
func TestGoldenLedger(t *testing.T) {
	for _, size := range goldenSizes {
		for _, look := range looks {
			t.Run(fmt.Sprintf("%dx%d/%s", size[0], size[1], look.name), func(t *testing.T) {
				m, _ := newTestModel(&fakeDB{}, func(o *Options) { o.Dark = look.dark; everyKeyBound(o) })
				if look.profile <= colorprofile.ASCII {
					m.Update(tea.ColorProfileMsg{Profile: look.profile})
				}
				start(t, m, size[0], size[1])
				press(m, "4", "l", "j")
				out := render(t, m, look.profile)
				checkFrame(t, out, size[0], size[1])
				golden.RequireEqual(t, out)
			})
		}
	}
}

// The ledger in ASCII, and the calendar of a database whose jobs are all
// fine (no banner, nothing failing).
func TestGoldenLedgerStates(t *testing.T) {
	allFine := func(r *report.Report) *report.Report {
		var ok []report.Job
		for _, j := range r.Jobs.Ledger {
			if !j.Warned() {
				ok = append(ok, j)
			}
		}
		r.Jobs.Ledger, r.Jobs.Warnings = ok, nil
		return r
	}
	for _, st := range []struct {
		name string
		edit func(*report.Report) *report.Report
		opts func(*Options)
		keys []string
	}{
		{name: "ledger-ascii", opts: func(o *Options) { o.ASCII = true }, keys: []string{"4", "l", "j"}},
		{name: "calendar-all-fine", edit: allFine, keys: []string{"4"}},
		{name: "ledger-no-engines", edit: func(r *report.Report) *report.Report {
			var own []report.Job
			for _, j := range r.Jobs.Ledger {
				if j.Engine == report.EnginePgtend {
					own = append(own, j)
				}
			}
			r.Jobs = report.Jobs{Ledger: own}
			return r
		}, keys: []string{"4", "l"}},
	} {
		t.Run(st.name, func(t *testing.T) {
			m, _ := newTestModel(&fakeDB{edit: st.edit}, func(o *Options) {
				if st.opts != nil {
					st.opts(o)
				}
			})
			start(t, m, 80, 24)
			press(m, st.keys...)
			out := render(t, m, colorprofile.TrueColor)
			checkFrame(t, out, 80, 24)
			golden.RequireEqual(t, out)
		})
	}
}

// l toggles between the calendar and the ledger, which opens on the
// calendar cursor's task; a failing job is failing in the calendar's
// STATUS and in the ledger, with its error; names from the database are
// cleaned.
func TestLedgerKeys(t *testing.T) {
	m, _ := newTestModel(&fakeDB{})
	start(t, m, 80, 24)
	press(m, "4")
	view := ansi.Strip(render(t, m, colorprofile.TrueColor))
	if !strings.Contains(view, "Drop chunks past retention  tsdb cron pman") || !strings.Contains(view, "failing") {
		t.Errorf("the calendar does not show retention failing:\n%s", view)
	}
	press(m, "j", "j", "j", "l") // Vacuum trade_history
	if j := m.calendar.selectedJob(); j == nil || j.Task != "vacuum" {
		t.Fatalf("the ledger opened on %+v, want the vacuum task's first line", j)
	}
	view = ansi.Strip(render(t, m, colorprofile.TrueColor))
	if !strings.Contains(view, "Job ledger") || !strings.Contains(view, "l calendar") {
		t.Errorf("no ledger:\n%s", view)
	}
	press(m, "g", "j")
	view = ansi.Strip(render(t, m, colorprofile.TrueColor))
	for _, want := range []string{`cannot drop portal`, "failing since 2026-11-26 08:00 UTC", "last run 18m ago by pgtend (CALL run_job)"} {
		if !strings.Contains(view, want) {
			t.Errorf("the failing job's detail lacks %q:\n%s", want, view)
		}
	}
	press(m, "G")
	view = render(t, m, colorprofile.TrueColor)
	checkFrame(t, view, 80, 24)
	if !strings.Contains(ansi.Strip(view), "evil?[2Jname") {
		t.Errorf("the cron job with an escape in its name is not shown cleaned:\n%s", ansi.Strip(view))
	}
	press(m, "l")
	if m.calendar.ledger {
		t.Error("l does not go back to the calendar")
	}
}

// S opens the schedule plan on the whole database, J the jobs plan on the
// selected TimescaleDB job's table; read-only, neither is offered.
func TestLedgerOpensScheduleAndJobs(t *testing.T) {
	fa := newFakeActions()
	m, _ := newTestModel(&fakeDB{}, withActions(fa))
	start(t, m, 80, 24)
	press(m, "4")
	if cmd := press(m, "S"); cmd == nil {
		t.Fatal("S does nothing")
	} else if msg, ok := cmd().(openActionMsg); !ok || msg.action.Name != "schedule" || msg.table != "" {
		t.Fatalf("S asks for %+v", msg)
	} else {
		_, plan := m.Update(msg)
		if m.action == nil || m.action.shown != "database trading" {
			t.Fatalf("the schedule action did not open (confirmed by the database's name): %+v", m.action)
		}
		plan()
		if got := strings.Join(fa.planned, ","); got != "schedule " {
			t.Errorf("planned %q", got)
		}
	}
	press(m, "esc")
	m.action = nil
	press(m, "l", "j")
	msg, ok := press(m, "J")().(openActionMsg)
	if !ok || msg.action.Name != "jobs" || msg.table != "public.option_chain_snapshots" {
		t.Errorf("J on the failing job asks for %+v", msg)
	}

	ro, _ := newTestModel(&fakeDB{}, withActions(newFakeActions()), func(o *Options) { o.ReadOnly = true })
	start(t, ro, 80, 24)
	press(ro, "4")
	if cmd := press(ro, "S"); cmd != nil {
		t.Error("S plans in a read-only console")
	}
	if strings.Contains(ansi.Strip(render(t, ro, colorprofile.TrueColor)), "install schedules") {
		t.Error("the read-only footer offers S")
	}
}
