package report

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// fillAges finds each table's oldest row and estimates the bytes past its
// retention. min(time_column) is answered from the time index, chunk by
// chunk from the oldest (see oldestRow), so it costs a few index probes
// per table, not a scan.
func fillAges(ctx context.Context, conn *pgx.Conn, r *Report, now time.Time) error {
	for i := range r.Tables {
		t := &r.Tables[i]
		if t.Missing || t.Locked || t.TimeColumn == nil || !slices.Contains(t.timeColumns, *t.TimeColumn) {
			continue
		}
		col := pgx.Identifier{*t.TimeColumn}.Sanitize()
		rel := qualified(t.Schema, t.Name)
		// Chunks and partitions speak for the time column only when they
		// are cut along it; otherwise the table is asked as a whole.
		byChunks := *t.Kind != KindTable && t.PartitionColumn != nil && *t.PartitionColumn == *t.TimeColumn
		// An estimate opens no relation: its oldest row stays unknown until
		// the measured report that follows.
		readable := !r.Estimated
		if readable {
			// A partitioned table or hypertable asked as a whole is planned
			// over every chunk before a refusal (seconds at thousands of
			// chunks): it is asked only by a role that may read the column.
			parentAllowed := *t.Kind == KindTable || slices.Contains(t.readableTimeColumns, *t.TimeColumn)
			var chunks []Chunk
			if byChunks && *t.Kind != KindInherited { // an inheritance parent has rows of its own: asked as a whole
				chunks = r.Chunks
			}
			err := oldestRow(ctx, conn, t, chunks, col, parentAllowed)
			switch {
			case isPermissionDenied(err) || isGone(err) || errors.Is(err, errNotReadable):
				// A role that may not read the table, or a chunk dropped or
				// locked since the sizes were read: its age stays unknown.
				t.Oldest, readable = nil, false
			case err != nil:
				return fmt.Errorf("reading the oldest row of %s: %w", rel, err)
			}
		}
		if t.Oldest != nil {
			o := t.Oldest.UTC()
			t.Oldest = &o
		}
		if t.RetentionDays == nil {
			zero := int64(0)
			t.ExpiredBytes = &zero
			continue
		}
		cutoff := now.Add(-time.Duration(*t.RetentionDays) * 24 * time.Hour)
		if !byChunks {
			if !readable {
				continue
			}
			n, err := plainExpiredBytes(ctx, conn, t, rel, col, cutoff)
			if isPermissionDenied(err) || isGone(err) {
				continue
			}
			if err != nil {
				return err
			}
			t.ExpiredBytes = &n
			continue
		}
		var n int64
		for j := range r.Chunks {
			c := &r.Chunks[j]
			if c.TableSchema != t.Schema || c.Table != t.Name || c.RangeEnd == nil || c.RangeEnd.After(cutoff) {
				continue
			}
			c.Expired = true
			if c.TotalBytes != nil {
				n += *c.TotalBytes
			}
		}
		// And the rows past the cutoff that no whole chunk takes.
		partly, err := partlyExpired(ctx, conn, r, t, col, cutoff, readable)
		if err != nil {
			return fmt.Errorf("estimating the rows of %s past retention: %w", rel, err)
		}
		if partly != nil {
			n += *partly
		}
		t.PartlyExpiredBytes = partly
		t.ExpiredBytes = &n
	}
	return nil
}

// isGone: the relation (42P01) or its column (42703) was dropped, or it
// was locked (55P03), after the report read the catalog — a retention job
// racing the report.
func isGone(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && (pgErr.Code == "42P01" || pgErr.Code == "42703" || pgErr.Code == "55P03")
}

func isPermissionDenied(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "42501"
}

// oldestRow sets t.Oldest to min(col). For a chunked table it asks the
// oldest chunks one by one (usually only the first): planning min() over
// the parent costs milliseconds per chunk, ~0.5 s at 5,000 chunks. A table
// with a partition of no range (DEFAULT, LIST) is asked as a whole, since
// old rows may sit there.
func oldestRow(ctx context.Context, conn *pgx.Conn, t *Table, chunks []Chunk, col string, parentAllowed bool) error {
	parent := func() error {
		if !parentAllowed {
			return errNotReadable
		}
		var err error
		t.Oldest, err = minOf(ctx, conn, t, qualified(t.Schema, t.Name), col)
		return err
	}
	var mine []Chunk
	for _, c := range chunks {
		if c.TableSchema == t.Schema && c.Table == t.Name {
			if c.RangeStart == nil {
				return parent()
			}
			mine = append(mine, c)
		}
	}
	slices.SortFunc(mine, func(a, b Chunk) int { return a.RangeStart.Compare(*b.RangeStart) })
	// Leaves sharing a range (sub-partitions of one day) are asked together.
	for i, asked := 0, 0; i < len(mine) && asked < 16; {
		j := i
		for j < len(mine) && mine[j].RangeStart.Equal(*mine[i].RangeStart) {
			v, err := minOf(ctx, conn, t, qualified(mine[j].ChunkSchema, mine[j].Chunk), col)
			if isPermissionDenied(err) {
				return parent() // SELECT granted on the parent does not reach its partitions
			}
			if err != nil {
				return err
			}
			if v != nil && (t.Oldest == nil || v.Before(*t.Oldest)) {
				t.Oldest = v
			}
			j++
			asked++
		}
		if t.Oldest != nil {
			return nil
		}
		i = j
	}
	if len(mine) == 0 || len(mine) > 16 { // a plain table, or a long run of empty chunks
		return parent()
	}
	return nil
}

// minOf is the oldest value of the table's time column in rel, as an
// instant (a timestamp or date read in the table's zone). min() of the
// column itself, so its index answers.
func minOf(ctx context.Context, conn *pgx.Conn, t *Table, rel, col string) (*time.Time, error) {
	var v *time.Time
	err := conn.QueryRow(ctx, "SELECT "+t.instantOf("min("+col+")")+" FROM "+rel).Scan(&v)
	return v, err
}

// errNotReadable: the role may not read the time column of a table that
// pgtend therefore did not ask.
var errNotReadable = errors.New("not readable by this role")

// plainExpiredBytes estimates the bytes of a table's rows older than
// cutoff (a plain table, or one not partitioned by its time column) as the planner's row estimate for that predicate over the table's
// row estimate, times its size: no rows are read.
func plainExpiredBytes(ctx context.Context, conn *pgx.Conn, t *Table, rel, col string, cutoff time.Time) (int64, error) {
	if t.TotalBytes == nil || t.RowEstimate <= 0 || t.Oldest == nil || !t.Oldest.Before(cutoff) {
		return 0, nil
	}
	var plan []byte
	q := fmt.Sprintf("EXPLAIN (FORMAT JSON) SELECT 1 FROM %s WHERE %s < %s", rel, col, t.Bound(cutoff))
	if err := conn.QueryRow(ctx, q).Scan(&plan); err != nil {
		return 0, fmt.Errorf("estimating expired rows of %s: %w", rel, err)
	}
	var parsed []struct {
		Plan struct {
			Rows float64 `json:"Plan Rows"`
		} `json:"Plan"`
	}
	if err := json.Unmarshal(plan, &parsed); err != nil || len(parsed) == 0 {
		return 0, fmt.Errorf("estimating expired rows of %s: unexpected plan %q", rel, plan)
	}
	frac := math.Min(parsed[0].Plan.Rows/float64(t.RowEstimate), 1)
	return int64(frac * float64(*t.TotalBytes)), nil
}
