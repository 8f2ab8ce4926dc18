package config

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Health holds the thresholds of the Health pane and `pgtend doctor`: past
// a warning threshold a finding is a warning (doctor exits 1), past a
// critical one it is critical (doctor exits 2). The zero value (no [health]
// section) means DefaultHealth, and so does every zero field.
type Health struct {
	// Connections in use, as a percentage of the slots non-superusers may
	// use (max_connections minus the reserved ones).
	ConnectionsWarn, ConnectionsCritical int
	// How long a session may sit idle in a transaction.
	IdleInTransactionWarn, IdleInTransactionCritical time.Duration
	// How old the oldest transaction (or query, or prepared transaction)
	// may be.
	LongTransactionWarn, LongTransactionCritical time.Duration
	// How long a session may wait for a lock.
	LockWaitWarn, LockWaitCritical time.Duration
	// DeadTuplesWarn: a table whose autovacuum is on warns when its dead
	// tuples pass this percentage of autovacuum's own threshold (a table
	// with autovacuum off warns past 100%).
	DeadTuplesWarn int
	// XIDAgeWarn is a percentage of autovacuum_freeze_max_age;
	// XIDAgeCritical a percentage of the 2^31 transaction IDs after which
	// the server stops taking writes.
	XIDAgeWarn, XIDAgeCritical int
	// BackupMaxAge: the newest file of [backup] dir may be this old.
	BackupMaxAge time.Duration
	// DiskFull*: days until the data directory's disk is full;
	// DiskUsed*: its percentage used.
	DiskFullWarnDays, DiskFullCriticalDays int
	DiskUsedWarn, DiskUsedCritical         int
}

// DefaultHealth are the thresholds of a policy without [health].
var DefaultHealth = Health{
	ConnectionsWarn: 80, ConnectionsCritical: 95,
	IdleInTransactionWarn: 5 * time.Minute, IdleInTransactionCritical: time.Hour,
	LongTransactionWarn: time.Hour, LongTransactionCritical: 6 * time.Hour,
	LockWaitWarn: time.Minute, LockWaitCritical: 10 * time.Minute,
	DeadTuplesWarn: 200,
	XIDAgeWarn:     100, XIDAgeCritical: 75,
	BackupMaxAge:     26 * time.Hour,
	DiskFullWarnDays: 90, DiskFullCriticalDays: 30,
	DiskUsedWarn: 80, DiskUsedCritical: 90,
}

// Effective is h with DefaultHealth's values where h sets none.
func (h Health) Effective() Health {
	d := DefaultHealth
	or := func(v *int, def int) {
		if *v == 0 {
			*v = def
		}
	}
	orD := func(v *time.Duration, def time.Duration) {
		if *v == 0 {
			*v = def
		}
	}
	or(&h.ConnectionsWarn, d.ConnectionsWarn)
	or(&h.ConnectionsCritical, d.ConnectionsCritical)
	orD(&h.IdleInTransactionWarn, d.IdleInTransactionWarn)
	orD(&h.IdleInTransactionCritical, d.IdleInTransactionCritical)
	orD(&h.LongTransactionWarn, d.LongTransactionWarn)
	orD(&h.LongTransactionCritical, d.LongTransactionCritical)
	orD(&h.LockWaitWarn, d.LockWaitWarn)
	orD(&h.LockWaitCritical, d.LockWaitCritical)
	or(&h.DeadTuplesWarn, d.DeadTuplesWarn)
	or(&h.XIDAgeWarn, d.XIDAgeWarn)
	or(&h.XIDAgeCritical, d.XIDAgeCritical)
	orD(&h.BackupMaxAge, d.BackupMaxAge)
	or(&h.DiskFullWarnDays, d.DiskFullWarnDays)
	or(&h.DiskFullCriticalDays, d.DiskFullCriticalDays)
	or(&h.DiskUsedWarn, d.DiskUsedWarn)
	or(&h.DiskUsedCritical, d.DiskUsedCritical)
	return h
}

// healthKeys are [health]'s keys, in the order Encode writes them.
var healthKeys = []string{
	"connections_warn", "connections_critical",
	"idle_in_transaction_warn", "idle_in_transaction_critical",
	"long_transaction_warn", "long_transaction_critical",
	"lock_wait_warn", "lock_wait_critical",
	"dead_tuples_warn", "xid_age_warn", "xid_age_critical",
	"backup_max_age",
	"disk_full_warn", "disk_full_critical", "disk_used_warn", "disk_used_critical",
}

// healthFields ties each key to its field: a percentage (with its upper
// bound), an age (a Go duration) or days.
type healthField struct {
	key     string
	pct     *int
	maxPct  int
	age     *time.Duration
	days    *int
	example string
}

func (h *Health) fields() []healthField {
	return []healthField{
		{key: "connections_warn", pct: &h.ConnectionsWarn, maxPct: 100, example: "80%"},
		{key: "connections_critical", pct: &h.ConnectionsCritical, maxPct: 100, example: "95%"},
		{key: "idle_in_transaction_warn", age: &h.IdleInTransactionWarn, example: "5m"},
		{key: "idle_in_transaction_critical", age: &h.IdleInTransactionCritical, example: "1h"},
		{key: "long_transaction_warn", age: &h.LongTransactionWarn, example: "1h"},
		{key: "long_transaction_critical", age: &h.LongTransactionCritical, example: "6h"},
		{key: "lock_wait_warn", age: &h.LockWaitWarn, example: "1m"},
		{key: "lock_wait_critical", age: &h.LockWaitCritical, example: "10m"},
		{key: "dead_tuples_warn", pct: &h.DeadTuplesWarn, maxPct: 100000, example: "200%"},
		{key: "xid_age_warn", pct: &h.XIDAgeWarn, maxPct: 1000, example: "100%"},
		{key: "xid_age_critical", pct: &h.XIDAgeCritical, maxPct: 99, example: "75%"},
		{key: "backup_max_age", age: &h.BackupMaxAge, example: "26h"},
		{key: "disk_full_warn", days: &h.DiskFullWarnDays, example: "90d"},
		{key: "disk_full_critical", days: &h.DiskFullCriticalDays, example: "30d"},
		{key: "disk_used_warn", pct: &h.DiskUsedWarn, maxPct: 100, example: "80%"},
		{key: "disk_used_critical", pct: &h.DiskUsedCritical, maxPct: 100, example: "90%"},
	}
}

// health reads [health]; keys it omits keep DefaultHealth's values.
func (p *parser) health(s section) Health {
	s.unknown(healthKeys...)
	h := DefaultHealth
	for _, f := range h.fields() {
		v, ok := s.str(f.key, f.example)
		if !ok {
			continue
		}
		switch {
		case f.pct != nil:
			n, err := parseHealthPercent(v, f.maxPct)
			if err != nil {
				s.errorf(f.key, "%v", err)
				continue
			}
			*f.pct = n
		case f.age != nil:
			d, err := time.ParseDuration(strings.TrimSpace(v))
			if err != nil || d <= 0 {
				s.errorf(f.key, "bad duration %q: want a Go duration greater than zero, like %q", v, f.example)
				continue
			}
			*f.age = d
		default:
			n, err := parseDays(v)
			switch {
			case err != nil:
				s.errorf(f.key, "%v", err)
			case n <= 0:
				s.errorf(f.key, "must be greater than zero (got %q)", v)
			default:
				*f.days = n
			}
		}
	}
	pairs := []struct {
		warn, crit string
		bad        bool
	}{
		{"connections_warn", "connections_critical", h.ConnectionsWarn > h.ConnectionsCritical},
		{"idle_in_transaction_warn", "idle_in_transaction_critical", h.IdleInTransactionWarn > h.IdleInTransactionCritical},
		{"long_transaction_warn", "long_transaction_critical", h.LongTransactionWarn > h.LongTransactionCritical},
		{"lock_wait_warn", "lock_wait_critical", h.LockWaitWarn > h.LockWaitCritical},
		{"disk_used_warn", "disk_used_critical", h.DiskUsedWarn > h.DiskUsedCritical},
		// fewer days left is worse: the critical count must not exceed the warning's
		{"disk_full_critical", "disk_full_warn", h.DiskFullCriticalDays > h.DiskFullWarnDays},
	}
	for _, pr := range pairs {
		if pr.bad && (s.has(pr.warn) || s.has(pr.crit)) {
			key := pr.crit
			if !s.has(key) {
				key = pr.warn
			}
			s.errorf(key, "%s must not be past %s (a warning comes before the critical finding)", pr.warn, pr.crit)
		}
	}
	return h
}

var healthPercentRe = regexp.MustCompile(`^([0-9]+)\s*%$`)

// parseHealthPercent reads "80%": a whole percentage from 1 to max.
func parseHealthPercent(s string, limit int) (int, error) {
	m := healthPercentRe.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return 0, fmt.Errorf("bad percentage %q: want a whole percentage like \"80%%\"", s)
	}
	n, err := strconv.Atoi(m[1])
	if err != nil || n < 1 || n > limit {
		return 0, fmt.Errorf("bad percentage %q: must be 1%% to %d%%", s, limit)
	}
	return n, nil
}

// encodedHealth is [health] as Encode writes it: only when the policy has
// the section, then every key with its effective value.
func (p Policy) encodedHealth() map[string]string {
	if p.Health == (Health{}) {
		return nil
	}
	h := p.Health.Effective()
	out := map[string]string{}
	for _, f := range h.fields() {
		switch {
		case f.pct != nil:
			out[f.key] = strconv.Itoa(*f.pct) + "%"
		case f.age != nil:
			out[f.key] = f.age.String()
		default:
			out[f.key] = formatDays(*f.days)
		}
	}
	return out
}
