package health

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/pgtend/pgtend/ops/config"
)

// judge turns what the statements returned into findings.
type judge struct {
	raw    *raw
	h      config.Health
	now    time.Time
	policy config.Policy
}

// xidSpace is how far transaction IDs may go past the oldest unfrozen one
// before they wrap around: 2^31. The server stops assigning new ones
// 3,000,000 before it.
const xidSpace = 1 << 31

// hiddenNote is the evidence and the reason of a finding the role cannot
// fully see.
func (j judge) hidden() (n int, e Evidence) {
	for _, s := range j.raw.sessions {
		if s.Hidden {
			n++
		}
	}
	role := j.raw.settings.role
	return n, ev("hidden from "+role, plural(n, "session")+" of other roles: their state, transaction and query are not shown to "+role+
		" (GRANT pg_read_all_stats TO "+role+", or pg_monitor)", "pg_stat_activity")
}

// clients are the client sessions (backend_type "client backend").
func (j judge) clients() []Session {
	var out []Session
	for _, s := range j.raw.sessions {
		if s.BackendType == "client backend" {
			out = append(out, s)
		}
	}
	return out
}

// ageOf is how long ago t was, 0 when unknown.
func (j judge) ageOf(t *time.Time) time.Duration {
	if t == nil {
		return 0
	}
	return max(j.now.Sub(*t), 0)
}

// byAge grades an age against a warning and a critical threshold.
func byAge(d, warn, crit time.Duration) Status {
	switch {
	case d >= crit:
		return Critical
	case d >= warn:
		return Warning
	}
	return OK
}

// who names a session: "pid 4242 (alice, psql)".
func who(s Session) string {
	var parts []string
	if s.User != "" {
		parts = append(parts, s.User)
	}
	if s.Application != "" {
		parts = append(parts, s.Application)
	} else if s.BackendType != "" && s.BackendType != "client backend" {
		parts = append(parts, s.BackendType)
	}
	if len(parts) == 0 {
		return fmt.Sprintf("pid %d", s.PID)
	}
	return fmt.Sprintf("pid %d (%s)", s.PID, strings.Join(parts, ", "))
}

// sessionItem is a session as an item: its details as evidence, and the
// fix offered (none for pgtend's own sessions, background processes, and
// sessions the role may not signal).
func (j judge) sessionItem(s Session, status Status, text, fix string) Item {
	src := "pg_stat_activity"
	it := Item{Kind: KindSession, Status: status, Name: fmt.Sprintf("pid %d", s.PID), Text: text}
	add := func(label, value string) { it.Evidence = append(it.Evidence, ev(label, value, src)) }
	add("pid", fmt.Sprint(s.PID))
	add("user", s.User)
	add("application", s.Application)
	if s.Client != "" {
		add("client", s.Client)
	}
	if s.Database != "" {
		add("database", s.Database)
	}
	if s.BackendType != "client backend" {
		add("process", s.BackendType)
	}
	if s.State != "" {
		state := s.State
		if s.StateChange != nil {
			state += " for " + Since(*s.StateChange, j.now)
		}
		add("state", state)
	}
	if s.BackendStart != nil {
		add("connected", s.BackendStart.UTC().Format("2006-01-02 15:04:05 UTC")+" ("+Since(*s.BackendStart, j.now)+" ago)")
	}
	if s.XactStart != nil {
		add("transaction started", s.XactStart.UTC().Format("15:04:05 UTC")+" ("+Since(*s.XactStart, j.now)+" ago)")
	}
	if s.QueryStart != nil {
		add("query started", s.QueryStart.UTC().Format("15:04:05 UTC")+" ("+Since(*s.QueryStart, j.now)+" ago)")
	}
	if s.WaitType != "" {
		add("waiting for", s.WaitType+": "+s.Wait)
	}
	if s.XminAge != nil {
		add("holds xmin back", count(*s.XminAge)+" XIDs")
	}
	if s.Query != "" {
		label := "query"
		if strings.HasPrefix(s.State, "idle") {
			label = "last query"
		}
		add(label, oneLine(s.Query, 500))
	}
	ss := s
	it.Session = &ss
	switch {
	case fix == "":
	case s.Own:
		it.NoFix = "one of pgtend's own sessions"
	case s.BackendType != "client backend":
		it.NoFix = "a " + s.BackendType + ": pgtend signals client sessions only"
	case !s.MaySignal && s.superuser:
		it.NoFix = "only a superuser may signal a superuser's session; " + j.raw.settings.role + " is none"
	case !s.MaySignal:
		it.NoFix = fmt.Sprintf("%s may not signal sessions of %s: GRANT pg_signal_backend TO %s, or GRANT %s TO %s",
			j.raw.settings.role, s.User, j.raw.settings.role, s.User, j.raw.settings.role)
	default:
		it.Fix = fix
	}
	return it
}

// groups counts sessions by a key, the largest first: "idle 30, active 5".
func groups(ss []Session, key func(Session) string, limit int) string {
	n := map[string]int{}
	for _, s := range ss {
		n[cmp.Or(key(s), "(none)")]++
	}
	keys := make([]string, 0, len(n))
	for k := range n {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int { return cmp.Or(n[b]-n[a], strings.Compare(a, b)) })
	var parts []string
	for i, k := range keys {
		if i == limit {
			parts = append(parts, fmt.Sprintf("%d more", len(keys)-limit))
			break
		}
		parts = append(parts, fmt.Sprintf("%s %d", k, n[k]))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

func (j judge) connections() Finding {
	st, h := j.raw.settings, j.h
	// This session is a client too: it takes a slot.
	clients := append(j.clients(), Session{PID: st.pid, BackendType: "client backend", User: st.role, Application: "pgtend", State: "active", Own: true})
	used := len(clients)
	usable := st.maxConnections - st.superReserved - st.reserved
	share := pct(float64(used), float64(max(usable, 1)))
	f := Finding{Check: CheckConnections, Title: "connections",
		Summary: fmt.Sprintf("%d of %d usable slots in use (%.0f%%)", used, usable, share),
		Meaning: "Once every usable slot is taken, new connections fail with \"sorry, too many clients already\" " +
			"(SQLSTATE 53300); only superusers get the reserved slots.",
		Action: "End the sessions nobody needs, one by one (K on a session below: idle ones first), rather than restarting PostgreSQL; " +
			"then stop what leaks them (a pool too large, a missing pooler such as PgBouncer, idle_session_timeout), " +
			"or raise max_connections (it needs a restart).",
	}
	switch {
	case share >= float64(h.ConnectionsCritical):
		f.Status = Critical
	case share >= float64(h.ConnectionsWarn):
		f.Status = Warning
	}
	f.Evidence = []Evidence{
		ev("in use", fmt.Sprintf("%d client sessions, this one included", used), "pg_stat_activity (backend_type client backend)"),
		ev("max_connections", fmt.Sprint(st.maxConnections), "pg_settings"),
		ev("reserved for superusers", fmt.Sprint(st.superReserved), "pg_settings superuser_reserved_connections"),
	}
	if st.reserved > 0 {
		f.Evidence = append(f.Evidence, ev("reserved", fmt.Sprint(st.reserved), "pg_settings reserved_connections"))
	}
	f.Evidence = append(f.Evidence,
		ev("usable", fmt.Sprintf("%d (%s %d%%, %s %d%%)", usable, "warning at", h.ConnectionsWarn, "critical at", h.ConnectionsCritical), "policy [health] connections_warn, connections_critical"),
		ev("by state", groups(clients, func(s Session) string {
			if s.Hidden {
				return "hidden"
			}
			return s.State
		}, 6), "pg_stat_activity"),
		ev("by user", groups(clients, func(s Session) string { return s.User }, 5), "pg_stat_activity"),
		ev("by application", groups(clients, func(s Session) string { return s.Application }, 5), "pg_stat_activity"),
	)
	if limits := j.connLimits(clients); len(limits) > 0 {
		f.Items = append(f.Items, limits...)
		for _, it := range limits {
			f.Status = Worse(f.Status, it.Status)
		}
		f.Summary += "; " + limits[0].Text
		if len(limits) > 1 {
			f.Summary += fmt.Sprintf(" (and %d more)", len(limits)-1)
		}
	}
	if f.Status == OK {
		return f
	}
	// The sessions that would free a slot: idle the longest first.
	var idle []Session
	for _, s := range clients {
		if s.State == "idle" && !s.Own {
			idle = append(idle, s)
		}
	}
	slices.SortFunc(idle, func(a, b Session) int { return cmp.Compare(j.ageOf(b.StateChange), j.ageOf(a.StateChange)) })
	for _, s := range idle[:min(len(idle), 10)] {
		text := fmt.Sprintf("%s idle %s", who(s), Span(j.ageOf(s.StateChange)))
		f.Items = append(f.Items, j.sessionItem(s, OK, text, FixTerminate))
	}
	if len(idle) > 10 {
		f.Evidence = append(f.Evidence, ev("idle sessions", fmt.Sprintf("%d; the 10 idle longest are listed", len(idle)), "pg_stat_activity"))
	}
	return f
}

func (j judge) idleInTransaction() Finding {
	h := j.h
	f := Finding{Check: CheckIdleInTransaction, Title: "idle in transaction",
		Meaning: "A session idle in a transaction keeps its locks and its snapshot: nobody else gets those locks, " +
			"and VACUUM cannot remove any row that died since the transaction began.",
		Action: "Terminate it (K; its transaction rolls back) and fix the application that leaves transactions open; " +
			"idle_in_transaction_session_timeout ends such sessions on its own.",
	}
	var found []Session
	for _, s := range j.raw.sessions {
		if strings.HasPrefix(s.State, "idle in transaction") {
			found = append(found, s)
		}
	}
	slices.SortFunc(found, func(a, b Session) int { return cmp.Compare(j.ageOf(b.StateChange), j.ageOf(a.StateChange)) })
	for _, s := range found {
		idle := j.ageOf(s.StateChange)
		text := fmt.Sprintf("%s idle %s, transaction open %s", who(s), Span(idle), Span(j.ageOf(s.XactStart)))
		if s.State != "idle in transaction" {
			text += " (aborted)"
		}
		f.Items = append(f.Items, j.sessionItem(s, byAge(idle, h.IdleInTransactionWarn, h.IdleInTransactionCritical), text, FixTerminate))
	}
	f.Evidence = []Evidence{
		ev("idle_in_transaction_session_timeout", cmp.Or(j.raw.settings.idleTimeout, "0"), "pg_settings (0: never)"),
		ev("thresholds", fmt.Sprintf("warning after %s, critical after %s", Span(h.IdleInTransactionWarn), Span(h.IdleInTransactionCritical)),
			"policy [health] idle_in_transaction_warn, idle_in_transaction_critical"),
	}
	if len(found) == 0 {
		f.Summary = "no session is idle in a transaction"
	} else {
		s := found[0]
		f.Summary = fmt.Sprintf("%s, the longest %s idle %s", plural(len(found), "session"), who(s), Span(j.ageOf(s.StateChange)))
	}
	if n, e := j.hidden(); n > 0 {
		f.Evidence = append(f.Evidence, e)
		f.Status = Unknown
		f.Summary += fmt.Sprintf("; %d sessions of other roles unseen", n)
	}
	return f
}

func (j judge) longTransactions() Finding {
	h := j.h
	f := Finding{Check: CheckLongTransactions, Title: "long transactions",
		Meaning: "A long transaction or query holds its locks and its snapshot for as long as it runs: " +
			"dead rows pile up behind it and DDL waits for it.",
		Action: "Cancel the query (C: the session stays) or terminate the session (K); " +
			"a prepared transaction is ended by COMMIT PREPARED or ROLLBACK PREPARED 'gid', once you know whose it is.",
	}
	var oldestX, oldestQ *Session
	var long []Session
	for i, s := range j.raw.sessions {
		if s.BackendType != "client backend" || s.XactStart == nil || s.Own && j.ageOf(s.XactStart) < h.LongTransactionWarn {
			continue // pgtend's own reads are not the oldest of anything
		}
		if oldestX == nil || s.XactStart.Before(*oldestX.XactStart) {
			oldestX = &j.raw.sessions[i]
		}
		if s.State == "active" && s.QueryStart != nil && (oldestQ == nil || s.QueryStart.Before(*oldestQ.QueryStart)) {
			oldestQ = &j.raw.sessions[i]
		}
		if !strings.HasPrefix(s.State, "idle in transaction") && j.ageOf(s.XactStart) >= h.LongTransactionWarn {
			long = append(long, s)
		}
	}
	slices.SortFunc(long, func(a, b Session) int { return a.XactStart.Compare(*b.XactStart) })
	for _, s := range long {
		age := j.ageOf(s.XactStart)
		text := fmt.Sprintf("%s transaction open %s, %s", who(s), Span(age), s.State)
		if s.State == "active" {
			text += " " + Span(j.ageOf(s.QueryStart)) + ": " + oneLine(s.Query, 80)
		}
		fix := FixCancel
		if s.State != "active" {
			fix = FixTerminate
		}
		f.Items = append(f.Items, j.sessionItem(s, byAge(age, h.LongTransactionWarn, h.LongTransactionCritical), text, fix))
	}
	for _, p := range j.raw.prepared {
		age := j.ageOf(&p.at)
		if age < h.LongTransactionWarn {
			continue
		}
		f.Items = append(f.Items, Item{Kind: KindPrepared, Status: byAge(age, h.LongTransactionWarn, h.LongTransactionCritical), Name: p.gid,
			Text: fmt.Sprintf("prepared transaction %q of %s in %s, prepared %s ago", p.gid, p.owner, p.database, Span(age)),
			Evidence: []Evidence{ev("gid", p.gid, "pg_prepared_xacts"), ev("owner", p.owner, "pg_prepared_xacts"),
				ev("database", p.database, "pg_prepared_xacts"), ev("prepared", p.at.UTC().Format("2006-01-02 15:04:05 UTC"), "pg_prepared_xacts"),
				ev("age", count(p.age)+" XIDs", "age(pg_prepared_xacts.transaction)")}})
	}
	switch {
	case oldestX == nil:
		f.Summary = "no transaction is open"
	default:
		f.Summary = fmt.Sprintf("oldest transaction %s, %s", Span(j.ageOf(oldestX.XactStart)), who(*oldestX))
		f.Evidence = append(f.Evidence, ev("oldest transaction", fmt.Sprintf("%s, open %s (%s)", who(*oldestX), Span(j.ageOf(oldestX.XactStart)), oldestX.State), "pg_stat_activity.xact_start"))
	}
	if oldestQ != nil {
		f.Summary += fmt.Sprintf("; oldest query %s", Span(j.ageOf(oldestQ.QueryStart)))
		f.Evidence = append(f.Evidence, ev("oldest query", fmt.Sprintf("%s, running %s: %s", who(*oldestQ), Span(j.ageOf(oldestQ.QueryStart)), oneLine(oldestQ.Query, 120)), "pg_stat_activity.query_start"))
	}
	f.Evidence = append(f.Evidence, ev("prepared transactions", fmt.Sprint(len(j.raw.prepared)), "pg_prepared_xacts"),
		ev("thresholds", fmt.Sprintf("warning after %s, critical after %s", Span(h.LongTransactionWarn), Span(h.LongTransactionCritical)),
			"policy [health] long_transaction_warn, long_transaction_critical"))
	if n, e := j.hidden(); n > 0 {
		f.Evidence = append(f.Evidence, e)
		f.Status = Unknown
	}
	return f
}

func (j judge) locks() Finding {
	h := j.h
	f := Finding{Check: CheckLocks, Title: "locks",
		Meaning: "A session waiting for a lock does nothing until the holder lets go; a waiting ACCESS EXCLUSIVE request " +
			"(DDL, VACUUM FULL) also makes every later reader of the table wait behind it.",
		Action: "End the session at the head of the chain (K, or C when it is running a query), or cancel a DDL that queues " +
			"everyone behind it (C on the waiting session).",
	}
	waits := map[int32]wait{}
	for _, w := range j.raw.waits {
		if len(w.blockers) > 0 {
			waits[w.pid] = w
		}
	}
	waited := func(w wait) time.Duration {
		if w.waitstart != nil {
			return j.ageOf(w.waitstart)
		}
		if s := j.raw.sessionByPID(w.pid); s != nil {
			return j.ageOf(s.StateChange)
		}
		return 0
	}
	// Heads: blockers that wait for no one (or wait in a cycle).
	var heads []int32
	for _, w := range j.raw.waits {
		for _, b := range w.blockers {
			if _, waiting := waits[b]; !waiting && !slices.Contains(heads, b) {
				heads = append(heads, b)
			}
		}
	}
	// blocked lists, depth first, who waits on pid (directly or not).
	var walk func(pid int32, depth int, seen map[int32]bool, out *[]Item) time.Duration
	walk = func(pid int32, depth int, seen map[int32]bool, out *[]Item) time.Duration {
		var longest time.Duration
		for _, w := range j.raw.waits {
			if !slices.Contains(w.blockers, pid) || seen[w.pid] {
				continue
			}
			seen[w.pid] = true
			d := waited(w)
			on := w.mode
			if w.relation != "" {
				on += " on " + w.relation
			} else if w.locktype != "" {
				on += " (" + w.locktype + ")"
			}
			s := j.raw.sessionByPID(w.pid)
			if s == nil {
				s = &Session{PID: w.pid}
			}
			text := fmt.Sprintf("%s%s waits %s for %s, blocked by %s", strings.Repeat("  ", depth), who(*s), Span(d), on, pidList(w.blockers))
			it := j.sessionItem(*s, byAge(d, h.LockWaitWarn, h.LockWaitCritical), text, FixCancel)
			it.Evidence = append(it.Evidence, ev("waits for", on, "pg_locks"), ev("since", Span(d), "pg_locks.waitstart"),
				ev("blocked by", pidList(w.blockers), "pg_blocking_pids"))
			*out = append(*out, it)
			longest = max(longest, d, walk(w.pid, depth+1, seen, out))
		}
		return longest
	}
	waiting := 0
	for _, head := range heads {
		var chain []Item
		longest := walk(head, 1, map[int32]bool{head: true}, &chain)
		s := j.raw.sessionByPID(head)
		if s == nil {
			s = &Session{PID: head, BackendType: "prepared transaction or ended session"}
		}
		fix := FixCancel
		if s.State != "active" {
			fix = FixTerminate
		}
		text := fmt.Sprintf("%s blocks %s", who(*s), plural(len(chain), "session"))
		if s.State != "" {
			text += "; it is " + s.State
			if s.StateChange != nil {
				text += " for " + Since(*s.StateChange, j.now)
			}
		}
		head := j.sessionItem(*s, byAge(longest, h.LockWaitWarn, h.LockWaitCritical), text, fix)
		f.Items = append(f.Items, head)
		f.Items = append(f.Items, chain...)
		waiting += len(chain)
	}
	if len(heads) == 0 {
		f.Summary = "no session waits for another's lock"
	} else {
		f.Summary = fmt.Sprintf("%s blocked by %s", plural(waiting, "session"), plural(len(heads), "session"))
	}
	f.Evidence = []Evidence{
		ev("sessions waiting for a lock", fmt.Sprint(len(j.raw.waits)), "pg_stat_activity wait_event_type Lock"),
		ev("thresholds", fmt.Sprintf("warning after %s, critical after %s", Span(h.LockWaitWarn), Span(h.LockWaitCritical)), "policy [health] lock_wait_warn, lock_wait_critical"),
	}
	if n, e := j.hidden(); n > 0 {
		f.Evidence = append(f.Evidence, e)
		f.Status = Unknown
	}
	return f
}

func pidList(pids []int32) string {
	parts := make([]string, len(pids))
	for i, p := range pids {
		parts[i] = fmt.Sprint(p)
	}
	return "pid " + strings.Join(parts, ", ")
}

// holder is one thing holding the xmin horizon back.
type holder struct {
	age  int64
	item Item
}

func (j judge) xminHorizon() Finding {
	h, st := j.h, j.raw.settings
	f := Finding{Check: CheckXminHorizon, Title: "xmin horizon",
		Meaning: "VACUUM removes only the rows that died before the oldest snapshot anyone still holds: while the horizon is " +
			"held back, dead rows pile up in every table (bloat, slower queries) and freezing cannot advance.",
		Action: "End what holds it: terminate the session (K); COMMIT PREPARED or ROLLBACK PREPARED a forgotten prepared transaction; " +
			"drop a replication slot whose standby is gone for good (SELECT pg_drop_replication_slot('name')); " +
			"cancel the long queries on a standby that has hot_standby_feedback on.",
	}
	var hs []holder
	warnAge := st.freezeMaxAge * int64(h.XIDAgeWarn) / 100
	for _, s := range j.raw.sessions {
		// A session holds the horizon by its snapshot (backend_xmin) and
		// by its own transaction ID (backend_xid), whichever is older.
		held := max(deref(s.XminAge, -1), deref(s.XidAge, -1))
		if held < 0 {
			continue
		}
		age := j.ageOf(s.XactStart)
		status := byAge(age, h.LongTransactionWarn, h.LongTransactionCritical)
		if s.Own && status == OK {
			continue // pgtend's own reads: a moment's snapshot
		}
		text := fmt.Sprintf("%s holds it %s back", who(s), xids(held))
		if s.XactStart != nil {
			text += fmt.Sprintf(", transaction open %s (%s)", Span(age), cmp.Or(s.State, "?"))
		}
		fix := FixTerminate
		if s.State == "active" {
			fix = FixCancel
		}
		hs = append(hs, holder{held, j.sessionItem(s, status, text, fix)})
	}
	for _, p := range j.raw.prepared {
		age := j.ageOf(&p.at)
		hs = append(hs, holder{p.age, Item{Kind: KindPrepared, Status: byAge(age, h.LongTransactionWarn, h.LongTransactionCritical), Name: p.gid,
			Text: fmt.Sprintf("prepared transaction %q (%s, %s) holds it %s back, prepared %s ago", p.gid, p.owner, p.database, xids(p.age), Span(age)),
			Evidence: []Evidence{ev("gid", p.gid, "pg_prepared_xacts"), ev("owner", p.owner, "pg_prepared_xacts"), ev("database", p.database, "pg_prepared_xacts"),
				ev("prepared", p.at.UTC().Format("2006-01-02 15:04:05 UTC"), "pg_prepared_xacts"), ev("age", count(p.age)+" XIDs", "age(pg_prepared_xacts.transaction)")}}})
	}
	for _, s := range j.raw.slots {
		for _, x := range []struct {
			what string
			age  *int64
		}{{"xmin", s.xminAge}, {"catalog_xmin", s.catalogAge}} {
			if x.age == nil {
				continue
			}
			status := OK
			state := "active"
			switch {
			case !s.active:
				status, state = Warning, "inactive: no standby or client is using it"
			case *x.age >= warnAge:
				status = Warning
			}
			if *x.age >= st.freezeMaxAge {
				status = Critical
			}
			it := Item{Kind: KindSlot, Status: status, Name: s.name,
				Text: fmt.Sprintf("replication slot %s (%s, %s) holds %s %s back", s.name, s.kind, strings.SplitN(state, ":", 2)[0], x.what, xids(*x.age)),
				Evidence: []Evidence{ev("slot", s.name, "pg_replication_slots"), ev("type", s.kind, "pg_replication_slots"),
					ev("state", state, "pg_replication_slots.active"), ev(x.what+" age", count(*x.age)+" XIDs", "age(pg_replication_slots."+x.what+")")}}
			if s.database != "" {
				it.Evidence = append(it.Evidence, ev("database", s.database, "pg_replication_slots"))
			}
			if s.retainedWAL != nil {
				it.Evidence = append(it.Evidence, ev("WAL kept for it", bytesOf(*s.retainedWAL), "pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)"))
			}
			hs = append(hs, holder{*x.age, it})
		}
	}
	hiddenStandbys := 0
	for _, s := range j.raw.standbys {
		if s.hidden {
			hiddenStandbys++
		}
		if s.xminAge == nil {
			continue
		}
		status := OK
		if *s.xminAge >= warnAge {
			status = Warning
		}
		hs = append(hs, holder{*s.xminAge, Item{Kind: KindStandby, Status: status, Name: s.name,
			Text: fmt.Sprintf("standby %s (%s, %s) holds it %s back through hot_standby_feedback", cmp.Or(s.name, "?"), s.client, s.state, xids(*s.xminAge)),
			Evidence: []Evidence{ev("standby", s.name, "pg_stat_replication.application_name"), ev("client", s.client, "pg_stat_replication"),
				ev("state", s.state, "pg_stat_replication"), ev("xmin age", count(*s.xminAge)+" XIDs", "age(pg_stat_replication.backend_xmin)")}}})
	}
	slices.SortStableFunc(hs, func(a, b holder) int { return cmp.Compare(b.age, a.age) })
	for i, x := range hs {
		if i == 0 || x.item.Status != OK {
			f.Items = append(f.Items, x.item)
		}
	}
	if len(hs) == 0 {
		f.Summary = "nothing holds it back"
	} else {
		f.Summary = fmt.Sprintf("%s back: %s", xids(hs[0].age), strings.SplitN(hs[0].item.Text, " holds", 2)[0])
	}
	f.Evidence = []Evidence{
		ev("oldest holder", cmp.Or(func() string {
			if len(hs) > 0 {
				return hs[0].item.Text
			}
			return ""
		}(), "none"), "pg_stat_activity.backend_xmin, pg_prepared_xacts, pg_replication_slots, pg_stat_replication"),
		ev("replication slots", fmt.Sprint(len(j.raw.slots)), "pg_replication_slots"),
		ev("standbys", fmt.Sprint(len(j.raw.standbys)), "pg_stat_replication"),
	}
	if n, e := j.hidden(); n > 0 || hiddenStandbys > 0 {
		if n > 0 {
			f.Evidence = append(f.Evidence, e)
		}
		if hiddenStandbys > 0 {
			f.Evidence = append(f.Evidence, ev("standbys hidden", fmt.Sprintf("%d: their xmin is not shown to %s (pg_read_all_stats)", hiddenStandbys, st.role), "pg_stat_replication"))
		}
		f.Status = Unknown
	}
	return f
}

// rootTable is the table a relation is listed under, and whether pgtend's
// actions may work on it (not one of TimescaleDB's internal relations).
func rootTable(schema, name string) (string, bool) {
	internal := strings.HasPrefix(schema, "_timescaledb") || schema == "pgtend" || schema == "pg_catalog" || schema == "information_schema" || strings.HasPrefix(schema, "pg_toast")
	return schema + "." + name, !internal
}

func (j judge) deadTuples() Finding {
	h, st := j.h, j.raw.settings
	f := Finding{Check: CheckDeadTuples, Title: "dead tuples",
		Meaning: "Dead tuples take space and slow every scan until VACUUM removes them. Autovacuum vacuums a table once they pass " +
			"its threshold, unless autovacuum is off for it, its workers are busy elsewhere, or the xmin horizon keeps them.",
		Action: "VACUUM it now (v); turn autovacuum back on where it is off (ALTER TABLE ... RESET (autovacuum_enabled)); " +
			"if a table keeps falling behind, lower its autovacuum_vacuum_scale_factor.",
	}
	f.Evidence = []Evidence{
		ev("autovacuum_vacuum_threshold", fmt.Sprint(st.vacThreshold), "pg_settings"),
		ev("autovacuum_vacuum_scale_factor", fmt.Sprint(st.vacScale), "pg_settings"),
		ev("threshold", "autovacuum_vacuum_threshold + scale_factor x reltuples, each table's reloptions first", "as autovacuum computes it"),
		ev("warning at", fmt.Sprintf("%d%% of the threshold (100%% when autovacuum is off for the table)", h.DeadTuplesWarn), "policy [health] dead_tuples_warn"),
	}
	if !st.trackCounts {
		f.Status, f.Summary = Unknown, "track_counts is off: the server counts no dead tuples"
		f.Evidence = append(f.Evidence, ev("track_counts", "off", "pg_settings"))
		return f
	}
	type group struct {
		root      string
		fixable   bool
		rels, off int
		deadSum   int64
		worst     dead // the first listed: the highest share of its threshold
		status    Status
		chunked   bool
	}
	var order []string
	byRoot := map[string]*group{}
	for _, d := range j.raw.dead {
		root, ok := rootTable(d.rootSchema, d.root)
		g := byRoot[root]
		if g == nil {
			g = &group{root: root, fixable: ok, status: OK, worst: d}
			byRoot[root], order = g, append(order, root)
		}
		g.rels++
		g.deadSum += d.dead
		g.chunked = g.chunked || d.schema != d.rootSchema || d.name != d.root
		if !d.enabled || !st.autovacuum {
			g.off++
			g.status = Worse(g.status, Warning)
		}
		if float64(d.dead)*100 >= float64(h.DeadTuplesWarn)*d.threshold {
			g.status = Worse(g.status, Warning)
		}
	}
	off := 0
	for _, root := range order {
		g := byRoot[root]
		w := g.worst
		rel := w.schema + "." + w.name
		var text string
		if g.chunked {
			text = fmt.Sprintf("%s: %s past autovacuum's threshold, %s dead; worst %s %s > %s", g.root, plural(g.rels, "chunk or partition"),
				count(g.deadSum), w.name, count(w.dead), count(int64(w.threshold)))
		} else {
			text = fmt.Sprintf("%s: %s dead tuples > threshold %s (%.0f%%)", g.root, count(w.dead), count(int64(w.threshold)), pct(float64(w.dead), w.threshold))
		}
		if g.off > 0 {
			off++
			if st.autovacuum {
				text += "; autovacuum off for it"
			} else {
				text += "; autovacuum is off"
			}
		}
		it := Item{Kind: KindTable, Status: g.status, Name: g.root, Text: text, Evidence: []Evidence{
			ev("dead tuples", count(w.dead)+" in "+rel, "pg_stat_all_tables.n_dead_tup"),
			ev("live tuples", count(w.live), "pg_stat_all_tables.n_live_tup"),
			ev("rows", count(w.reltuples), "pg_class.reltuples"),
			ev("threshold", count(int64(w.threshold)), ifThen(w.ownSettings, "the table's reloptions", "pg_settings")+": threshold + scale_factor x reltuples"),
			ev("autovacuum", ifThen(w.enabled && st.autovacuum, "on", "off"), ifThen(!st.autovacuum, "pg_settings autovacuum", "the table's reloptions (autovacuum_enabled)")),
			ev("last autovacuum", sinceOr(w.lastAutovacuum, j.now), "pg_stat_all_tables.last_autovacuum"),
			ev("last vacuum", sinceOr(w.lastVacuum, j.now), "pg_stat_all_tables.last_vacuum"),
		}}
		if g.chunked {
			it.Evidence = append(it.Evidence, ev("relations past the threshold", fmt.Sprint(g.rels), "pg_stat_all_tables"))
		}
		if g.fixable {
			it.Table, it.Fix = g.root, "vacuum"
		}
		f.Items = append(f.Items, it)
	}
	if len(order) == 0 {
		f.Summary = "no table is past autovacuum's threshold"
	} else {
		f.Summary = fmt.Sprintf("%s past autovacuum's threshold", plural(len(order), "table"))
		if off > 0 {
			f.Summary += fmt.Sprintf(", %d with autovacuum off", off)
		}
	}
	return f
}

func ifThen(c bool, a, b string) string {
	if c {
		return a
	}
	return b
}

func sinceOr(t *time.Time, now time.Time) string {
	if t == nil {
		return "never"
	}
	return Since(*t, now) + " ago"
}

func (j judge) autovacuum() Finding {
	st := j.raw.settings
	f := Finding{Check: CheckAutovacuum, Title: "autovacuum",
		Meaning: "Autovacuum removes dead tuples and freezes old rows in the background; with every worker busy, " +
			"tables past their threshold wait their turn.",
		Action: "Keep autovacuum on; when its workers are always busy, raise autovacuum_max_workers (a restart) or " +
			"autovacuum_vacuum_cost_limit, and VACUUM the largest offenders yourself (v in the Tables pane).",
	}
	workers := 0
	for _, s := range j.raw.sessions {
		if s.BackendType == "autovacuum worker" {
			workers++
		}
	}
	for _, v := range j.raw.vacuums {
		prog := ""
		if v.total > 0 {
			prog = fmt.Sprintf(" %.0f%%", pct(float64(v.scanned), float64(v.total)))
		}
		who := "VACUUM"
		if v.backendType == "autovacuum worker" {
			who = "autovacuum"
		}
		text := fmt.Sprintf("pid %d %s of %s", v.pid, who, v.relation)
		if v.database != st.database {
			text += " in " + v.database
		}
		if v.wraparound {
			text += " (to prevent wraparound)"
		}
		text += ": " + v.phase + prog
		if v.xactStart != nil {
			text += ", for " + Since(*v.xactStart, j.now)
		}
		f.Items = append(f.Items, Item{Kind: KindWorker, Status: OK, Name: fmt.Sprintf("pid %d", v.pid), Text: text, Evidence: []Evidence{
			ev("relation", v.relation, "pg_stat_progress_vacuum.relid"), ev("database", v.database, "pg_stat_progress_vacuum"),
			ev("phase", v.phase, "pg_stat_progress_vacuum"),
			ev("heap blocks scanned", fmt.Sprintf("%s of %s", count(v.scanned), count(v.total)), "pg_stat_progress_vacuum"),
		}})
	}
	f.Summary = fmt.Sprintf("%d of %d workers busy", workers, st.autovacuumWorkers)
	switch {
	case !st.autovacuum:
		f.Status, f.Summary = Warning, "autovacuum is off: only anti-wraparound vacuums run"
	case !st.trackCounts:
		f.Status, f.Summary = Warning, "track_counts is off: autovacuum cannot tell which tables need it"
	case workers >= st.autovacuumWorkers:
		f.Status = Warning
		f.Summary += ": tables past their threshold wait their turn"
	}
	f.Evidence = []Evidence{
		ev("autovacuum", ifThen(st.autovacuum, "on", "off"), "pg_settings"),
		ev("track_counts", ifThen(st.trackCounts, "on", "off"), "pg_settings"),
		ev("autovacuum_max_workers", fmt.Sprint(st.autovacuumWorkers), "pg_settings"),
		ev("workers running", fmt.Sprint(workers), "pg_stat_activity backend_type autovacuum worker"),
		ev("vacuums running", fmt.Sprint(len(j.raw.vacuums)), "pg_stat_progress_vacuum"),
	}
	return f
}

func (j judge) wraparound() Finding {
	h, st := j.h, j.raw.settings
	f := Finding{Check: CheckWraparound, Title: "wraparound",
		Meaning: "Every row must be frozen before its transaction ID is 2^31 old; autovacuum forces a freezing vacuum at " +
			"autovacuum_freeze_max_age, and 3,000,000 IDs before wraparound the server stops taking writes until it is done.",
		Action: "VACUUM the oldest tables (v; VACUUM freezes aggressively past vacuum_freeze_table_age); if their age does not " +
			"drop, first end what holds the xmin horizon back. Other databases: connect to them and VACUUM.",
	}
	critAge := int64(xidSpace) * int64(h.XIDAgeCritical) / 100
	grade := func(age, freezeMax int64) Status {
		switch {
		case age >= critAge:
			return Critical
		case age >= freezeMax*int64(h.XIDAgeWarn)/100:
			return Warning
		}
		return OK
	}
	for i, d := range j.raw.databases {
		status := grade(d.age, st.freezeMaxAge)
		if d.mxAge >= st.mxFreezeMaxAge*int64(h.XIDAgeWarn)/100 {
			status = Worse(status, Warning)
		}
		if i > 0 && status == OK {
			continue
		}
		f.Items = append(f.Items, Item{Kind: KindDatabase, Status: status, Name: d.name,
			Text: fmt.Sprintf("database %s: %s XIDs old (%.0f%% of autovacuum_freeze_max_age), %s to wraparound", d.name, count(d.age),
				pct(float64(d.age), float64(st.freezeMaxAge)), count(xidSpace-d.age)),
			Evidence: []Evidence{ev("age", count(d.age)+" XIDs", "age(pg_database.datfrozenxid)"),
				ev("multixact age", count(d.mxAge), "mxid_age(pg_database.datminmxid)"),
				ev("to wraparound", count(xidSpace-d.age)+" XIDs", "2^31 - age")}})
	}
	for i, t := range j.raw.frozen {
		status := grade(t.age, t.freezeMaxAge)
		if i > 0 && status == OK {
			continue
		}
		root, ok := rootTable(t.rootSchema, t.root)
		rel := t.schema + "." + t.name
		text := fmt.Sprintf("%s: %s XIDs old (%.0f%% of its freeze max age)", rel, count(t.age), pct(float64(t.age), float64(t.freezeMaxAge)))
		if rel != root {
			text = fmt.Sprintf("%s (%s): %s XIDs old (%.0f%% of its freeze max age)", root, t.name, count(t.age), pct(float64(t.age), float64(t.freezeMaxAge)))
		}
		it := Item{Kind: KindTable, Status: status, Name: root, Text: text,
			Evidence: []Evidence{ev("relation", rel, "pg_class"), ev("age", count(t.age)+" XIDs", "age(pg_class.relfrozenxid)"),
				ev("freeze max age", count(t.freezeMaxAge), "autovacuum_freeze_max_age (pg_settings, or the table's reloptions)"),
				ev("multixact age", count(t.mxAge), "mxid_age(pg_class.relminmxid)")}}
		if ok {
			it.Table, it.Fix = root, "vacuum"
		}
		f.Items = append(f.Items, it)
	}
	if len(j.raw.databases) > 0 {
		d := j.raw.databases[0]
		f.Summary = fmt.Sprintf("oldest database %s %s XIDs (%.0f%% of autovacuum_freeze_max_age)", d.name, count(d.age), pct(float64(d.age), float64(st.freezeMaxAge)))
	}
	f.Evidence = []Evidence{
		ev("autovacuum_freeze_max_age", count(st.freezeMaxAge), "pg_settings"),
		ev("autovacuum_multixact_freeze_max_age", count(st.mxFreezeMaxAge), "pg_settings"),
		ev("warning at", fmt.Sprintf("%d%% of autovacuum_freeze_max_age", h.XIDAgeWarn), "policy [health] xid_age_warn"),
		ev("critical at", fmt.Sprintf("%s XIDs (%d%% of 2^31)", count(critAge), h.XIDAgeCritical), "policy [health] xid_age_critical"),
	}
	return f
}

func (j judge) compression() Finding {
	f := Finding{Check: CheckCompression, Title: "compression",
		Meaning: "Chunks that should be compressed and are not take their full size on disk: the disk fills sooner and " +
			"scans read more.",
		Action: "Add a policy (SELECT add_compression_policy('table', INTERVAL '7 days')), or compress with pgtend; " +
			"for a failed job read its error (timescaledb_information.job_errors) and run it once by hand: CALL run_job(id).",
	}
	st := j.raw.settings
	if st.timescale == nil {
		f.Summary = "TimescaleDB is not installed in " + st.database + ": nothing to compress"
		return f
	}
	if j.raw.compressionErr != nil {
		f.Status = Unknown
		f.Summary = "cannot read TimescaleDB's jobs: " + oneLine(j.raw.compressionErr.Error(), 200)
		if insufficientPrivilege(j.raw.compressionErr) {
			f.Summary = st.role + " may not read TimescaleDB's job views (timescaledb_information.jobs, job_stats, job_errors)"
		}
		return f
	}
	problems := 0
	for _, ht := range j.raw.compression {
		name := ht.schema + "." + ht.name
		it := Item{Kind: KindHypertable, Status: OK, Name: name}
		add := func(label, value, source string) { it.Evidence = append(it.Evidence, ev(label, value, source)) }
		add("compression enabled", ifThen(ht.enabled, "yes", "no"), "timescaledb_information.hypertables")
		var why []string
		if ht.jobID == nil {
			switch {
			case ht.policyDays != nil:
				add("compressed by", fmt.Sprintf("pgtend (compress_after %dd in the policy): no TimescaleDB job", *ht.policyDays), "pgtend's policy; timescaledb_information.jobs")
			case ht.enabled:
				it.Status = Warning
				why = append(why, "compression enabled but no policy compresses its chunks")
				add("policy", "none", "timescaledb_information.jobs (proc_name policy_compression)")
			}
		} else {
			add("job", fmt.Sprint(*ht.jobID), "timescaledb_information.jobs")
			if ht.schedule != nil {
				add("schedule", Span(time.Duration(*ht.schedule*float64(time.Second))), "timescaledb_information.jobs.schedule_interval")
			}
			if ht.compressAfter != nil {
				add("compress_after", Span(time.Duration(*ht.compressAfter*float64(time.Second))), "timescaledb_information.jobs.config")
			}
			if ht.lastStart != nil {
				add("last run", fmt.Sprintf("%s ago: %s", Since(*ht.lastStart, j.now), deref(ht.lastStatus, "?")), "timescaledb_information.job_stats")
			}
			if ht.lastSuccess != nil && ht.lastSuccess.Year() > 1 {
				add("last success", Since(*ht.lastSuccess, j.now)+" ago", "timescaledb_information.job_stats")
			}
			if ht.totalFailures != nil {
				add("runs", fmt.Sprintf("%d, %d failed", deref(ht.totalRuns, 0), *ht.totalFailures), "timescaledb_information.job_stats")
			}
			if ht.lastError != nil {
				add("last error", oneLine(*ht.lastError, 300), "timescaledb_information.job_errors")
			}
			switch {
			case ht.scheduled != nil && !*ht.scheduled:
				it.Status = Warning
				why = append(why, fmt.Sprintf("its job %d is paused (scheduled = false)", *ht.jobID))
			case ht.lastStatus != nil && *ht.lastStatus == "Failed":
				it.Status = Warning
				why = append(why, fmt.Sprintf("its job %d failed %s ago", *ht.jobID, Since(*ht.lastStart, j.now)))
			case deref(ht.totalRuns, 0) == 0 && ht.nextStart != nil && ht.schedule != nil &&
				j.now.Sub(*ht.nextStart) > time.Duration(*ht.schedule*float64(time.Second)):
				it.Status = Warning
				why = append(why, fmt.Sprintf("its job %d never ran, due since %s (no background worker free?)", *ht.jobID, Since(*ht.nextStart, j.now)))
			}
		}
		add("uncompressed chunks that have ended", fmt.Sprint(ht.closedUncompress), "timescaledb_information.chunks")
		if ht.overdue != nil {
			add("past compress_after and one schedule, uncompressed", fmt.Sprint(*ht.overdue), "timescaledb_information.chunks")
			if *ht.overdue > 0 {
				it.Status = Worse(it.Status, Warning)
				why = append(why, fmt.Sprintf("%s past compress_after still uncompressed", plural(int(*ht.overdue), "chunk")))
			}
		}
		if it.Status == OK {
			it.Text = name + ": compressing"
			if ht.jobID == nil && ht.policyDays == nil {
				it.Text = name + ": nothing to compress"
			}
		} else {
			problems++
			it.Text = name + ": " + strings.Join(why, "; ")
			if len(why) == 1 && ht.jobID == nil && ht.enabled && ht.policyDays == nil {
				it.Text += fmt.Sprintf(" (%d uncompressed chunks have ended)", ht.closedUncompress)
			}
			it.Table, it.Fix = name, "compress"
		}
		f.Items = append(f.Items, it)
	}
	f.Evidence = append(f.Evidence, ev("hypertables compressed or to compress", fmt.Sprint(len(j.raw.compression)),
		"timescaledb_information.hypertables, jobs; pgtend's policy (compress_after)"))
	switch {
	case len(j.raw.compression) == 0:
		f.Summary = "no hypertable has compression enabled"
	case problems == 0:
		f.Summary = fmt.Sprintf("%s compressing as planned", plural(len(j.raw.compression), "hypertable"))
	default:
		f.Summary = fmt.Sprintf("%s of %d not compressing", plural(problems, "hypertable"), len(j.raw.compression))
	}
	return f
}

func deref[T any](p *T, or T) T {
	if p == nil {
		return or
	}
	return *p
}
