package health

import (
	"cmp"
	"fmt"
	"slices"
)

// slotWAL judges the WAL replication slots keep on the data directory's
// disk: a slot nobody reads keeps every WAL segment since its restart_lsn,
// for ever unless max_slot_wal_keep_size caps it. A slot whose xmin is
// unset holds nothing back in the horizon (xminHorizon), only disk: this
// is where it shows.
func (j judge) slotWAL() Finding {
	f := Finding{Check: CheckSlotWAL, Title: "WAL kept by slots",
		Meaning: "PostgreSQL keeps every WAL segment a replication slot may still need, however old: an inactive slot " +
			"(a standby or a logical consumer gone) keeps WAL growing on the data directory's disk until it fills.",
		Action: "Drop the slots nobody will read again, once their consumer is known to be gone: the Triage pane (5) or pgtend run drop-slot --slot NAME, " +
			"confirmed by typing the slot's name; " +
			"bring back the consumer of one still needed; cap what a slot may keep with max_slot_wal_keep_size.",
	}
	if j.raw.settings.inRecovery {
		f.Summary = "a standby: WAL kept for slots is counted on the primary"
		return f
	}
	slots := slices.Clone(j.raw.slots)
	slices.SortStableFunc(slots, func(a, b slot) int { return cmp.Compare(deref(b.retainedWAL, 0), deref(a.retainedWAL, 0)) })
	// WAL is one stream: the slots together keep what the oldest
	// restart_lsn needs, the largest figure, not their sum.
	var total, inactive int64
	idle := 0
	for _, s := range slots {
		kept := deref(s.retainedWAL, 0)
		total = max(total, kept)
		status, state := OK, "active"
		if !s.active {
			status, state = Warning, "inactive"
			inactive = max(inactive, kept)
			idle++
		}
		text := fmt.Sprintf("slot %s (%s, %s) keeps %s of WAL", s.name, s.kind, state, bytesOf(kept))
		if s.retainedWAL == nil {
			text = fmt.Sprintf("slot %s (%s, %s) keeps no WAL yet (never reserved)", s.name, s.kind, state)
		}
		it := Item{Kind: KindSlot, Status: status, Name: s.name, Text: text, Evidence: []Evidence{
			ev("slot", s.name, "pg_replication_slots"), ev("type", s.kind, "pg_replication_slots"),
			ev("state", state, "pg_replication_slots.active"),
			ev("WAL kept for it", bytesOf(kept), "pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)"),
		}}
		if s.walStatus != "" {
			it.Evidence = append(it.Evidence, ev("wal_status", s.walStatus, "pg_replication_slots.wal_status"))
		}
		if s.walStatus == "lost" {
			it.Status = Warning
			it.Text += "; lost: the WAL it needed is gone, its consumer cannot resume from it"
		}
		if s.safeWAL != nil {
			it.Evidence = append(it.Evidence, ev("safe_wal_size", bytesOf(*s.safeWAL), "pg_replication_slots.safe_wal_size (max_slot_wal_keep_size)"))
		}
		f.Items = append(f.Items, it)
	}
	switch {
	case len(slots) == 0:
		f.Summary = "no replication slots"
	case idle == 0:
		f.Summary = fmt.Sprintf("%s, all active, keeping %s of WAL", plural(len(slots), "slot"), bytesOf(total))
	default:
		f.Summary = fmt.Sprintf("%s nobody reads %s %s of WAL", plural(idle, "inactive slot"), ifThen(idle == 1, "keeps", "keep"), bytesOf(inactive))
	}
	f.Evidence = []Evidence{
		ev("slots", fmt.Sprint(len(slots)), "pg_replication_slots"),
		ev("WAL kept", bytesOf(total), "pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn) of the oldest slot"),
	}
	return f
}
