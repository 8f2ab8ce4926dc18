package triage

import (
	"context"
	"fmt"
	"time"

	"github.com/dustin/go-humanize"
	"github.com/jackc/pgx/v5"
	"github.com/pgtend/pgtend/ops/config"
	"github.com/pgtend/pgtend/ops/maint"
	"github.com/pgtend/pgtend/ops/report"
	"github.com/pgtend/pgtend/ops/state"
)

// Inputs are what triage reads besides the database.
type Inputs struct {
	// Report is the report to work from (the console's latest); nil:
	// Collect reads one.
	Report *report.Report
	// Samples is the size history (state.Sizes), for the forecast.
	Samples []state.Sample
}

// Collect reads every way to free space, ranked: from the report (expired
// chunks, partitions and rows, compression, detached tables, bloat), the
// backup and archive directories, the replication slots and the archiver,
// the catalog's hidden space (invalid indexes, pg_repack's work tables,
// interrupted detaches) and the files the server keeps (temporary files,
// logs in the data directory). It changes nothing.
func Collect(ctx context.Context, conn *pgx.Conn, policy config.Policy, in Inputs) (*Triage, error) {
	r := in.Report
	if r == nil {
		var err error
		if r, err = report.Collect(ctx, conn, policy); err != nil {
			return nil, err
		}
	}
	t := &Triage{GeneratedAt: r.GeneratedAt, Database: r.Server.Database, Options: []Option{},
		Filesystem: Filesystem{Path: r.Disk.Path, TotalBytes: r.Disk.TotalBytes, FreeBytes: r.Disk.FreeBytes, Reason: r.Disk.Reason}}
	if !r.Disk.Visible {
		t.Filesystem.TotalBytes, t.Filesystem.FreeBytes = nil, nil
		t.Notes = append(t.Notes, "the data directory's filesystem is not visible: "+r.Disk.Reason)
	}
	add := func(o []Option, notes []string, err error) error {
		t.Options = append(t.Options, o...)
		t.Notes = append(t.Notes, notes...)
		return err
	}
	t.Options = append(t.Options, expired(r)...)
	t.Options = append(t.Options, compressible(r, policy)...)
	if err := add(backups(policy, r.Server.Database, r.GeneratedAt)); err != nil {
		return nil, err
	}
	o, err := slots(ctx, conn)
	if err := add(o, nil, err); err != nil {
		return nil, err
	}
	if err := add(archiver(ctx, conn, r.Disk.WALBytes)); err != nil {
		return nil, err
	}
	o, err = detached(ctx, conn, r)
	if err := add(o, nil, err); err != nil {
		return nil, err
	}
	o, err = invalidIndexes(ctx, conn)
	if err := add(o, nil, err); err != nil {
		return nil, err
	}
	o, err = repackLeftovers(ctx, conn)
	if err := add(o, nil, err); err != nil {
		return nil, err
	}
	if err := add(files(ctx, conn)); err != nil {
		return nil, err
	}
	tool, why, err := maint.FindRepack(ctx, conn)
	if err != nil {
		return nil, err
	}
	o, err = bloat(ctx, conn, r, policy, tool, why)
	if err := add(o, nil, err); err != nil {
		return nil, err
	}
	for i := range t.Options {
		if run := t.Options[i].Run; run != nil {
			t.Options[i].Action = ptr(run.Command())
		}
	}
	rank(t.Options)
	t.forecast(r, in.Samples)
	return t, nil
}

// backups lists the backups and archives beyond the rotation: what the
// rotate action deletes, measured on disk.
func backups(policy config.Policy, database string, now time.Time) ([]Option, []string, error) {
	b, err := maint.BeyondRotation(policy, database, now)
	if err != nil {
		return nil, []string{"the backup directories could not be read: " + err.Error()}, nil
	}
	if b.Files() == 0 {
		return nil, nil, nil
	}
	where := b.Dir
	if where == "" {
		where = b.Dest
	}
	return []Option{{Kind: KindBackups, Object: where, Bytes: b.Bytes(), Frees: FreesNow, Locks: "none (files only)",
		Run:    &Run{Action: "rotate"},
		Detail: fmt.Sprintf("%d %s beyond the rotation ([backup] keep_daily %d, [archive] keep): deleting them leaves the newest verified backup and those the rules keep", b.Files(), plural(b.Files(), "file"), max(policy.Backup.KeepDaily, 1)),
		Basis:  "measured: the files' sizes (" + humanize.IBytes(uint64(b.Bytes())) + ")"}}, nil, nil
}
