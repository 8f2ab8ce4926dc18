// Package triage answers "the disk is filling: what frees space, and when
// does the space come back?" in one ranked list. Each option says how many
// bytes it frees (measured where the catalog or the filesystem allows, an
// estimate labelled as one), when they return to the filesystem, what it
// locks, and the registry action (`pgtend run …`) that does it: triage
// plans nothing of its own.
package triage

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"github.com/pgtend/pgtend/ops/maint"
)

// Kinds of option. The JSON contract of `pgtend triage --json` names them.
const (
	KindExpiredChunks     = "expired_chunks"
	KindExpiredPartitions = "expired_partitions"
	KindExpiredRows       = "expired_rows"
	KindCompress          = "compress"
	KindBackups           = "backups"
	KindReplicationSlot   = "replication_slot"
	KindArchiver          = "archiver"
	KindDetachedPartition = "detached_partition"
	KindInvalidIndex      = "invalid_index"
	KindRepackLeftover    = "repack_leftover"
	KindTempFiles         = "temp_files"
	KindServerLogs        = "server_logs"
	KindBloat             = "bloat"
)

// When the bytes of an option come back to the filesystem.
const (
	// FreesNow: as soon as the action commits (files unlinked or truncated).
	FreesNow = "now"
	// FreesCheckpoint: WAL no longer needed is removed (or recycled) at the
	// next checkpoint.
	FreesCheckpoint = "checkpoint"
	// FreesReuseOnly: PostgreSQL reuses the space for new rows of the same
	// table; the filesystem gains nothing.
	FreesReuseOnly = "reuse_only"
	// FreesNeedsFreeSpace: a rewrite would free it, but first needs
	// NeedsFreeBytes free, which the filesystem does not have.
	FreesNeedsFreeSpace = "needs_free_space"
)

// Option is one way to free space. Its JSON is the contract of
// `pgtend triage --json`: exactly these fields.
type Option struct {
	Kind   string  `json:"kind"`
	Schema *string `json:"schema"` // nil for what belongs to no schema (a slot, temp files)
	Table  *string `json:"table"`
	Object string  `json:"object"` // what it is about: a chunk set, a slot's name, a file directory
	Bytes  int64   `json:"bytes"`
	Frees  string  `json:"frees"`
	// NeedsFreeBytes is the room the action needs while it runs (a
	// compressed copy, a rewritten table plus the margin), 0 for none.
	NeedsFreeBytes int64   `json:"needs_free_bytes"`
	Estimate       bool    `json:"estimate"`
	Locks          string  `json:"locks"`
	Action         *string `json:"action"` // the `pgtend run …` command, nil when none does it

	// Run is the registry action behind Action (nil when none): the
	// console opens its plan.
	Run *Run `json:"-"`
	// Detail says what the figure is and how the space comes back, in a
	// sentence or two; Basis where the figure comes from.
	Detail string `json:"-"`
	Basis  string `json:"-"`
	// Blocked says why the action cannot run now (too little free space),
	// with the numbers; "" when it can.
	Blocked string `json:"-"`
	// DaysBought is how many days of the measured growth the freed bytes
	// cover; nil when the growth is unknown or nothing returns to the
	// filesystem.
	DaysBought *float64 `json:"-"`
	// Parts are the pieces the action works on one at a time, each with
	// its own figures (compression: each chunk, largest first); not in the
	// JSON, whose contract is one option per table.
	Parts []Part `json:"-"`
}

// Key names the option across reads: its kind, its table and what it is
// about (two tables' bloat options share their Object).
func (o Option) Key() string {
	return o.Kind + "\x00" + derefOr(o.Schema) + "\x00" + derefOr(o.Table) + "\x00" + o.Object
}

// Part is one piece of an option: a chunk to compress, what compressing
// it frees (Bytes, an estimate like its option's) and the room it needs
// meanwhile.
type Part struct {
	Name           string // schema.name
	Size           int64  // its size now
	Bytes          int64
	NeedsFreeBytes int64
}

// Run is a registry action with what it is planned for.
type Run struct {
	Action string      // the registry's name: "retention", "drop-slot"
	Table  string      // --table (schema.name), "" for none
	Flags  maint.Flags // the action's flags: --slot NAME
	// Confirm is the word a destructive plan is confirmed by in the
	// console: the slot's name; "" for the table's (or database's) name.
	Confirm string
}

// Command is the `pgtend run …` command line of r, quoted for a POSIX
// shell where a name needs it.
func (r Run) Command() string {
	parts := []string{"pgtend", "run", r.Action}
	if r.Table != "" {
		parts = append(parts, "--table", shellQuote(r.Table))
	}
	names := make([]string, 0, len(r.Flags))
	for n := range r.Flags {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		if v := r.Flags[n]; v == "true" {
			parts = append(parts, "--"+n)
		} else {
			parts = append(parts, "--"+n, shellQuote(v))
		}
	}
	return strings.Join(parts, " ")
}

func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-/:=") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// Filesystem is the data directory's filesystem. Total and Free are nil
// when pgtend cannot see it (another host, a role that may not read
// data_directory); Reason then says why.
type Filesystem struct {
	Path       *string `json:"path"`
	TotalBytes *int64  `json:"total_bytes"`
	FreeBytes  *int64  `json:"free_bytes"`
	Reason     string  `json:"-"`
}

// UsedPercent is the share of the filesystem in use; ok only when seen.
func (f Filesystem) UsedPercent() (pct float64, ok bool) {
	if f.TotalBytes == nil || f.FreeBytes == nil || *f.TotalBytes <= 0 {
		return 0, false
	}
	return 100 * float64(*f.TotalBytes-*f.FreeBytes) / float64(*f.TotalBytes), true
}

// Triage is the answer: the filesystem, the forecast and the options,
// biggest gain that returns soonest first.
type Triage struct {
	GeneratedAt time.Time  `json:"-"`
	Database    string     `json:"-"`
	Filesystem  Filesystem `json:"filesystem"`
	// DaysUntilFull at the measured growth; nil when the growth is unknown
	// or nil, or the filesystem unseen.
	DaysUntilFull *float64 `json:"days_until_full"`
	Options       []Option `json:"options"`
	// GrowthPerDay is the growth the forecast uses (bytes a day) and
	// GrowthBasis where it comes from ("" when unknown).
	GrowthPerDay float64 `json:"-"`
	GrowthBasis  string  `json:"-"`
	// Notes explain what no option says: the WAL settings, what this role
	// may not read (temp files without pg_monitor).
	Notes []string `json:"-"`
}

// Reclaimable sums the options' bytes by kind: what each kind would give
// back (reuse-only and blocked ones included, as their kind says); for
// replication slots, the most any one keeps.
func (t *Triage) Reclaimable() map[string]int64 {
	out := map[string]int64{}
	for _, o := range t.Options {
		if o.Kind == KindReplicationSlot {
			// WAL is one stream: the slots together keep what the oldest
			// needs, the largest figure, not their sum.
			out[o.Kind] = max(out[o.Kind], o.Bytes)
			continue
		}
		out[o.Kind] += o.Bytes
	}
	return out
}

// rank orders the options: what returns to the filesystem now first, then
// at the next checkpoint, then what needs room first, then reuse only;
// within each, the most bytes first.
func rank(opts []Option) {
	order := map[string]int{FreesNow: 0, FreesCheckpoint: 1, FreesNeedsFreeSpace: 2, FreesReuseOnly: 3}
	slices.SortStableFunc(opts, func(a, b Option) int {
		if c := cmp.Compare(order[a.Frees], order[b.Frees]); c != 0 {
			return c
		}
		return cmp.Compare(b.Bytes, a.Bytes)
	})
}

func ptr[T any](v T) *T { return &v }
