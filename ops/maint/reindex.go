package maint

import (
	"cmp"
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

// The flags of the reindex action.
const (
	FlagIndex   = "index"   // one index (a partitioned or hypertable index: each partition's or chunk's copy)
	FlagMeasure = "measure" // measure with pgstatindex, reading each index whole
	// FlagBlocking asks for plain REINDEX INDEX: it blocks writers, so
	// only on explicit request, confirmed like a destructive plan.
	FlagBlocking = "blocking"
)

// LockReindexConcurrently is what REINDEX INDEX CONCURRENTLY and DROP
// INDEX CONCURRENTLY take: reads and writes go on.
const LockReindexConcurrently = LockShareUpdateExclusive + " on the table and the index (reads and writes go on)"

// LockReindexBlocking is what a plain REINDEX INDEX takes: writes to the
// table wait for the whole rebuild, and so do reads that would use the
// index.
const LockReindexBlocking = LockAccessExclusive + " on the index, SHARE on the table (writes wait for the whole rebuild, and reads that use the index)"

// PlanReindex plans rebuilding the indexes that need it, of one table ("",
// every table of the database; the --index flag, one index):
//   - invalid indexes (indisvalid false) always: a leftover of a failed or
//     cancelled REINDEX CONCURRENTLY (<index>_ccnew, _ccold) is dropped
//     (DROP INDEX CONCURRENTLY), any other is rebuilt;
//   - indexes whose bloat — estimated from statistics, or measured with
//     pgstatindex when --measure asks — reaches the policy's threshold
//     ([reindex] min_bloat and min_bloat_size), biggest gain first.
//
// Every rebuild is REINDEX INDEX CONCURRENTLY of one index, which blocks
// no reader and no writer: a hypertable's chunk by chunk (REINDEX TABLE
// would lock every chunk at once, and TimescaleDB refuses REINDEX of a
// hypertable's own index or REINDEX TABLE CONCURRENTLY), a compressed
// chunk's indexes on its compressed relation (those of the chunk itself
// index nothing), a partitioned table's partition by partition. Never
// TimescaleDB's catalog. A rebuild the data directory's filesystem has no
// room for (the new copy and its WAL, plus [disk] keep_free) is refused
// with the numbers.
func PlanReindex(ctx context.Context, conn *pgx.Conn, policy config.Policy, table string) (*Plan, error) {
	flags := FlagsOf(ctx)
	r, err := report.Collect(ctx, conn, policy)
	if err != nil {
		return nil, err
	}
	var root uint32
	target := "every index in the database"
	if table != "" {
		ts, err := pick(r, table)
		if err != nil {
			return nil, err
		}
		root, target = ts[0].OID(), ts[0].Key()
	}
	feats, err := report.DetectFeatures(ctx, conn)
	if err != nil {
		return nil, err
	}
	var oids []uint32
	named := flags[FlagIndex]
	if named != "" {
		var served uint32
		if oids, served, err = namedIndexes(ctx, conn, feats.Timescale, named); err != nil {
			return nil, err
		}
		if root != 0 && served != root {
			ix, err := readIndexes(ctx, conn, feats.Timescale, 0, oids[:1])
			if err == nil && len(ix) > 0 && ix[0].rootOID != root {
				return nil, fmt.Errorf("index %s is not one of %s's (it serves %s)", named, table, ix[0].rootShown())
			}
		}
		target = "index " + named
	}
	ixs, err := readIndexes(ctx, conn, feats.Timescale, root, oids)
	if err != nil {
		return nil, err
	}
	if named != "" && len(ixs) == 0 {
		return nil, fmt.Errorf("index %s: pgtend does not rebuild it (a system, TimescaleDB catalog or extension index)", named)
	}
	var blockSize, version int
	if err := conn.QueryRow(ctx, "SELECT current_setting('block_size')::int, current_setting('server_version_num')::int").Scan(&blockSize, &version); err != nil {
		return nil, err
	}
	for i := range ixs {
		ixs[i].estimate(blockSize)
	}
	// Each rebuild stands alone: the operator may run some (Plan.Only).
	p := &Plan{Target: target, Created: r.GeneratedAt, Pickable: true, Offers: []string{FlagMeasure, FlagBlocking}}
	threshold := policy.Reindex.Effective()
	if flags[FlagMeasure] != "" {
		p.Notes = append(p.Notes, measure(ctx, conn, ixs, threshold, named != "", blockSize)...)
	} else {
		p.Notes = append(p.Notes, "bloat figures are estimates from the planner's statistics (pg_class, pg_stats), which can be far off: "+
			"pgtend plan reindex --measure measures them with pgstatindex (pgstattuple), reading each index whole")
	}
	p.Notes = append(p.Notes, fmt.Sprintf("threshold: bloat ≥ %d%% of the index and ≥ %s ([reindex] min_bloat, min_bloat_size); invalid indexes always",
		threshold.MinBloatPercent, humanize.Bytes(uint64(threshold.MinBloatBytes))))
	j := &reindexJob{plan: p, threshold: threshold, named: named != "", oneTable: table != "" || named != "", disk: r.Disk, keepFree: policy.Disk.Effective().KeepFreeBytes, need: reindexNeed(version),
		blocking: flags[FlagBlocking] != ""}
	j.planAll(ixs)
	if len(p.Steps) == 0 {
		p.Notes = append(p.Notes, "no index needs rebuilding")
	} else if j.blocking {
		p.Notes = append(p.Notes, "--blocking: plain REINDEX INDEX, not CONCURRENTLY: quicker, and it can rebuild what CONCURRENTLY cannot (an exclusion constraint's index), "+
			"but it takes "+LockReindexBlocking+": the application's writes to each table stop while its index is rebuilt. "+
			"Nothing is deleted, yet the plan is confirmed like a destructive one (typing the table's name, --yes headless)")
	} else {
		p.Notes = append(p.Notes, "REINDEX INDEX CONCURRENTLY builds a new copy beside the old one and swaps them: reads and writes go on, "+
			"it waits for older transactions between its phases; one that fails or is cancelled leaves an invalid copy (_ccnew), which the run drops")
	}
	if len(p.Steps) > 0 {
		p.Notes = append(p.Notes, j.diskNote())
	}
	return p, nil
}

// reindexJob is a REINDEX plan being made.
type reindexJob struct {
	plan      *Plan
	threshold config.Reindex
	named     bool // --index: what it names is rebuilt whatever its bloat
	oneTable  bool // --table or --index: its summary is shown whatever it finds
	disk      report.Disk
	keepFree  int64
	largest   int64 // the largest new copy planned, for the disk note
	need      Need
	blocking  bool // --blocking: plain REINDEX INDEX
}

// reindexNeed is what REINDEX INDEX needs of the role on the table: its
// ownership before PostgreSQL 17 (the database's owner, who may VACUUM
// another's table, may not REINDEX its indexes), MAINTAIN from 17 on.
func reindexNeed(serverVersion int) Need {
	if serverVersion >= 170000 {
		return NeedMaintain
	}
	return NeedOwner
}

// planAll groups the indexes by the table they serve, biggest gain first,
// and plans each group.
func (j *reindexJob) planAll(ixs []ixInfo) {
	groups := map[uint32][]ixInfo{}
	var order []uint32
	for _, x := range ixs {
		if _, ok := groups[x.rootOID]; !ok {
			order = append(order, x.rootOID)
		}
		groups[x.rootOID] = append(groups[x.rootOID], x)
	}
	type group struct {
		sum   TableSummary
		steps []Step
		gain  int64
	}
	var planned []group
	var below []ixInfo
	for _, oid := range order {
		t := j.planTable(groups[oid])
		below = append(below, t.below...)
		if len(t.steps) > 0 || t.notable || j.oneTable {
			planned = append(planned, group{t.sum, t.steps, t.gain})
		}
	}
	slices.SortStableFunc(planned, func(a, b group) int { return cmp.Compare(b.gain, a.gain) })
	for _, g := range planned {
		for i := range g.steps {
			g.sum.Steps = append(g.sum.Steps, len(j.plan.Steps))
			j.plan.Steps = append(j.plan.Steps, g.steps[i])
		}
		j.plan.Tables = append(j.plan.Tables, g.sum)
	}
	if len(planned) < len(order) && len(below) > 0 {
		slices.SortStableFunc(below, byGain)
		var shown []string
		for _, x := range below[:min(len(below), 5)] {
			shown = append(shown, x.shown()+" ("+bloatText(x)+")")
		}
		j.plan.Notes = append(j.plan.Notes, "the most bloated indexes below the threshold, left alone: "+strings.Join(shown, ", "))
	}
}

func byGain(a, b ixInfo) int {
	return cmp.Or(cmp.Compare(b.gain(), a.gain()), cmp.Compare(b.bytes, a.bytes))
}

// tablePlan is what planning the indexes serving one table gives.
type tablePlan struct {
	sum     TableSummary
	steps   []Step
	gain    int64
	notable bool     // it has findings worth a summary even without steps
	below   []ixInfo // its indexes below the threshold
}

// planTable plans the indexes serving one table: leftovers dropped first,
// then invalid indexes rebuilt, then the bloated ones, biggest gain first.
func (j *reindexJob) planTable(ixs []ixInfo) tablePlan {
	first := ixs[0]
	name := first.rootShown()
	rootRel := pgx.Identifier{first.rootSchema, first.root}.Sanitize()
	sum := TableSummary{Table: name, Kind: kindOf(first.rootKind), TimeZone: "UTC", Locks: []string{}, Steps: []int{}, ForeignKeys: []ForeignKey{}, Findings: []string{}}
	var drops, invalid, bloated, below []ixInfo
	var compressedChunks int
	var noEstimate []string
	seenChunk := map[string]bool{}
	notable := false // findings worth a summary even without steps
	for _, x := range ixs {
		switch {
		case x.locked:
			notable = true
			sum.Findings = append(sum.Findings, x.shown()+" or its table is locked by another session right now: left alone")
		case x.builder != nil && !x.valid:
			notable = true
			sum.Findings = append(sum.Findings, fmt.Sprintf("%s is invalid while pid %d builds an index on %s: left alone (it may be that build's)", x.shown(), *x.builder, x.tableQuoted()))
		case x.leftover() != "":
			drops = append(drops, x)
		case x.chunkCompressed:
			if !seenChunk[x.table] {
				seenChunk[x.table] = true
				compressedChunks++
			}
		case !x.valid:
			invalid = append(invalid, x)
		case x.exclusion && !j.blocking:
			notable = true
			sum.Findings = append(sum.Findings, x.shown()+" backs an exclusion constraint: PostgreSQL cannot rebuild it concurrently; left alone (--blocking rebuilds it, blocking writers)")
		default:
			share, _, ok := x.bloat()
			switch {
			case !ok && j.named:
				bloated = append(bloated, x)
			case !ok:
				noEstimate = append(noEstimate, x.shown()+" ("+x.noEstimate+")")
			case j.named || (share*100 >= float64(j.threshold.MinBloatPercent) && x.gain() >= j.threshold.MinBloatBytes):
				bloated = append(bloated, x)
			default:
				below = append(below, x)
			}
		}
	}
	if compressedChunks > 0 {
		sum.Findings = append(sum.Findings, fmt.Sprintf("%s left out: their rows and indexes live in their compressed relations, whose indexes are weighed on their own",
			plural(compressedChunks, "compressed chunk")))
	}
	slices.SortStableFunc(bloated, byGain)
	slices.SortStableFunc(below, byGain)
	slices.SortStableFunc(drops, func(a, b ixInfo) int { return cmp.Compare(b.bytes, a.bytes) })
	var steps []Step
	var gain, kept int64
	for _, x := range drops {
		steps = append(steps, dropLeftoverStep(x, rootRel))
		gain += x.bytes
	}
	rebuild := append(invalid, bloated...)
	n := 0
	for _, x := range rebuild {
		if why := j.noRoom(x); why != "" {
			j.plan.Refused = append(j.plan.Refused, Refusal{Table: name, Reason: why})
			continue
		}
		n++
	}
	k := 0
	for _, x := range rebuild {
		if j.noRoom(x) != "" {
			continue
		}
		k++
		steps = append(steps, reindexStep(x, rootRel, k, n, j.need, j.blocking))
		gain += x.gain()
		kept += x.bytes - x.gain()
		j.largest = max(j.largest, j.newCopy(x))
	}
	if len(drops) > 0 {
		var b int64
		for _, x := range drops {
			b += x.bytes
		}
		sum.Findings = append(sum.Findings, fmt.Sprintf("%s left by a failed or cancelled REINDEX CONCURRENTLY (invalid, %s, still slowing every write): dropped",
			plural(len(drops), "leftover index"), humanize.IBytes(uint64(b))))
	}
	if len(invalid) > 0 {
		sum.Findings = append(sum.Findings, fmt.Sprintf("%s invalid (a failed CREATE INDEX CONCURRENTLY?): queries cannot use them, writes still update them: rebuilt",
			plural(len(invalid), "index is", "indexes are")))
	}
	if len(below) > 0 {
		var shown []string
		for _, x := range below[:min(len(below), 3)] {
			shown = append(shown, x.shown()+" ("+bloatText(x)+")")
		}
		more := ""
		if len(below) > 3 {
			more = fmt.Sprintf(", and %d more", len(below)-3)
		}
		sum.Findings = append(sum.Findings, fmt.Sprintf("below the threshold, left alone: %s%s", strings.Join(shown, ", "), more))
	}
	if len(noEstimate) > 0 {
		more := ""
		if len(noEstimate) > 2 {
			more = fmt.Sprintf(", and %d more", len(noEstimate)-2)
		}
		sum.Findings = append(sum.Findings, "no bloat figure, left alone: "+strings.Join(noEstimate[:min(len(noEstimate), 2)], ", ")+more)
	}
	if len(steps) > 0 {
		sum.Locks = []string{}
		for _, st := range steps {
			if !slices.Contains(sum.Locks, st.Lock) {
				sum.Locks = append(sum.Locks, st.Lock)
			}
		}
		sum.Goes = Portion{Bytes: &gain}
		sum.Stays = Portion{Bytes: &kept}
	}
	return tablePlan{sum: sum, steps: steps, gain: gain, notable: notable, below: below}
}

// newCopy is the size of the index a rebuild makes: the index without its
// bloat, as far as it is known (all of it when not).
func (j *reindexJob) newCopy(x ixInfo) int64 { return x.bytes - x.gain() }

// noRoom says why the data directory's filesystem cannot take the
// rebuild: the new copy and the WAL it writes (about as much again), with
// keep_free to spare; "" when it can, or when pgtend cannot see it.
func (j *reindexJob) noRoom(x ixInfo) string {
	_, free, ok := j.disk.Space()
	need := 2*j.newCopy(x) + j.keepFree
	if !ok || free >= need {
		return ""
	}
	return fmt.Sprintf("%s: rebuilding it needs ~%s free (a new copy of ~%s, as much WAL, and [disk] keep_free %s); the data directory's filesystem has %s: refused",
		x.shown(), humanize.IBytes(uint64(need)), humanize.IBytes(uint64(j.newCopy(x))), humanize.Bytes(uint64(j.keepFree)), humanize.IBytes(uint64(free)))
}

// diskNote says what the rebuilds need of the disk, and whether pgtend
// could check it.
func (j *reindexJob) diskNote() string {
	total, free, ok := j.disk.Space()
	if !ok {
		return "free disk not checked: " + cmp.Or(j.disk.Reason, "the data directory's filesystem is not visible") +
			"; each rebuild needs room for a new copy of its index and its WAL"
	}
	return fmt.Sprintf("free disk: %s of %s; the largest rebuild needs ~%s (its new copy and WAL) and [disk] keep_free %s",
		humanize.IBytes(uint64(free)), humanize.IBytes(uint64(total)), humanize.IBytes(uint64(2*j.largest)), humanize.Bytes(uint64(j.keepFree)))
}

// bloatText is "12 MiB, ~45% bloat estimated" or "12 MiB, 41% bloat measured".
func bloatText(x ixInfo) string {
	out := humanize.IBytes(uint64(x.bytes))
	share, measured, ok := x.bloat()
	switch {
	case !x.valid:
		return out + ", invalid"
	case !ok:
		return out + ", bloat unknown"
	case measured:
		return fmt.Sprintf("%s, %.0f%% bloat measured", out, share*100)
	}
	return fmt.Sprintf("%s, ~%.0f%% bloat estimated", out, share*100)
}

// plural is "1 index" / "3 indexes"; with two forms, the second is the
// plural.
func plural(n int, one string, many ...string) string {
	if n == 1 {
		return "1 " + one
	}
	if len(many) > 0 {
		return fmt.Sprintf("%d %s", n, many[0])
	}
	if strings.HasSuffix(one, "x") {
		return fmt.Sprintf("%d %ses", n, one)
	}
	return fmt.Sprintf("%d %ss", n, one)
}

// measure measures the btree indexes that could reach the threshold (all
// those --index names) with pgstatindex, biggest first, within the plan's
// deadline, and says what it read.
func measure(ctx context.Context, conn *pgx.Conn, ixs []ixInfo, threshold config.Reindex, named bool, blockSize int) []string {
	schema, err := report.ExtensionSchema(ctx, conn, "pgstattuple")
	if err != nil {
		return []string{"could not look for pgstattuple: " + err.Error() + "; the figures are estimates"}
	}
	if schema == "" {
		var available bool
		_ = conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'pgstattuple')`).Scan(&available)
		how := "it is not installed on the server (PostgreSQL's contrib)"
		if available {
			how = "CREATE EXTENSION pgstattuple (as a superuser) to measure"
		}
		return []string{"--measure: pgstattuple is not in this database (" + how + "); the figures are estimates"}
	}
	fn := pgx.Identifier{schema, "pgstatindex"}.Sanitize()
	var order []int
	for i, x := range ixs {
		if x.method == "btree" && x.valid && !x.locked && !x.chunkCompressed && (named || x.bytes >= threshold.MinBloatBytes) {
			order = append(order, i)
		}
	}
	slices.SortFunc(order, func(a, b int) int { return cmp.Compare(ixs[b].bytes, ixs[a].bytes) })
	var read, bytes int64
	var failed []string
	deadline, hasDeadline := ctx.Deadline()
	for k, i := range order {
		x := &ixs[i]
		if hasDeadline && time.Until(deadline) < 10*time.Second {
			return append(failed, fmt.Sprintf("measured %d of %d indexes (%s read whole with pgstatindex) before the plan's time ran out; the rest are estimates",
				k, len(order), humanize.IBytes(uint64(bytes))))
		}
		share, err := measureOne(ctx, conn, fn, x.oid, x.fillfactor, blockSize)
		if err != nil {
			failed = append(failed, "could not measure "+x.shown()+": "+err.Error())
			continue
		}
		x.measured = &share
		read++
		bytes += x.bytes
	}
	return append(failed, fmt.Sprintf("measured with pgstatindex: %s read whole (%s); indexes smaller than [reindex] min_bloat_size cannot reach the threshold and were not read",
		plural(int(read), "index"), humanize.IBytes(uint64(bytes))))
}

// measureOne is the share of the index pgstatindex finds wasted: the
// leaf pages' free space beyond the fillfactor, and empty and deleted pages.
// It runs without the session's statement_timeout, within the plan's
// deadline: it reads the whole index.
func measureOne(ctx context.Context, conn *pgx.Conn, fn string, oid uint32, fillfactor, blockSize int) (float64, error) {
	tx, err := conn.Begin(ctx)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback(context.Background())
	if _, err := tx.Exec(ctx, "SET LOCAL statement_timeout = 0"); err != nil {
		return 0, err
	}
	var size, leaves, empty, deleted int64
	var density float64
	if err := tx.QueryRow(ctx, `SELECT index_size, leaf_pages, empty_pages, deleted_pages, CASE WHEN leaf_pages > 0 THEN avg_leaf_density ELSE 0 END
		FROM `+fn+`($1::oid::regclass)`, oid).Scan(&size, &leaves, &empty, &deleted, &density); err != nil {
		return 0, err
	}
	pages := float64(size) / float64(blockSize)
	if pages < 2 {
		return 0, nil
	}
	wasted := float64(leaves)*max(0, 1-density/float64(fillfactor)) + float64(empty+deleted)
	return min(1, wasted/pages), nil
}
