package report

import (
	"context"
	"testing"
	"time"

	"github.com/pgtend/pgtend/ops/config"
	"github.com/pgtend/pgtend/ops/pgtest"
)

// A relation over 1 GB is stored in several segment files; measured by
// files, its size must still equal pg_total_relation_size.
func TestFilesOfARelationOverOneSegment(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 1.1 GB")
	}
	conn := connect(t, pgtest.NewDatabase(t))
	start := time.Now()
	exec(t, conn, `CREATE UNLOGGED TABLE big (v text);
		INSERT INTO big SELECT repeat('x', 1900) FROM generate_series(1, 560000)`)
	t.Logf("wrote the table in %v", time.Since(start).Round(time.Millisecond))
	var want, main int64
	if err := conn.QueryRow(context.Background(), "SELECT pg_total_relation_size('big'), pg_relation_size('big')").Scan(&want, &main); err != nil {
		t.Fatal(err)
	}
	if main <= 1<<30 {
		t.Fatalf("main fork is %d bytes: not over one segment", main)
	}
	r := collect(t, conn, config.Policy{})
	got := find(t, r, "public", "big")
	if got.TotalBytes == nil || *got.TotalBytes != want {
		t.Errorf("files say %v, pg_total_relation_size %d", got.TotalBytes, want)
	}
	exec(t, conn, "DROP TABLE big")
}
