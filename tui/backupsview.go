package tui

import (
	"context"
	"fmt"
	"time"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/pgtend/pgtend/ops/backup"
	"github.com/pgtend/pgtend/tui/text"
)

// backupsRead is the backup directory as the last refresh read it.
type backupsRead struct {
	listing *backup.Listing
	err     error
}

// readBackups lists the backup directory beside a report load (nil when
// the console has no backups to show).
func readBackups(ctx context.Context, list func(context.Context) (*backup.Listing, error)) *backupsRead {
	if list == nil {
		return nil
	}
	l, err := list(ctx)
	return &backupsRead{listing: l, err: err}
}

// backupsView is the Disk pane's Backups list: the newest backups first,
// each with its size, age, format, whether it verified and its checksum.
type backupsView struct {
	read *backupsRead
	now  time.Time
}

// ageText is a short age: "40m", "5h", "3d".
func ageText(d time.Duration) string {
	switch {
	case d < time.Hour:
		return fmt.Sprintf("%dm", max(int(d.Minutes()), 0))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d.Hours()))
	}
	return fmt.Sprintf("%dd", int(d.Hours()/24))
}

// lines draws the list in rows lines at most (its heading included).
func (v backupsView) lines(p *paneBase, rows int) []string {
	if v.read == nil || rows < 2 {
		return nil
	}
	s := p.styles
	if v.read.err != nil {
		return []string{s.PaneTitle.Render("Backup files"), p.style(s.Due).Render(ansi.Truncate(p.clean("cannot list: "+v.read.err.Error()), p.width, s.Glyphs.Ellipsis))}
	}
	l := v.read.listing
	if l == nil || len(l.Entries) == 0 {
		return []string{s.PaneTitle.Render("Backup files"), s.Dim.Render("none yet")}
	}
	verified := 0
	for _, e := range l.Entries {
		if e.State == backup.StateVerified && e.Checksum == backup.ChecksumRecorded {
			verified++
		}
	}
	out := []string{s.PaneTitle.Render("Backup files") + s.Dim.Render(fmt.Sprintf("  %d, %d verified", len(l.Entries), verified))}
	nameWidth := max(p.width-40, 12)
	room := rows - 1
	for i, e := range l.Entries {
		if i == room-1 && len(l.Entries) > room {
			out = append(out, s.Dim.Render(fmt.Sprintf("%s %d more: pgtend backup list", s.Glyphs.Ellipsis, len(l.Entries)-i)))
			break
		}
		state, look := e.State, lipgloss.Style{}
		switch {
		case e.State == backup.StateVerified && e.Checksum == backup.ChecksumChanged:
			state, look = "changed", s.Overdue
		case e.State == backup.StateVerified:
			state, look = "verified", s.OK
		case e.State == backup.StateFailed:
			look = s.Overdue
		case e.State == backup.StateUnverified:
			state, look = "unverified", s.Due
		}
		if e.InUse {
			state += "*"
		}
		name := ansi.Truncate(p.clean(e.Name), nameWidth, s.Glyphs.Ellipsis)
		row := fmt.Sprintf("%-*s %9s %4s %-9s ", nameWidth, name, text.BytesOf(e.Bytes), ageText(v.now.Sub(e.Created)), e.Format)
		out = append(out, row+p.style(look).Render(state))
	}
	return out
}
