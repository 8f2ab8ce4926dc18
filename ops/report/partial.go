package report

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"time"

	"github.com/jackc/pgx/v5"
)

// partlyExpired estimates the rows of a chunked table older than cutoff
// that no whole chunk or partition removal takes — in each chunk not
// wholly past the cutoff that may hold some (a DEFAULT partition, one
// straddling the cutoff, an inheritance child whose CHECK constraints
// prove no range), and for an inheritance parent in its own rows — setting
// each such chunk's PartlyExpiredRows and PartlyExpiredBytes; it returns
// their bytes, nil when unknown. A chunk is first asked for its oldest row
// (an index probe), then the planner for its row estimate of the predicate
// (EXPLAIN: no row is read); a compressed chunk, one without statistics or
// any chunk when queries are not allowed (an estimated report, a table the
// role may not read) is reckoned by the share of its range past the
// cutoff, and one without a range stays unknown then.
func partlyExpired(ctx context.Context, conn *pgx.Conn, r *Report, t *Table, col string, cutoff time.Time, query bool) (*int64, error) {
	var total int64
	zero := int64(0)
	if query && (t.Oldest == nil || !t.Oldest.Before(cutoff)) {
		return &zero, nil // no row is past the cutoff
	}
	known := true
	var chunkBytes, chunkRows int64
	chunksKnown := true
	for i := range r.Chunks {
		c := &r.Chunks[i]
		if c.TableSchema != t.Schema || c.Table != t.Name {
			continue
		}
		if c.TotalBytes == nil {
			chunksKnown = false
		} else {
			chunkBytes += *c.TotalBytes
		}
		chunkRows += c.RowEstimate
		if c.Expired || (c.RangeStart != nil && !c.RangeStart.Before(cutoff)) || c.TotalBytes == nil {
			continue // wholly past (it goes whole), wholly newer, or unmeasured
		}
		rows, bytes, ok, err := c.pastCutoff(ctx, conn, t, col, cutoff, query)
		if err != nil {
			if isPermissionDenied(err) || isGone(err) {
				known = false
				continue
			}
			return nil, err
		}
		if !ok {
			known = false
			continue
		}
		if rows > 0 || bytes > 0 {
			c.PartlyExpiredRows, c.PartlyExpiredBytes = &rows, &bytes
			total += bytes
		}
	}
	// An inheritance parent holds rows of its own, which no child's removal
	// takes.
	if t.Kind != nil && *t.Kind == KindInherited && t.TotalBytes != nil && chunksKnown && query {
		own := Chunk{ChunkSchema: t.Schema, Chunk: t.Name, RowEstimate: max(t.RowEstimate-chunkRows, 0)}
		b := *t.TotalBytes - chunkBytes
		own.TotalBytes = &b
		_, bytes, ok, err := own.pastCutoff(ctx, conn, t, col, cutoff, query)
		switch {
		case err != nil && (isPermissionDenied(err) || isGone(err)):
			known = false
		case err != nil:
			return nil, err
		case !ok:
			known = false
		default:
			total += bytes
		}
	}
	if !known && total == 0 {
		return nil, nil
	}
	return &total, nil
}

// pastCutoff estimates the chunk's rows older than cutoff and their bytes
// (ok false: unknown). The chunk is read as itself only (FROM ONLY: an
// inheritance parent or child, not its children).
func (c Chunk) pastCutoff(ctx context.Context, conn *pgx.Conn, t *Table, col string, cutoff time.Time, query bool) (rows, bytes int64, ok bool, err error) {
	ranged := c.RangeStart != nil && c.RangeEnd != nil && c.RangeEnd.After(*c.RangeStart)
	share := func(frac float64) (int64, int64, bool, error) {
		frac = math.Min(math.Max(frac, 0), 1)
		return int64(math.Round(frac * float64(c.RowEstimate))), int64(frac * float64(*c.TotalBytes)), true, nil
	}
	byRange := func() (int64, int64, bool, error) {
		return share(float64(cutoff.Sub(*c.RangeStart)) / float64(c.RangeEnd.Sub(*c.RangeStart)))
	}
	switch {
	case ranged && (!query || c.Compressed || c.RowEstimate <= 0):
		return byRange()
	case !query:
		return 0, 0, false, nil
	}
	rel := "ONLY " + qualified(c.ChunkSchema, c.Chunk)
	oldest, err := minOf(ctx, conn, t, rel, col)
	if err != nil || oldest == nil || !oldest.Before(cutoff) {
		return 0, 0, err == nil, err
	}
	past, err := planRows(ctx, conn, fmt.Sprintf("SELECT 1 FROM %s WHERE %s < %s", rel, col, t.Bound(cutoff)))
	if err != nil {
		return 0, 0, false, err
	}
	all := float64(c.RowEstimate)
	if all <= 0 { // never analyzed: the planner's guess of the whole, from its pages
		if all, err = planRows(ctx, conn, "SELECT 1 FROM "+rel); err != nil {
			return 0, 0, false, err
		}
		if all <= 0 {
			return 0, 0, false, nil
		}
		n := math.Max(past, 1)
		return int64(math.Round(n)), int64(math.Min(n/all, 1) * float64(*c.TotalBytes)), true, nil
	}
	// Its oldest row is past the cutoff: at least that one.
	return share(math.Max(past, 1) / all)
}

// planRows is the planner's row estimate for a query (EXPLAIN: nothing is
// read).
func planRows(ctx context.Context, conn *pgx.Conn, q string) (float64, error) {
	var plan []byte
	if err := conn.QueryRow(ctx, "EXPLAIN (FORMAT JSON) "+q).Scan(&plan); err != nil {
		return 0, err
	}
	var parsed []struct {
		Plan struct {
			Rows float64 `json:"Plan Rows"`
		} `json:"Plan"`
	}
	if err := json.Unmarshal(plan, &parsed); err != nil || len(parsed) == 0 {
		return 0, fmt.Errorf("estimating rows: unexpected plan %q", plan)
	}
	return parsed[0].Plan.Rows, nil
}
