package triage

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/dustin/go-humanize"
	"github.com/pgtend/pgtend/ops/config"
	"github.com/pgtend/pgtend/ops/maint"
	"github.com/pgtend/pgtend/ops/report"
)

// expired lists, from the report's figures (the same the retention plan
// works from), what retention removes: whole chunks and partitions past
// the cutoff (their measured size, freed when the drop commits), and rows
// past it in plain tables, DEFAULT partitions and straddling chunks (an
// estimate; a batched DELETE, whose space the table reuses).
func expired(r *report.Report) []Option {
	var out []Option
	totals := map[string]report.ChunkTotals{}
	for _, tc := range report.TotalsByTable(r.Chunks) {
		totals[tc.Table] = tc.ChunkTotals
	}
	for _, t := range r.Tables {
		if t.Missing || t.Kind == nil || t.Permanent || t.RetentionDays == nil {
			continue
		}
		run := &Run{Action: "retention", Table: t.Key()}
		cutoff := fmt.Sprintf("older than %d days", *t.RetentionDays)
		if tot := totals[t.Key()]; tot.Expired > 0 {
			kind, what, lock := KindExpiredPartitions, "partition", maint.LockAccessExclusive+" on the parent and each partition, briefly (DETACH, DROP)"
			if *t.Kind == report.KindHypertable {
				kind, what, lock = KindExpiredChunks, "chunk", maint.LockAccessExclusive+" on each dropped chunk, briefly"
			}
			if *t.Kind == report.KindInherited {
				lock = maint.LockAccessExclusive + " on each dropped child, briefly"
			}
			out = append(out, Option{Kind: kind, Schema: ptr(t.Schema), Table: ptr(t.Name),
				Object: fmt.Sprintf("%d %s %s", tot.Expired, plural(tot.Expired, what), cutoff),
				Bytes:  tot.ExpiredBytes, Frees: FreesNow, Locks: lock, Run: run,
				Detail: fmt.Sprintf("whole %ss wholly past the retention: dropping them returns their files at once", what),
				Basis:  "measured: the " + what + "s' sizes (" + r.MeasuredBy + ")"})
		}
		if o, ok := expiredRows(r, t, run, cutoff); ok {
			out = append(out, o)
		}
	}
	return out
}

// expiredRows is what retention deletes in batches from t: a plain
// table's rows past the cutoff, an inheritance tree's rows in relations it
// cannot drop whole, a partitioned table's in its DEFAULT partitions
// (--include-default). Rows in chunks and partitions straddling the cutoff
// are left out: no action deletes them, they go with their chunk.
func expiredRows(r *report.Report, t report.Table, run *Run, cutoff string) (Option, bool) {
	var bytes int64
	o := Option{Kind: KindExpiredRows, Schema: ptr(t.Schema), Table: ptr(t.Name), Object: "rows " + cutoff, Frees: FreesReuseOnly, Estimate: true,
		Locks: maint.LockRowExclusive + " (row locks on the deleted rows only)", Run: run,
		Detail: "a batched DELETE: the table reuses the space for new rows, the filesystem gains nothing (a rewrite would return it)",
		Basis:  "estimated: the planner's share of the rows past the cutoff times the size"}
	switch *t.Kind {
	case report.KindTable:
		bytes = derefOr(t.ExpiredBytes)
	case report.KindInherited:
		bytes = derefOr(t.PartlyExpiredBytes)
		o.Object += " in children no whole drop takes"
	case report.KindPartitioned:
		for _, c := range r.Chunks {
			if c.TableKey() == t.Key() && c.Default {
				bytes += derefOr(c.PartlyExpiredBytes)
			}
		}
		o.Object += " in the DEFAULT partition"
		o.Run = &Run{Action: "retention", Table: t.Key(), Flags: maint.Flags{maint.FlagIncludeDefault: "true"}}
	}
	o.Bytes = bytes
	return o, bytes > 0
}

// compressRatio is what compression is assumed to keep of a chunk when
// the hypertable has no compressed chunk to learn from: a tenth, typical
// of time series (labelled an estimate either way).
const compressRatio = 0.1

// compressible lists, per hypertable with a compress_after, the
// uncompressed chunks wholly older than it: their measured size, less what
// compression keeps (the ratio its compressed chunks came to, else a
// tenth). Each chunk is rewritten on its own: the room needed is the
// largest chunk's compressed copy, with its WAL.
func compressible(r *report.Report, policy config.Policy) []Option {
	var out []Option
	for _, t := range r.Tables {
		if t.Missing || t.Kind == nil || *t.Kind != report.KindHypertable {
			continue
		}
		tp, ok := policyFor(policy, t)
		if !ok || tp.CompressAfterDays <= 0 {
			continue
		}
		cutoff := r.GeneratedAt.Add(-time.Duration(tp.CompressAfterDays) * 24 * time.Hour)
		var due, largest int64
		var parts []Part
		var before, after int64
		for _, c := range r.Chunks {
			if c.TableKey() != t.Key() {
				continue
			}
			switch {
			case c.Compressed:
				if c.BeforeBytes != nil && c.AfterBytes != nil {
					before, after = before+*c.BeforeBytes, after+*c.AfterBytes
				}
			case c.RangeEnd != nil && !c.RangeEnd.After(cutoff) && !c.Expired && c.TotalBytes != nil:
				parts = append(parts, Part{Name: c.ChunkSchema + "." + c.Chunk, Size: *c.TotalBytes})
				due += *c.TotalBytes
				largest = max(largest, *c.TotalBytes)
			}
		}
		n := len(parts)
		if n == 0 {
			continue
		}
		ratio, basis := compressRatio, "estimated: no chunk of it is compressed yet, so a typical tenth is assumed"
		if before > 0 {
			ratio = float64(after) / float64(before)
			basis = fmt.Sprintf("estimated: its compressed chunks came to %.0f%% of their size", 100*ratio)
		}
		kept := int64(float64(due) * ratio)
		room := 2 * int64(float64(largest)*ratio) // the compressed copy and its WAL
		for i := range parts {
			copied := int64(float64(parts[i].Size) * ratio)
			parts[i].Bytes, parts[i].NeedsFreeBytes = max(parts[i].Size-copied, 0), 2*copied
		}
		slices.SortStableFunc(parts, func(a, b Part) int { return cmp.Compare(b.Size, a.Size) })
		out = append(out, Option{Kind: KindCompress, Schema: ptr(t.Schema), Table: ptr(t.Name),
			Object: fmt.Sprintf("%d %s older than %d days, %s", n, plural(n, "chunk"), tp.CompressAfterDays, humanize.IBytes(uint64(due))),
			Bytes:  max(due-kept, 0), Frees: FreesNow, NeedsFreeBytes: room, Estimate: true,
			Locks:  maint.LockCompressChunk + ", one chunk at a time",
			Run:    &Run{Action: "compress", Table: t.Key()},
			Detail: fmt.Sprintf("each chunk is compressed in its own transaction; each needs room for its compressed copy and WAL first (up to %s)", humanize.IBytes(uint64(room))),
			Basis:  basis, Parts: parts})
	}
	return out
}

// policyFor is the policy's entry for a table of the report.
func policyFor(policy config.Policy, t report.Table) (config.TablePolicy, bool) {
	i := slices.IndexFunc(policy.Tables, func(tp config.TablePolicy) bool {
		parts := tp.NameParts()
		return (len(parts) == 1 && parts[0] == t.Name) || (len(parts) == 2 && parts[0] == t.Schema && parts[1] == t.Name)
	})
	if i < 0 {
		return config.TablePolicy{}, false
	}
	return policy.Tables[i], true
}

func plural(n int, noun string) string {
	if n == 1 {
		return noun
	}
	return noun + "s"
}
