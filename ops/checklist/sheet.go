// Package checklist reads what the maintenance guide's checklists show
// besides their actions — the sheets: the server log's errors, the
// retention review, old backups for cold storage, the capacity forecast,
// the performance audit — and sums a checklist run up for the history.
// The steps themselves are ops/maint's (Registry.Checklist); the console's
// wizard and `pgtend run weekly|monthly|quarterly` walk the same ones.
package checklist

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pgtend/pgtend/ops/config"
	"github.com/pgtend/pgtend/ops/maint"
	"github.com/pgtend/pgtend/ops/report"
	"github.com/pgtend/pgtend/ops/state"
)

// SheetTimeout bounds reading one sheet: the audit and the report read
// the catalogue, which should never take long.
const SheetTimeout = 2 * time.Minute

// Sheet is one informational step's figures; only the part of its Name is
// set.
type Sheet struct {
	Name      string
	Report    *report.Report   // maint.SheetSizes, and what the others are read from
	Logs      *Logs            // maint.SheetLogs
	Retention *RetentionReview // maint.SheetRetention
	Cold      *ColdStorage     // maint.SheetColdBackups
	Capacity  *Capacity        // maint.SheetCapacity
	Audit     *Audit           // maint.SheetAudit
}

// Inputs are what the sheets need beyond the database.
type Inputs struct {
	Policy config.Policy
	Now    time.Time
	// LogsSince is when the log's errors count from: the last weekly
	// review (zero: every log file, as far as LogBudget goes).
	LogsSince time.Time
	// Samples are the stored size samples (state.Sizes), for measured
	// growth; none: the policy's expected growth.
	Samples []state.Sample
	// Collect reads the report the sizes, retention and capacity sheets
	// are made of; nil: report.Collect.
	Collect func(ctx context.Context, conn *pgx.Conn, policy config.Policy) (*report.Report, error)
}

// Read reads the sheet called name on conn.
func Read(ctx context.Context, conn *pgx.Conn, name string, in Inputs) (*Sheet, error) {
	ctx, cancel := context.WithTimeout(ctx, SheetTimeout)
	defer cancel()
	if in.Now.IsZero() {
		in.Now = time.Now()
	}
	s := &Sheet{Name: name}
	needsReport := name == maint.SheetSizes || name == maint.SheetRetention || name == maint.SheetCapacity
	if needsReport {
		collect := in.Collect
		if collect == nil {
			collect = report.Collect
		}
		r, err := collect(ctx, conn, in.Policy)
		if err != nil {
			return nil, err
		}
		s.Report = r
	}
	var err error
	switch name {
	case maint.SheetSizes:
	case maint.SheetLogs:
		s.Logs, err = ReadLogs(ctx, conn, in.LogsSince)
	case maint.SheetRetention:
		s.Retention = ReviewRetention(s.Report, in.Samples, in.Now)
	case maint.SheetColdBackups:
		s.Cold, err = ListCold(in.Policy, in.Now)
	case maint.SheetCapacity:
		s.Capacity = Forecast(s.Report, in.Samples)
	case maint.SheetAudit:
		s.Audit, err = ReadAudit(ctx, conn)
	default:
		return nil, fmt.Errorf("unknown sheet %q", name)
	}
	if err != nil {
		return nil, err
	}
	return s, nil
}
