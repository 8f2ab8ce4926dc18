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
// Each table's partitions go in one multi-statement batch: one round trip,
// and one implicit transaction, so a table ends up with all its partitions or
// none. Batching per table rather than all at once keeps a transaction to a
// few hundred relations' locks, which fits the default lock table.
func createPartitions(ctx context.Context, conn *pgx.Conn, sp span) error {
	n := sp.days + aheadDays
	for _, t := range seriesTables() {
		var b strings.Builder
		for i := range n {
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
}

// tsLiteral renders a timestamptz literal with an explicit UTC offset, which
// PostgreSQL reads the same under every DateStyle and TimeZone.
func tsLiteral(t time.Time) string {
	return "'" + t.UTC().Format("2006-01-02 15:04:05.999999") + "+00'::timestamptz"
}
