package tui

import (
	"context"
	"errors"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/pgtend/pgtend/ops/report"
)

// Messages of the refresh loop.
type (
	reportMsg struct {
		seq    int
		report *report.Report
		err    error
		// backups: the backup directory's listing, read with the report
		// (nil when Options.Backups is unset).
		backups *backupsRead
	}
	refreshMsg struct{ seq int }
	// clockMsg repaints time-dependent text (reconnect countdown, highlights).
	clockMsg struct{}
)

// loadShare bounds the console's own load on the server: the wait between
// refreshes is at least this many times what the last report took, so that
// at most a tenth of a server core goes to watching it (exact sizes at
// thousands of chunks cost tenths of a second each).
const loadShare = 10

// refreshWait is the wait before the next refresh after a report that
// took took.
func refreshWait(interval, took time.Duration) time.Duration {
	return max(interval, loadShare*took)
}

// maxBackoff caps the wait between reconnection attempts.
const maxBackoff = 30 * time.Second

// backoff is the wait after the n-th failure in a row: 1, 2, 4 … 30 s.
func backoff(failures int) time.Duration {
	return min(time.Second<<min(max(failures-1, 0), 5), maxBackoff)
}

func (m *Model) load() tea.Cmd {
	if m.loading || m.opts.Load == nil {
		return nil
	}
	m.loading = true
	m.loadSeq++
	m.loadStart = m.opts.Now()
	seq, load, timeout, backups := m.loadSeq, m.opts.Load, m.opts.Timeout, m.opts.Backups
	if m.report == nil && m.opts.Estimate != nil && m.failures == 0 {
		load = m.opts.Estimate
	}
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		r, err := load(ctx)
		if err == nil && r == nil {
			err = errors.New("the database returned no report")
		}
		return reportMsg{seq: seq, report: r, err: err, backups: readBackups(ctx, backups)}
	}
}

// gotReport applies a finished load: new figures, or a lost connection that
// keeps the last figures (greyed) and retries with backoff.
func (m *Model) gotReport(msg reportMsg) tea.Cmd {
	if msg.seq != m.loadSeq {
		return nil
	}
	m.loading = false
	now := m.opts.Now()
	seq := m.loadSeq
	next := func(time.Time) tea.Msg { return refreshMsg{seq: seq} }
	took := now.Sub(m.loadStart)
	if msg.err != nil {
		m.lastErr = msg.err
		m.failures++
		// A load that fails slowly (a statement timeout) is as costly as a
		// slow report: the same share limits how soon it is tried again.
		wait := refreshWait(backoff(m.failures), took)
		m.retryAt = now.Add(wait)
		m.setStale(true)
		return tea.Batch(tea.Tick(wait, next), m.startClock())
	}
	m.lastErr, m.failures = nil, 0
	m.report, m.lastRefresh = msg.report, now
	if !msg.report.Estimated { // an estimate is followed at once by the measured report
		m.refreshEvery = refreshWait(m.opts.Refresh, took)
	}
	m.setStale(false)
	first := m.chunks.table == ""
	m.tables.setReport(msg.report, now)
	m.chunks.setReport(msg.report)
	if first { // the Chunks pane starts on the table the Tables cursor starts on
		m.followSelection()
	}
	m.disk.setReport(msg.report, m.tables.growth)
	if msg.backups != nil {
		m.disk.setBackups(msg.backups, now)
	}
	m.calendar.setReport(msg.report)
	if msg.report.Estimated { // measure now, not a refresh interval later
		return tea.Batch(func() tea.Msg { return refreshMsg{seq: seq} }, m.startClock())
	}
	return tea.Batch(tea.Tick(m.refreshEvery, next), m.startClock())
}

// startClock starts the once-a-second repaint when something on screen
// counts down or fades, unless it already runs: one chain of ticks, not one
// more per failure.
func (m *Model) startClock() tea.Cmd {
	if m.ticking || (m.lastErr == nil && !m.tables.highlighting(m.opts.Now())) {
		return nil
	}
	m.ticking = true
	return tea.Tick(time.Second, func(time.Time) tea.Msg { return clockMsg{} })
}
