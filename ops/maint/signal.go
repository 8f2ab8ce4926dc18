package maint

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Cancelling a query and terminating a session are plans like every other
// action — one step, its exact statement, who the session is — confirmed,
// then run; but they are not registry actions: their target is a server
// process, not a table, they count for no calendar task, and `pgtend plan
// --table` has nothing to offer them. The Health pane plans them for the
// session under its cursor; PlanSignal and RunSignal refuse here, whoever
// asks, what must never be signalled.

// Signal is what is done to a session.
type Signal string

// Signals.
const (
	// SignalCancel: pg_cancel_backend. The running query stops with
	// "canceling statement due to user request"; the session stays.
	SignalCancel Signal = "cancel"
	// SignalTerminate: pg_terminate_backend. The session ends and its open
	// transaction rolls back.
	SignalTerminate Signal = "terminate"
)

// Backend names the session a signal is for. Pids are reused: Start (its
// backend_start; zero when unknown) tells it from a later session that got
// its pid, which is refused.
type Backend struct {
	PID   int32
	Start time.Time
}

// SignalOptions are what a signal is refused by.
type SignalOptions struct {
	ReadOnly bool     // --read-only: every signal is refused
	OwnPIDs  []uint32 // pgtend's own sessions, besides the one the plan and run use
}

// SignalTimeout bounds a signal's run: terminating waits this long at most
// for the session to end.
const SignalTimeout = 15 * time.Second

// terminateWait is how long pg_terminate_backend waits for the session to
// be gone, in milliseconds.
const terminateWait = 5000

// ErrOwnSession refuses to signal one of pgtend's own sessions.
var ErrOwnSession = errors.New("one of pgtend's own sessions")

// target is a session as a signal checks it, at plan time and again when
// it runs.
type target struct {
	pid                                       int32
	start                                     *time.Time
	backendType, user, app, client, database  string
	state                                     string
	xactStart, queryStart, stateChange        *time.Time
	query                                     string
	hidden, maySignal, targetSuper, superuser bool
	role                                      string
	self                                      int32
}

const targetQuery = `
SELECT a.pid, a.backend_start, coalesce(a.backend_type, ''), coalesce(a.usename, ''), coalesce(a.application_name, ''),
       CASE WHEN a.client_addr IS NOT NULL THEN host(a.client_addr) || ':' || a.client_port
            WHEN a.client_port = -1 THEN '[local]' ELSE '' END,
       coalesce(a.datname, ''), coalesce(a.state, ''), a.xact_start, a.query_start, a.state_change,
       left(coalesce(a.query, ''), 2000), coalesce(a.query = '<insufficient privilege>', false),
       CASE WHEN (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN true
            WHEN a.usesysid IS NULL OR (SELECT rolsuper FROM pg_roles WHERE oid = a.usesysid) THEN false
            ELSE pg_has_role(current_user, a.usesysid, 'USAGE') OR pg_has_role(current_user, 'pg_signal_backend', 'USAGE') END,
       coalesce((SELECT rolsuper FROM pg_roles WHERE oid = a.usesysid), true),
       coalesce((SELECT rolsuper FROM pg_roles WHERE rolname = current_user), false),
       current_user, pg_backend_pid()
FROM pg_stat_activity a WHERE a.pid = $1`

// readTarget reads the session; found is false when no process has the pid.
func readTarget(ctx context.Context, conn *pgx.Conn, pid int32) (t target, found bool, err error) {
	err = conn.QueryRow(ctx, targetQuery, pid).Scan(&t.pid, &t.start, &t.backendType, &t.user, &t.app, &t.client, &t.database,
		&t.state, &t.xactStart, &t.queryStart, &t.stateChange, &t.query, &t.hidden, &t.maySignal, &t.targetSuper, &t.superuser, &t.role, &t.self)
	if errors.Is(err, pgx.ErrNoRows) {
		return t, false, nil
	}
	if err != nil {
		return t, false, fmt.Errorf("reading pid %d: %w", pid, err)
	}
	return t, true, nil
}

// refuse says why the session must not get the signal, "" when it may:
// pgtend's own sessions, server processes that are no client session, and
// sessions the role may not signal, with what would allow it.
func (t target) refuse(sig Signal, own []uint32) error {
	switch {
	case t.pid == t.self || slices.Contains(own, uint32(t.pid)) || t.app == "pgtend":
		return fmt.Errorf("pid %d is %w (application_name %q): pgtend never signals itself", t.pid, ErrOwnSession, t.app)
	case t.hidden:
		return fmt.Errorf("%s may not see who pid %d is (its state and query are hidden): pgtend signals only sessions it can show you first; GRANT pg_read_all_stats TO %s", t.role, t.pid, t.role)
	case t.backendType != "client backend":
		return fmt.Errorf("pid %d is a %s, not a client session: pgtend signals client sessions only", t.pid, t.backendType)
	case !t.maySignal && t.targetSuper:
		return &DeniedError{Role: t.role, Reasons: []string{fmt.Sprintf("only a superuser may %s a superuser's session (pid %d is %s's)", sig, t.pid, t.user)}}
	case !t.maySignal:
		return &DeniedError{Role: t.role, Reasons: []string{fmt.Sprintf("%s may not %s sessions of %s: GRANT pg_signal_backend TO %s, or GRANT %s TO %s",
			t.role, sig, t.user, t.role, t.user, t.role)}}
	}
	return nil
}

// sameSession: the pid is still the session the plan was made for.
func (t target) sameSession(start *time.Time) bool {
	if start == nil || t.start == nil {
		return start == nil && t.start == nil
	}
	return t.start.Equal(*start)
}

// who is "pid 4242 (user alice, application psql, client [local])".
func (t target) who() string {
	parts := []string{"user " + orDash(t.user), fmt.Sprintf("application %q", t.app)}
	if t.client != "" {
		parts = append(parts, "client "+t.client)
	}
	return fmt.Sprintf("pid %d (%s)", t.pid, strings.Join(parts, ", "))
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// statement is exactly what the step runs.
func (sig Signal) statement(pid int32) string {
	if sig == SignalTerminate {
		return fmt.Sprintf("SELECT pg_terminate_backend(%d, %d)", pid, terminateWait)
	}
	return fmt.Sprintf("SELECT pg_cancel_backend(%d)", pid)
}

// Heading is how the console heads a signal's plan: "terminate session".
func (sig Signal) Heading() string {
	if sig == SignalTerminate {
		return "terminate session"
	}
	return "cancel the query of"
}

// PlanSignal plans cancelling the query of a session, or terminating it.
// It changes nothing; it refuses, with the reason, --read-only, pgtend's
// own sessions, processes that are no client session, sessions the role
// may not signal, a pid now held by another session than b.Start says,
// and a cancel of a session running no query.
func PlanSignal(ctx context.Context, conn *pgx.Conn, sig Signal, b Backend, opts SignalOptions) (*Plan, error) {
	if sig != SignalCancel && sig != SignalTerminate {
		return nil, fmt.Errorf("unknown signal %q: use cancel or terminate", sig)
	}
	if opts.ReadOnly {
		return nil, fmt.Errorf("%w: pgtend runs with --read-only; it does not %s sessions", ErrReadOnly, sig)
	}
	ctx, cancel := context.WithTimeout(ctx, PlanTimeout)
	defer cancel()
	t, found, err := readTarget(ctx, conn, b.PID)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, fmt.Errorf("no session has pid %d any more: it has ended", b.PID)
	}
	if !b.Start.IsZero() && !t.sameSession(&b.Start) {
		return nil, fmt.Errorf("pid %d is another session now (connected %s, not %s): refresh and choose again",
			b.PID, stamp(t.start), b.Start.UTC().Format("2006-01-02 15:04:05"))
	}
	if err := t.refuse(sig, opts.OwnPIDs); err != nil {
		return nil, err
	}
	if sig == SignalCancel && t.state != "active" {
		return nil, fmt.Errorf("pid %d runs no query (%s): there is nothing to cancel; terminate the session instead", b.PID, orDash(t.state))
	}
	now := time.Now()
	stmt := sig.statement(t.pid)
	p := &Plan{Action: string(sig), Target: t.who(), Created: now, Tables: []TableSummary{}, Refused: []Refusal{}}
	title := fmt.Sprintf("%s %s", sig, t.who())
	if sig == SignalCancel {
		title = "cancel the query of " + t.who()
	}
	start := t.start
	p.Steps = []Step{{
		Title: title, Target: fmt.Sprintf("pid %d", t.pid), Statements: []string{stmt}, Unit: "sessions",
		run: func(ctx context.Context, r *runner, _ int) (int64, error) {
			own, _ := ctx.Value(ownPIDsKey{}).([]uint32)
			return runSignal(ctx, r.conn, sig, t.pid, start, stmt, append(slices.Clone(opts.OwnPIDs), own...))
		},
	}}
	since := func(label string, at *time.Time) string {
		if at == nil {
			return label + " -"
		}
		return fmt.Sprintf("%s %s (%s ago)", label, at.UTC().Format("2006-01-02 15:04:05 UTC"), now.Sub(*at).Truncate(time.Second))
	}
	state := orDash(t.state)
	if t.stateChange != nil {
		state += fmt.Sprintf(" for %s", now.Sub(*t.stateChange).Truncate(time.Second))
	}
	p.Notes = []string{
		fmt.Sprintf("who: pid %d, user %s, application %q, client %s, database %s", t.pid, orDash(t.user), t.app, orDash(t.client), orDash(t.database)),
		"state: " + state,
		since("connected", t.start) + "; " + since("transaction started", t.xactStart) + "; " + since("query started", t.queryStart),
		"query: " + orDash(strings.Join(strings.Fields(t.query), " ")),
	}
	if sig == SignalTerminate {
		p.Notes = append(p.Notes, "terminating ends the session: its open transaction rolls back, its locks are released, and its client sees "+
			"\"terminating connection due to administrator command\"")
	} else {
		p.Notes = append(p.Notes, "cancelling stops the running query: its transaction is aborted, its client sees "+
			"\"canceling statement due to user request\", the session stays")
	}
	return p, nil
}

func stamp(t *time.Time) string {
	if t == nil {
		return "at an unknown time"
	}
	return t.UTC().Format("2006-01-02 15:04:05")
}

// runSignal checks again that the pid is the planned session and may be
// signalled, sends the signal, and for a terminate checks the session is
// gone.
func runSignal(ctx context.Context, conn *pgx.Conn, sig Signal, pid int32, start *time.Time, stmt string, own []uint32) (int64, error) {
	t, found, err := readTarget(ctx, conn, pid)
	if err != nil {
		return 0, err
	}
	if !found {
		return 0, skip(fmt.Sprintf("pid %d has ended already", pid))
	}
	if !t.sameSession(start) {
		return 0, fmt.Errorf("pid %d is another session now (connected %s): refused", pid, stamp(t.start))
	}
	if err := t.refuse(sig, own); err != nil {
		return 0, err
	}
	if sig == SignalCancel && t.state != "active" {
		return 0, skip(fmt.Sprintf("pid %d runs no query any more (%s)", pid, orDash(t.state)))
	}
	var ok bool
	if err := conn.QueryRow(ctx, stmt).Scan(&ok); err != nil {
		return 0, err
	}
	if !ok {
		return 0, fmt.Errorf("the server did not %s pid %d (%s returned false)", sig, pid, stmt)
	}
	if sig == SignalTerminate {
		if _, still, err := readTarget(ctx, conn, pid); err == nil && still {
			return 0, fmt.Errorf("pid %d was sent the signal but is still there after %d ms", pid, terminateWait)
		}
	}
	return 0, nil // no row changed
}

// ownPIDsKey carries RunSignal's OwnPIDs to the step, which refuses them
// as well as those the plan was made with.
type ownPIDsKey struct{}

// IsSignal tells a plan PlanSignal made.
func IsSignal(p *Plan) bool {
	return p != nil && (p.Action == string(SignalCancel) || p.Action == string(SignalTerminate)) && len(p.Steps) == 1 && p.Steps[0].run != nil
}

// RunSignal runs a signal's plan on conn — a connection pgtend already
// holds, so a server out of connection slots can still be helped — within
// SignalTimeout, with the same events and outcomes as Run: ok, skipped
// (the session had ended), failed. --read-only refuses it here too; a
// read-only session does not (a signal writes nothing: a standby's
// queries are cancelled the same way).
func RunSignal(ctx context.Context, conn *pgx.Conn, plan *Plan, opts SignalOptions, emit func(Event)) (Result, error) {
	res := Result{Outcome: OutcomeOK, Started: time.Now()}
	failed := func(err error) (Result, error) {
		res.Outcome, res.Finished = OutcomeFailed, time.Now()
		return res, err
	}
	if !IsSignal(plan) {
		return failed(errors.New("not a plan of cancel or terminate"))
	}
	if opts.ReadOnly {
		return failed(fmt.Errorf("%w: pgtend runs with --read-only; it does not %s sessions", ErrReadOnly, plan.Action))
	}
	ctx, cancel := context.WithTimeout(context.WithValue(ctx, ownPIDsKey{}, opts.OwnPIDs), SignalTimeout)
	defer cancel()
	r := &runner{conn: conn, plan: plan, emitFn: emit, opts: Options{ReadOnly: opts.ReadOnly}}
	s := plan.Steps[0]
	r.emit(Event{Kind: StepStarted, Step: 0, Title: s.Title, Unit: s.Unit})
	began := time.Now()
	rows, err := s.run(ctx, r, 0)
	res.Rows = rows
	var skipped *skippedError
	switch {
	case errors.As(err, &skipped):
		res.Outcome = OutcomeSkipped
		res.Skipped = append(res.Skipped, s.Title+": "+skipped.reason)
		r.emit(Event{Kind: StepSkipped, Step: 0, Title: s.Title, Message: skipped.reason, Duration: time.Since(began)})
	case err != nil:
		res.Outcome = OutcomeFailed
		res.Failed = append(res.Failed, s.Title+": "+err.Error())
		r.emit(Event{Kind: StepFailed, Step: 0, Title: s.Title, Duration: time.Since(began), Err: err})
	default:
		r.emit(Event{Kind: StepFinished, Step: 0, Title: s.Title, Rows: rows, Duration: time.Since(began)})
	}
	res.Finished = time.Now()
	return res, nil
}
