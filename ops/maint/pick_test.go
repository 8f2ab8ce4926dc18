package maint

import (
	"strings"
	"testing"

	"github.com/pgtend/pgtend/ops/report"
)

// --table resolves schema.name exactly, a bare name only when one table
// has it: two tables named alike are refused, never the first one taken.
func TestPickRefusesAnAmbiguousName(t *testing.T) {
	r := &report.Report{Tables: []report.Table{{Schema: "archive", Name: "events"}, {Schema: "public", Name: "events"}, {Schema: "public", Name: "bars"}}}
	if got, err := pick(r, "public.events"); err != nil || len(got) != 1 || got[0].Schema != "public" {
		t.Errorf("public.events: %v %v", got, err)
	}
	if got, err := pick(r, "bars"); err != nil || len(got) != 1 || got[0].Key() != "public.bars" {
		t.Errorf("bars: %v %v", got, err)
	}
	if _, err := pick(r, "events"); err == nil || !strings.Contains(err.Error(), "give the table as schema.name") {
		t.Errorf("events: %v", err)
	}
	if _, err := pick(r, "nosuch"); err == nil {
		t.Error("nosuch: no error")
	}
}
