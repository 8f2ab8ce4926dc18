package report

import "time"

// ChunkTotals sums chunks or partitions: how many and their size, the
// compressed ones before and after compression (as far as known), and what
// lies past retention. The Chunks pane's foot and the text report's
// compression table both show these sums.
type ChunkTotals struct {
	Chunks, Compressed, Expired        int
	Bytes, Before, After, ExpiredBytes int64
	// Partly and PartlyBytes: the chunks not wholly past retention that
	// hold rows past it, and those rows' bytes (estimated).
	Partly      int
	PartlyBytes int64
}

// Add counts one chunk in.
func (t *ChunkTotals) Add(c Chunk) {
	t.Chunks++
	t.Bytes += orZero(c.TotalBytes)
	if c.Compressed {
		t.Compressed++
		t.Before += orZero(c.BeforeBytes)
		t.After += orZero(c.AfterBytes)
	}
	if c.Expired {
		t.Expired++
		t.ExpiredBytes += orZero(c.TotalBytes)
	}
	if c.PartlyExpiredBytes != nil {
		t.Partly++
		t.PartlyBytes += *c.PartlyExpiredBytes
	}
}

// TableChunks are one table's chunk totals; Table is its Key.
type TableChunks struct {
	Table string
	ChunkTotals
}

// TotalsByTable totals chunks per table, in the order the tables first
// appear.
func TotalsByTable(chunks []Chunk) []TableChunks {
	var out []TableChunks
	index := map[string]int{}
	for _, c := range chunks {
		key := c.TableKey()
		i, ok := index[key]
		if !ok {
			i = len(out)
			index[key] = i
			out = append(out, TableChunks{Table: key})
		}
		out[i].Add(c)
	}
	return out
}

// LastVacuumed is the later of the table's last VACUUM and last autovacuum,
// nil when neither ran.
func (t Table) LastVacuumed() *time.Time {
	if t.LastAutovacuum != nil && (t.LastVacuum == nil || t.LastAutovacuum.After(*t.LastVacuum)) {
		return t.LastAutovacuum
	}
	return t.LastVacuum
}

func orZero(n *int64) int64 {
	if n == nil {
		return 0
	}
	return *n
}
