// Package health answers the maintenance guide's troubleshooting table —
// database slow, disk full, too many connections, chunks not compressing,
// backups failing — as findings: each with its status, the evidence (every
// figure labelled with where it comes from), what it means and what fixes
// it, and the items it is about (the sessions, tables, slots) with the
// action that fixes each. The Health pane and `pgtend doctor` both show a
// Report; Collect reads one in a single read-only transaction, a fixed
// handful of catalog statements sent in one batch (and one more when
// TimescaleDB is installed), under the caller's deadline. It opens no
// relation, so a table under an ACCESS EXCLUSIVE lock delays nothing.
//
// The JSON tags are the contract of `pgtend doctor --json`: fields are
// added, never renamed.
package health

import (
	"time"
)

// Status is how a finding stands. A finding the connected role cannot see
// (no pg_read_all_stats, pg_monitor) is Unknown, never OK.
type Status string

// Statuses, from best to worst.
const (
	OK       Status = "ok"
	Unknown  Status = "unknown"
	Warning  Status = "warning"
	Critical Status = "critical"
)

func (s Status) rank() int {
	switch s {
	case OK:
		return 0
	case Unknown:
		return 1
	case Warning:
		return 2
	case Critical:
		return 3
	}
	return 1
}

// Worse is the worse of two statuses.
func Worse(a, b Status) Status {
	if b.rank() > a.rank() {
		return b
	}
	return a
}

// ExitCode is `pgtend doctor`'s exit status for a report of status s: 0
// all well, 1 a warning (or something the role cannot see), 2 critical.
func ExitCode(s Status) int {
	switch s {
	case OK:
		return 0
	case Critical:
		return 2
	}
	return 1
}

// Checks, in the order the findings are listed.
const (
	CheckConnections       = "connections"
	CheckIdleInTransaction = "idle_in_transaction"
	CheckLongTransactions  = "long_transactions"
	CheckLocks             = "locks"
	CheckXminHorizon       = "xmin_horizon"
	CheckSlotWAL           = "slot_wal"
	CheckDeadTuples        = "dead_tuples"
	CheckAutovacuum        = "autovacuum"
	CheckWraparound        = "wraparound"
	CheckCompression       = "compression"
	CheckBackups           = "backups"
	CheckDisk              = "disk"
)

// checkOrder places each check in the list.
var checkOrder = []string{CheckConnections, CheckIdleInTransaction, CheckLongTransactions, CheckLocks, CheckXminHorizon,
	CheckSlotWAL, CheckDeadTuples, CheckAutovacuum, CheckWraparound, CheckCompression, CheckBackups, CheckDisk}

// Fixes an item may name besides a registry action (maint.Registry).
const (
	FixCancel    = "cancel"    // pg_cancel_backend: the query stops, the session stays
	FixTerminate = "terminate" // pg_terminate_backend: the session ends, its transaction rolls back
)

// Report is one look at the database's health.
type Report struct {
	GeneratedAt time.Time `json:"generated_at"` // the server's clock
	Database    string    `json:"database"`
	Role        string    `json:"role"`
	Server      string    `json:"server_version"`
	// Status is the worst finding's.
	Status Status `json:"status"`
	// SeesAllSessions: the role is a superuser or has pg_read_all_stats
	// (pg_monitor grants it): it sees what every session does. Otherwise
	// other roles' sessions are counted but their state, transaction and
	// query are hidden, and the findings that need them say so.
	SeesAllSessions bool      `json:"sees_all_sessions"`
	Findings        []Finding `json:"findings"`
}

// Finding is one row of the troubleshooting table.
type Finding struct {
	Check   string `json:"check"`   // CheckConnections, …: stable, for scripts
	Title   string `json:"title"`   // as the pane names it: "connections"
	Status  Status `json:"status"`  // the worst of its own figures and its items
	Summary string `json:"summary"` // one line
	Meaning string `json:"meaning"` // what it means for the database
	Action  string `json:"action"`  // what fixes it, in words
	// Evidence are the figures behind it, each with its source.
	Evidence []Evidence `json:"evidence"`
	// Items are what it is about: sessions, tables, slots, jobs.
	Items []Item `json:"items"`
}

// Evidence is one figure and where it comes from.
type Evidence struct {
	Label  string `json:"label"`
	Value  string `json:"value"`
	Source string `json:"source"` // "pg_stat_activity", "pg_settings max_connections", "statfs(/var/…)"
}

// Item kinds.
const (
	KindSession    = "session"
	KindTable      = "table"
	KindDatabase   = "database"
	KindSlot       = "replication_slot"
	KindPrepared   = "prepared_transaction"
	KindStandby    = "standby"
	KindHypertable = "hypertable"
	KindWorker     = "autovacuum_worker"
	KindBackup     = "backup"
	KindGroup      = "group" // a count of sessions by user, application or state
)

// Item is one thing a finding is about, and what fixes it.
type Item struct {
	Kind   string `json:"kind"`
	Status Status `json:"status"`
	Name   string `json:"name"` // "pid 4242", "public.trades", a slot's name
	Text   string `json:"text"` // one line: the name and the figures that matter
	// Evidence details the item (a session's user, client, times, query).
	Evidence []Evidence `json:"evidence"`
	Session  *Session   `json:"session"` // the session, for KindSession
	// Table is schema.name of the table a registry action works on, when
	// Fix names one.
	Table string `json:"table"`
	// Fix is what fixes the item: FixCancel, FixTerminate, or a registry
	// action's name ("vacuum"); "" when pgtend has no action for it (the
	// Action of the finding says what to do).
	Fix string `json:"fix"`
	// NoFix says why an item that would have a fix has none: pgtend's own
	// session, a background process.
	NoFix string `json:"no_fix"`
}

// Session is a server process as pg_stat_activity shows it.
type Session struct {
	PID          int32      `json:"pid"`
	BackendStart *time.Time `json:"backend_start"` // with PID, tells the session from a later one with its pid
	BackendType  string     `json:"backend_type"`
	User         string     `json:"user"`
	Application  string     `json:"application"`
	Client       string     `json:"client"` // "10.0.0.5:51234", "[local]", "" for background processes
	Database     string     `json:"database"`
	State        string     `json:"state"` // "" when hidden from this role
	XactStart    *time.Time `json:"xact_start"`
	QueryStart   *time.Time `json:"query_start"`
	StateChange  *time.Time `json:"state_change"`
	WaitType     string     `json:"wait_event_type"`
	Wait         string     `json:"wait_event"`
	Query        string     `json:"query"`
	XminAge      *int64     `json:"xmin_age"` // age(backend_xmin): how far it holds the horizon back, in XIDs
	XidAge       *int64     `json:"xid_age"`  // age(backend_xid)
	// Hidden: this role may not see the session's state and query.
	Hidden bool `json:"hidden"`
	// Own: one of pgtend's sessions (application_name pgtend, or a pid
	// pgtend said is its own): never offered for cancel or terminate.
	Own bool `json:"pgtend"`
	// MaySignal: the connected role may cancel or terminate it (a
	// superuser; a member of its role, or of pg_signal_backend, for a
	// session of a role that is no superuser). ops/maint decides again.
	MaySignal bool `json:"may_signal"`
	superuser bool // its role is a superuser, or it has none (a background process)
}

// finding returns the report's finding of a check, nil when absent.
func (r *Report) finding(check string) *Finding {
	for i := range r.Findings {
		if r.Findings[i].Check == check {
			return &r.Findings[i]
		}
	}
	return nil
}

// Finding returns the finding of a check; ok is false when there is none.
func (r *Report) Finding(check string) (Finding, bool) {
	if f := r.finding(check); f != nil {
		return *f, true
	}
	return Finding{}, false
}

// Set puts f in the report, replacing the finding of its check (the
// console adds the disk finding from the Disk pane's figures), in the
// checks' order, and updates the report's status.
func (r *Report) Set(f Finding) {
	f = normalize(f)
	if old := r.finding(f.Check); old != nil {
		*old = f
	} else {
		r.Findings = append(r.Findings, f)
	}
	pos := func(check string) int {
		for i, c := range checkOrder {
			if c == check {
				return i
			}
		}
		return len(checkOrder)
	}
	// A stable insertion sort: a handful of findings.
	for i := 1; i < len(r.Findings); i++ {
		for j := i; j > 0 && pos(r.Findings[j].Check) < pos(r.Findings[j-1].Check); j-- {
			r.Findings[j], r.Findings[j-1] = r.Findings[j-1], r.Findings[j]
		}
	}
	r.Status = OK
	for _, f := range r.Findings {
		r.Status = Worse(r.Status, f.Status)
	}
}

// normalize makes a finding's lists non-nil (the JSON says [] rather than
// null) and its status at least as bad as its worst item's.
func normalize(f Finding) Finding {
	if f.Evidence == nil {
		f.Evidence = []Evidence{}
	}
	if f.Items == nil {
		f.Items = []Item{}
	}
	if f.Status == "" {
		f.Status = OK
	}
	for i, it := range f.Items {
		if it.Evidence == nil {
			f.Items[i].Evidence = []Evidence{}
		}
		if it.Status == "" {
			f.Items[i].Status = OK
		}
		f.Status = Worse(f.Status, f.Items[i].Status)
	}
	return f
}

// Counts are the findings by status.
func (r *Report) Counts() map[Status]int {
	out := map[Status]int{}
	for _, f := range r.Findings {
		out[f.Status]++
	}
	return out
}
