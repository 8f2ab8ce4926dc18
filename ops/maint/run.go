package maint

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgconn/ctxwatch"
	"github.com/pgtend/pgtend/ops/config"
	"github.com/pgtend/pgtend/ops/pg"
)

// Options tune a run.
type Options struct {
	LockTimeout time.Duration // per statement; default 5 s
	LockRetries int           // further tries after a lock timeout; default 2
	BatchSize   int           // rows per DELETE transaction; default 10,000
	BatchPause  time.Duration // pause between DELETE batches
	ReadOnly    bool          // --read-only: refuse everything
	// Confirmed: the operator confirmed the plans of this run as they need
	// (--yes). A plan that deletes data or blocks writers
	// (Plan.NeedsConfirmation) is refused without it, or without its own
	// Plan.Confirm (the console's typed name), whoever the caller.
	Confirmed bool
	Policy    config.Policy // re-checked: permanent tables are refused here too
}

func (o Options) withDefaults() Options {
	if o.LockTimeout <= 0 {
		o.LockTimeout = 5 * time.Second
	}
	if o.LockRetries < 0 {
		o.LockRetries = 0
	} else if o.LockRetries == 0 {
		o.LockRetries = 2
	}
	if o.BatchSize <= 0 {
		o.BatchSize = 10000
	}
	return o
}

// skippedError ends a step that did nothing, with the reason: the
// server's words (VACUUM's "skipping …", chunks someone else dropped) or
// the plan's (the role may not do it).
type skippedError struct{ reason string }

func (e *skippedError) Error() string { return "skipped: " + e.reason }

func skip(reason string) error { return &skippedError{reason} }

// ErrNotConfirmed is returned when a plan that needs the operator's
// confirmation is run without it (Options.Confirmed): nothing ran.
var ErrNotConfirmed = errors.New("not confirmed")

// ErrReadOnly is returned when a run is refused because pgtend or the
// session is read-only.
var ErrReadOnly = errors.New("read-only")

// runner carries a run's connections: conn runs the statements, watch
// polls progress and names lock holders from a second session.
type runner struct {
	conn, watch *pgx.Conn
	pid         uint32
	opts        Options
	plan        *Plan
	mu          sync.Mutex
	emitFn      func(Event)
	step        int
	// freed is what the step in flight actually removed, in bytes: its run
	// sets it (a chunk already gone, a partition someone else detached,
	// free nothing); the finished event reports it. estRows is the
	// catalog's rows of the chunks or partitions it dropped.
	freed, estRows int64
	notices        []string // the server's messages during the step in flight
}

// setStep starts step i: what it removed and what the server said so far
// are its own.
func (r *runner) setStep(i int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.step, r.freed, r.estRows, r.notices = i, 0, 0, nil
}

// noted passes a server message on as a log line and keeps it for the
// step, which may judge by it what really happened.
func (r *runner) noted(msg string) {
	r.mu.Lock()
	r.notices = append(r.notices, msg)
	step := r.step
	r.mu.Unlock()
	r.emit(Event{Kind: Log, Step: step, Message: msg})
}

// stepNotices are the server's messages during the step in flight.
func (r *runner) stepNotices() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.notices)
}

func (r *runner) emit(e Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e.At = time.Now()
	e.Of = len(r.plan.Steps)
	r.emitFn(e)
}

// guard refuses a plan that must not run: one not confirmed that needs it,
// --read-only, a read-only session
// (default_transaction_read_only, a standby) for a plan that changes the
// database (a backup does not), or a destructive step on a
// permanent table. Run calls it, so every caller — console or headless —
// gets the same refusals.
func guard(ctx context.Context, conn *pgx.Conn, plan *Plan, opts Options) error {
	if plan.NeedsConfirmation() && !opts.Confirmed && !plan.confirmed {
		return fmt.Errorf("%w: the %s plan %s and was not confirmed: nothing ran", ErrNotConfirmed, plan.Action, plan.WhyConfirm())
	}
	if opts.ReadOnly {
		return fmt.Errorf("%w: pgtend runs with --read-only; %s changes the database", ErrReadOnly, plan.Action)
	}
	if plan.filesOnly {
		return nil // it writes files, not the database
	}
	var ro bool
	if err := conn.QueryRow(ctx, `SELECT current_setting('transaction_read_only') = 'on' OR pg_is_in_recovery()`).Scan(&ro); err != nil {
		return err
	}
	if ro {
		return fmt.Errorf("%w: the session is read-only (default_transaction_read_only, or a standby): %s changes the database", ErrReadOnly, plan.Action)
	}
	return refusePermanent(ctx, conn, plan, opts.Policy)
}

// refusePermanent fails when a destructive step serves a table the policy
// marks permanent, resolving both names the way the report resolves policy
// names (to_regclass: search_path, quoting), not by comparing text.
func refusePermanent(ctx context.Context, conn *pgx.Conn, plan *Plan, policy config.Policy) error {
	var permanent, targets, titles []string
	for _, t := range policy.Tables {
		if t.Permanent {
			permanent = append(permanent, pgx.Identifier(t.NameParts()).Sanitize())
		}
	}
	for _, s := range plan.Steps {
		if s.Destructive && s.Table != "" { // files and slots serve no table
			targets, titles = append(targets, s.Table), append(titles, s.Title)
		}
	}
	if len(permanent) == 0 || len(targets) == 0 {
		return nil
	}
	var hit *int
	err := conn.QueryRow(ctx, `SELECT min(i)::int FROM unnest($1::text[]) WITH ORDINALITY AS s(name, i)
		WHERE to_regclass(s.name) IN (SELECT to_regclass(p) FROM unnest($2::text[]) p)`, targets, permanent).Scan(&hit)
	if err != nil {
		return fmt.Errorf("checking the policy's permanent tables: %w", err)
	}
	if hit != nil {
		return fmt.Errorf("%s is permanent in the policy: refusing %q", targets[*hit-1], titles[*hit-1])
	}
	return nil
}

// Run runs the plan on new connections to dsn, emitting events. The
// context cancels it: the statement in flight is cancelled in the server
// and batch loops stop between batches (each batch is its own
// transaction). Steps that fail (a lock not granted after the retries, an
// error) are reported and the run goes on with the next step; the outcome
// is then failed.
func Run(ctx context.Context, dsn string, settings pg.Settings, plan *Plan, opts Options, emit func(Event)) (Result, error) {
	opts = opts.withDefaults()
	res := Result{Outcome: OutcomeOK, Started: time.Now()}
	// Refused or broken before the first step: the run failed.
	failed := func(err error) (Result, error) {
		res.Outcome = OutcomeFailed
		return res, err
	}
	r := &runner{opts: opts, plan: plan, emitFn: emit}
	cfg, err := pg.ParseConfig(dsn, pg.Settings{StatementTimeout: 0, LockTimeout: opts.LockTimeout})
	if err != nil {
		return failed(err)
	}
	cfg.RuntimeParams["statement_timeout"] = "0" // maintenance may run long; cancel is the context's
	// On cancel, ask the server to cancel and wait for its answer (up to
	// 30 s) instead of dropping the socket: the step then reports what
	// really happened — a drop_chunks or a DELETE batch that was already
	// committing did commit — and the history counts it.
	cfg.BuildContextWatcherHandler = func(pc *pgconn.PgConn) ctxwatch.Handler {
		return &pgconn.CancelRequestContextWatcherHandler{Conn: pc, DeadlineDelay: 30 * time.Second}
	}
	cfg.OnNotice = func(_ *pgconn.PgConn, n *pgconn.Notice) {
		r.noted(n.Severity + ": " + n.Message)
	}
	if r.conn, err = pgx.ConnectConfig(ctx, cfg); err != nil {
		return failed(err)
	}
	defer r.conn.Close(context.Background())
	if r.watch, err = pg.Connect(ctx, dsn, settings); err != nil {
		return failed(err)
	}
	defer r.watch.Close(context.Background())
	if err := guard(ctx, r.conn, plan, opts); err != nil {
		return failed(err)
	}
	r.pid = r.conn.PgConn().PID()
	_ = r.watch.QueryRow(ctx, "SELECT pg_database_size(current_database())").Scan(&res.BytesBefore)

	for i, s := range plan.Steps {
		if ctx.Err() != nil {
			break
		}
		r.setStep(i)
		r.emit(Event{Kind: StepStarted, Step: i, Title: s.Title, Unit: s.Unit})
		start := time.Now()
		var rows int64
		var err error
		if s.Denied != "" {
			err = skip(s.Denied) // foreseen when the plan was made: not even tried
		} else {
			rows, err = r.withLockRetries(ctx, i, s)
		}
		res.Rows += rows
		res.EstimatedRows += r.estRows
		var skipped *skippedError
		switch {
		case errors.As(err, &skipped):
			if res.Outcome == OutcomeOK {
				res.Outcome = OutcomeSkipped
			}
			res.Skipped = append(res.Skipped, s.Title+": "+skipped.reason)
			r.emit(Event{Kind: StepSkipped, Step: i, Title: s.Title, Rows: rows, Message: skipped.reason, Duration: time.Since(start)})
		case err != nil && ctx.Err() != nil:
			r.emit(Event{Kind: StepCancelled, Step: i, Title: s.Title, Rows: rows, EstimatedRows: r.estRows, Bytes: r.freed, Duration: time.Since(start)})
		case err != nil:
			res.Outcome = OutcomeFailed // over skipped too: a failure matters more
			res.Failed = append(res.Failed, s.Title+": "+err.Error())
			r.emit(Event{Kind: StepFailed, Step: i, Title: s.Title, Rows: rows, Duration: time.Since(start), Err: err})
		default:
			r.emit(Event{Kind: StepFinished, Step: i, Title: s.Title, Rows: rows, EstimatedRows: r.estRows, Bytes: r.freed, Duration: time.Since(start)})
		}
	}
	if ctx.Err() != nil {
		res.Outcome = OutcomeCancelled
	}
	// The main connection survives a cancel (see above); the watch one may
	// have been closed mid-poll.
	_ = r.conn.QueryRow(context.Background(), "SELECT pg_database_size(current_database())").Scan(&res.BytesAfter)
	res.Finished = time.Now()
	return res, nil
}

// withLockRetries runs a step, trying again when its lock was not granted
// within the lock timeout: a busy table is retried, then skipped with the
// holders named, and never waited on forever while writers queue behind.
func (r *runner) withLockRetries(ctx context.Context, i int, s Step) (int64, error) {
	var total int64
	for attempt := 0; ; attempt++ {
		rows, err := s.run(ctx, r, i)
		total += rows
		if !isLockTimeout(err) {
			return total, err
		}
		holders := r.lockHolders(s.Target)
		if attempt >= r.opts.LockRetries {
			return total, fmt.Errorf("could not lock %s within %s (%d tries): %s", s.Target, r.opts.LockTimeout, attempt+1, holders)
		}
		r.emit(Event{Kind: Log, Step: i, Message: fmt.Sprintf("lock on %s not granted within %s (%s); trying again", s.Target, r.opts.LockTimeout, holders)})
		select {
		case <-ctx.Done():
			return total, ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

// isLockTimeout: the lock was not granted within lock_timeout (55P03), or
// the server broke a deadlock (40P01) — drop_chunks against TimescaleDB's
// compression job does that within deadlock_timeout. Both are worth a retry.
func isLockTimeout(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && (pgErr.Code == "55P03" || pgErr.Code == "40P01")
}

// lockHolders names the other sessions holding locks on the relation.
func (r *runner) lockHolders(target string) string {
	return lockers(r.watch, target, false, r.pid)
}
