package demo

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// dailyView is the continuous aggregate over option_chain_snapshots.
const dailyView = "option_chain_daily"

// dailySelect is the aggregate's query: per UTC day, exchange and symbol,
// the quotes stored, the mean implied volatility and the day's largest
// open interest. bucket is the bucketing expression.
func dailySelect(bucket string) string {
	return `SELECT ` + bucket + ` AS day, exchange, symbol,
	count(*) AS quotes, round(avg(iv), 4) AS avg_iv, max(open_interest) AS max_open_interest
FROM public.option_chain_snapshots
GROUP BY 1, 2, 3`
}

// createDailyAggregate makes option_chain_daily a continuous aggregate,
// materialized at once, with a refresh policy: every hour it recomputes the
// last 30 days up to an hour ago. The window starts well inside
// option_chain_snapshots' 90-day retention, so a retention cleanup never
// drops raw chunks a refresh would still read (TimescaleDB would then
// delete the aggregated days). Without TimescaleDB it is a plain
// materialized view of the same rows, so queries against it work in both
// modes.
func createDailyAggregate(ctx context.Context, conn *pgx.Conn, ts *timescale) error {
	view := pgx.Identifier{"public", dailyView}.Sanitize()
	if ts == nil {
		// date_bin on a UTC origin buckets by UTC day whatever the
		// session's TimeZone, as time_bucket does.
		sql := "CREATE MATERIALIZED VIEW " + view + " AS " + dailySelect(`date_bin(interval '1 day', "timestamp", timestamptz '2000-01-01 00:00+00')`)
		if _, err := conn.Exec(ctx, sql); err != nil {
			return fmt.Errorf("creating %s: %w", dailyView, err)
		}
		return nil
	}
	// One statement without parameters goes over the simple protocol, so
	// it runs outside a transaction block, as WITH DATA requires.
	sql := "CREATE MATERIALIZED VIEW " + view + " WITH (timescaledb.continuous) AS " +
		dailySelect(ts.fn("time_bucket")+`(interval '1 day', "timestamp")`) + " WITH DATA"
	if _, err := conn.Exec(ctx, sql); err != nil {
		return fmt.Errorf("creating %s: %w", dailyView, err)
	}
	return nil
}

// addRefreshPolicy schedules the aggregate's refresh. It is added last,
// once compression is done, so its first run does not compete with the
// seed.
func addRefreshPolicy(ctx context.Context, conn *pgx.Conn, ts *timescale) error {
	_, err := conn.Exec(ctx, "SELECT "+ts.fn("add_continuous_aggregate_policy")+`($1::regclass,
		start_offset => interval '30 days', end_offset => interval '1 hour', schedule_interval => interval '1 hour')`,
		pgx.Identifier{"public", dailyView}.Sanitize())
	if err != nil {
		return fmt.Errorf("adding the refresh policy of %s: %w", dailyView, err)
	}
	return nil
}
