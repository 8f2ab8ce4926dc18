package demo

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// IdleSlot is the replication slot the demo leaves for triage to find: a
// physical slot no standby ever connected to, the kind left behind by a
// decommissioned replica, which keeps the server from recycling WAL.
const IdleSlot = "pgtend_demo_idle"

// createIdleSlot creates IdleSlot reserving WAL at once (the second
// argument of pg_create_physical_replication_slot), so the WAL every later
// statement writes is held for it. A physical slot reserves from the last
// checkpoint's redo point, so a CHECKPOINT comes first: without it the slot
// would hold all the WAL of the seed, hundreds of MB, not a little. A slot
// belongs to the cluster, not the database: one left by an earlier seed on
// the same cluster is kept.
func createIdleSlot(ctx context.Context, conn *pgx.Conn) error {
	if _, err := conn.Exec(ctx, "CHECKPOINT"); err != nil {
		return fmt.Errorf("checkpoint before creating replication slot %s: %w", IdleSlot, err)
	}
	_, err := conn.Exec(ctx, `SELECT pg_create_physical_replication_slot($1, true)
		WHERE NOT EXISTS (SELECT 1 FROM pg_replication_slots WHERE slot_name = $1)`, IdleSlot)
	if err != nil {
		return fmt.Errorf("creating replication slot %s: %w", IdleSlot, err)
	}
	return nil
}
