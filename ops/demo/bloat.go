package demo

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

const (
	// ordersPlaced is one day of a gateway's orders; all but one in
	// ordersKept are deleted once filled or cancelled.
	ordersPlaced = 100_000
	ordersKept   = 20
	// ordersAmended is one in so many of the open orders amended after the
	// VACUUM: ~700 dead tuples, under autovacuum's threshold (50 + 20% of
	// 5,000 rows), so they stay for the console to show.
	ordersAmended = 7
)

// createOpenOrders makes the table whose churn leaves what VACUUM and
// REINDEX are for: a day of orders inserted, 19 in 20 deleted as they fill,
// VACUUM run (the heap's space becomes reusable, but the indexes keep every
// page that still holds one live entry: each about 5% full), then some open
// orders amended, leaving dead tuples behind. Everything is ordinary SQL
// an order gateway runs all day.
func createOpenOrders(ctx context.Context, conn *pgx.Conn, now time.Time) error {
	if _, err := conn.Exec(ctx, `CREATE TABLE public.open_orders (
	id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	placed_at timestamptz NOT NULL,
	symbol text NOT NULL,
	side text NOT NULL,
	quantity int NOT NULL,
	limit_price numeric(12,4) NOT NULL,
	status text NOT NULL,
	updated_at timestamptz NOT NULL
);
CREATE INDEX open_orders_status_updated_at_idx ON public.open_orders (status, updated_at)`); err != nil {
		return fmt.Errorf("creating open_orders: %w", err)
	}
	// A fixed interval ending at Now, so the rows do not depend on the
	// session's TimeZone or on when the seed ran.
	if _, err := conn.Exec(ctx, `INSERT INTO public.open_orders (placed_at, symbol, side, quantity, limit_price, status, updated_at)
		SELECT at, `+symbolArray()+`[g % 6 + 1], CASE WHEN g % 2 = 0 THEN 'buy' ELSE 'sell' END,
		       1 + g % 97, round((`+floatArray(func(i int) float64 { return symbols[i].base }, len(symbols))+`[g % 6 + 1] * (0.97 + (g % 61) / 1000.0))::numeric, 4),
		       'open', at
		FROM generate_series(1, $2::int) g
		CROSS JOIN LATERAL (SELECT $1::timestamptz - interval '1 day' + g * interval '1 day' / $2::int AS at) t`, now, ordersPlaced); err != nil {
		return fmt.Errorf("filling open_orders: %w", err)
	}
	if _, err := conn.Exec(ctx, fmt.Sprintf("DELETE FROM public.open_orders WHERE id %% %d <> 0", ordersKept)); err != nil {
		return fmt.Errorf("churning open_orders: %w", err)
	}
	// The DELETE's dead tuples reach the statistics before the VACUUM
	// counts them gone: a backend flushes its counts at most once a second,
	// and flushed after the VACUUM they would count 95,000 dead tuples that
	// are not there, which autovacuum would then vacuum, taking the amended
	// orders' dead tuples with them.
	if err := flushStats(ctx, conn); err != nil {
		return err
	}
	if _, err := conn.Exec(ctx, "VACUUM public.open_orders"); err != nil {
		return fmt.Errorf("churning open_orders: %w", err)
	}
	return nil
}

// amendOpenOrders updates some open orders, each update leaving a dead
// tuple (and, since status is indexed, new index entries).
func amendOpenOrders(ctx context.Context, conn *pgx.Conn, now time.Time) error {
	_, err := conn.Exec(ctx, fmt.Sprintf(`UPDATE public.open_orders SET status = 'partially_filled', updated_at = $1
		WHERE id %% %d = 0`, ordersKept*ordersAmended), now)
	if err != nil {
		return fmt.Errorf("amending open_orders: %w", err)
	}
	return flushStats(ctx, conn) // shown at once, not within the second
}

// flushStats has this session's table statistics counted now
// (pg_stat_force_next_flush, PostgreSQL 15+; before it, the statistics
// collector takes them as it goes).
func flushStats(ctx context.Context, conn *pgx.Conn) error {
	var has bool
	if err := conn.QueryRow(ctx, "SELECT to_regproc('pg_catalog.pg_stat_force_next_flush') IS NOT NULL").Scan(&has); err != nil || !has {
		return err
	}
	_, err := conn.Exec(ctx, "SELECT pg_stat_force_next_flush()")
	return err
}
