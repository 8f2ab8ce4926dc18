package checklist

import (
	"cmp"
	"math"
	"slices"

	"github.com/pgtend/pgtend/ops/health"
	"github.com/pgtend/pgtend/ops/report"
	"github.com/pgtend/pgtend/ops/state"
)

// Capacity is the storage forecast: the data directory's filesystem, the
// database's growth and when the one fills at the other.
type Capacity struct {
	Visible      bool          `json:"visible"` // the filesystem was measured
	Reason       string        `json:"reason"`  // why not
	Total        int64         `json:"total"`
	Free         int64         `json:"free"`
	Database     int64         `json:"database"`
	Growth       Growth        `json:"growth"`       // the sum of the tables'
	DaysToFull   float64       `json:"days_to_full"` // -1: not growing, or not known
	Growers      []TableGrowth `json:"growers"`
	Measured     int           `json:"measured"`      // tables whose growth was measured
	Expected     int           `json:"expected"`      // tables whose growth is the policy's
	UnknownCount int           `json:"unknown_count"` // tables with neither
}

// TableGrowth is one table's growth, for the forecast's largest growers.
type TableGrowth struct {
	Table  string `json:"table"`
	Bytes  *int64 `json:"bytes"`
	Growth Growth `json:"growth"`
}

// maxGrowers is how many of the fastest-growing tables are listed.
const maxGrowers = 5

// Forecast sums the tables' growth (measured from the stored samples
// where it can be, else the policy's expectation) and says when the
// filesystem fills at that rate.
func Forecast(r *report.Report, samples []state.Sample) *Capacity {
	c := &Capacity{Database: r.Server.DatabaseBytes, DaysToFull: -1, Reason: r.Disk.Reason}
	c.Total, c.Free, c.Visible = r.Disk.Space()
	measured := health.TableGrowth(samples)
	for _, t := range r.Tables {
		if t.Missing {
			continue
		}
		g := growthOf(t, measured)
		switch {
		case g.Measured:
			c.Measured++
		case g.Known:
			c.Expected++
		default:
			c.UnknownCount++
			continue
		}
		c.Growth.PerDay += g.PerDay
		c.Growth.Known = true
		c.Growth.Measured = c.Growth.Measured || g.Measured
		c.Growers = append(c.Growers, TableGrowth{Table: t.Key(), Bytes: t.TotalBytes, Growth: g})
	}
	slices.SortStableFunc(c.Growers, func(a, b TableGrowth) int { return cmp.Compare(b.Growth.PerDay, a.Growth.PerDay) })
	c.Growers = c.Growers[:min(len(c.Growers), maxGrowers)]
	if c.Visible && c.Growth.PerDay > 0 {
		c.DaysToFull = math.Floor(float64(c.Free) / c.Growth.PerDay)
	}
	return c
}
