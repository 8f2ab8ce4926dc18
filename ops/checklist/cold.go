package checklist

import (
	"fmt"
	"path/filepath"
	"time"

	"github.com/pgtend/pgtend/ops/backup"
	"github.com/pgtend/pgtend/ops/config"
)

// ColdAge is the age from which a backup or an archive is listed for cold
// storage: older than a month, it is for a disaster, not for tomorrow.
const ColdAge = 30 * 24 * time.Hour

// ColdStorage lists what could go to cold storage.
type ColdStorage struct {
	BackupDir  string                `json:"backup_dir"`
	ArchiveDir string                `json:"archive_dir"` // "" when the policy has none
	Backups    []backup.Entry        `json:"backups"`
	Archives   []backup.ArchiveEntry `json:"archives"`
	Bytes      int64                 `json:"bytes"` // of both lists
	// Kept counts the younger backups and archives, which stay.
	Kept int `json:"kept"`
}

// ListCold lists the policy's backups and archives older than ColdAge.
func ListCold(policy config.Policy, now time.Time) (*ColdStorage, error) {
	c := &ColdStorage{Backups: []backup.Entry{}, Archives: []backup.ArchiveEntry{}}
	if dir := policy.Backup.Dir; dir != "" {
		c.BackupDir = dir
		l, err := backup.List(dir)
		if err != nil {
			return nil, fmt.Errorf("listing the backups: %w", err)
		}
		for _, e := range l.Entries {
			if e.State == backup.StatePartial {
				continue
			}
			if e.Age(now) < ColdAge {
				c.Kept++
				continue
			}
			c.Backups = append(c.Backups, e)
			c.Bytes += e.Bytes
		}
	}
	if dest := policy.Archive.Dest; dest != "" {
		abs, err := filepath.Abs(dest)
		if err != nil {
			return nil, err
		}
		c.ArchiveDir = abs
		list, err := backup.ListArchives(abs)
		if err != nil {
			return nil, fmt.Errorf("listing the archives: %w", err)
		}
		for _, a := range list {
			end := a.Day // a whole archive's day; a month's ends with the month
			if a.Kind == backup.ArchiveMonthly {
				end = a.Day.AddDate(0, 1, 0)
			}
			if now.Sub(end) < ColdAge {
				c.Kept++
				continue
			}
			c.Archives = append(c.Archives, a)
			c.Bytes += a.Bytes
		}
	}
	return c, nil
}
