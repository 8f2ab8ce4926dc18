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

// The calendar's days are the operator's: 02:00 on Sunday 6 December in
// Tokyo is still Saturday in UTC. In Tokyo this week's VACUUM is due now
// and a run late on Saturday (Tokyo) counts for it; in UTC the same
// instant is a day before the Sunday.
func TestDaysFollowTheOperatorsZone(t *testing.T) {
	tokyo, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 6, 2, 0, 0, 0, tokyo) // Sat 17:00 UTC
	weekly := Task{ID: "vacuum_analyze", Cadence: Weekly}
	next, status := Evaluate(weekly, nil, now)
	if !next.Equal(time.Date(2026, 12, 6, 0, 0, 0, 0, tokyo)) || status != Due {
		t.Errorf("Tokyo: due %v (%s), want Sunday 6 December 00:00 in Tokyo, due", next, status)
	}
	next, _ = Evaluate(weekly, nil, now.UTC())
	if !next.Equal(time.Date(2026, 11, 29, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("UTC: the same instant falls in the week of Sunday 29 November, got %v", next)
	}
	ran := time.Date(2026, 12, 5, 23, 0, 0, 0, tokyo)
	if _, status := Evaluate(weekly, &ran, now); status != OK {
		t.Errorf("a run late on Saturday in Tokyo does not count for Sunday's VACUUM: %s", status)
	}
	// Monthly: the first Saturday of December 2026 is the 5th wherever you
	// are, but its midnight is Tokyo's.
	monthly := Task{ID: "retention_cleanup", Cadence: Monthly}
	next, _ = Evaluate(monthly, nil, now)
	if !next.Equal(time.Date(2026, 12, 5, 0, 0, 0, 0, tokyo)) {
		t.Errorf("monthly in Tokyo: %v", next)
	}
	// 23:30 UTC on Friday 4 December is Saturday morning in Tokyo: the
	// first weekend has begun there, not in UTC.
	fri := time.Date(2026, 12, 4, 23, 30, 0, 0, time.UTC)
	if next, _ := Evaluate(monthly, nil, fri.In(tokyo)); !next.Equal(time.Date(2026, 12, 5, 0, 0, 0, 0, tokyo)) {
		t.Errorf("Saturday in Tokyo: monthly due %v", next)
	}
	if next, _ := Evaluate(monthly, nil, fri); !next.Equal(time.Date(2026, 11, 7, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("still Friday in UTC: monthly due %v, want November's", next)
	}
}
