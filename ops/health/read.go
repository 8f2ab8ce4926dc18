package health

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/pgtend/pgtend/ops/config"
)

// Options say what Collect judges by.
type Options struct {
	// Policy gives the thresholds ([health]), the backup directory and the
	// tables' compress_after.
	Policy config.Policy
	// OwnPIDs are pgtend's other sessions (the console's report session):
	// shown, marked, never offered for cancel or terminate. The session
	// Collect runs on is left out of every finding.
	OwnPIDs []uint32
}

// Timeout bounds a Collect whose context has no deadline of its own.
const Timeout = 15 * time.Second

// settings is the one row of server facts the findings are judged against.
type settings struct {
	now                             time.Time
	database, role, version         string
	superuser, readAllStats, signal bool
	maxConnections, superReserved   int
	reserved                        int // PostgreSQL 16's reserved_connections
	autovacuum, trackCounts         bool
	autovacuumWorkers               int
	vacThreshold, vacScale          float64
	freezeMaxAge, mxFreezeMaxAge    int64
	idleTimeout                     string
	inRecovery                      bool
	pid                             int32
	timescale                       *string
	databaseBytes                   int64 // pg_database_size: the next backup's size, before a first one
}

const settingsQuery = `
SELECT now(), current_database(), current_user, current_setting('server_version'),
       coalesce((SELECT rolsuper FROM pg_roles WHERE rolname = current_user), false),
       pg_has_role(current_user, 'pg_read_all_stats', 'USAGE'),
       pg_has_role(current_user, 'pg_signal_backend', 'USAGE'),
       current_setting('max_connections')::int,
       current_setting('superuser_reserved_connections')::int,
       coalesce(nullif(current_setting('reserved_connections', true), ''), '0')::int,
       current_setting('autovacuum') = 'on', current_setting('track_counts') = 'on',
       current_setting('autovacuum_max_workers')::int,
       current_setting('autovacuum_vacuum_threshold')::float8,
       current_setting('autovacuum_vacuum_scale_factor')::float8,
       current_setting('autovacuum_freeze_max_age')::bigint,
       current_setting('autovacuum_multixact_freeze_max_age')::bigint,
       current_setting('idle_in_transaction_session_timeout'),
       pg_is_in_recovery(), pg_backend_pid(),
       (SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'),
       pg_database_size(current_database())`

// sessionsQuery is every server process but this session. A role without
// pg_read_all_stats sees other roles' sessions with their state, times
// and query NULL ("<insufficient privilege>").
const sessionsQuery = `
SELECT a.pid, coalesce(a.backend_type, ''), coalesce(a.usename, ''), coalesce(a.application_name, ''),
       CASE WHEN a.client_addr IS NOT NULL THEN host(a.client_addr) || ':' || a.client_port
            WHEN a.client_port = -1 THEN '[local]' ELSE '' END,
       coalesce(a.datname, ''), a.backend_start, a.xact_start, a.query_start, a.state_change,
       coalesce(a.state, ''), coalesce(a.wait_event_type, ''), coalesce(a.wait_event, ''),
       age(a.backend_xmin)::bigint, age(a.backend_xid)::bigint,
       left(coalesce(a.query, ''), 2000), coalesce(a.query = '<insufficient privilege>', false),
       coalesce((SELECT rolsuper FROM pg_roles WHERE oid = a.usesysid), true),
       CASE WHEN (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN true
            WHEN a.usesysid IS NULL OR (SELECT rolsuper FROM pg_roles WHERE oid = a.usesysid) THEN false
            ELSE pg_has_role(current_user, a.usesysid, 'USAGE') OR pg_has_role(current_user, 'pg_signal_backend', 'USAGE') END
FROM pg_stat_activity a
WHERE a.pid <> pg_backend_pid()
ORDER BY a.pid`

// waitsQuery is every session waiting for a lock: who blocks it
// (pg_blocking_pids), what it waits for and since when (pg_locks.waitstart).
const waitsQuery = `
SELECT a.pid, pg_blocking_pids(a.pid), coalesce(l.mode, ''), coalesce(l.locktype, ''),
       CASE WHEN l.relation IS NULL THEN ''
            WHEN l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) THEN l.relation::regclass::text
            ELSE 'relation ' || l.relation || ' of another database' END,
       l.waitstart
FROM pg_stat_activity a
LEFT JOIN LATERAL (SELECT * FROM pg_locks l WHERE l.pid = a.pid AND NOT l.granted LIMIT 1) l ON true
WHERE a.wait_event_type = 'Lock' AND a.pid <> pg_backend_pid()
ORDER BY a.pid`

const preparedQuery = `
SELECT gid, prepared, coalesce(owner::text, ''), coalesce(database::text, ''), age(transaction)::bigint
FROM pg_prepared_xacts ORDER BY prepared`

const slotsQuery = `
SELECT slot_name::text, coalesce(slot_type, ''), coalesce(database::text, ''), active, active_pid,
       age(xmin)::bigint, age(catalog_xmin)::bigint,
       CASE WHEN restart_lsn IS NOT NULL AND NOT pg_is_in_recovery() THEN pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::bigint END,
       coalesce(wal_status, ''), safe_wal_size
FROM pg_replication_slots ORDER BY slot_name`

// connLimitsQuery is every role that may log in and every database that
// accepts connections with a connection limit of its own (rolconnlimit,
// datconnlimit; -1 is none): a pool may hit one long before
// max_connections. A limit of 0 is a lock put on purpose (an account or a
// database closed), and superusers' sessions are not limited: neither is
// judged.
const connLimitsQuery = `
SELECT 'role', rolname::text, rolconnlimit FROM pg_roles WHERE rolcanlogin AND NOT rolsuper AND rolconnlimit > 0
UNION ALL
SELECT 'database', datname::text, datconnlimit FROM pg_database WHERE datallowconn AND datconnlimit > 0
ORDER BY 1, 2`

const standbysQuery = `
SELECT pid, coalesce(application_name, ''), coalesce(host(client_addr), '[local]'), coalesce(state, ''),
       age(backend_xmin)::bigint, state IS NULL
FROM pg_stat_replication ORDER BY pid`

const databasesQuery = `
SELECT datname::text, age(datfrozenxid)::bigint, mxid_age(datminmxid)::bigint, datallowconn
FROM pg_database ORDER BY age(datfrozenxid) DESC, datname`

// rootOf is a relation's table as pgtend lists it: a TOAST table's owner,
// then a partition's root (pg_partition_root) or a chunk's hypertable (its
// inheritance parent).
const rootOf = `
CROSS JOIN LATERAL (SELECT coalesce((SELECT t.oid FROM pg_class t WHERE t.reltoastrelid = c.oid LIMIT 1), c.oid) AS oid) own
CROSS JOIN LATERAL (SELECT coalesce(pg_partition_root(own.oid),
       (SELECT i.inhparent FROM pg_inherits i WHERE i.inhrelid = own.oid ORDER BY i.inhseqno LIMIT 1), own.oid) AS oid) ro
JOIN pg_class r ON r.oid = ro.oid JOIN pg_namespace rn ON rn.oid = r.relnamespace`

// frozenQuery is the relations of this database oldest by relfrozenxid,
// each with the freeze age autovacuum forces a vacuum at (the table's own
// autovacuum_freeze_max_age, which can only lower the server's).
const frozenQuery = `
WITH c AS MATERIALIZED (
	SELECT c.* FROM pg_class c
	WHERE c.relkind IN ('r', 'm', 't') AND c.relfrozenxid <> '0'::xid
	ORDER BY age(c.relfrozenxid) DESC, c.oid
	LIMIT 20)
SELECT n.nspname::text, c.relname::text, rn.nspname::text, r.relname::text,
       age(c.relfrozenxid)::bigint, mxid_age(c.relminmxid)::bigint,
       least(current_setting('autovacuum_freeze_max_age')::bigint,
             coalesce((SELECT o.option_value::bigint FROM pg_options_to_table(c.reloptions) o
                        WHERE o.option_name = 'autovacuum_freeze_max_age'), 2000000000))
FROM c JOIN pg_namespace n ON n.oid = c.relnamespace` + rootOf + `
ORDER BY age(c.relfrozenxid) DESC, c.oid`

// deadQuery is the tables whose dead tuples exceed autovacuum's own
// threshold: autovacuum_vacuum_threshold + autovacuum_vacuum_scale_factor
// × reltuples, the table's reloptions over the server's settings (as
// autovacuum computes it, with reltuples -1 of a never-analyzed table as 0).
const deadQuery = `
WITH t AS MATERIALIZED (
	SELECT c.oid, n.nspname::text AS schema, c.relname::text AS name,
	       s.n_dead_tup, s.n_live_tup, greatest(c.reltuples, 0)::bigint AS reltuples, s.last_autovacuum, s.last_vacuum,
	       coalesce(o.thr, current_setting('autovacuum_vacuum_threshold')::float8)
	         + coalesce(o.sf, current_setting('autovacuum_vacuum_scale_factor')::float8) * greatest(c.reltuples, 0) AS threshold,
	       coalesce(o.enabled, true) AS enabled, o.thr IS NOT NULL OR o.sf IS NOT NULL AS own
	FROM pg_stat_all_tables s JOIN pg_class c ON c.oid = s.relid JOIN pg_namespace n ON n.oid = c.relnamespace
	LEFT JOIN LATERAL (SELECT max(x.option_value) FILTER (WHERE x.option_name = 'autovacuum_vacuum_threshold')::float8 AS thr,
	                          max(x.option_value) FILTER (WHERE x.option_name = 'autovacuum_vacuum_scale_factor')::float8 AS sf,
	                          bool_and(x.option_value::bool) FILTER (WHERE x.option_name = 'autovacuum_enabled') AS enabled
	                     FROM pg_options_to_table(c.reloptions) x) o ON true
	WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_toast'
	  -- an extension's own tables (TimescaleDB's catalog) are autovacuum's
	  -- and the extension's to keep: no action of the operator's applies
	  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
), c AS MATERIALIZED (
	SELECT * FROM t WHERE n_dead_tup > threshold
	ORDER BY n_dead_tup / greatest(threshold, 1) DESC, schema, name
	LIMIT 500
)
SELECT c.schema, c.name, rn.nspname::text, r.relname::text, c.n_dead_tup, c.n_live_tup, c.reltuples, c.last_autovacuum, c.last_vacuum,
       c.threshold, c.enabled, c.own
FROM c` + rootOf + `
ORDER BY c.n_dead_tup / greatest(c.threshold, 1) DESC, c.schema, c.name`

// vacuumsQuery is every VACUUM running now, autovacuum's or not.
const vacuumsQuery = `
SELECT p.pid, coalesce(p.datname::text, ''),
       CASE WHEN p.datname = current_database() THEN p.relid::regclass::text ELSE 'relation ' || p.relid END,
       coalesce(p.phase, ''), coalesce(p.heap_blks_total, 0), coalesce(p.heap_blks_scanned, 0),
       coalesce(a.backend_type, ''), coalesce(a.query, '') LIKE '%to prevent wraparound%', a.xact_start
FROM pg_stat_progress_vacuum p LEFT JOIN pg_stat_activity a ON a.pid = p.pid
ORDER BY p.pid`

// raw is what the statements returned.
type raw struct {
	settings  settings
	sessions  []Session
	waits     []wait
	prepared  []prepared
	slots     []slot
	standbys  []standby
	databases []database
	limits    []connLimit
	frozen    []frozen
	dead      []dead
	vacuums   []vacuum
	// compression is nil without TimescaleDB; compressionErr is why it
	// could not be read (a role that may not read the jobs' views).
	compression    []hypertable
	compressionErr error
}

type wait struct {
	pid       int32
	blockers  []int32
	mode      string
	locktype  string
	relation  string
	waitstart *time.Time
}

type prepared struct {
	gid, owner, database string
	at                   time.Time
	age                  int64
}

type slot struct {
	name, kind, database string
	active               bool
	activePID            *int32
	xminAge, catalogAge  *int64
	retainedWAL          *int64
	walStatus            string
	safeWAL              *int64 // safe_wal_size: WAL that may still be written before the slot is lost (max_slot_wal_keep_size)
}

// connLimit is a role's or a database's own connection limit.
type connLimit struct {
	kind, name string // "role" or "database"
	limit      int
}

type standby struct {
	pid                 int32
	name, client, state string
	xminAge             *int64
	hidden              bool
}

type database struct {
	name       string
	age, mxAge int64
	allowConn  bool
}

type frozen struct {
	schema, name, rootSchema, root string
	age, mxAge, freezeMaxAge       int64
}

type dead struct {
	schema, name, rootSchema, root string
	dead, live, reltuples          int64
	lastAutovacuum, lastVacuum     *time.Time
	threshold                      float64
	enabled, ownSettings           bool
}

type vacuum struct {
	pid                int32
	database, relation string
	phase              string
	total, scanned     int64
	backendType        string
	wraparound         bool
	xactStart          *time.Time
}

// Collect reads the database's health and judges it by opts.Policy: one
// read-only transaction (so every statement sees the same snapshot of
// pg_stat_activity), its statements sent in one batch. The backup
// directory is read from this machine's filesystem. The disk finding is
// the caller's (Disk): it needs the growth forecast.
func Collect(ctx context.Context, conn *pgx.Conn, opts Options) (*Report, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, Timeout)
		defer cancel()
	}
	rw, err := read(ctx, conn, opts.Policy)
	if err != nil {
		return nil, err
	}
	own := map[int32]bool{}
	for _, p := range opts.OwnPIDs {
		own[int32(p)] = true
	}
	for i, s := range rw.sessions {
		rw.sessions[i].Own = own[s.PID] || s.Application == "pgtend"
	}
	h := opts.Policy.Health.Effective()
	st := rw.settings
	r := &Report{GeneratedAt: st.now, Database: st.database, Role: st.role, Server: st.version,
		SeesAllSessions: st.superuser || st.readAllStats, Findings: []Finding{}}
	j := judge{raw: rw, h: h, now: st.now, policy: opts.Policy}
	for _, f := range []Finding{j.connections(), j.idleInTransaction(), j.longTransactions(), j.locks(), j.xminHorizon(), j.slotWAL(),
		j.deadTuples(), j.autovacuum(), j.wraparound(), j.compression(), Backups(opts.Policy.Backup, h, st.database, st.databaseBytes, st.now)} {
		if f.Check != "" {
			r.Set(f)
		}
	}
	return r, nil
}

// read runs the statements.
func read(ctx context.Context, conn *pgx.Conn, policy config.Policy) (*raw, error) {
	tx, err := conn.BeginTx(ctx, pgx.TxOptions{AccessMode: pgx.ReadOnly})
	if err != nil {
		return nil, fmt.Errorf("reading health: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	rw := &raw{}
	b := &pgx.Batch{}
	b.Queue(settingsQuery).QueryRow(func(row pgx.Row) error {
		s := &rw.settings
		return row.Scan(&s.now, &s.database, &s.role, &s.version, &s.superuser, &s.readAllStats, &s.signal,
			&s.maxConnections, &s.superReserved, &s.reserved, &s.autovacuum, &s.trackCounts, &s.autovacuumWorkers,
			&s.vacThreshold, &s.vacScale, &s.freezeMaxAge, &s.mxFreezeMaxAge, &s.idleTimeout, &s.inRecovery, &s.pid, &s.timescale, &s.databaseBytes)
	})
	queue(b, "sessions", sessionsQuery, &rw.sessions, func(row pgx.CollectableRow) (Session, error) {
		var s Session
		err := row.Scan(&s.PID, &s.BackendType, &s.User, &s.Application, &s.Client, &s.Database, &s.BackendStart,
			&s.XactStart, &s.QueryStart, &s.StateChange, &s.State, &s.WaitType, &s.Wait, &s.XminAge, &s.XidAge, &s.Query, &s.Hidden, &s.superuser, &s.MaySignal)
		return s, err
	})
	queue(b, "lock waits", waitsQuery, &rw.waits, func(row pgx.CollectableRow) (wait, error) {
		var w wait
		err := row.Scan(&w.pid, &w.blockers, &w.mode, &w.locktype, &w.relation, &w.waitstart)
		return w, err
	})
	queue(b, "prepared transactions", preparedQuery, &rw.prepared, func(row pgx.CollectableRow) (prepared, error) {
		var p prepared
		err := row.Scan(&p.gid, &p.at, &p.owner, &p.database, &p.age)
		return p, err
	})
	queue(b, "replication slots", slotsQuery, &rw.slots, func(row pgx.CollectableRow) (slot, error) {
		var s slot
		err := row.Scan(&s.name, &s.kind, &s.database, &s.active, &s.activePID, &s.xminAge, &s.catalogAge, &s.retainedWAL, &s.walStatus, &s.safeWAL)
		return s, err
	})
	queue(b, "connection limits", connLimitsQuery, &rw.limits, func(row pgx.CollectableRow) (connLimit, error) {
		var l connLimit
		err := row.Scan(&l.kind, &l.name, &l.limit)
		return l, err
	})
	queue(b, "standbys", standbysQuery, &rw.standbys, func(row pgx.CollectableRow) (standby, error) {
		var s standby
		err := row.Scan(&s.pid, &s.name, &s.client, &s.state, &s.xminAge, &s.hidden)
		return s, err
	})
	queue(b, "databases", databasesQuery, &rw.databases, func(row pgx.CollectableRow) (database, error) {
		var d database
		err := row.Scan(&d.name, &d.age, &d.mxAge, &d.allowConn)
		return d, err
	})
	queue(b, "transaction ID ages", frozenQuery, &rw.frozen, func(row pgx.CollectableRow) (frozen, error) {
		var f frozen
		err := row.Scan(&f.schema, &f.name, &f.rootSchema, &f.root, &f.age, &f.mxAge, &f.freezeMaxAge)
		return f, err
	})
	queue(b, "dead tuples", deadQuery, &rw.dead, func(row pgx.CollectableRow) (dead, error) {
		var d dead
		err := row.Scan(&d.schema, &d.name, &d.rootSchema, &d.root, &d.dead, &d.live, &d.reltuples, &d.lastAutovacuum, &d.lastVacuum, &d.threshold, &d.enabled, &d.ownSettings)
		return d, err
	})
	queue(b, "running vacuums", vacuumsQuery, &rw.vacuums, func(row pgx.CollectableRow) (vacuum, error) {
		var v vacuum
		err := row.Scan(&v.pid, &v.database, &v.relation, &v.phase, &v.total, &v.scanned, &v.backendType, &v.wraparound, &v.xactStart)
		return v, err
	})
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return nil, fmt.Errorf("reading health: %w", err)
	}
	if rw.settings.timescale != nil {
		// Its own savepoint: a role that may not read TimescaleDB's job
		// views still gets every other finding.
		rw.compression, rw.compressionErr = readCompression(ctx, tx, policy)
	}
	return rw, nil
}

// queue adds a statement whose rows collect into dst.
func queue[T any](b *pgx.Batch, what, sql string, dst *[]T, scan pgx.RowToFunc[T]) {
	b.Queue(sql).Query(func(rows pgx.Rows) error {
		out, err := pgx.CollectRows(rows, scan)
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		*dst = out
		return nil
	})
}

// hypertable is one hypertable's compression as TimescaleDB's views tell it.
type hypertable struct {
	schema, name     string
	enabled          bool
	jobID            *int32
	scheduled        *bool
	schedule         *float64 // seconds
	compressAfter    *float64 // seconds: the job's config, when an interval
	lastStart        *time.Time
	lastSuccess      *time.Time
	lastStatus       *string
	jobStatus        *string
	totalRuns        *int64
	totalFailures    *int64
	nextStart        *time.Time
	lastError        *string
	lastErrorAt      *time.Time
	policyDays       *int32 // pgtend's policy's compress_after
	closedUncompress int64  // uncompressed chunks whose range has ended
	overdue          *int64 // uncompressed chunks past compress_after and one schedule (nil: no age known)
}

// compressionQuery lists every hypertable with compression enabled, a
// compression job, or a compress_after in pgtend's policy ($1, $2).
const compressionQuery = `
WITH pol AS (SELECT to_regclass(q) AS rel, d FROM unnest($1::text[], $2::int[]) AS x(q, d)),
h AS (SELECT hy.hypertable_schema::text AS s, hy.hypertable_name::text AS n, coalesce(hy.compression_enabled, false) AS ce,
             to_regclass(format('%I.%I', hy.hypertable_schema, hy.hypertable_name)) AS rel
        FROM timescaledb_information.hypertables hy),
j AS (SELECT h.*, jb.job_id, jb.scheduled, jb.schedule_interval,
             CASE WHEN jsonb_typeof(jb.config->'compress_after') = 'string' THEN (jb.config->>'compress_after')::interval END AS after,
             (SELECT pol.d FROM pol WHERE pol.rel = h.rel LIMIT 1) AS policy_days
        FROM h LEFT JOIN timescaledb_information.jobs jb
          ON jb.hypertable_schema = h.s AND jb.hypertable_name = h.n AND jb.proc_name = 'policy_compression')
SELECT j.s, j.n, j.ce, j.job_id, j.scheduled, extract(epoch FROM j.schedule_interval)::float8, extract(epoch FROM j.after)::float8,
       st.last_run_started_at, st.last_successful_finish, st.last_run_status, st.job_status, st.total_runs, st.total_failures, st.next_start,
       e.err_message, e.finish_time, j.policy_days,
       coalesce(cnt.closed, 0), cnt.overdue
FROM j
LEFT JOIN timescaledb_information.job_stats st ON st.job_id = j.job_id
LEFT JOIN LATERAL (SELECT er.err_message, er.finish_time FROM timescaledb_information.job_errors er
                    WHERE er.job_id = j.job_id ORDER BY er.finish_time DESC NULLS LAST LIMIT 1) e ON true
LEFT JOIN LATERAL (
	SELECT count(*) FILTER (WHERE c.range_end < now()) AS closed,
	       CASE WHEN coalesce(j.after, j.policy_days * interval '1 day') IS NOT NULL THEN
	         count(*) FILTER (WHERE c.range_end < now() - coalesce(j.after, j.policy_days * interval '1 day') - coalesce(j.schedule_interval, interval '1 day')) END AS overdue
	FROM timescaledb_information.chunks c
	WHERE c.hypertable_schema = j.s AND c.hypertable_name = j.n AND NOT c.is_compressed) cnt ON true
WHERE j.ce OR j.job_id IS NOT NULL OR j.policy_days IS NOT NULL
ORDER BY j.s, j.n`

func readCompression(ctx context.Context, tx pgx.Tx, policy config.Policy) ([]hypertable, error) {
	var names []string
	var days []int32
	for _, t := range policy.Tables {
		if t.CompressAfterDays > 0 {
			names, days = append(names, pgx.Identifier(t.NameParts()).Sanitize()), append(days, int32(t.CompressAfterDays))
		}
	}
	sp, err := tx.Begin(ctx)
	if err != nil {
		return nil, err
	}
	defer sp.Rollback(context.WithoutCancel(ctx))
	rows, err := sp.Query(ctx, compressionQuery, names, days)
	if err != nil {
		return nil, err
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (hypertable, error) {
		var h hypertable
		err := row.Scan(&h.schema, &h.name, &h.enabled, &h.jobID, &h.scheduled, &h.schedule, &h.compressAfter,
			&h.lastStart, &h.lastSuccess, &h.lastStatus, &h.jobStatus, &h.totalRuns, &h.totalFailures, &h.nextStart,
			&h.lastError, &h.lastErrorAt, &h.policyDays, &h.closedUncompress, &h.overdue)
		return h, err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// insufficientPrivilege tells a statement refused for the role's
// privileges (42501).
func insufficientPrivilege(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "42501"
}

// sessionByPID finds a session.
func (rw *raw) sessionByPID(pid int32) *Session {
	i := slices.IndexFunc(rw.sessions, func(s Session) bool { return s.PID == pid })
	if i < 0 {
		return nil
	}
	return &rw.sessions[i]
}
