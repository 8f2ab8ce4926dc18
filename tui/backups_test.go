package tui

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/pgtend/pgtend/ops/backup"
)

// fakeBackups is a backup directory with one of each kind of file.
func fakeBackups(context.Context) (*backup.Listing, error) {
	at := func(h int) time.Time { return fixtureNow.Add(-time.Duration(h) * time.Hour) }
	verified := at(0)
	return &backup.Listing{Dir: "/srv/backups/trading", Other: 1, Entries: []backup.Entry{
		{Name: "trading_20260705_030000.dump", Database: "trading", Created: at(2), Format: backup.Custom, Bytes: 21 << 30, State: backup.StateVerified, Checksum: backup.ChecksumRecorded, Verified: &verified},
		{Name: "trading_20260704_030000.dump.failed", Database: "trading", Created: at(26), Format: backup.Custom, Bytes: 9 << 30, State: backup.StateFailed, Checksum: backup.ChecksumNone},
		{Name: "trading_20260703_030000.dump", Database: "trading", Created: at(50), Format: backup.Custom, Bytes: 20 << 30, State: backup.StateVerified, Checksum: backup.ChecksumChanged, Verified: &verified},
		{Name: "trading_20260702_030000.sql.gz", Database: "trading", Created: at(74), Format: backup.Plain, Bytes: 24 << 30, State: backup.StateVerified, Checksum: backup.ChecksumRecorded, Verified: &verified},
		{Name: "trading_20260601_020000.dump", Database: "trading", Created: at(800), Format: backup.Custom, Bytes: 18 << 30, State: backup.StateUnverified, Checksum: backup.ChecksumNone},
	}}, nil
}

// The Disk pane lists the backups, and b there plans a backup of the
// database; b on the Tables pane does nothing (a backup is of no table).
func TestDiskPaneBackups(t *testing.T) {
	fa := newFakeActions()
	m, _ := newTestModel(&fakeDB{}, withActions(fa), func(o *Options) { o.Backups = fakeBackups })
	start(t, m, 80, 24)
	press(m, "b")
	if len(fa.planned) != 0 || m.action != nil {
		t.Fatalf("b on the Tables pane planned %v", fa.planned)
	}
	press(m, "3")
	view := ansi.Strip(m.View().Content)
	for _, want := range []string{"Backup files  5, 2 verified", "trading_20260705_030000.dump", "verified", "failed", "changed", "unverified", "b backup"} {
		if !strings.Contains(view, want) {
			t.Errorf("the Disk pane does not show %q:\n%s", want, view)
		}
	}
	if cmd := press(m, "b"); cmd == nil || m.action == nil {
		t.Fatal("b on the Disk pane opened nothing")
	} else {
		cmd()
	}
	if len(fa.planned) != 1 || fa.planned[0] != "backup " {
		t.Errorf("planned %q", fa.planned)
	}
	if h := m.action.heading(); h != "backup of database trading" {
		t.Errorf("heading %q", h)
	}
}

func TestGoldenDiskBackups(t *testing.T) {
	for _, size := range goldenSizes {
		t.Run(sizeName(size), func(t *testing.T) {
			m, _ := newTestModel(&fakeDB{}, everyKeyBound, func(o *Options) { o.Backups = fakeBackups })
			start(t, m, size[0], size[1])
			press(m, "3")
			out := render(t, m, colorprofile.TrueColor)
			checkFrame(t, out, size[0], size[1])
			golden.RequireEqual(t, out)
		})
	}
}

func sizeName(s [2]int) string { return fmt.Sprintf("%dx%d", s[0], s[1]) }
