package backup

import (
	"errors"
	"fmt"
	"os"
	"time"
)

// Rule is how many backups a rotation keeps.
type Rule struct {
	Keep     int // the newest verified backups kept; at least 1
	KeepDays int // and every verified one younger than this; 0 = none
}

// Doomed is one file a rotation deletes, and why.
type Doomed struct {
	Entry
	Why string
}

// Rotation is what a rotation of one database's backups keeps and deletes.
type Rotation struct {
	Delete []Doomed
	Kept   []Entry // the verified backups kept, newest first
	// Left are files rotation never touches, and why: unverified ones
	// (not made or not finished by pgtend), ones in use.
	Left []Doomed
}

// Bytes is what the rotation frees.
func (r Rotation) Bytes() int64 {
	var n int64
	for _, d := range r.Delete {
		n += d.Bytes
	}
	return n
}

// PlanRotation decides, from a listing, which of database's backups go:
// the verified ones beyond the rule (never the newest verified one), the
// failed ones older than every verified one kept, and partial files no
// pgtend is writing (a killed run's). withNew counts a backup about to be
// made as the newest verified one (a plan made before its backup). Files
// without pgtend's name and sidecar, and files in use, are never deleted.
func PlanRotation(l Listing, database string, rule Rule, now time.Time, withNew bool) Rotation {
	keep := max(rule.Keep, 1)
	var r Rotation
	slots := keep
	if withNew {
		slots--
	}
	var oldestKept *time.Time
	if withNew {
		t := now
		oldestKept = &t
	}
	var failed, partial []Entry
	for _, e := range l.Entries {
		if e.Database != database {
			continue
		}
		switch {
		case e.State == StateFailed:
			failed = append(failed, e)
			continue
		case e.State == StatePartial:
			partial = append(partial, e)
			continue
		case e.State != StateVerified:
			r.Left = append(r.Left, Doomed{e, "no pgtend sidecar: not made (or not finished) by pgtend, never rotated"})
			continue
		case e.Checksum == ChecksumChanged:
			r.Left = append(r.Left, Doomed{e, "changed since it was verified: never rotated"})
			continue
		}
		young := rule.KeepDays > 0 && e.Age(now) < time.Duration(rule.KeepDays)*24*time.Hour
		switch {
		case slots > 0:
			slots--
			r.Kept = append(r.Kept, e)
		case young:
			r.Kept = append(r.Kept, e)
		case e.InUse:
			r.Left = append(r.Left, Doomed{e, "in use by another pgtend"})
			r.Kept = append(r.Kept, e)
		default:
			why := fmt.Sprintf("beyond the newest %d verified", keep)
			if rule.KeepDays > 0 {
				why += fmt.Sprintf(" and older than %d days", rule.KeepDays)
			}
			r.Delete = append(r.Delete, Doomed{e, why})
			continue
		}
		c := e.Created
		oldestKept = &c
	}
	for _, e := range failed {
		switch {
		case oldestKept == nil || !e.Created.Before(*oldestKept):
			r.Left = append(r.Left, Doomed{e, "failed: kept aside until every verified backup kept is newer"})
		case e.InUse:
			r.Left = append(r.Left, Doomed{e, "in use by another pgtend"})
		default:
			r.Delete = append(r.Delete, Doomed{e, "failed, older than every verified backup kept"})
		}
	}
	for _, e := range partial {
		if e.InUse {
			r.Left = append(r.Left, Doomed{e, "being written by another pgtend"})
			continue
		}
		r.Delete = append(r.Delete, Doomed{e, "left unfinished by a run that was killed"})
	}
	return r
}

// Remove deletes one doomed file and its sidecar, holding an exclusive
// lock meanwhile; a file someone now reads (verifies, restores) is left,
// with errInUse.
func Remove(d Doomed) error {
	l, err := tryLock(d.Path, true)
	if errors.Is(err, os.ErrNotExist) {
		return nil // someone removed it already
	}
	if err != nil {
		return err
	}
	defer l.release()
	if err := os.RemoveAll(d.Path); err != nil {
		return err
	}
	if d.State == StateVerified {
		if err := os.Remove(d.Path + SidecarExt); err != nil && !os.IsNotExist(err) {
			return err
		}
	}
	return nil
}

// IsInUse tells Remove's refusal of a file someone reads.
func IsInUse(err error) bool { return errors.Is(err, errInUse) }
