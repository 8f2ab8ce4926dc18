package checklist

import (
	"slices"
	"time"

	"github.com/pgtend/pgtend/ops/health"
	"github.com/pgtend/pgtend/ops/report"
	"github.com/pgtend/pgtend/ops/state"
)

// Verdicts of the retention review.
const (
	RetentionWithin    = "within"    // holds no more than its retention (and a day)
	RetentionOver      = "over"      // holds older data than its retention
	RetentionPermanent = "permanent" // kept for ever by the policy
	RetentionNone      = "none"      // no policy: kept for ever by default
	RetentionUnknown   = "unknown"   // its oldest row is not known (no time column, empty, locked)
)

// RetentionReview is the quarterly review of the retention policy.
type RetentionReview struct {
	Rows []RetentionRow `json:"rows"`
	// NoPolicy are the tables the policy does not name.
	NoPolicy []string `json:"no_policy"`
}

// RetentionRow is one table against its policy.
type RetentionRow struct {
	Table         string     `json:"table"`
	Kind          string     `json:"kind"`
	RetentionDays *int       `json:"retention_days"`
	Permanent     bool       `json:"permanent"`
	InPolicy      bool       `json:"in_policy"`
	Oldest        *time.Time `json:"oldest"`
	SpanDays      *float64   `json:"span_days"` // now - oldest, in days
	Bytes         *int64     `json:"bytes"`
	Growth        Growth     `json:"growth"`
	Verdict       string     `json:"verdict"`
}

// Growth is a table's (or the database's) growth a day.
type Growth struct {
	PerDay   float64 `json:"per_day"`  // bytes a day
	Measured bool    `json:"measured"` // from the stored samples, not the policy's expectation
	Known    bool    `json:"known"`
}

// ReviewRetention lays each table's actual age span, size and growth
// beside its policy.
func ReviewRetention(r *report.Report, samples []state.Sample, now time.Time) *RetentionReview {
	out := &RetentionReview{Rows: []RetentionRow{}, NoPolicy: []string{}}
	growth := health.TableGrowth(samples) // as the Disk pane and Triage measure it
	for _, t := range r.Tables {
		if t.Missing {
			continue
		}
		row := RetentionRow{Table: t.Key(), RetentionDays: t.RetentionDays, Permanent: t.Permanent, InPolicy: t.InPolicy,
			Oldest: t.Oldest, Bytes: t.TotalBytes, Growth: growthOf(t, growth)}
		if t.Kind != nil {
			row.Kind = *t.Kind
		}
		if t.Oldest != nil {
			d := now.Sub(*t.Oldest).Hours() / 24
			row.SpanDays = &d
		}
		switch {
		case t.Permanent:
			row.Verdict = RetentionPermanent
		case t.RetentionDays == nil:
			row.Verdict = RetentionNone
		case row.SpanDays == nil:
			row.Verdict = RetentionUnknown
		case *row.SpanDays > float64(*t.RetentionDays+1):
			row.Verdict = RetentionOver
		default:
			row.Verdict = RetentionWithin
		}
		if !t.InPolicy {
			out.NoPolicy = append(out.NoPolicy, t.Key())
		}
		out.Rows = append(out.Rows, row)
	}
	slices.Sort(out.NoPolicy)
	return out
}

func growthOf(t report.Table, measured map[string]float64) Growth {
	if v, ok := measured[t.Key()]; ok {
		return Growth{PerDay: v, Measured: true, Known: true}
	}
	if t.ExpectedGrowthPerDay != nil {
		return Growth{PerDay: float64(*t.ExpectedGrowthPerDay), Known: true}
	}
	return Growth{}
}
