package demo

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

// Object is one thing the demo makes on purpose for a pane or an action
// to show, so that nobody mistakes it for a problem of theirs: `pgtend demo
// --help` lists them all.
type Object struct {
	Name, What string
}

// Objects lists what a demo holds besides the six tables' rows: what the
// rows are made to show (Seed), the extras (Options.Extras) and the files
// (WriteFiles).
var Objects = []Object{
	{"compressed chunks", "option_chain_snapshots' and ml_features' chunks older than 7 days, segmented by exchange (TimescaleDB only)"},
	{"rows past retention", "the default policy keeps 60 to 180 days of 200: older chunks and partitions for the retention cleanup"},
	{"instruments", "a reference table without retention; trade_history.symbol has a foreign key to it"},
	{"open_orders", "a day of orders, 19 in 20 deleted: dead tuples (VACUUM) and indexes about 5% full (REINDEX)"},
	{dailyView, "a continuous aggregate of option_chain_snapshots refreshed hourly by a policy (with --native, a materialized view)"},
	{IdleSlot, "an inactive physical replication slot holding a little WAL"},
	{"backups/", "the demo policy's [backup] dir, with one pg_dump -Fc backup as a nightly cron leaves it, never verified: pgtend_demo_YYYYmmdd_HHMMSS.dump " +
		"(Health counts only verified backups and offers b for one)"},
	{"models/, trade_logs/", "the demo policy's [archive]: models/ archived whole (weekly), trade_logs/ by month (a log a month, last month's in last month's archive)"},
}

// addExtras creates what Options.Extras asks for, but option_chain_daily
// (Seed makes it before compressing: it reads the rows faster then). The
// slot is created last, so that it holds only the little WAL written after
// it (the amendments and the final ANALYZE), not the whole seed's.
func addExtras(ctx context.Context, conn *pgx.Conn, ts *timescale, now time.Time, progress func(string)) error {
	progress("creating instruments and open_orders")
	if err := createInstruments(ctx, conn); err != nil {
		return err
	}
	if err := createOpenOrders(ctx, conn, now); err != nil {
		return err
	}
	if ts != nil {
		if err := addRefreshPolicy(ctx, conn, ts); err != nil {
			return err
		}
	}
	progress("creating replication slot " + IdleSlot)
	if err := createIdleSlot(ctx, conn); err != nil {
		return err
	}
	return amendOpenOrders(ctx, conn, now)
}
