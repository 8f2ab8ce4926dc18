package demo

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// createPartitions creates, for every time-series table, one partition per
// UTC day from the span's first day to aheadDays past Now, named
// <table>_pYYYYMMDD. There is deliberately no default partition: a row outside
// the covered days must fail loudly, as it does on a well-run partitioned
// system.
//
// Partitions go in multi-statement batches of batchDays days: one round trip
// and one implicit transaction each. Not all at once, because each new
// partition holds up to five locks (table, TOAST table and index, indexes)
// until commit, and a few thousand of them overflow the default lock table
// (max_locks_per_transaction 64 x max_connections). Each table is a job,
// two sessions at once (runJobs).
func createPartitions(ctx context.Context, conn *pgx.Conn, sp span) error {
	n := sp.days + aheadDays
	var jobs []job
	for _, t := range seriesTables() {
		jobs = append(jobs, job{name: t.name, run: func(ctx context.Context, conn *pgx.Conn) error {
			for first := 0; first < n; first += batchDays {
				var b strings.Builder
				for i := first; i < min(first+batchDays, n); i++ {
					from, to := sp.dayStart(i), sp.dayStart(i+1)
					name := t.name + "_p" + from.Format("20060102")
					fmt.Fprintf(&b, "CREATE TABLE %s PARTITION OF %s FOR VALUES FROM (%s) TO (%s);\n",
						pgx.Identifier{"public", name}.Sanitize(), t.ident(), tsLiteral(from), tsLiteral(to))
				}
				if _, err := conn.Exec(ctx, b.String()); err != nil {
					return fmt.Errorf("creating partitions of %s: %w", t.name, err)
				}
			}
			return nil
		}})
	}
	return runJobs(ctx, conn, jobs)
}

// tsLiteral renders a timestamptz literal with an explicit UTC offset, which
// PostgreSQL reads the same under every DateStyle and TimeZone.
func tsLiteral(t time.Time) string {
	return "'" + t.UTC().Format("2006-01-02 15:04:05.999999") + "+00'::timestamptz"
}
