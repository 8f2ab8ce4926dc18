package demo

import (
	"context"
	"fmt"
	"sync"

	"github.com/jackc/pgx/v5"
)

// workers is how many sessions fill and compress at once. Every statement
// of the seed is CPU-bound in its server backend, so a second session
// halves the wall time on the two-core machines the demo is meant for
// (and costs nothing but a connection on bigger ones).
const workers = 2

// job is one independent step. Jobs that draw from random() must run all
// their statements on one session (after their own setseed), so that the
// rows do not depend on which session ran what.
type job struct {
	name string
	run  func(ctx context.Context, conn *pgx.Conn) error
}

// runJobs runs the jobs, in order, on the caller's connection and
// workers-1 more opened with its configuration (statement_timeout lifted as
// on the caller's). The first error cancels the jobs not yet started and
// the statements in flight, and is returned.
func runJobs(ctx context.Context, conn *pgx.Conn, jobs []job) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	conns := []*pgx.Conn{conn}
	for len(conns) < min(workers, len(jobs)) {
		side, err := pgx.ConnectConfig(ctx, conn.Config().Copy())
		if err != nil {
			return fmt.Errorf("opening a second session: %w", err)
		}
		defer side.Close(context.WithoutCancel(ctx))
		if _, err := liftStatementTimeout(ctx, side); err != nil {
			return err
		}
		conns = append(conns, side)
	}
	queue := make(chan job, len(jobs))
	for _, j := range jobs {
		queue <- j
	}
	close(queue)
	var (
		wg    sync.WaitGroup
		once  sync.Once
		first error
	)
	for _, c := range conns {
		wg.Go(func() {
			for j := range queue {
				if ctx.Err() != nil {
					return
				}
				if err := j.run(ctx, c); err != nil {
					once.Do(func() { first = err; cancel() })
					return
				}
			}
		})
	}
	wg.Wait()
	if first == nil && ctx.Err() != nil {
		return ctx.Err()
	}
	return first
}
