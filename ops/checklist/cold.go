package checklist

import (
	"fmt"
	"path/filepath"
	"time"

	"github.com/pgtend/pgtend/ops/backup"
	"github.com/pgtend/pgtend/ops/config"
)

// ColdStorage lists what could go to cold storage.
type ColdStorage struct {
	BackupDir  string                `json:"backup_dir"`
	ArchiveDir string                `json:"archive_dir"` // "" when the policy has none
	Backups    []backup.Entry        `json:"backups"`
	Archives   []backup.ArchiveEntry `json:"archives"`
	Bytes      int64                 `json:"bytes"` // of both lists
	// AfterDays is the policy's [backup] cold_after: what is older is
	// listed.
	AfterDays int `json:"after_days"`
	// Kept counts the younger backups and archives, which stay.
	Kept int `json:"kept"`
}

// ListCold lists the policy's backups and archives older than its
// [backup] cold_after.
func ListCold(policy config.Policy, now time.Time) (*ColdStorage, error) {
	coldAge := policy.Backup.ColdAfter()
	c := &ColdStorage{Backups: []backup.Entry{}, Archives: []backup.ArchiveEntry{}, AfterDays: int(coldAge / (24 * time.Hour))}
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
			if e.Age(now) < coldAge {
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
			if now.Sub(end) < coldAge {
				c.Kept++
				continue
			}
			c.Archives = append(c.Archives, a)
			c.Bytes += a.Bytes
		}
	}
	return c, nil
}
