// Package pgtest gives test packages one throwaway cluster each (started in
// TestMain) and a fresh database per test, so tests never share state.
package pgtest

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pgtend/pgtend/ops/cluster"
)

// Cluster is the package's running cluster, set by Main.
var Cluster *cluster.Cluster

var dbSeq atomic.Int64

// Main starts the cluster, runs the tests and destroys the cluster. Use it as
// `func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }`.
func Main(m *testing.M) int { return MainWith(m, cluster.Options{}) }

// MainWith is Main with cluster options (e.g. pg_hba.conf lines).
func MainWith(m *testing.M, opts cluster.Options) int {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	if opts.CronDatabase == "" {
		opts.CronDatabase = CronDatabase
	}
	c, err := cluster.Start(ctx, opts)
	if err == nil {
		err = prepareCron(ctx, c)
	}
	cancel()
	if err != nil {
		fmt.Fprintf(os.Stderr, "pgtest: cannot start the throwaway PostgreSQL cluster: %v\n", err)
		return 1
	}
	if !c.Timescale {
		fmt.Fprintln(os.Stderr, "pgtest: WARNING: TimescaleDB is not installed on this machine; hypertable tests will be SKIPPED")
	}
	if !c.Cron {
		fmt.Fprintln(os.Stderr, "pgtest: WARNING: pg_cron is not installed on this machine; pg_cron tests will be SKIPPED")
	}
	Cluster = c
	code := m.Run()
	if err := c.Destroy(); err != nil {
		fmt.Fprintf(os.Stderr, "pgtest: destroying cluster: %v\n", err)
	}
	return code
}

// NewDatabase creates an empty database for this test and returns its DSN.
func NewDatabase(t testing.TB) string {
	t.Helper()
	if Cluster == nil {
		t.Fatal("pgtest.Main was not called from TestMain")
	}
	name := fmt.Sprintf("t%d_%s", dbSeq.Add(1), strings.ToLower(sanitize(t.Name())))
	if len(name) > 60 {
		name = name[:60]
	}
	dsn, err := Cluster.CreateDatabase(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	return dsn
}

// RequireTimescale skips the test, loudly, when TimescaleDB is not installed.
func RequireTimescale(t testing.TB) {
	t.Helper()
	if Cluster == nil || !Cluster.Timescale {
		t.Skip("SKIPPED: TimescaleDB is not installed on this machine (not in Debian's packages); hypertable code paths are untested here")
	}
}

// EachMode runs f as a subtest for each mode, named by it: native
// partitions, then TimescaleDB hypertables (skipped, loudly, without
// TimescaleDB). Generic, so that pgtest need not import ops/demo, whose
// own tests use pgtest.
func EachMode[M fmt.Stringer](t *testing.T, native, timescale M, f func(t *testing.T, mode M)) {
	t.Helper()
	for i, m := range []M{native, timescale} {
		t.Run(m.String(), func(t *testing.T) {
			if i == 1 {
				RequireTimescale(t)
			}
			f(t, m)
		})
	}
}

func sanitize(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}
