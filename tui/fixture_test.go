package tui

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/pgtend/pgtend/ops/report"
)

// The fixtures are the trading system the console was built for, frozen at
// one instant so every golden file is reproducible.
var fixtureNow = time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)

const (
	kib = int64(1) << 10
	mib = int64(1) << 20
	gib = int64(1) << 30
)

// evilName carries an escape sequence that would clear the screen if drawn raw.
const evilName = "evil\x1b[2Jname"

func ptr[T any](v T) *T { return &v }

func at(daysAgo float64) *time.Time {
	return ptr(fixtureNow.Add(-time.Duration(daysAgo * float64(24*time.Hour))))
}

// hyperSpec describes one fixture hypertable and the chunks generated for it.
type hyperSpec struct {
	name          string
	id            int     // hypertable id, for chunk names
	chunks        int     // daily chunks, the newest ending tomorrow
	chunkBytes    int64   // size of an uncompressed chunk
	compressAfter int     // chunks older than this many days are compressed; 0 = never
	ratio         float64 // before/after of a compressed chunk
	retention     *int    // nil with permanent=false: no retention
	permanent     bool
	growth        *int64 // expected bytes/day from the policy
	locked        bool
	rows          int64
	dead          int64
	aggregateOf   string // a continuous aggregate of this hypertable
}

var fixtureHypertables = []hyperSpec{
	{name: "option_chain_snapshots", id: 1, chunks: 200, chunkBytes: 1200 * mib, compressAfter: 7, ratio: 11.5, retention: ptr(90), growth: ptr(1100 * mib), rows: 2_400_000_000, dead: 1_250_000},
	{name: "ml_features", id: 2, chunks: 200, chunkBytes: 310 * mib, compressAfter: 30, ratio: 4.2, retention: ptr(365), growth: ptr(300 * mib), rows: 410_000_000, dead: 92_000},
	{name: "multi_resolution_bars", id: 3, chunks: 200, chunkBytes: 95 * mib, compressAfter: 3, ratio: 18.9, permanent: true, growth: ptr(90 * mib), rows: 880_000_000, dead: 0},
	{name: "macro_signals", id: 4, chunks: 200, chunkBytes: 3 * mib, retention: ptr(730), growth: ptr(3 * mib), rows: 1_900_000, dead: 410},
	{name: "vix_term_structure", id: 5, chunks: 198, chunkBytes: 12 * mib, compressAfter: 14, ratio: 9.1, retention: ptr(180), locked: true, rows: 5_600_000, dead: 77},
	{name: "option_chain_daily", id: 6, chunks: 20, chunkBytes: 9 * mib, retention: ptr(365), rows: 96_000, aggregateOf: "option_chain_snapshots"},
}

// fixtureReport builds the report; version changes the figures slightly
// (as a refresh would) without changing which tables exist.
func fixtureReport(version int) *report.Report {
	return sizedReport(version, func(h hyperSpec) int { return h.chunks })
}

// sizedReport is fixtureReport with chunksOf(h) chunks in hypertable h.
func sizedReport(version int, chunksOf func(hyperSpec) int) *report.Report {
	r := &report.Report{
		GeneratedAt: fixtureNow,
		Server: report.Server{
			Version:     "16.4 (Debian 16.4-1.pgdg120+1)",
			Timescale:   ptr("2.17.2"),
			Database:    "trading",
			Columnstore: false,
		},
	}
	hyper := report.KindHypertable
	for _, h := range fixtureHypertables {
		h.chunks = chunksOf(h)
		t := report.Table{
			Schema: "public", Name: h.name, Kind: ptr(hyper), Locked: h.locked,
			RowEstimate: h.rows, DeadTuples: h.dead,
			LastAutovacuum: at(0.3), LastAnalyze: at(1.5),
			RetentionDays: h.retention, Permanent: h.permanent,
			TimeColumn: ptr("ts"), Oldest: at(float64(h.chunks - 1)),
			InPolicy: true, ExpectedGrowthPerDay: h.growth, Chunks: h.chunks, AggregatedBy: []string{},
		}
		for _, a := range fixtureHypertables {
			if a.aggregateOf == h.name {
				t.AggregatedBy = append(t.AggregatedBy, "public."+a.name)
			}
		}
		if h.aggregateOf != "" {
			t.Kind, t.TimeColumn = ptr(report.KindContinuousAggregate), ptr("day")
			t.Aggregate = &report.Aggregate{Source: "public." + h.aggregateOf, MaterializedOnly: true, Refresh: &report.RefreshPolicy{
				JobID: 1000, StartOffset: ptr("30 days"), EndOffset: ptr("01:00:00"), WindowStart: at(30), WindowEnd: at(1.0 / 24),
				Schedule: "01:00:00", Active: true, LastRun: at(0.5 / 24), LastSuccess: at(0.5 / 24), LastStatus: "succeeded", NextStart: at(-0.5 / 24)}}
		}
		var total, expired int64
		for i := range h.chunks {
			c := fixtureChunk(h, i, version)
			r.Chunks = append(r.Chunks, c)
			total += *c.TotalBytes
			if c.Expired {
				expired += *c.TotalBytes
			}
		}
		if !h.locked {
			t.TotalBytes = ptr(total)
			t.TableBytes = ptr(total * 7 / 10)
			t.IndexBytes = ptr(total * 2 / 10)
			t.ToastBytes = ptr(total - total*7/10 - total*2/10)
		}
		if h.retention != nil {
			t.ExpiredBytes = ptr(expired)
		}
		r.Tables = append(r.Tables, t)
	}
	plain := report.KindTable
	trade := int64(48*gib) + int64(version)*64*mib
	r.Tables = append(r.Tables,
		report.Table{
			Schema: "public", Name: "trade_history", Kind: ptr(plain), Permanent: true, InPolicy: true,
			TotalBytes: ptr(trade), TableBytes: ptr(trade * 6 / 10), IndexBytes: ptr(trade * 3 / 10), ToastBytes: ptr(trade - trade*6/10 - trade*3/10),
			RowEstimate: 310_000_000, DeadTuples: 12_000, LastVacuum: at(6), LastAnalyze: at(6), TimeColumn: ptr("executed_at"),
			Oldest: at(2100), ExpectedGrowthPerDay: ptr(40 * mib),
		},
		report.Table{Schema: "public", Name: "order_book_l2", Missing: true, InPolicy: true, RetentionDays: ptr(30), ExpectedGrowthPerDay: ptr(2 * gib)},
		report.Table{
			Schema: "scratch", Name: evilName, Kind: ptr(plain),
			TotalBytes: ptr(24 * kib), TableBytes: ptr(8 * kib), IndexBytes: ptr(16 * kib), ToastBytes: ptr(int64(0)),
			RowEstimate: 3,
		},
	)
	for _, t := range r.Tables {
		r.Server.DatabaseBytes += val(t.TotalBytes)
	}
	// What no listed table holds: the catalogs and the rest.
	r.Unlisted = []report.UnlistedGroup{
		{Group: report.UnlistedSystemCatalogs, Bytes: 96 * mib, Relations: 64},
		{Group: report.UnlistedTimescale, Bytes: 24 * mib, Relations: 40},
		{Group: report.UnlistedSequences, Bytes: 2 * mib, Relations: 12},
		{Group: report.UnlistedFiles, Bytes: 300 * kib},
	}
	for _, g := range r.Unlisted {
		r.UnlistedBytes += g.Bytes
	}
	r.Server.DatabaseBytes += r.UnlistedBytes
	r.Disk = report.Disk{
		Path: ptr("/var/lib/postgresql/16/main"), Visible: true,
		TotalBytes: ptr(2048 * gib), FreeBytes: ptr(2048*gib - r.Server.DatabaseBytes - 300*gib),
		DatabaseBytes: r.Server.DatabaseBytes, WALBytes: ptr(3 * gib),
		BackupDir: "/srv/backups/trading", BackupBytes: ptr(210 * gib),
	}
	r.Calendar = fixtureCalendar()
	r.Jobs = fixtureJobs()
	return r
}

// fixtureChunk is chunk i (0 = oldest) of h.
func fixtureChunk(h hyperSpec, i, version int) report.Chunk {
	age := h.chunks - 1 - i // days between the chunk's start and today
	start := fixtureNow.Truncate(24*time.Hour).AddDate(0, 0, -age)
	end := start.AddDate(0, 0, 1)
	size := h.chunkBytes + int64(i%7)*h.chunkBytes/50
	if age == 0 { // today's chunk is still filling, and grows between refreshes
		size = size/3 + int64(version)*8*mib
	}
	c := report.Chunk{
		TableSchema: "public", Table: h.name,
		ChunkSchema: "_timescaledb_internal", Chunk: fmt.Sprintf("_hyper_%d_%d_chunk", h.id, 1000+i),
		RangeStart: ptr(start), RangeEnd: ptr(end),
		Expired: h.retention != nil && end.Before(fixtureNow.AddDate(0, 0, -*h.retention)),
	}
	if h.compressAfter > 0 && age > h.compressAfter {
		c.Compressed = true
		c.BeforeBytes = ptr(size)
		c.AfterBytes = ptr(int64(float64(size) / h.ratio))
		size = *c.AfterBytes
	}
	c.TotalBytes = ptr(size)
	return c
}

func fixtureCalendar() []report.CalendarItem {
	return []report.CalendarItem{
		{Task: "retention", Title: "Drop chunks past retention", Cadence: "daily", LastRun: at(1), NextDue: fixtureNow.Add(6 * time.Hour), Status: "ok"},
		{Task: "compress", Title: "Compress closed chunks", Cadence: "daily", LastRun: at(1.2), NextDue: fixtureNow.Add(4 * time.Hour), Status: "ok"},
		{Task: "analyze", Title: "Analyze hypertables", Cadence: "daily", LastRun: at(1.5), NextDue: fixtureNow.Add(-12 * time.Hour), Status: "due"},
		{Task: "vacuum", Title: "Vacuum trade_history", Cadence: "weekly", LastRun: at(6), NextDue: fixtureNow.AddDate(0, 0, 1), Status: "ok"},
		{Task: "backup", Title: "Full backup", Cadence: "daily", LastRun: at(3), NextDue: fixtureNow.AddDate(0, 0, -2), Status: "overdue"},
		{Task: "verify", Title: "Verify last backup", Cadence: "weekly", LastRun: at(9), NextDue: fixtureNow.AddDate(0, 0, -2), Status: "overdue"},
		{Task: "reindex", Title: "Reindex bloated indexes", Cadence: "monthly", Manual: true, LastRun: nil, NextDue: fixtureNow.AddDate(0, 0, 3), Status: "due"},
		{Task: "upgrade", Title: "Review TimescaleDB upgrade", Cadence: "quarterly", Manual: true, LastRun: at(80), NextDue: fixtureNow.AddDate(0, 0, 10), Status: "ok"},
	}
}

// hiddenDisk turns r's disk into one pgtend cannot see.
func hiddenDisk(r *report.Report) *report.Report {
	r.Disk = report.Disk{
		Visible: false, Reason: "the server runs on another host (db-primary.internal)",
		DatabaseBytes: r.Server.DatabaseBytes, WALBytes: ptr(3 * gib),
	}
	return r
}

// fakeDB is a Load function whose answers the test controls: the next
// report version, or an error while it is "down".
type fakeDB struct {
	mu      sync.Mutex
	version int
	down    bool
	calls   int
	edit    func(*report.Report) *report.Report
}

var errDown = errors.New("dial tcp 10.0.0.5:5432: connect: connection refused")

func (f *fakeDB) load(context.Context) (*report.Report, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.down {
		return nil, errDown
	}
	r := fixtureReport(f.version)
	if f.edit != nil {
		r = f.edit(r)
	}
	return r, nil
}

func (f *fakeDB) set(version int, down bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.version, f.down = version, down
}
