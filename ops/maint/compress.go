package maint

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/dustin/go-humanize"
	"github.com/jackc/pgx/v5"
	"github.com/pgtend/pgtend/ops/config"
	"github.com/pgtend/pgtend/ops/report"
)

// The flags of the compress and decompress actions.
const (
	FlagAddPolicy = "add-policy" // compress: add TimescaleDB's compression policy where there is none
	FlagChunk     = "chunk"      // decompress: the chunk
)

// LockCompressChunk is what compressing or decompressing a chunk takes.
const LockCompressChunk = LockAccessExclusive + " on the chunk (its reads and writes wait while it is rewritten)"

// tsAPI is the compression API the installed TimescaleDB offers, found by
// what exists (to_regproc), never by its version: 2.18 renamed compression
// "columnstore" (convert_to_columnstore and convert_to_rowstore are
// PROCEDUREs: CALL, not SELECT) and kept the old functions for a while.
type tsAPI struct {
	columnstore bool   // the 2.18+ names
	compress    string // qualified, with its options: "SELECT x.compress_chunk(%s, if_not_compressed => true)"
	decompress  string
	addPolicy   string // "SELECT x.add_compression_policy(%s, compress_after => %s)"
	stats       string // chunk_compression_stats or chunk_columnstore_stats, qualified
	enable      string // the ALTER TABLE option that enables compression
	segmentBy   string
	orderBy     string
}

type legacyAPIKey struct{}

// withLegacyAPI makes the plans made with ctx use the pre-2.18 names even
// where the columnstore ones exist (tests cover both).
func withLegacyAPI(ctx context.Context) context.Context {
	return context.WithValue(ctx, legacyAPIKey{}, true)
}

// detectAPI finds the compression API; nil when TimescaleDB is not
// installed in the database.
func detectAPI(ctx context.Context, conn *pgx.Conn) (*tsAPI, error) {
	var schema *string
	var procs [8]bool
	err := conn.QueryRow(ctx, `SELECT n.nspname::text,
		to_regproc(quote_ident(n.nspname) || '.convert_to_columnstore') IS NOT NULL,
		to_regproc(quote_ident(n.nspname) || '.convert_to_rowstore') IS NOT NULL,
		to_regproc(quote_ident(n.nspname) || '.add_columnstore_policy') IS NOT NULL,
		to_regproc(quote_ident(n.nspname) || '.chunk_columnstore_stats') IS NOT NULL,
		to_regproc(quote_ident(n.nspname) || '.compress_chunk') IS NOT NULL,
		to_regproc(quote_ident(n.nspname) || '.decompress_chunk') IS NOT NULL,
		to_regproc(quote_ident(n.nspname) || '.add_compression_policy') IS NOT NULL,
		to_regproc(quote_ident(n.nspname) || '.chunk_compression_stats') IS NOT NULL
		FROM (SELECT 1) one LEFT JOIN pg_extension e ON e.extname = 'timescaledb' LEFT JOIN pg_namespace n ON n.oid = e.extnamespace`).Scan(
		&schema, &procs[0], &procs[1], &procs[2], &procs[3], &procs[4], &procs[5], &procs[6], &procs[7])
	if err != nil {
		return nil, fmt.Errorf("looking for TimescaleDB's compression functions: %w", err)
	}
	if schema == nil {
		return nil, nil
	}
	fn := func(name string) string { return pgx.Identifier{*schema, name}.Sanitize() }
	legacy, _ := ctx.Value(legacyAPIKey{}).(bool)
	switch {
	case procs[0] && procs[1] && procs[2] && procs[3] && !(legacy && procs[4] && procs[5] && procs[6] && procs[7]):
		return &tsAPI{columnstore: true,
			compress:   "CALL " + fn("convert_to_columnstore") + "(%s, if_not_columnstore => true)",
			decompress: "CALL " + fn("convert_to_rowstore") + "(%s, if_columnstore => true)",
			addPolicy:  "CALL " + fn("add_columnstore_policy") + "(%s, after => %s)",
			stats:      fn("chunk_columnstore_stats"),
			enable:     "timescaledb.enable_columnstore", segmentBy: "timescaledb.segmentby", orderBy: "timescaledb.orderby"}, nil
	case procs[4] && procs[5] && procs[6] && procs[7]:
		return &tsAPI{
			compress:   "SELECT " + fn("compress_chunk") + "(%s, if_not_compressed => true)",
			decompress: "SELECT " + fn("decompress_chunk") + "(%s, if_compressed => true)",
			addPolicy:  "SELECT " + fn("add_compression_policy") + "(%s, compress_after => %s)",
			stats:      fn("chunk_compression_stats"),
			enable:     "timescaledb.compress", segmentBy: "timescaledb.compress_segmentby", orderBy: "timescaledb.compress_orderby"}, nil
	}
	return nil, fmt.Errorf("TimescaleDB in schema %s offers neither convert_to_columnstore nor compress_chunk (and their companions)", *schema)
}

// policyOf is the policy's entry for a table of the report.
func policyOf(policy config.Policy, t report.Table) (config.TablePolicy, bool) {
	for _, tp := range policy.Tables {
		parts := tp.NameParts()
		if (len(parts) == 1 && parts[0] == t.Name) || (len(parts) == 2 && parts[0] == t.Schema && parts[1] == t.Name) {
			return tp, true
		}
	}
	return config.TablePolicy{}, false
}

// PlanCompress plans compressing, one chunk at a time, the chunks of each
// hypertable of the policy with a compress_after (one table, with table)
// whose whole range is older than that and that are not compressed yet.
// Where compression is not enabled it is enabled first, from the policy's
// segment_by and order_by: a schema change, shown as such. A hypertable
// without TimescaleDB's compression policy is said to lack one, and with
// --add-policy the plan adds it. Partitioned and plain tables cannot be
// compressed: the plan says they need TimescaleDB and does nothing.
func PlanCompress(ctx context.Context, conn *pgx.Conn, policy config.Policy, table string) (*Plan, error) {
	r, tables, err := inventory(ctx, conn, policy, table)
	if err != nil {
		return nil, err
	}
	// An API pgtend does not know refuses the hypertables, not the plan: a
	// script (monthly) goes on with its other actions.
	api, apiErr := detectAPI(ctx, conn)
	p := &Plan{Target: targetName(table), Created: r.GeneratedAt}
	refuse := func(t report.Table, why string) { p.Refused = append(p.Refused, Refusal{Table: t.Key(), Reason: why}) }
	for _, t := range tables {
		name := t.Key()
		tp, _ := policyOf(policy, t)
		switch {
		case t.Missing:
			refuse(t, name+": not in the database")
		case *t.Kind == report.KindContinuousAggregate || *t.Kind == report.KindMaterializedView:
			if tp.CompressAfterDays > 0 || table != "" {
				why := "a materialized view: PostgreSQL cannot compress it"
				if *t.Kind == report.KindContinuousAggregate {
					why = "a continuous aggregate: pgtend does not compress its chunks; TimescaleDB's own policy does " +
						"(ALTER MATERIALIZED VIEW … SET (timescaledb.compress = true), then add_compression_policy)"
				}
				refuse(t, fmt.Sprintf("%s is %s; nothing done", name, why))
			}
		case *t.Kind != report.KindHypertable:
			if tp.CompressAfterDays > 0 || table != "" {
				how := "TimescaleDB is not installed in this database"
				if api != nil || apiErr != nil {
					how = "make it one with create_hypertable (TimescaleDB)"
				}
				refuse(t, fmt.Sprintf("%s is a %s table: compression needs a TimescaleDB hypertable (%s); nothing done", name, kindWord(*t.Kind), how))
			}
		case tp.CompressAfterDays == 0:
			refuse(t, name+": no compress_after in the policy: nothing to compress")
		case apiErr != nil:
			if table != "" {
				return nil, apiErr
			}
			refuse(t, name+": "+apiErr.Error())
		default:
			sum, steps, err := planCompressTable(ctx, conn, api, r, t, tp, FlagsOf(ctx)[FlagAddPolicy] != "", p)
			if err != nil {
				if table != "" {
					return nil, err
				}
				refuse(t, err.Error())
				continue
			}
			p.Tables = append(p.Tables, sum)
			p.Steps = append(p.Steps, steps...)
		}
	}
	switch {
	case api == nil && apiErr == nil:
		p.Notes = append(p.Notes, "TimescaleDB is not installed in this database: compression needs hypertables")
	case len(p.Steps) == 0:
		p.Notes = append(p.Notes, "nothing to compress")
	default:
		p.Notes = append(p.Notes, "each chunk is compressed in its own transaction: one that fails (a lock not granted, too many tuples) is reported and the run goes on with the next")
	}
	return p, nil
}

func kindWord(kind string) string {
	if kind == report.KindPartitioned {
		return "partitioned"
	}
	return "plain"
}

// compressSettings are a hypertable's compression settings and policy.
type compressSettings struct {
	enabled     bool
	segmentBy   []string
	jobID       *int32
	jobAfter    *string
	jobActive   bool
	columns     []string // the hypertable's columns
	timeInteger bool     // an integer time dimension
}

func readCompressSettings(ctx context.Context, conn *pgx.Conn, schema, name string) (compressSettings, error) {
	var s compressSettings
	err := conn.QueryRow(ctx, `
		SELECT h.compression_enabled,
		       coalesce((SELECT array_agg(cs.attname::text ORDER BY cs.segmentby_column_index) FROM timescaledb_information.compression_settings cs
		                  WHERE cs.hypertable_schema = h.hypertable_schema AND cs.hypertable_name = h.hypertable_name AND cs.segmentby_column_index IS NOT NULL), '{}'),
		       j.job_id, j.config->>'compress_after', coalesce(j.scheduled, false),
		       (SELECT array_agg(a.attname::text ORDER BY a.attnum) FROM pg_attribute a
		         WHERE a.attrelid = to_regclass(quote_ident(h.hypertable_schema) || '.' || quote_ident(h.hypertable_name)) AND a.attnum > 0 AND NOT a.attisdropped),
		       coalesce((SELECT d.integer_interval IS NOT NULL FROM timescaledb_information.dimensions d
		                  WHERE d.hypertable_schema = h.hypertable_schema AND d.hypertable_name = h.hypertable_name AND d.dimension_number = 1), false)
		FROM timescaledb_information.hypertables h
		LEFT JOIN LATERAL (SELECT job_id, config, scheduled FROM timescaledb_information.jobs j
		                    WHERE j.proc_name = 'policy_compression' AND j.hypertable_schema = h.hypertable_schema AND j.hypertable_name = h.hypertable_name
		                    ORDER BY job_id LIMIT 1) j ON true
		WHERE h.hypertable_schema = $1 AND h.hypertable_name = $2`, schema, name).Scan(
		&s.enabled, &s.segmentBy, &s.jobID, &s.jobAfter, &s.jobActive, &s.columns, &s.timeInteger)
	if err != nil {
		return s, fmt.Errorf("%s.%s: reading its compression settings: %w", schema, name, err)
	}
	return s, nil
}

// planCompressTable plans one hypertable: enable compression if needed,
// add the policy if asked, then its chunks past compress_after, oldest
// first. Its steps are numbered from first.
func planCompressTable(ctx context.Context, conn *pgx.Conn, api *tsAPI, r *report.Report, t report.Table, tp config.TablePolicy, addPolicy bool, p *Plan) (TableSummary, []Step, error) {
	first := len(p.Steps)
	name, rel := t.Key(), pgx.Identifier{t.Schema, t.Name}.Sanitize()
	sum := TableSummary{Table: name, Kind: *t.Kind, TimeZone: t.Location().String(), Locks: []string{}, Steps: []int{}, ForeignKeys: []ForeignKey{}, Findings: []string{}}
	s, err := readCompressSettings(ctx, conn, t.Schema, t.Name)
	if err != nil {
		return sum, nil, err
	}
	if s.timeInteger {
		return sum, nil, fmt.Errorf("%s is partitioned by an integer column: pgtend compresses by age (compress_after) on time columns only", name)
	}
	var steps []Step
	lock := func(l string) {
		if !slices.Contains(sum.Locks, l) {
			sum.Locks = append(sum.Locks, l)
		}
	}
	after := fmt.Sprintf("%d days", tp.CompressAfterDays)
	switch {
	case !s.enabled:
		for _, c := range append(slices.Clone(tp.SegmentBy), orderColumns(tp.OrderBy)...) {
			if !slices.Contains(s.columns, c) {
				return sum, nil, fmt.Errorf("%s: the policy's segment_by or order_by names %q, which is not a column of it", name, c)
			}
		}
		steps = append(steps, enableCompressionStep(api, rel, name, tp))
		lock(LockAccessExclusive + " on the hypertable, briefly (ALTER TABLE)")
		sum.Findings = append(sum.Findings, "compression is not enabled: the plan enables it, a schema change ("+segmentText(tp.SegmentBy)+")")
	case len(tp.SegmentBy) > 0 && !slices.Equal(tp.SegmentBy, s.segmentBy):
		sum.Findings = append(sum.Findings, fmt.Sprintf("TimescaleDB segments it by %s, the policy says %s: pgtend leaves an enabled setting as it is (changing it takes decompressing every chunk)",
			orNone(s.segmentBy), strings.Join(tp.SegmentBy, ", ")))
	}
	switch {
	case s.jobID == nil && addPolicy:
		steps = append(steps, addPolicyStep(api, rel, name, after))
		sum.Findings = append(sum.Findings, "no compression policy: the plan adds one, compressing chunks older than "+after+" from now on")
	case s.jobID == nil:
		p.Offer(FlagAddPolicy)
		sum.Findings = append(sum.Findings, fmt.Sprintf("no compression policy: TimescaleDB will not compress new chunks by itself; "+
			"pgtend run compress --table %s --add-policy adds one (%s)", name, fmt.Sprintf(api.addPolicy, report.Literal(rel), "INTERVAL '"+after+"'")))
	case !s.jobActive:
		sum.Findings = append(sum.Findings, fmt.Sprintf("TimescaleDB's compression policy (job %d) is paused (scheduled = false)", *s.jobID))
	case s.jobAfter != nil && !sameDays(*s.jobAfter, tp.CompressAfterDays):
		sum.Findings = append(sum.Findings, fmt.Sprintf("TimescaleDB's compression policy (job %d) compresses after %s, the policy after %s: this plan follows the policy",
			*s.jobID, *s.jobAfter, after))
	}
	cutoff := r.GeneratedAt.Add(-time.Duration(tp.CompressAfterDays) * 24 * time.Hour)
	var due, done []report.Chunk
	for _, c := range r.Chunks {
		if c.TableSchema != t.Schema || c.Table != t.Name {
			continue
		}
		switch {
		case c.Compressed:
			done = append(done, c)
		case olderThan(c, cutoff):
			due = append(due, c)
		}
	}
	slices.SortStableFunc(due, func(a, b report.Chunk) int { return a.RangeEnd.Compare(*b.RangeEnd) })
	var before int64
	for k, c := range due {
		steps = append(steps, compressChunkStep(api, t, c, k+1, len(due)))
		before += deref(c.TotalBytes)
	}
	if len(due) > 0 {
		lock(LockCompressChunk)
		expect := ""
		var b, a int64
		for _, c := range done {
			if c.BeforeBytes != nil && c.AfterBytes != nil {
				b, a = b+*c.BeforeBytes, a+*c.AfterBytes
			}
		}
		if b > 0 {
			expect = fmt.Sprintf("; its compressed chunks came to %.0f%% of their size, so expect ~%s", 100*float64(a)/float64(b), humanize.IBytes(uint64(float64(before)*float64(a)/float64(b))))
		}
		sum.Findings = append(sum.Findings, fmt.Sprintf("%s wholly older than %s (%s) not compressed: %s%s",
			plural(len(due), "chunk"), after, when(t, cutoff), humanize.IBytes(uint64(before)), expect))
	} else {
		sum.Findings = append(sum.Findings, "no uncompressed chunk is wholly older than "+after+" ("+when(t, cutoff)+")")
	}
	if len(done) > 0 {
		sum.Findings = append(sum.Findings, plural(len(done), "chunk")+" compressed already")
	}
	for i := range steps {
		sum.Steps = append(sum.Steps, first+i)
	}
	return sum, steps, nil
}

// orderColumns are the columns of order_by entries ("timestamp DESC").
func orderColumns(orderBy []string) []string {
	var out []string
	for _, o := range orderBy {
		if f := strings.Fields(o); len(f) > 0 {
			out = append(out, strings.Trim(f[0], `"`))
		}
	}
	return out
}

func segmentText(segmentBy []string) string {
	if len(segmentBy) == 0 {
		return "not segmented: the policy has no segment_by"
	}
	return "segment by " + strings.Join(segmentBy, ", ")
}

func orNone(s []string) string {
	if len(s) == 0 {
		return "nothing"
	}
	return strings.Join(s, ", ")
}

// sameDays: TimescaleDB's interval text ("7 days", "7 days 00:00:00")
// is the policy's n days.
func sameDays(interval string, n int) bool {
	f := strings.Fields(interval)
	return len(f) >= 2 && f[0] == fmt.Sprint(n) && strings.HasPrefix(f[1], "day") && (len(f) == 2 || f[2] == "00:00:00")
}

// enableCompressionStep enables compression on a hypertable from the
// policy's segment_by and order_by.
func enableCompressionStep(api *tsAPI, rel, name string, tp config.TablePolicy) Step {
	opts := []string{api.enable + " = true"}
	if len(tp.SegmentBy) > 0 {
		cols := make([]string, len(tp.SegmentBy))
		for i, c := range tp.SegmentBy {
			cols[i] = pgx.Identifier{c}.Sanitize()
		}
		opts = append(opts, api.segmentBy+" = "+report.Literal(strings.Join(cols, ", ")))
	}
	if len(tp.OrderBy) > 0 {
		opts = append(opts, api.orderBy+" = "+report.Literal(strings.Join(tp.OrderBy, ", ")))
	}
	stmt := "ALTER TABLE " + rel + " SET (" + strings.Join(opts, ", ") + ")"
	return Step{
		Title: "enable compression on " + name + " (" + segmentText(tp.SegmentBy) + "): a schema change", Target: rel, Statements: []string{stmt},
		Lock: LockAccessExclusive + " on the hypertable, briefly", Unit: "tables", Table: rel,
		needs: needs(rel, NeedOwner),
		run: func(ctx context.Context, r *runner, i int) (int64, error) {
			var enabled bool
			if err := r.conn.QueryRow(ctx, `SELECT compression_enabled FROM timescaledb_information.hypertables
				WHERE format('%I.%I', hypertable_schema, hypertable_name)::regclass = $1::regclass`, rel).Scan(&enabled); err != nil {
				return 0, err
			}
			if enabled {
				return 0, skip("compression was enabled on " + name + " since the plan was made")
			}
			_, err := r.conn.Exec(ctx, stmt)
			return 0, err
		},
	}
}

// addPolicyStep adds TimescaleDB's compression policy.
func addPolicyStep(api *tsAPI, rel, name, after string) Step {
	stmt := fmt.Sprintf(api.addPolicy, report.Literal(rel), "INTERVAL '"+after+"'")
	return Step{
		Title: "add TimescaleDB's compression policy to " + name + ": compress chunks older than " + after, Target: rel, Statements: []string{stmt},
		Lock: "none (a background job is added)", Unit: "jobs", Table: rel,
		needs: needs(rel, NeedOwner),
		run: func(ctx context.Context, r *runner, i int) (int64, error) {
			var exists bool
			if err := r.conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM timescaledb_information.jobs WHERE proc_name = 'policy_compression'
				AND format('%I.%I', hypertable_schema, hypertable_name)::regclass = $1::regclass)`, rel).Scan(&exists); err != nil {
				return 0, err
			}
			if exists {
				return 0, skip(name + " has a compression policy already (added since the plan was made)")
			}
			_, err := r.conn.Exec(ctx, stmt)
			return 0, err
		},
	}
}

// chunkState is whether a chunk exists and is compressed, as a run finds
// it; ok is false when it is gone.
func (r *runner) chunkState(ctx context.Context, schema, chunk string) (compressed, ok bool, err error) {
	err = r.conn.QueryRow(ctx, `SELECT is_compressed FROM timescaledb_information.chunks WHERE chunk_schema = $1 AND chunk_name = $2`, schema, chunk).Scan(&compressed)
	if err == pgx.ErrNoRows {
		return false, false, nil
	}
	return compressed, err == nil, err
}

// compressionBytes are a compressed chunk's bytes before and after
// compression, as TimescaleDB recorded them when it compressed it.
func (r *runner) compressionBytes(ctx context.Context, api *tsAPI, hypertable, schema, chunk string) (before, after int64, err error) {
	var b, a *int64
	err = r.conn.QueryRow(ctx, `SELECT before_compression_total_bytes, after_compression_total_bytes FROM `+api.stats+`($1::regclass)
		WHERE chunk_schema = $2 AND chunk_name = $3`, hypertable, schema, chunk).Scan(&b, &a)
	if err != nil {
		return 0, 0, err
	}
	return deref(b), deref(a), nil
}

// compressChunkStep compresses one chunk, k of n of its hypertable, and
// reports its bytes before → after from TimescaleDB's own figures.
func compressChunkStep(api *tsAPI, t report.Table, c report.Chunk, k, n int) Step {
	chunk := pgx.Identifier{c.ChunkSchema, c.Chunk}.Sanitize()
	rel := pgx.Identifier{t.Schema, t.Name}.Sanitize()
	stmt := fmt.Sprintf(api.compress, report.Literal(chunk)+"::regclass")
	run := fmt.Sprintf(api.compress, "$1::regclass")
	bytes := deref(c.TotalBytes)
	return Step{
		Title:  fmt.Sprintf("compress %s.%s, chunk %d of %d (%s)", c.ChunkSchema, c.Chunk, k, n, chunkRange(t, c)),
		Target: chunk, Statements: []string{stmt}, Lock: LockCompressChunk, EstBytes: &bytes, Unit: "chunks", Table: rel, Zone: t.Location(),
		needs: needs(rel, NeedOwner),
		run: func(ctx context.Context, r *runner, i int) (int64, error) {
			compressed, ok, err := r.chunkState(ctx, c.ChunkSchema, c.Chunk)
			switch {
			case err != nil:
				return 0, err
			case !ok:
				return 0, skip(chunk + " no longer exists: dropped since the plan was made (a retention, TimescaleDB's policy)")
			case compressed:
				return 0, skip(chunk + " is compressed already: TimescaleDB's policy or someone else compressed it since the plan was made")
			}
			if _, err := r.conn.Exec(ctx, run, chunk); err != nil {
				return 0, err
			}
			for _, msg := range r.stepNotices() {
				if strings.Contains(msg, "already") {
					return 0, skip(msg)
				}
			}
			before, after, err := r.compressionBytes(context.WithoutCancel(ctx), api, rel, c.ChunkSchema, c.Chunk)
			if err != nil {
				return 0, fmt.Errorf("%s was compressed, but its figures could not be read: %w", chunk, err)
			}
			r.freed = max(0, before-after)
			r.emit(Event{Kind: Progress, Step: i, Done: 1, Total: 1, Unit: "chunks"})
			r.emit(Event{Kind: Log, Step: i, Message: fmt.Sprintf("%s.%s: %s → %s (%s)", c.ChunkSchema, c.Chunk, humanize.IBytes(uint64(before)), humanize.IBytes(uint64(after)), ratio(before, after))})
			return 0, nil
		},
	}
}

// chunkRange is "2026-05-01 00:00 UTC → 2026-05-02 00:00 UTC".
func chunkRange(t report.Table, c report.Chunk) string {
	end := func(at *time.Time) string {
		if at == nil {
			return "?"
		}
		return when(t, *at)
	}
	return end(c.RangeStart) + " → " + end(c.RangeEnd)
}

func ratio(before, after int64) string {
	if after <= 0 {
		return "compressed"
	}
	return fmt.Sprintf("%.1fx", float64(before)/float64(after))
}
