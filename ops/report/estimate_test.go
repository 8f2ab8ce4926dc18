package report

import (
	"context"
	"testing"

	"github.com/pgtend/pgtend/ops/config"
	"github.com/pgtend/pgtend/ops/pgtest"
)

func TestEstimateIsCloseAndSaysSo(t *testing.T) {
	conn := connect(t, pgtest.NewDatabase(t))
	exec(t, conn, unseededSchema)
	exec(t, conn, "VACUUM ANALYZE")
	exact := collect(t, conn, config.Policy{})
	est, err := Estimate(context.Background(), conn, config.Policy{})
	if err != nil {
		t.Fatal(err)
	}
	if !est.Estimated || exact.Estimated {
		t.Fatalf("estimated flags: estimate %v, collect %v", est.Estimated, exact.Estimated)
	}
	if len(est.Tables) != len(exact.Tables) || len(est.Chunks) != len(exact.Chunks) {
		t.Fatalf("estimate lists %d tables / %d chunks, collect %d / %d", len(est.Tables), len(est.Chunks), len(exact.Tables), len(exact.Chunks))
	}
	for i, e := range est.Tables {
		x := exact.Tables[i]
		if e.Name != x.Name || e.TotalBytes == nil {
			t.Fatalf("table %d: %s vs %s", i, e.Name, x.Name)
		}
		// relpages counts the main fork only (no free space or visibility
		// map), as of the VACUUM above: never more than the files, and
		// most of them.
		if *e.TotalBytes > *x.TotalBytes || float64(*e.TotalBytes) < 0.6*float64(*x.TotalBytes) {
			t.Errorf("%s: estimated %d bytes, measured %d", e.Name, *e.TotalBytes, *x.TotalBytes)
		}
	}
}
