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
	policy := config.Policy{Tables: []config.TablePolicy{{Name: "docs", TimeColumn: "created", RetentionDays: 5}}}
	exact := collect(t, conn, policy)
	est, err := Estimate(context.Background(), conn, policy)
	if err != nil {
		t.Fatal(err)
	}
	if !est.Estimated || exact.Estimated || est.MeasuredBy != MeasuredByEstimates {
		t.Fatalf("estimated flags: estimate %v (%s), collect %v", est.Estimated, est.MeasuredBy, exact.Estimated)
	}
	// An estimate reads no row: what lies past retention in a plain table
	// is unknown until the measured report, not zero.
	if docs := find(t, est, "public", "docs"); docs.ExpiredBytes != nil || docs.Oldest != nil {
		t.Errorf("estimated docs: past retention %v, oldest %v; want unknown", docs.ExpiredBytes, docs.Oldest)
	}
	if docs := find(t, exact, "public", "docs"); docs.ExpiredBytes == nil || *docs.ExpiredBytes == 0 {
		t.Errorf("measured docs: past retention %v", docs.ExpiredBytes)
	}
	if len(est.Tables) != len(exact.Tables) || len(est.Chunks) != len(exact.Chunks) {
		t.Fatalf("estimate lists %d tables / %d chunks, collect %d / %d", len(est.Tables), len(est.Chunks), len(exact.Tables), len(exact.Chunks))
	}
	for i, e := range est.Tables {
		x := exact.Tables[i]
		if e.Name != x.Name || e.TotalBytes == nil {
			t.Fatalf("table %d: %s vs %s", i, e.Name, x.Name)
		}
		// relpages as of the VACUUM above, plus the usual free space and
		// visibility maps: never more than the files, and most of them.
		if *e.TotalBytes > *x.TotalBytes || float64(*e.TotalBytes) < 0.6*float64(*x.TotalBytes) {
			t.Errorf("%s: estimated %d bytes, measured %d", e.Name, *e.TotalBytes, *x.TotalBytes)
		}
	}
}
