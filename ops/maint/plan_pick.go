package maint

import (
	"fmt"
	"slices"
)

// Only is the plan with only the steps picked (indexes of Steps, any
// order): for a Pickable plan, whose steps stand alone (each REINDEX
// rebuilds one index), the operator may run some. The copy's summaries
// count only the picked steps (their locks, and what goes as the sum of
// their estimates); a table none of whose steps is picked goes from the
// summaries. LeftOut names the steps left out, so the run's history says
// what was not run. A plan whose steps depend on one another (a
// retention's cleaning order) is refused unless every step is picked.
func (p *Plan) Only(picked []int) (*Plan, error) {
	keep := make([]bool, len(p.Steps))
	n := 0
	for _, i := range picked {
		switch {
		case i < 0 || i >= len(p.Steps):
			return nil, fmt.Errorf("no step %d: the plan has %d", i+1, len(p.Steps))
		case keep[i]:
			return nil, fmt.Errorf("step %d picked twice", i+1)
		}
		keep[i], n = true, n+1
	}
	switch {
	case n == 0:
		return nil, fmt.Errorf("no step picked: nothing to run")
	case n == len(p.Steps):
		return p, nil
	case !p.Pickable:
		return nil, fmt.Errorf("the %s plan's steps depend on one another: run all %d or none", p.Action, len(p.Steps))
	}
	out := *p
	out.Steps, out.Tables, out.LeftOut = nil, nil, slices.Clone(p.LeftOut)
	moved := make([]int, len(p.Steps)) // old index → new, -1 left out
	for i, s := range p.Steps {
		moved[i] = -1
		if keep[i] {
			moved[i] = len(out.Steps)
			out.Steps = append(out.Steps, s)
		} else {
			out.LeftOut = append(out.LeftOut, s.Title)
		}
	}
	for _, t := range p.Tables {
		if len(t.Steps) == 0 {
			out.Tables = append(out.Tables, t) // findings only
			continue
		}
		var steps []int
		for _, i := range t.Steps {
			if i >= 0 && i < len(moved) && moved[i] >= 0 {
				steps = append(steps, moved[i])
			}
		}
		if len(steps) == 0 {
			continue
		}
		if len(steps) < len(t.Steps) {
			t = t.pickedOnly(out.Steps, steps, len(t.Steps))
		}
		t.Steps = steps
		out.Tables = append(out.Tables, t)
	}
	return &out, nil
}

// pickedOnly is the summary of a table of which only some steps run: their
// locks, and what goes as the sum of their estimates (unknown when one has
// none); what stays is no longer summed up.
func (t TableSummary) pickedOnly(steps []Step, picked []int, of int) TableSummary {
	t.Locks, t.Stays = []string{}, Portion{}
	var bytes int64
	known := true
	for _, i := range picked {
		s := steps[i]
		if !slices.Contains(t.Locks, s.Lock) {
			t.Locks = append(t.Locks, s.Lock)
		}
		if s.EstBytes == nil {
			known = false
		} else {
			bytes += *s.EstBytes
		}
	}
	t.Goes = Portion{}
	if known {
		t.Goes.Bytes = &bytes
	}
	t.Findings = append(slices.Clone(t.Findings), fmt.Sprintf("%d of its %d steps picked", len(picked), of))
	return t
}
