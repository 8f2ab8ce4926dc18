package demo

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/jackc/pgx/v5"
)

// chainColumns are option_chain_snapshots' columns in the order
// appendSnapshot writes them.
var chainColumns = []string{"timestamp", "exchange", "symbol", "expiry", "strike", "option_type",
	"bid", "ask", "last", "volume", "open_interest", "iv", "delta", "gamma", "theta", "vega"}

// copyDays streams days [first, first+n) of a table's rows, as appendDay
// writes them in COPY text, into the table with COPY. The option chains and
// features are generated here rather than by the server: at their volume,
// INSERT … SELECT spends several times as long evaluating the formulas as
// COPY takes to store the rows.
func copyDays(ctx context.Context, conn *pgx.Conn, table string, columns []string, first, n int, appendDay func([]byte, int) []byte) (int64, error) {
	cols := make([]string, len(columns))
	for i, c := range columns {
		cols[i] = pgx.Identifier{c}.Sanitize()
	}
	sql := fmt.Sprintf("COPY %s (%s) FROM STDIN", pgx.Identifier{"public", table}.Sanitize(), strings.Join(cols, ", "))
	tag, err := conn.PgConn().CopyFrom(ctx, &dayReader{day: first, end: first + n, appendDay: appendDay}, sql)
	if err != nil {
		return 0, fmt.Errorf("filling %s: %w", table, err)
	}
	return tag.RowsAffected(), nil
}

// dayReader is an io.Reader of COPY text that generates one day at a time,
// so a batch never sits in memory whole.
type dayReader struct {
	day, end  int
	appendDay func([]byte, int) []byte
	buf       []byte
	off       int
}

func (r *dayReader) Read(p []byte) (int, error) {
	for r.off == len(r.buf) {
		if r.day >= r.end {
			return 0, io.EOF
		}
		r.buf, r.off = r.appendDay(r.buf[:0], r.day), 0
		r.day++
	}
	n := copy(p, r.buf[r.off:])
	r.off += n
	return n, nil
}
