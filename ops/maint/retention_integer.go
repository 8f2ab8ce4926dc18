package maint

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/pgtend/pgtend/ops/report"
)

// Retention on an integer time column (a hypertable whose time dimension
// is a bigint, integer or smallint). A retention in days means nothing
// there: what is old is what its integer_now function says minus the
// policy's integer_retention, in the column's own units. Without both, the
// table is refused with the reason.

// newIntegerJob plans an integer-time table's retention: refused unless
// it has an integer_now function and the policy an integer_retention.
func newIntegerJob(ctx context.Context, conn *pgx.Conn, r *report.Report, t report.Table, o RetentionOptions) (*tableJob, error) {
	name, it := t.Schema+"."+t.Name, t.IntegerTime
	col := ""
	if t.TimeColumn != nil {
		col = *t.TimeColumn
	}
	switch {
	case o.Cutoff != nil:
		return nil, fmt.Errorf("%s: its time column %s is an integer (%s): a cutoff instant does not apply; give integer_retention in the policy", name, col, it.ColumnType)
	case it.IntegerNow == nil:
		return nil, fmt.Errorf("%s: its time column %s is an integer (%s) and the table has no integer_now function, so nothing says which values are old: "+
			"set one (SELECT set_integer_now_func('%s', 'your_now_function')) and give integer_retention in the policy", name, col, it.ColumnType, name)
	case t.IntegerRetention == nil && t.RetentionDays != nil:
		return nil, fmt.Errorf("%s: its time column %s is an integer (%s): a retention in days does not apply; "+
			"replace retention with integer_retention = N (rows older than %s() minus N of the column's units go)", name, col, it.ColumnType, *it.IntegerNow)
	case t.IntegerRetention == nil:
		return nil, fmt.Errorf("%s has no integer_retention in the policy (its time column %s is an integer)", name, col)
	case t.Locked:
		return nil, fmt.Errorf("%s is locked by another session right now: %s", name, describeLockers(conn, pgx.Identifier{t.Schema, t.Name}.Sanitize()))
	case it.Now == nil || it.Cutoff == nil:
		return nil, fmt.Errorf("%s: its integer_now function %s could not be called by this role", name, *it.IntegerNow)
	}
	switch it.ColumnType {
	case "bigint", "integer", "smallint":
	default:
		return nil, fmt.Errorf("%s: unexpected integer time type %q", name, it.ColumnType)
	}
	cutoff := *it.Cutoff
	j := &tableJob{r: r, t: t, name: name, rel: pgx.Identifier{t.Schema, t.Name}.Sanitize(), col: pgx.Identifier{col}.Sanitize(),
		cutoff: r.GeneratedAt.UTC(), intCutoff: &cutoff, opts: o}
	var survivor bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM "+j.rel+" WHERE "+j.col+" >= "+j.intBound()+")").Scan(&survivor); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if !survivor {
		return nil, fmt.Errorf("%s: no row is newer than %d: refusing to delete everything", name, cutoff)
	}
	return j, nil
}

// intBound is the integer cutoff as SQL of the column's type.
func (j *tableJob) intBound() string {
	return fmt.Sprintf("%d::%s", *j.intCutoff, j.t.IntegerTime.ColumnType)
}

// integerSteps drops the chunks whose integer range ends by the cutoff.
func (j *tableJob) integerSteps() (tableResult, error) {
	var all, old []report.Chunk
	for _, c := range j.r.Chunks {
		if c.TableSchema != j.t.Schema || c.Table != j.t.Name {
			continue
		}
		all = append(all, c)
		if c.RangeEndInteger != nil && *c.RangeEndInteger <= *j.intCutoff {
			old = append(old, c)
		}
	}
	it := j.t.IntegerTime
	shown := fmt.Sprintf("%d (%s() = %d, less integer_retention %d)", *j.intCutoff, *it.IntegerNow, *it.Now, *j.t.IntegerRetention)
	return j.dropChunks(all, old, j.intBound(), shown)
}
