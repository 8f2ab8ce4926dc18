package maint

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/pgtend/pgtend/ops/report"
)

// The rows past the cutoff that no whole chunk or partition removal takes:
// in a DEFAULT partition, in a chunk or partition straddling the cutoff,
// in the relations of an inheritance tree that cannot be dropped whole.
// They are counted (FROM ONLY the relation that holds them, never through
// its parent), shown, and — for DEFAULT partitions when asked, for
// inheritance trees always — deleted in batches relation by relation.

// querier runs a query on a connection or in a transaction.
type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// countPast counts the rows of the relation rel alone (FROM ONLY: not its
// children) older than the cutoff. A hypertable's chunk is read as
// itself (not ONLY: a compressed chunk's rows are read decompressed).
func (j *tableJob) countPast(ctx context.Context, q querier, rel string) (int64, error) {
	from := "ONLY " + rel
	if *j.t.Kind == report.KindHypertable || isAggregate(j.t) {
		from = rel
	}
	var n int64
	err := q.QueryRow(ctx, fmt.Sprintf("SELECT count(*) FROM %s t WHERE t.%s < %s", from, j.col, j.t.Bound(j.cutoff))).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("%s: counting the rows of %s older than the cutoff: %w", j.name, rel, err)
	}
	return n, nil
}

// share is n rows' estimated share of a relation of bytes bytes holding
// about rows rows (the catalog's estimate); nil when its size is unknown.
func share(bytes *int64, rows, n int64) *int64 {
	if bytes == nil {
		return nil
	}
	b := *bytes
	if d := max(rows, n); d > 0 {
		b = *bytes * n / d
	}
	return &b
}

// addPast counts n rows past the cutoff (bytes their share, maybe nil)
// in a portion.
func addPast(p *Portion, n int64, bytes *int64) {
	rows := n
	if p.RowsPastCutoff != nil {
		rows += *p.RowsPastCutoff
	}
	p.RowsPastCutoff = &rows
	if bytes != nil {
		b := *bytes
		if p.BytesPastCutoff != nil {
			b += *p.BytesPastCutoff
		}
		p.BytesPastCutoff = &b
	}
}

// goesWhole says when a chunk or partition straddling the cutoff goes
// whole: at the first run after its range's end is past the retention.
func (j *tableJob) goesWhole(c report.Chunk) string {
	if c.RangeEnd == nil {
		return "its range has no end, so no run removes it whole"
	}
	return "it goes whole at the first run after " + when(j.t, c.RangeEnd.Add(j.r.GeneratedAt.Sub(j.cutoff)))
}

// display is a relation as findings name it: schema.name.
func display(c report.Chunk) string { return c.ChunkSchema + "." + c.Chunk }

// regclasses is an SQL array of the relations (quoted names).
func regclasses(rels []string) string {
	lits := make([]string, len(rels))
	for i, r := range rels {
		lits[i] = report.Literal(r)
	}
	return "ARRAY[" + strings.Join(lits, ", ") + "]::regclass[]"
}

// rowsDelete is one relation whose rows past the cutoff go in batches.
type rowsDelete struct {
	rel, name string // quoted; schema.name as shown
	what      string // how the step's title names it
	// fks are the foreign keys whose references reach its rows, refs the
	// relations they reference (quoted): what each batch checks again.
	fks   []ForeignKey
	refs  []string
	rows  int64  // counted
	bytes *int64 // their share of its bytes, estimated
	oid   uint32 // the relation's, where the caller orders deletes by foreign keys
}

// deleteSteps plans deleting, in batches, the rows of one relation of the
// table's tree older than the cutoff — FROM ONLY that relation, with ctids
// it picks itself — then VACUUM ANALYZE of it: the batch of a plain table
// (one transaction each, the foreign keys checked again, rows locked and
// those still referenced left). A cascade or SET NULL/DEFAULT that would
// reach rows that must stay holds the relation's rows back: held says so,
// and nothing is planned for it. selfKept is what the table's cleanup
// keeps, for a foreign key to itself.
func (j *tableJob) deleteSteps(ctx context.Context, conn *pgx.Conn, d rowsDelete, selfKept string) (steps []Step, notes []string, held string, err error) {
	t, col, cutoff := j.t, j.col, j.cutoff
	doomed := "t." + col + " < " + t.Bound(cutoff) // alias t: a row that goes
	var guards []string
	for _, f := range d.fks {
		n, err := blockingRows(ctx, conn, f, "ONLY "+d.rel, doomed, j.keptBy(f.from(), selfKept))
		if err != nil {
			return nil, nil, "", err
		}
		switch {
		case n > 0 && f.changesOther():
			return nil, nil, fmt.Sprintf("constraint %s on %s (ON DELETE %s) would reach %s that must stay (%s)", f.Name, f.From, f.OnDelete, rowsOf(n), j.whyKept(f)), nil
		case n > 0:
			notes = append(notes, fmt.Sprintf("%s: rows past the cutoff in %s that %s of %s reference stay (constraint %s, ON DELETE %s: deleting them would fail; %s)",
				j.name, d.name, rowsOf(n), f.From, f.Name, f.OnDelete, j.whyKept(f)))
		}
		guards = append(guards, fmt.Sprintf("NOT EXISTS (SELECT 1 FROM %s r WHERE %s)", f.fromRel, f.joinOn("r", "t")))
	}
	triggers, err := readDeleteTriggers(ctx, conn, d.rel)
	if err != nil {
		return nil, nil, "", err
	}
	for _, tr := range triggers {
		notes = append(notes, fmt.Sprintf("%s: row trigger %s on %s fires for each deleted row: it may write elsewhere", j.name, tr, d.name))
	}
	cond := strings.Join(append([]string{doomed}, guards...), " AND ")
	b := batch{planned: incomingOIDs(d.fks), rel: d.rel, refs: d.refs,
		del: fmt.Sprintf("DELETE FROM ONLY %s t WHERE %s AND t.ctid = ANY (ARRAY(SELECT t.ctid FROM ONLY %s t WHERE %s LIMIT $1))", d.rel, cond, d.rel, cond)}
	shown := []string{strings.Replace(b.del, "$1", "<batch>", 1) + "  -- one transaction a batch, until no row is left"}
	need := needs(d.rel, NeedSelect, NeedDelete)
	if len(guards) > 0 {
		need = append(need, needOn{d.rel, NeedUpdate})
		b.pick = fmt.Sprintf("SELECT t.ctid FROM ONLY %s t WHERE %s LIMIT $1 FOR UPDATE OF t", d.rel, cond)
		b.del = fmt.Sprintf("DELETE FROM ONLY %s t WHERE t.ctid = ANY ($1::tid[]) AND %s", d.rel, cond)
		shown = []string{strings.Replace(b.pick, "$1", "<batch>", 1), strings.Replace(b.del, "$1::tid[]", "<those rows>", 1) + "  -- one transaction a batch, until no row is left"}
	}
	rows := d.rows
	step := Step{
		Title: fmt.Sprintf("delete %d rows of %s older than %s, in batches", rows, d.what, when(t, cutoff)), Target: d.rel, Zone: t.Location(),
		Statements: shown, Lock: LockRowExclusive + " (row locks on the deleted rows only)", Destructive: true,
		EstRows: &rows, EstBytes: d.bytes, Unit: "rows", Table: j.rel, needs: need,
		run: b.runAll(rows, d.bytes),
	}
	return []Step{step, vacuumStep("VACUUM (ANALYZE) "+d.name, d.rel, j.rel)}, notes, "", nil
}

// chunksLeftover counts, for a hypertable, the rows past the cutoff in the
// chunks that straddle it (they go whole at a later run) and says so.
func (j *tableJob) chunksLeftover(ctx context.Context, conn *pgx.Conn, res *tableResult) error {
	all, old := chunksOf(j.r, j.t, j.cutoff)
	var names []string
	var rows int64
	var bytes *int64
	var last report.Chunk
	for _, c := range without(all, old) {
		if c.RangeStart != nil && !c.RangeStart.Before(j.cutoff) {
			continue
		}
		// Through the chunk itself: a compressed one is read decompressed.
		n, err := j.countPast(ctx, conn, pgx.Identifier{c.ChunkSchema, c.Chunk}.Sanitize())
		if err != nil {
			return err
		}
		if n == 0 {
			continue
		}
		names, rows = append(names, display(c)), rows+n
		if b := share(c.TotalBytes, c.RowEstimate, n); b != nil {
			bytes = ptrSum(bytes, *b)
		}
		if last.RangeEnd == nil || (c.RangeEnd != nil && c.RangeEnd.After(*last.RangeEnd)) {
			last = c
		}
	}
	if rows == 0 {
		return nil
	}
	addPast(&res.stays, rows, bytes)
	where := "chunk " + names[0] + ", which straddles the cutoff"
	if len(names) > 1 {
		where = fmt.Sprintf("%d chunks that straddle the cutoff (%s)", len(names), strings.Join(names, ", "))
	}
	res.notes = append(res.notes, fmt.Sprintf("%s: %s past retention stay in %s: chunks go whole, and %s", j.name, rowsOf(rows), where, j.goesWhole(last)))
	return nil
}

func ptrSum(p *int64, n int64) *int64 {
	if p != nil {
		n += *p
	}
	return &n
}

// refuted: the planner proves from the relation's constraints (validated
// CHECK constraints, NOT NULL) that no row of it alone meets cond (alias
// t): with constraint_exclusion on, its plan of a scan under cond is a
// Result that never runs. No row is read. q must be in a transaction, for
// SET LOCAL.
func refuted(ctx context.Context, q querier, rel, cond string) (bool, error) {
	var plan []byte
	if err := q.QueryRow(ctx, "SELECT set_config('constraint_exclusion', 'on', true)").Scan(new(string)); err != nil {
		return false, err
	}
	if err := q.QueryRow(ctx, fmt.Sprintf("EXPLAIN (FORMAT JSON) SELECT 1 FROM ONLY %s t WHERE %s", rel, cond)).Scan(&plan); err != nil {
		return false, err
	}
	var parsed []struct {
		Plan struct {
			NodeType string            `json:"Node Type"`
			Filter   string            `json:"One-Time Filter"`
			Plans    []json.RawMessage `json:"Plans"`
		} `json:"Plan"`
	}
	if err := json.Unmarshal(plan, &parsed); err != nil || len(parsed) != 1 {
		return false, fmt.Errorf("reading the plan of %s: %q", rel, plan)
	}
	p := parsed[0].Plan
	return p.NodeType == "Result" && p.Filter == "false" && len(p.Plans) == 0, nil
}

// notProven: the relation's CHECK constraints allow a row at or after the
// cutoff.
const notProven = "its CHECK constraints do not prove that every row is older than the cutoff"

// wholePast is the proof that every row of the relation rel (alone) is
// older than the cutoff, so dropping it deletes nothing retention keeps:
// its CHECK constraints refute a row at or after the cutoff, and either
// NOT NULL refutes a row without a time or none is there now (checked
// again in the run, under the lock). "" when proven, else why not.
func (j *tableJob) wholePast(ctx context.Context, q querier, rel string) (string, error) {
	col, bound := "t."+j.col, j.t.Bound(j.cutoff)
	ok, err := refuted(ctx, q, rel, col+" >= "+bound)
	if err != nil || !ok {
		return notProven, err
	}
	// The rows themselves only confirm it (an index probe, where there is
	// one): its newest is older than the cutoff, and none lacks a time
	// unless NOT NULL proves there is none.
	var newest, nulls bool
	if err := q.QueryRow(ctx, fmt.Sprintf("SELECT coalesce(max(%s) >= %s, false) FROM ONLY %s t", col, bound, rel)).Scan(&newest); err != nil {
		return "", err
	}
	if newest {
		return "its newest row is not older than the cutoff", nil
	}
	if ok, err := refuted(ctx, q, rel, col+" IS NULL"); err != nil || ok {
		return "", err
	}
	if err := q.QueryRow(ctx, fmt.Sprintf("SELECT EXISTS (SELECT 1 FROM ONLY %s t WHERE %s IS NULL)", rel, col)).Scan(&nulls); err != nil {
		return "", err
	}
	if nulls {
		return "it holds rows without a time, which retention keeps", nil
	}
	return "", nil
}
