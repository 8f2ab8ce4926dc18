package calendar

import (
	"testing"
	"time"
)

func at(s string) time.Time {
	t, err := time.Parse("2006-01-02 15:04", s)
	if err != nil {
		panic(err)
	}
	return t
}

func ptr(t time.Time) *time.Time { return &t }

func TestOccurrences(t *testing.T) {
	cases := []struct {
		cadence, now, prev, next string
	}{
		// 2026-11-28 is a Saturday; 2026-11-29 a Sunday.
		{Weekly, "2026-11-28 12:00", "2026-11-22 00:00", "2026-11-29 00:00"},
		{Weekly, "2026-11-29 00:00", "2026-11-29 00:00", "2026-12-06 00:00"},
		// First Saturday of November 2026 is the 7th; of December the 5th.
		{Monthly, "2026-11-28 12:00", "2026-11-07 00:00", "2026-12-05 00:00"},
		{Monthly, "2026-11-03 12:00", "2026-10-03 00:00", "2026-11-07 00:00"},
		// Quarters start Jan/Apr/Jul/Oct: first Saturday of Oct 2026 is the 3rd, of Jan 2027 the 2nd.
		{Quarterly, "2026-11-28 12:00", "2026-10-03 00:00", "2027-01-02 00:00"},
		{Quarterly, "2026-10-01 12:00", "2026-07-04 00:00", "2026-10-03 00:00"},
	}
	for _, c := range cases {
		prev, next := occurrences(c.cadence, at(c.now))
		if !prev.Equal(at(c.prev)) || !next.Equal(at(c.next)) {
			t.Errorf("%s at %s: got %s / %s, want %s / %s", c.cadence, c.now, prev, next, c.prev, c.next)
		}
	}
}

func TestEvaluate(t *testing.T) {
	weekly := Task{ID: "vacuum_analyze", Cadence: Weekly}
	monthly := Task{ID: "retention_cleanup", Cadence: Monthly}
	cases := []struct {
		name    string
		task    Task
		last    *time.Time
		now     string
		status  string
		nextDue string
	}{
		{"never run, on the day", weekly, nil, "2026-11-29 10:00", Due, "2026-11-29 00:00"},
		{"never run, later", weekly, nil, "2026-12-02 10:00", Due, "2026-11-29 00:00"},
		{"ran on the day", weekly, ptr(at("2026-11-29 03:00")), "2026-12-01 10:00", OK, "2026-12-06 00:00"},
		{"ran the Saturday before", weekly, ptr(at("2026-11-28 03:00")), "2026-11-29 10:00", OK, "2026-12-06 00:00"},
		{"missed, on the day", weekly, ptr(at("2026-11-20 03:00")), "2026-11-29 10:00", Due, "2026-11-29 00:00"},
		{"missed, after the day", weekly, ptr(at("2026-11-20 03:00")), "2026-11-30 10:00", Overdue, "2026-11-29 00:00"},
		{"monthly done first weekend", monthly, ptr(at("2026-11-08 02:00")), "2026-11-28 12:00", OK, "2026-12-05 00:00"},
		{"monthly missed", monthly, ptr(at("2026-10-04 02:00")), "2026-11-28 12:00", Overdue, "2026-11-07 00:00"},
		{"monthly on the Sunday of the weekend", monthly, ptr(at("2026-10-04 02:00")), "2026-11-08 12:00", Due, "2026-11-07 00:00"},
	}
	for _, c := range cases {
		next, status := Evaluate(c.task, c.last, at(c.now))
		if status != c.status || !next.Equal(at(c.nextDue)) {
			t.Errorf("%s: got %s next %s, want %s next %s", c.name, status, next, c.status, c.nextDue)
		}
	}
}
