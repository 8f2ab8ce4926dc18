package report

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pgtend/pgtend/ops/config"
)

// Time column types, as format_type spells them. A timestamptz is an
// instant; a timestamp (without time zone) is a wall-clock time and a date
// a day, both meaning something only in a zone: the table's TimeZone.
const (
	TypeTimestamptz = "timestamp with time zone"
	TypeTimestamp   = "timestamp without time zone"
	TypeDate        = "date"
)

// columnType is the type of one of the table's time columns, "" when col
// is none of them.
func (t Table) columnType(col string) string {
	if i := slices.Index(t.timeColumns, col); i >= 0 && i < len(t.timeColumnTypes) {
		return t.timeColumnTypes[i]
	}
	return ""
}

// TimeType is the type of the table's time column: TypeTimestamptz,
// TypeTimestamp, TypeDate, or "" when it has none (or it is of no time type).
func (t Table) TimeType() string {
	if t.TimeColumn == nil {
		return ""
	}
	return t.columnType(*t.TimeColumn)
}

func local(typ string) bool { return typ == TypeTimestamp || typ == TypeDate }

// Bound is instant as SQL comparable with the table's time column, so that
// `col < Bound(cutoff)` holds exactly for the rows older than the cutoff:
// a timestamptz literal; for a timestamp column the wall-clock time of that
// instant in the table's zone; for a date column the day it falls on there
// (a day is older when it ended by the cutoff).
func (t Table) Bound(instant time.Time) string {
	lit := Literal(instant.UTC().Format("2006-01-02 15:04:05.999999-07")) + "::timestamptz"
	switch typ := t.TimeType(); {
	case local(typ) && t.TimeZone != nil:
		cast := "timestamp"
		if typ == TypeDate {
			cast = "date"
		}
		return "(" + lit + " AT TIME ZONE " + Literal(*t.TimeZone) + ")::" + cast
	}
	return lit
}

// instantOf is the SQL turning expr, a value of the table's time column
// (min(col), say), into an instant.
func (t Table) instantOf(expr string) string {
	switch typ := t.TimeType(); {
	case local(typ) && t.TimeZone != nil:
		return "(" + expr + ")::timestamp AT TIME ZONE " + Literal(*t.TimeZone)
	}
	return "(" + expr + ")::timestamptz"
}

// Location is the table's zone for showing its times: TimeZone when Go
// knows it, else UTC (also for absolute timestamptz values).
func (t Table) Location() *time.Location {
	if t.TimeZone != nil {
		if loc, err := time.LoadLocation(*t.TimeZone); err == nil {
			return loc
		}
	}
	return time.UTC
}

// Literal quotes s as an SQL string literal, one that means the same
// whatever standard_conforming_strings says.
func Literal(s string) string {
	if strings.Contains(s, `\`) {
		return "E'" + strings.ReplaceAll(strings.ReplaceAll(s, `\`, `\\`), "'", "''") + "'"
	}
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// readLocalTimes gives each table with a timestamp or date time column its
// zone (the policy's, else the database's), and turns the ranges of chunks
// and partitions cut along such a column — read as wall-clock times in UTC
// — into the instants they are in that zone, so they compare with cutoffs
// like any other. The server converts (it knows every zone spelling
// PostgreSQL accepts): one statement per zone.
func readLocalTimes(ctx context.Context, conn *pgx.Conn, r *Report, dbZone string) error {
	zoneOf := map[string]string{} // table key -> zone its chunk ranges are read in
	for i := range r.Tables {
		t := &r.Tables[i]
		z := t.policyZone
		if z == "" {
			z = dbZone
		}
		if local(t.TimeType()) {
			t.TimeZone = &z
		}
		if t.PartitionColumn != nil && local(t.columnType(*t.PartitionColumn)) {
			zoneOf[t.Key()] = z
		}
	}
	if len(zoneOf) == 0 {
		return nil
	}
	byZone := map[string][]*time.Time{}
	for i := range r.Chunks {
		c := &r.Chunks[i]
		if z, ok := zoneOf[c.TableKey()]; ok {
			for _, b := range []*time.Time{c.RangeStart, c.RangeEnd} {
				if b != nil {
					byZone[z] = append(byZone[z], b)
				}
			}
		}
	}
	for z, bounds := range byZone {
		walls := make([]string, len(bounds))
		for i, b := range bounds {
			walls[i] = b.UTC().Format("2006-01-02 15:04:05.999999")
		}
		rows, err := conn.Query(ctx, `SELECT w::timestamp AT TIME ZONE $2 FROM unnest($1::text[]) WITH ORDINALITY AS x(w, i) ORDER BY i`, walls, z)
		if err != nil {
			return fmt.Errorf("reading chunk ranges in time zone %s: %w", z, err)
		}
		instants, err := pgx.CollectRows(rows, pgx.RowTo[time.Time])
		if err != nil {
			return fmt.Errorf("reading chunk ranges in time zone %s: %w", z, err)
		}
		for i, b := range bounds {
			*b = instants[i].UTC()
		}
	}
	return nil
}

// calendarZone is whose days the calendar follows: the policy's zone,
// else this machine's.
func calendarZone(policy config.Policy) *time.Location {
	if policy.TimeZone != "" {
		if loc, err := config.LoadZone(policy.TimeZone); err == nil {
			return loc
		}
	}
	return time.Local
}

func (r *Report) calendar() *time.Location {
	if r.calendarZone == nil {
		return time.Local
	}
	return r.calendarZone
}
