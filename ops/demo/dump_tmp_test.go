package demo

import (
	"context"
	"testing"
)

func TestDumpSQL(t *testing.T) {
	conn, res := seedFresh(t, Options{Days: testDays, Now: testNow, Mode: Timescale})
	logSizes(t, conn, res)
	rows, err := conn.Query(context.Background(), `SELECT chunk_name, before_compression_table_bytes, before_compression_index_bytes, before_compression_toast_bytes, after_compression_table_bytes, after_compression_index_bytes, after_compression_toast_bytes FROM chunk_compression_stats('option_chain_snapshots') WHERE compression_status='Compressed' LIMIT 3`)
	if err != nil { t.Fatal(err) }
	for rows.Next() {
		var a string
		var b, c, d, e, f, g int64
		rows.Scan(&a, &b, &c, &d, &e, &f, &g)
		t.Log(a, b, c, d, e, f, g)
	}
	rows, err = conn.Query(context.Background(), `SELECT chunk_name, table_bytes, index_bytes, toast_bytes, total_bytes FROM chunks_detailed_size('option_chain_snapshots') ORDER BY chunk_name LIMIT 3`)
	if err != nil { t.Fatal(err) }
	for rows.Next() {
		var a string
		var b, c, d, e int64
		rows.Scan(&a, &b, &c, &d, &e)
		t.Log(a, b, c, d, e)
	}
}
