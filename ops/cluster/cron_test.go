package cluster

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// pg_cron, when installed, is preloaded with TimescaleDB: its jobs kept in
// CronDatabase and run over the cluster's socket; NoCron leaves it out.
func TestCronPreloaded(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for _, opts := range []Options{{CronDatabase: "jobs"}, {NoCron: true}} {
		c, err := Start(ctx, opts)
		if err != nil {
			t.Fatal(err)
		}
		conn, err := pgx.Connect(ctx, c.DSN("postgres"))
		if err != nil {
			c.Destroy()
			t.Fatal(err)
		}
		var available bool
		var preload, database, host string
		err = conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'pg_cron'), current_setting('shared_preload_libraries'),
			coalesce(current_setting('cron.database_name', true), ''), coalesce(current_setting('cron.host', true), '')`).Scan(&available, &preload, &database, &host)
		conn.Close(ctx)
		c.Destroy()
		if err != nil {
			t.Fatal(err)
		}
		libs := strings.Split(preload, ",")
		switch {
		case !available:
			t.Log("PG_CRON NOT INSTALLED: clusters run without it")
			return
		case opts.NoCron:
			if c.Cron || slices.Contains(libs, "pg_cron") {
				t.Errorf("NoCron: preloaded %q, Cron %v", preload, c.Cron)
			}
		default:
			if !c.Cron || c.CronDatabase != "jobs" || !slices.Contains(libs, "pg_cron") || database != "jobs" || host != c.SocketDir() {
				t.Errorf("pg_cron: Cron %v in %q; preload %q, cron.database_name %q, cron.host %q (socket %s)", c.Cron, c.CronDatabase, preload, database, host, c.SocketDir())
			}
			if c.Timescale != slices.Contains(libs, "timescaledb") {
				t.Errorf("Timescale %v, preload %q", c.Timescale, preload)
			}
		}
	}
}
