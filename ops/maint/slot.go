package maint

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pgtend/pgtend/ops/config"
	"github.com/pgtend/pgtend/ops/report"
)

// FlagSlot is drop-slot's --slot: the replication slot's name.
const FlagSlot = "slot"

// Slot is a replication slot as pg_replication_slots shows it, with the WAL
// it holds back.
type Slot struct {
	Name      string
	Type      string // physical or logical
	Database  string // a logical slot's; "" for a physical one
	Active    bool
	ActivePID *int32
	Temporary bool
	// WALStatus is reserved, extended, unreserved or lost (PostgreSQL 13+);
	// SafeWALSize the bytes that may still be written before the slot is in
	// danger of losing WAL (nil without max_slot_wal_keep_size).
	WALStatus   string
	SafeWALSize *int64
	// RetainedBytes is the WAL from its restart_lsn to the current
	// position (pg_wal_lsn_diff): what it keeps in pg_wal; nil when it has
	// no restart_lsn.
	RetainedBytes *int64
}

// ReadSlots lists the cluster's replication slots.
func ReadSlots(ctx context.Context, conn *pgx.Conn) ([]Slot, error) {
	rows, err := conn.Query(ctx, `
		SELECT slot_name::text, slot_type, coalesce(database::text, ''), active, active_pid, temporary,
		       coalesce(wal_status, ''), safe_wal_size,
		       CASE WHEN restart_lsn IS NULL THEN NULL
		            ELSE pg_wal_lsn_diff(CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_lsn() END, restart_lsn)::bigint END
		FROM pg_replication_slots ORDER BY slot_name`)
	if err != nil {
		return nil, fmt.Errorf("reading pg_replication_slots: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Slot, error) {
		var s Slot
		err := r.Scan(&s.Name, &s.Type, &s.Database, &s.Active, &s.ActivePID, &s.Temporary, &s.WALStatus, &s.SafeWALSize, &s.RetainedBytes)
		return s, err
	})
}

// PlanDropSlot plans dropping one inactive replication slot (--slot): the
// WAL it held back is removed at the next checkpoint. An active slot is
// refused — something reads it, and dropping it would break that replica
// or consumer — and so is a logical slot of another database (PostgreSQL
// drops one only from its own). The plan is destructive: the console
// confirms it by the slot's name typed, pgtend run by --yes.
func PlanDropSlot(ctx context.Context, conn *pgx.Conn, _ config.Policy, table string) (*Plan, error) {
	if table != "" {
		return nil, fmt.Errorf("a replication slot belongs to the cluster, not a table: --table %s does not apply", table)
	}
	name := FlagsOf(ctx)[FlagSlot]
	if name == "" {
		return nil, errors.New("name the replication slot: --slot NAME (pgtend triage lists the slots holding WAL)")
	}
	s, err := findSlot(ctx, conn, name)
	if err != nil {
		return nil, err
	}
	var db string
	var allowed bool
	if err := conn.QueryRow(ctx, `SELECT current_database(), coalesce((SELECT rolsuper OR rolreplication FROM pg_roles WHERE rolname = current_user), false)`).Scan(&db, &allowed); err != nil {
		return nil, err
	}
	switch {
	case s.Active:
		return nil, fmt.Errorf("replication slot %s is active (%s): something reads it, and dropping it would break that replica or consumer; refused", s.Name, slotHolder(s.ActivePID))
	case s.Type == "logical" && s.Database != db:
		return nil, fmt.Errorf("replication slot %s is a logical slot of database %s: PostgreSQL drops it only from there (connect pgtend to %s)", s.Name, s.Database, s.Database)
	case !allowed:
		return nil, fmt.Errorf("replication slot %s: dropping a slot takes the REPLICATION attribute or a superuser (ALTER ROLE … REPLICATION)", s.Name)
	}
	stmt := "SELECT pg_drop_replication_slot(" + report.Literal(s.Name) + ")"
	step := Step{Title: "drop the inactive " + s.Type + " replication slot " + s.Name, Target: s.Name, Statements: []string{stmt},
		Lock: "none (the slot only)", Destructive: true, EstBytes: s.RetainedBytes, Unit: "slots",
		run: func(ctx context.Context, r *runner, i int) (int64, error) {
			now, err := findSlot(ctx, r.conn, s.Name)
			if err != nil {
				return 0, skip(err.Error())
			}
			if now.Active {
				return 0, fmt.Errorf("replication slot %s became active since the plan was made (%s): not dropped", s.Name, slotHolder(now.ActivePID))
			}
			if _, err := r.conn.Exec(ctx, `SELECT pg_drop_replication_slot($1)`, s.Name); err != nil {
				return 0, err
			}
			if now.RetainedBytes != nil {
				r.mu.Lock()
				r.freed = *now.RetainedBytes
				r.mu.Unlock()
			}
			r.emit(Event{Kind: Progress, Step: i, Done: 1, Total: 1, Unit: "slots"})
			return 0, nil
		}}
	p := &Plan{Target: "replication slot " + s.Name, Created: time.Now(), Tables: []TableSummary{}, Refused: []Refusal{}, Steps: []Step{step}}
	held := "no WAL (it has no restart_lsn)"
	if s.RetainedBytes != nil {
		held = bkBytes(*s.RetainedBytes) + " of WAL"
	}
	p.Notes = append(p.Notes,
		"the slot holds back "+held+": the next checkpoint removes or recycles the WAL no longer needed (less what min_wal_size and wal_keep_size keep)",
		"whatever used this slot loses its place: a physical replica must be rebuilt from a new base backup, a logical subscriber re-synchronised")
	return p, nil
}

func findSlot(ctx context.Context, conn *pgx.Conn, name string) (Slot, error) {
	slots, err := ReadSlots(ctx, conn)
	if err != nil {
		return Slot{}, err
	}
	for _, s := range slots {
		if s.Name == name {
			return s, nil
		}
	}
	return Slot{}, fmt.Errorf("no replication slot %q", name)
}

func slotHolder(pid *int32) string {
	if pid == nil {
		return "in use"
	}
	return fmt.Sprintf("by process %d", *pid)
}
