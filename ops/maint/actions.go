package maint

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pgtend/pgtend/ops/config"
)

// PlanTimeout bounds making one plan, headless and in the console alike: a
// plan reads the catalogue and counts rows, which should never take long,
// and nobody should watch "planning" forever.
const PlanTimeout = 2 * time.Minute

// Planner makes the plan of an action for one table ("" for every table of
// the policy); it changes nothing.
type Planner func(ctx context.Context, conn *pgx.Conn, policy config.Policy, table string) (*Plan, error)

// Action is one kind of maintenance. Everything that names an action — the
// CLI's plan and run, their completions and help, the console's keys and
// help, the history's task — reads it from here.
type Action struct {
	Name        string // the CLI's word and the history's action: "vacuum"
	Heading     string // how the console heads its plan, before the table's name: "VACUUM ANALYZE"
	Help        string // one line for help screens and --help
	Task        string // the calendar task a run counts for (calendar.Tasks' ID)
	Destructive bool   // its plans may delete data: confirmed by typing the table's name, or --yes
	Key         string // the console key that plans it for the table under the cursor
	// Database: it works on the whole database, not a table (--table does
	// not apply; its console key works in the Disk pane).
	Database bool
	Planner  Planner
	// Flags are its options beyond --table, on plan's and run's command
	// line (pgtend plan reindex --index I); the planner reads the ones set
	// with FlagsOf. The console toggles the switches that have a Key.
	Flags []Flag
}

// Flag is an option of an action: --Name, taking a Value ("INDEX"), or a
// switch when Value is "". Key is the console key that plans again with
// the flag toggled: a switch where the plan lists it in its Offers, a
// flag with a value where the step under the cursor names one (its
// Step.Alone), either where it is set; "" keeps it off the console.
type Flag struct {
	Name, Value, Help string
	Key               string
}

// Flags are the action flags set for a plan: name → value ("true" for a
// switch).
type Flags map[string]string

type flagsKey struct{}

// WithFlags hands the flags set on the command line to the planners
// called with ctx.
func WithFlags(ctx context.Context, f Flags) context.Context {
	return context.WithValue(ctx, flagsKey{}, f)
}

// FlagsOf are the flags WithFlags set on ctx (none: an empty map).
func FlagsOf(ctx context.Context) Flags {
	f, _ := ctx.Value(flagsKey{}).(Flags)
	if f == nil {
		return Flags{}
	}
	return f
}

// Plan makes the action's plan within PlanTimeout, stamps it with the
// action's name and task (so the run and its history entry say what it
// was), and marks the steps the connected role may not do (refusing a plan
// of which it may do nothing).
func (a Action) Plan(ctx context.Context, conn *pgx.Conn, policy config.Policy, table string) (*Plan, error) {
	ctx, cancel := context.WithTimeout(ctx, PlanTimeout)
	defer cancel()
	p, err := a.Planner(ctx, conn, policy, table)
	if err != nil {
		return nil, err
	}
	p.Action, p.Task = a.Name, a.Task
	if err := markDenied(ctx, conn, p); err != nil {
		return nil, err
	}
	return p, nil
}

// Script is one of the maintenance guide's routines: actions run one after
// another, each planned right before it runs (monthly's VACUUM must not list
// the chunks its retention cleanup just dropped).
type Script struct {
	Name    string
	Help    string
	Actions []string // names of registry actions, in order
	// Report: the routine ends by printing the sizes and disk report
	// (the guide's weekly "check table sizes" and "check disk").
	Report bool
	// Sheets are informational steps after the actions (see SheetOf):
	// read, shown, and counted for their calendar task once looked at.
	Sheets []string
	// Manual are the calendar tasks a person does (retrain the models):
	// the console's checklist ticks them off with a note; a headless run
	// lists them as left to do.
	Manual []string
}

// Registry is every action and script pgtend knows.
type Registry struct {
	Actions []Action
	Scripts []Script
}

// Default is pgtend's registry.
func Default() *Registry {
	return &Registry{
		Actions: []Action{
			{
				Name: "vacuum", Heading: "VACUUM ANALYZE", Task: "vacuum_analyze", Key: "v",
				Help:    "VACUUM ANALYZE, chunk by chunk (partition by partition)",
				Planner: PlanVacuum,
			},
			{
				Name: "retention", Heading: "retention cleanup of", Task: "retention_cleanup", Key: "d", Destructive: true,
				Help: "remove data older than the policy's retention",
				Flags: []Flag{{Name: FlagIncludeDefault, Key: "i", Help: "also delete, in batches, the rows past the cutoff in DEFAULT partitions, which no partition removal takes " +
					"(the space is reused by the table, not returned to the filesystem)"}},
				Planner: planRetentionWithFlags,
			},
			{
				Name: "compress", Heading: "compression of", Task: "compression_check", Key: "c",
				Help:    "compress the chunks past the policy's compress_after, one at a time (TimescaleDB hypertables)",
				Flags:   []Flag{{Name: FlagAddPolicy, Key: "p", Help: "add TimescaleDB's compression policy (compress_after) where a hypertable has none"}},
				Planner: PlanCompress,
			},
			{
				Name: "decompress", Heading: "decompression of",
				Help:    "decompress one chunk (--chunk), refused unless the disk has room for it",
				Flags:   []Flag{{Name: FlagChunk, Value: "CHUNK", Help: "the compressed chunk to decompress (schema.name)"}},
				Planner: PlanDecompress,
			},
			{
				Name: "reindex", Heading: "REINDEX", Task: "reindex", Key: "i",
				Help: "rebuild invalid and bloated indexes with REINDEX INDEX CONCURRENTLY, chunk by chunk; drop leftovers of failed rebuilds",
				Flags: []Flag{
					{Name: FlagIndex, Value: "INDEX", Key: "o", Help: "one index (a hypertable's or partitioned table's: each chunk's or partition's), whatever its bloat"},
					{Name: FlagMeasure, Key: "m", Help: "measure bloat with pgstatindex (pgstattuple), which reads each index whole, instead of estimating it"},
					{Name: FlagBlocking, Key: "b", Help: "plain REINDEX INDEX instead of CONCURRENTLY: ACCESS EXCLUSIVE on the index, SHARE on the table, so writes wait for each rebuild; confirmed like a destructive plan (--yes)"},
				},
				Planner: PlanReindex,
			},
			{
				Name: "backup", Heading: "backup of", Task: "verify_backup", Key: "b", Database: true,
				Help:    "pg_dump of the database, verified by reading it back whole, then rotation of old backups",
				Flags:   BackupFlags,
				Planner: planBackupWithFlags,
			},
			{
				Name: "archive", Heading: "archives of", Task: "archive_trade_logs", Database: true,
				Help:    "tar.gz archives of the policy's [archive] directories, each read back entry by entry",
				Planner: planArchiveWithFlags,
			},
			{
				Name: "schedule", Heading: "schedules for", Destructive: true, Database: true,
				Help: "hand the policy to the database's own schedulers: TimescaleDB retention and compression policies, pg_cron jobs for the rest " +
					"(partitioned and plain tables' retention, the weekly VACUUM ANALYZE, a trim of cron.job_run_details)",
				Planner: PlanSchedule,
			},
			{
				Name: "jobs", Heading: "TimescaleDB jobs run now for", Destructive: true,
				Help:    "run TimescaleDB's jobs now (CALL run_job), each run recorded in the job ledger; --table: the table's jobs",
				Flags:   []Flag{{Name: FlagJob, Value: "ID", Help: "one TimescaleDB job, by its id"}},
				Planner: PlanRunJobs,
			},
			// Triage's: what frees disk space beyond the routines.
			{
				Name: "rotate", Heading: "rotation of", Destructive: true, Database: true,
				Help:    "delete the backups and archives beyond the rotation now, without making a new backup first (the newest verified one always stays)",
				Planner: PlanRotate,
			},
			{
				Name: "drop-slot", Heading: "drop of", Destructive: true, Database: true,
				Help:    "drop an inactive replication slot (--slot) holding WAL back, confirmed by its name; an active one is refused",
				Flags:   []Flag{{Name: FlagSlot, Value: "SLOT", Help: "the replication slot to drop"}},
				Planner: PlanDropSlot,
			},
			{
				Name: "rewrite", Heading: "rewrite of",
				Help:    "rewrite a bloated plain table to give its free space back to the filesystem: pg_repack where installed, else VACUUM FULL; refused without room for the copy",
				Planner: PlanRewrite,
			},
			{
				Name: "drop-detached", Heading: "drop of", Destructive: true,
				Help:    "drop a detached partition (--table) pg_partman kept or an interrupted DETACH CONCURRENTLY left, confirmed by its name; an attached, permanent or referenced table is refused",
				Planner: PlanDropDetached,
			},
			{
				Name: "drop-repack-leftover", Heading: "drop of",
				Destructive: true,
				Help:        "drop the work tables (repack.table_<oid>, repack.log_<oid>) a pg_repack that died left; refused while a pg_repack runs",
				Planner:     PlanDropRepackLeftover,
			},
		},
		Scripts: []Script{
			// weekly archives too: the guide's weekly backup script tars models/
			// with the dump; the month's archives are made by the first run
			// that finds last month over (and counted for their monthly task).
			{Name: "weekly", Help: "VACUUM ANALYZE of every table, a verified backup and the [archive] dirs' archives, then the sizes and disk report and the server log's errors",
				Actions: []string{"vacuum", "backup", "archive"}, Report: true,
				Sheets: []string{SheetLogs}},
			{Name: "monthly", Help: "retention cleanup, compression of the chunks past compress_after, last month's archives, VACUUM ANALYZE, then the indexes that need it rebuilt",
				Actions: []string{"retention", "compress", "archive", "vacuum", "reindex"}, Manual: []string{"retrain_models"}},
			{Name: "quarterly", Help: "the retention policy review, old backups for cold storage, the capacity forecast and the performance audit (reads only)",
				Sheets: []string{SheetRetention, SheetColdBackups, SheetCapacity, SheetAudit}},
		},
	}
}

// Action finds an action by name.
func (r *Registry) Action(name string) (Action, bool) {
	i := slices.IndexFunc(r.Actions, func(a Action) bool { return a.Name == name })
	if i < 0 {
		return Action{}, false
	}
	return r.Actions[i], true
}

// Script finds a script by name.
func (r *Registry) Script(name string) (Script, bool) {
	i := slices.IndexFunc(r.Scripts, func(s Script) bool { return s.Name == name })
	if i < 0 {
		return Script{}, false
	}
	return r.Scripts[i], true
}

// Resolve turns what a command names — an action, or with scripts a script
// — into the actions to plan in order. An unknown name is refused with the
// names that exist, before anything connects.
func (r *Registry) Resolve(name string, scripts bool) ([]Action, error) {
	if a, ok := r.Action(name); ok {
		return []Action{a}, nil
	}
	if s, ok := r.Script(name); ok && scripts {
		out := make([]Action, 0, len(s.Actions))
		for _, n := range s.Actions {
			a, ok := r.Action(n)
			if !ok {
				return nil, fmt.Errorf("script %s names the unknown action %q", s.Name, n)
			}
			out = append(out, a)
		}
		return out, nil
	}
	return nil, fmt.Errorf("unknown action %q: use %s", name, strings.Join(r.Names(scripts), ", "))
}

// Names lists the actions and, with scripts, the scripts.
func (r *Registry) Names(scripts bool) []string {
	var out []string
	for _, a := range r.Actions {
		out = append(out, a.Name)
	}
	if scripts {
		for _, s := range r.Scripts {
			out = append(out, s.Name)
		}
	}
	return out
}
