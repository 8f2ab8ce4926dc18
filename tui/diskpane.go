package tui

import (
	"fmt"
	"github.com/pgtend/pgtend/tui/text"
	"math"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/pgtend/pgtend/ops/report"
)

// diskPane shows the filesystem of the data directory and a forecast.
type diskPane struct {
	paneBase
	report  *report.Report
	growth  *growthTracker
	backups backupsView
}

func newDiskPane() *diskPane { return &diskPane{} }

func (p *diskPane) Title() string { return "Disk" }

func (p *diskPane) setReport(r *report.Report, g *growthTracker) { p.report, p.growth = r, g }

// setBackups takes the backup directory's listing, read at now.
func (p *diskPane) setBackups(b *backupsRead, now time.Time) {
	p.backups = backupsView{read: b, now: now}
}

// bindings offer the actions on the whole database: b backs it up.
func (p *diskPane) bindings(k KeyMap) []key.Binding { return k.databaseBindings() }

func (p *diskPane) keys(k KeyMap) []key.Binding { return p.bindings(k) }

func (p *diskPane) update(tea.KeyPressMsg, KeyMap) tea.Cmd { return nil }

// forecast returns the days until the disk is full at the given growth, or
// -1 when it cannot be told.
func forecast(free int64, perDay float64) float64 {
	if perDay <= 0 {
		return -1
	}
	return math.Floor(float64(free) / perDay)
}

// labelled aligns the pane's "label  value" lines.
func labelled(label, value string) string { return fmt.Sprintf("%-22s %s", label, value) }

func (p *diskPane) View() string {
	s := p.styles
	if p.report == nil {
		return p.frame([]string{s.Dim.Render("loading" + s.Glyphs.Wait)})
	}
	d := p.report.Disk
	lines := []string{s.PaneTitle.Render("Disk")}
	total, free, visible := d.Space()
	if visible {
		used := total - free
		frac := float64(used) / float64(max(total, 1))
		if d.Path != nil {
			lines = append(lines, s.Dim.Render(p.clean(*d.Path)))
		}
		filled, rest := bar(frac, max(p.width-12, 4), s.Glyphs.BarFull, s.Glyphs.BarHalf, s.Glyphs.BarEmpty)
		barStyle := s.Bar
		if frac > 0.9 {
			barStyle = s.Overdue
		} else if frac > 0.8 {
			barStyle = s.Due
		}
		lines = append(lines, p.style(barStyle).Render(filled)+p.style(s.BarEmpty).Render(rest)+fmt.Sprintf(" %3.0f%% used", 100*frac))
		lines = append(lines, fmt.Sprintf("%s used of %s, %s free", text.BytesOf(used), text.BytesOf(total), text.BytesOf(free)))
	} else {
		reason := p.clean(d.Reason)
		if reason == "" {
			reason = "no reason given"
		}
		// The reason is a sentence from the server side: wrap it, do not cut it.
		wrapped := ansi.Wordwrap("Filesystem not visible: "+reason, p.width, " ")
		lines = append(lines, s.Due.Render(wrapped), s.Dim.Render("Showing only what the database can tell."))
	}
	lines = append(lines, "",
		labelled("Database size", text.BytesOf(d.DatabaseBytes)),
		labelled("WAL size", p.bytes(d.WALBytes)))
	if d.BackupDir != "" {
		lines = append(lines, labelled("Backups", p.bytes(d.BackupBytes)+"  "+s.Dim.Render(p.clean(d.BackupDir))))
	}
	expected, known := p.report.ExpectedGrowth() // known: some table's growth is expected by the policy
	perDay, measured := p.growth.totalPerDay(expected)
	switch {
	case measured:
		lines = append(lines, labelled("Growth", text.BytesOf(int64(perDay))+"/day (measured while pgtend ran)"),
			labelled("Full in", p.fullIn(visible, free, perDay)))
	case known:
		lines = append(lines, labelled("Growth", text.BytesOf(int64(perDay))+"/day (expected by the policy)"),
			labelled("Full in", p.fullIn(visible, free, perDay)))
	default:
		lines = append(lines, labelled("Growth", "unknown (the policy expects none; measured once pgtend has run a while)"),
			labelled("Full in", "unknown"))
	}
	lines = splitLines(lines)
	if list := p.backups.lines(&p.paneBase, p.height-len(lines)-1); len(list) > 0 {
		lines = append(append(lines, ""), list...)
	}
	if p.stale {
		for i := 1; i < len(lines); i++ {
			lines[i] = s.Stale.Render(ansi.Strip(lines[i]))
		}
	}
	return p.frame(splitLines(lines))
}

// fullIn forecasts when the disk fills, coloured by how soon.
func (p *diskPane) fullIn(visible bool, free int64, perDay float64) string {
	if !visible {
		return "unknown (free space not visible)"
	}
	days := forecast(free, perDay)
	if days < 0 {
		return "not growing"
	}
	st := p.styles.OK
	if days < 30 {
		st = p.styles.Overdue
	} else if days < 90 {
		st = p.styles.Due
	}
	return p.style(st).Render(fmt.Sprintf("about %.0f days", days))
}

// splitLines splits entries that hold several lines, so that frame can
// count them.
func splitLines(lines []string) []string {
	var out []string
	for _, l := range lines {
		out = append(out, strings.Split(l, "\n")...)
	}
	return out
}
