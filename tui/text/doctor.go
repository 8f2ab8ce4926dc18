package text

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/pgtend/pgtend/ops/health"
)

// DoctorFixes says how `pgtend doctor` spells an item's fix: a registry
// action's command line, the console's key for a signal.
type DoctorFixes struct {
	// Actions are the registry's action names: "pgtend plan NAME --table T".
	Actions []string
}

// WriteDoctor prints the health report as plain text for `pgtend doctor`:
// the overall status, then every finding, the worst first — its status and
// summary, each figure with its source, and for those not well the items
// with what fixes each, what it means and what fixes it.
func WriteDoctor(w io.Writer, r *health.Report, fixes DoctorFixes) error {
	var b strings.Builder
	fmt.Fprintf(&b, "Health of %s (PostgreSQL %s) as %s, %s: %s\n", Clean(r.Database), Clean(firstField(r.Server)), Clean(r.Role),
		r.GeneratedAt.UTC().Format("2006-01-02 15:04:05 UTC"), strings.ToUpper(string(r.Status)))
	counts := r.Counts()
	var parts []string
	for _, st := range []health.Status{health.Critical, health.Warning, health.Unknown, health.OK} {
		if n := counts[st]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, st))
		}
	}
	fmt.Fprintf(&b, "%s\n", strings.Join(parts, ", "))
	if !r.SeesAllSessions {
		fmt.Fprintf(&b, "%s sees other roles' sessions as counts only: GRANT pg_read_all_stats (or pg_monitor) TO %s to see them\n",
			Clean(r.Role), Clean(r.Role))
	}
	rank := map[health.Status]int{health.Critical: 0, health.Warning: 1, health.Unknown: 2, health.OK: 3}
	findings := slices.Clone(r.Findings)
	slices.SortStableFunc(findings, func(a, c health.Finding) int { return rank[a.Status] - rank[c.Status] })
	for _, f := range findings {
		fmt.Fprintf(&b, "\n%-8s  %s: %s\n", strings.ToUpper(string(f.Status)), Clean(f.Title), Clean(f.Summary))
		writeEvidence(&b, f.Evidence, "    ")
		if f.Status == health.OK {
			continue
		}
		for _, it := range f.Items {
			status := ""
			if it.Status != health.OK {
				status = strings.ToUpper(string(it.Status)) + " "
			}
			fmt.Fprintf(&b, "  - %s%s\n", status, Clean(OneLine(it.Text)))
			if fix := doctorFix(it, fixes); fix != "" {
				fmt.Fprintf(&b, "      fix: %s\n", fix)
			}
		}
		fmt.Fprintf(&b, "    means: %s\n", Clean(f.Meaning))
		fmt.Fprintf(&b, "    fix:   %s\n", Clean(f.Action))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func writeEvidence(b *strings.Builder, ev []health.Evidence, indent string) {
	w := 0
	for _, e := range ev {
		w = max(w, len(Clean(e.Label)))
	}
	for _, e := range ev {
		fmt.Fprintf(b, "%s%-*s  %s  (%s)\n", indent, w, Clean(e.Label), Clean(OneLine(e.Value)), Clean(e.Source))
	}
}

// doctorFix is an item's fix as a command or the console's key.
func doctorFix(it health.Item, fixes DoctorFixes) string {
	switch {
	case it.NoFix != "":
		return "none by pgtend: " + Clean(it.NoFix)
	case it.Fix == health.FixTerminate:
		return fmt.Sprintf("terminate pid %d: in the console's Health pane (pgtend, then 6), K", it.Session.PID)
	case it.Fix == health.FixCancel:
		return fmt.Sprintf("cancel the query of pid %d: in the console's Health pane (pgtend, then 6), C", it.Session.PID)
	case it.Fix != "" && it.Table != "" && slices.Contains(fixes.Actions, it.Fix):
		return fmt.Sprintf("pgtend plan %s --table %s, then pgtend run %s --table %s", it.Fix, Clean(it.Table), it.Fix, Clean(it.Table))
	}
	return ""
}

func firstField(s string) string {
	if f := strings.Fields(s); len(f) > 0 {
		return f[0]
	}
	return s
}
