package tui

import (
	"fmt"
	"math"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/pgtend/pgtend/ops/report"
)

// diskPane shows the filesystem of the data directory and a forecast.
type diskPane struct {
	paneBase
	report *report.Report
	growth *growthTracker
}

func newDiskPane() *diskPane { return &diskPane{} }

func (p *diskPane) Title() string { return "Disk" }

func (p *diskPane) setReport(r *report.Report, g *growthTracker) { p.report, p.growth = r, g }

func (p *diskPane) keys(KeyMap) []key.Binding { return nil }

func (p *diskPane) update(tea.KeyPressMsg, KeyMap) tea.Cmd { return nil }

// forecast returns the days until the disk is full at the given growth, or
// -1 when it cannot be told.
func forecast(free int64, perDay float64) float64 {
	if perDay <= 0 {
		return -1
	}
	return math.Floor(float64(free) / perDay)
}

func (p *diskPane) View() string {
	s := p.styles
	if p.report == nil {
		return p.frame([]string{s.Dim.Render("loading…")})
	}
	d := p.report.Disk
	lines := []string{s.PaneTitle.Render("Disk")}
	if d.Visible {
		used := *d.TotalBytes - *d.FreeBytes
		frac := float64(used) / float64(max(*d.TotalBytes, 1))
		lines = append(lines, s.Dim.Render(Clean(*d.Path)))
		filled, rest := bar(frac, max(p.width-12, 4), s.Glyphs.BarFull, s.Glyphs.BarHalf, s.Glyphs.BarEmpty)
		barStyle := s.Bar
		if frac > 0.9 {
			barStyle = s.Overdue
		} else if frac > 0.8 {
			barStyle = s.Due
		}
		lines = append(lines, p.style(barStyle).Render(filled)+p.style(s.BarEmpty).Render(rest)+fmt.Sprintf(" %3.0f%% used", 100*frac))
		lines = append(lines, fmt.Sprintf("%s used of %s, %s free", BytesOf(used), BytesOf(*d.TotalBytes), BytesOf(*d.FreeBytes)))
	} else {
		lines = append(lines, s.Due.Render("Filesystem not visible: ")+Clean(d.Reason),
			s.Dim.Render("Showing only what the database can tell."))
	}
	lines = append(lines, "",
		fmt.Sprintf("%-22s %s", "Database size", BytesOf(d.DatabaseBytes)),
		fmt.Sprintf("%-22s %s", "WAL size", Bytes(d.WALBytes)))
	if d.BackupDir != "" {
		lines = append(lines, fmt.Sprintf("%-22s %s  %s", "Backups", Bytes(d.BackupBytes), s.Dim.Render(Clean(d.BackupDir))))
	}
	expected := map[string]*int64{}
	for _, t := range p.report.Tables {
		expected[tableKey(t)] = t.ExpectedGrowthPerDay
	}
	perDay, measured := p.growth.totalPerDay(expected)
	how := "expected by the policy"
	if measured {
		how = "measured while pgtend ran"
	}
	lines = append(lines, fmt.Sprintf("%-22s %s/day (%s)", "Growth", BytesOf(int64(perDay)), how))
	switch days := -1.0; {
	case !d.Visible:
		lines = append(lines, fmt.Sprintf("%-22s %s", "Full in", "unknown (free space not visible)"))
	case func() bool { days = forecast(*d.FreeBytes, perDay); return days < 0 }():
		lines = append(lines, fmt.Sprintf("%-22s %s", "Full in", "not growing"))
	default:
		st := s.OK
		if days < 30 {
			st = s.Overdue
		} else if days < 90 {
			st = s.Due
		}
		lines = append(lines, fmt.Sprintf("%-22s %s", "Full in", p.style(st).Render(fmt.Sprintf("about %.0f days", days))))
	}
	if p.stale {
		for i := 1; i < len(lines); i++ {
			lines[i] = s.Stale.Render(lines[i])
		}
	}
	return p.frame(lines)
}
