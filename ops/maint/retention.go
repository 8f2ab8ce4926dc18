package maint

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pgtend/pgtend/ops/config"
	"github.com/pgtend/pgtend/ops/report"
)

// RetentionOptions tune a retention plan.
type RetentionOptions struct {
	// Cutoff replaces now − retention (a cutoff in the future is refused).
	Cutoff *time.Time
	// IncludeDefault also deletes, in batches, the rows past the cutoff in
	// DEFAULT partitions, which no partition removal takes (pgtend plan|run
	// retention --include-default): the space is reused by the table, not
	// returned to the filesystem. Without it they are counted and said to
	// stay.
	IncludeDefault bool
}

// FlagIncludeDefault is retention's --include-default: IncludeDefault.
const FlagIncludeDefault = "include-default"

// planRetentionWithFlags is the registry's retention planner: the flags
// set (WithFlags: the command line's; the console sets none) are its
// options.
func planRetentionWithFlags(ctx context.Context, conn *pgx.Conn, policy config.Policy, table string) (*Plan, error) {
	return PlanRetention(ctx, conn, policy, table, RetentionOptions{IncludeDefault: FlagsOf(ctx)[FlagIncludeDefault] == "true"})
}

// PlanRetention plans removing the data older than each table's retention
// ("" for every table of the policy with a retention), by the kind of table:
//   - a hypertable drops whole chunks (drop_chunks): instant, and the files
//     go back to the filesystem;
//   - a partitioned table detaches and drops whole partitions; the rows
//     past the cutoff in its DEFAULT partition are deleted in batches with
//     o.IncludeDefault, else counted and said to stay, like those in
//     partitions (and chunks) straddling the cutoff, which go whole later;
//   - an inheritance parent drops the children whose CHECK constraints
//     prove every row older than the cutoff, and deletes in batches, child
//     by child, the older rows of the others and its own;
//   - a plain table deletes in batches, then VACUUM ANALYZE: the space is
//     reusable by the table but not returned to the filesystem.
//
// Foreign keys decide the order and what may go: a table is cleaned before
// the tables it references, and nothing is planned that would reach, by a
// cascade or a SET NULL/DEFAULT, rows that stay (of a permanent table, a
// table outside the policy, or rows another table's retention keeps).
//
// Refused, with the reason: a permanent table, a table without a retention
// or a time column, a table locked right now (its lockers named), a cutoff
// in the future, a cleanup that would delete everything, one that reaches
// rows that stay. Rows newer than the cutoff are never touched.
func PlanRetention(ctx context.Context, conn *pgx.Conn, policy config.Policy, table string, o RetentionOptions) (*Plan, error) {
	r, tables, err := inventory(ctx, conn, policy, table)
	if err != nil {
		return nil, err
	}
	p := &Plan{Target: targetName(table), Created: r.GeneratedAt}
	if o.Cutoff != nil && o.Cutoff.After(r.GeneratedAt) {
		return nil, fmt.Errorf("cutoff %s is in the future (the server's time is %s): refusing", o.Cutoff.Format(time.RFC3339), r.GeneratedAt.Format(time.RFC3339))
	}
	// refuse sets a table aside with the reason: the plan of one table
	// fails, a plan of the whole policy goes on without it.
	refuse := func(t report.Table, err error) error {
		if table != "" {
			return err
		}
		p.Refused = append(p.Refused, Refusal{Table: t.Key(), Reason: err.Error()})
		return nil
	}
	var jobs []*tableJob
	for _, t := range tables {
		job, err := newTableJob(ctx, conn, r, t, o)
		if err != nil {
			if err := refuse(t, err); err != nil {
				return nil, err
			}
			continue
		}
		jobs = append(jobs, job)
	}
	oids := make([]uint32, len(jobs))
	byOID := map[uint32]*tableJob{}
	for i, j := range jobs {
		oids[i], byOID[j.t.OID()] = j.t.OID(), j
	}
	incoming, held, err := readForeignKeys(ctx, conn, oids)
	if err != nil {
		return nil, err
	}
	order, cyclic := cleaningOrder(oids, incoming)
	for _, oid := range oids {
		if via, ok := cyclic[oid]; ok {
			if err := refuse(byOID[oid].t, fmt.Errorf("%s: its foreign keys make a cycle (%s): no order cleans each table before the ones it references", byOID[oid].name, via)); err != nil {
				return nil, err
			}
		}
	}
	// kept: for each table planned so far, the condition its staying rows
	// meet (alias r); a table not cleaned keeps every row.
	kept := map[uint32]string{}
	for _, oid := range order {
		j := byOID[oid]
		j.incoming, j.held, j.kept, j.policy = incoming[oid], held[oid], kept, r.Tables
		res, err := j.plan(ctx, conn)
		if err != nil {
			if err := refuse(j.t, err); err != nil {
				return nil, err
			}
			continue
		}
		p.Tables = append(p.Tables, j.summarize(res, len(p.Steps)))
		p.Steps = append(p.Steps, res.steps...)
		for _, f := range res.offers {
			p.Offer(f)
		}
		if len(res.steps) > 0 {
			kept[oid] = res.kept
		}
	}
	if o.Cutoff != nil {
		p.Cutoff = o.Cutoff
	}
	if len(p.Steps) == 0 {
		p.Notes = append(p.Notes, "nothing is past its retention")
	}
	return p, nil
}

// tableJob is one table's retention being planned.
type tableJob struct {
	r         *report.Report
	t         report.Table
	rel, name string // quoted, and as shown
	col       string // the time column, quoted
	cutoff    time.Time
	intCutoff *int64       // an integer time column's cutoff (retention_integer.go), nil otherwise
	incoming  []ForeignKey // reaching it
	held      []ForeignKey // it holds
	kept      map[uint32]string
	policy    []report.Table // every table of the report, to say why rows must stay
	opts      RetentionOptions
}

// tableResult is what planning one table gives.
type tableResult struct {
	steps       []Step
	notes       []string // its findings
	kept        string   // the condition (alias r) its rows that stay meet
	goes, stays Portion
	aggregates  []AggregateCheck // its continuous aggregates' refresh windows against the cutoff
	offers      []string         // the switches that would change it (Plan.Offers)
}

// newTableJob checks what can be told of a table alone: refused, with the
// reason, when it is permanent, missing, without a retention or a time
// column, locked, or when no row would stay.
func newTableJob(ctx context.Context, conn *pgx.Conn, r *report.Report, t report.Table, o RetentionOptions) (*tableJob, error) {
	name := t.Schema + "." + t.Name
	switch {
	case t.Permanent:
		return nil, fmt.Errorf("%s is permanent: retention never deletes from it", name)
	case t.Missing:
		return nil, fmt.Errorf("%s is not in the database", name)
	case *t.Kind == report.KindMaterializedView:
		return nil, fmt.Errorf("%s is a materialized view: its rows are what its query computed at the last REFRESH MATERIALIZED VIEW; no retention deletes from it (filter its query, then refresh it)", name)
	case t.IntegerTime != nil:
		return newIntegerJob(ctx, conn, r, t, o)
	case t.RetentionDays == nil && o.Cutoff == nil:
		return nil, fmt.Errorf("%s has no retention in the policy", name)
	case t.TimeColumn == nil:
		return nil, fmt.Errorf("%s has no time column: set time_column in the policy", name)
	case t.Locked:
		return nil, fmt.Errorf("%s is locked by another session right now: %s", name, describeLockers(conn, pgx.Identifier{t.Schema, t.Name}.Sanitize()))
	}
	// The cutoff is an instant. A timestamp or date column is compared with
	// it in the table's zone (report.Table.Bound), and the report reads its
	// chunk and partition ranges as instants of that zone too.
	cutoff := r.GeneratedAt.Add(-time.Duration(deref(t.RetentionDays)) * 24 * time.Hour)
	if o.Cutoff != nil {
		cutoff = *o.Cutoff
	}
	j := &tableJob{r: r, t: t, name: name, rel: pgx.Identifier{t.Schema, t.Name}.Sanitize(), cutoff: cutoff.UTC(), col: pgx.Identifier{*t.TimeColumn}.Sanitize(), opts: o}
	// An inheritance parent's children are cut along no key: their CHECK
	// constraints on the time column say (or not) what they hold.
	if *t.Kind != report.KindTable && *t.Kind != report.KindInherited && (t.PartitionColumn == nil || *t.PartitionColumn != *t.TimeColumn) {
		return nil, fmt.Errorf("%s: the policy's time column %q is not the column the table is partitioned by: whole chunks cannot be dropped by it", name, *t.TimeColumn)
	}
	if t.TimeType() == "" {
		return nil, fmt.Errorf("%s: time column %s is not a timestamptz, timestamp or date column", name, *t.TimeColumn)
	}
	// Whatever the chunk or partition layout (empty future partitions made
	// ahead of time, a stray future row), refuse unless a row newer than the
	// cutoff stays.
	var survivor bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM "+j.rel+" WHERE "+j.col+" >= "+t.Bound(j.cutoff)+")").Scan(&survivor); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if !survivor {
		return nil, fmt.Errorf("%s: no row is newer than %s: refusing to delete everything", name, when(t, j.cutoff))
	}
	return j, nil
}

// plan plans the table by its kind.
func (j *tableJob) plan(ctx context.Context, conn *pgx.Conn) (tableResult, error) {
	switch *j.t.Kind {
	case report.KindHypertable, report.KindContinuousAggregate:
		if j.intCutoff != nil {
			if err := j.integerAggregates(); err != nil {
				return tableResult{}, err
			}
			return j.integerSteps()
		}
		res, err := j.hypertableSteps()
		if err != nil {
			return res, err
		}
		var notes []string
		res.aggregates, notes = j.aggregateChecks()
		if err := j.erasesKept(res.aggregates); err != nil {
			return res, err
		}
		res.notes = append(res.notes, notes...)
		return res, j.chunksLeftover(ctx, conn, &res)
	case report.KindPartitioned:
		return j.partitionSteps(ctx, conn)
	case report.KindInherited:
		return j.inheritedSteps(ctx, conn)
	default:
		return j.plainSteps(ctx, conn)
	}
}

// summarize is the table's summary, its steps numbered from first.
func (j *tableJob) summarize(res tableResult, first int) TableSummary {
	s := TableSummary{Table: j.name, Kind: *j.t.Kind, TimeZone: j.t.Location().String(), Goes: res.goes, Stays: res.stays,
		Findings: res.notes, ForeignKeys: []ForeignKey{}, Locks: []string{}, Steps: []int{}, Aggregates: res.aggregates}
	if s.Aggregates == nil {
		s.Aggregates = []AggregateCheck{}
	}
	for i, st := range res.steps {
		s.Steps = append(s.Steps, first+i)
		if !slices.Contains(s.Locks, st.Lock) {
			s.Locks = append(s.Locks, st.Lock)
		}
	}
	for _, f := range j.incoming {
		f.Incoming = true
		s.ForeignKeys = append(s.ForeignKeys, f)
	}
	s.ForeignKeys = append(s.ForeignKeys, j.held...)
	return s
}

// keptBy is the condition (alias r) that the rows of the table with oid
// meet when they stay: what its cleanup earlier in this plan keeps, every
// row for a table not cleaned by it. For the table itself (a foreign key
// to itself), self says what its own cleanup keeps.
func (j *tableJob) keptBy(oid uint32, self string) string {
	if oid == j.t.OID() {
		return self
	}
	if k, ok := j.kept[oid]; ok {
		return k
	}
	return "true"
}

// holds says whether the report's table t holds the rows of f's
// referencing relation: it is t, or one of t's partitions or inheritance
// children (which a plan of one table does not read trees for).
func (j *tableJob) holds(t report.Table, f ForeignKey) bool {
	if t.OID() == f.from() {
		return true
	}
	return slices.ContainsFunc(j.r.Chunks, func(c report.Chunk) bool {
		return display(c) == f.From && c.TableSchema == t.Schema && c.Table == t.Name
	})
}

// whyKept says why the referencing table's rows must stay.
func (j *tableJob) whyKept(f ForeignKey) string {
	for _, t := range j.policy {
		if !j.holds(t, f) {
			continue
		}
		switch {
		case t.Permanent:
			return f.From + " is permanent in the policy"
		case !t.InPolicy:
			return f.From + " is not in the policy"
		case t.OID() == j.t.OID():
			return "they are newer than the cutoff"
		case t.RetentionDays != nil:
			if _, cleaned := j.kept[t.OID()]; cleaned {
				return f.From + "'s own retention keeps them"
			}
			return f.From + " is not cleaned before " + j.name + " in this plan (clean it first, or plan the whole policy)"
		}
		return f.From + " has no retention"
	}
	return f.From + " is not in the policy"
}

// when shows an instant as the table's times are shown: in its zone, which
// it names.
func when(t report.Table, instant time.Time) string {
	return instant.In(t.Location()).Format("2006-01-02 15:04 MST")
}

// chunksOf returns the table's chunks and those wholly older than cutoff.
func chunksOf(r *report.Report, t report.Table, cutoff time.Time) (all, old []report.Chunk) {
	for _, c := range r.Chunks {
		if c.TableSchema != t.Schema || c.Table != t.Name {
			continue
		}
		all = append(all, c)
		if olderThan(c, cutoff) {
			old = append(old, c)
		}
	}
	return all, old
}

// olderThan: the chunk's whole range ends by cutoff.
func olderThan(c report.Chunk, cutoff time.Time) bool {
	return c.RangeEnd != nil && !c.RangeEnd.After(cutoff)
}

func sumBytes(cs []report.Chunk) int64 {
	var n int64
	for _, c := range cs {
		if c.TotalBytes != nil {
			n += *c.TotalBytes
		}
	}
	return n
}
