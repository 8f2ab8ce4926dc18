package tui

import (
	"testing"

	"github.com/pgtend/pgtend/ops/maint"
	"github.com/pgtend/pgtend/ops/triage"
)

// Enter on a detached partition or a pg_repack leftover opens its drop's
// plan, which runs only once the table's name is typed.
func TestTriageEnterOpensALeftoversDrop(t *testing.T) {
	for _, tc := range []struct {
		kind, schema, table, action, want string
	}{
		{triage.KindDetachedPartition, "public", "hist_old", "drop-detached", "drop-detached public.hist_old map[]"},
		{triage.KindRepackLeftover, "repack", "table_16384", "drop-repack-leftover", "drop-repack-leftover repack.table_16384 map[]"},
	} {
		t.Run(tc.action, func(t *testing.T) {
			tr := fixtureTriage()
			run := triage.Run{Action: tc.action, Table: tc.schema + "." + tc.table}
			cmd := run.Command()
			tr.Options = append([]triage.Option{{Kind: tc.kind, Schema: ptr(tc.schema), Table: ptr(tc.table), Object: tc.schema + "." + tc.table,
				Bytes: 1 << 30, Frees: triage.FreesNow, Locks: maint.LockAccessExclusive, Run: &run, Action: &cmd}}, tr.Options...)
			act := &triageActions{}
			m, _ := newTestModel(&fakeDB{}, withTriage(tr), withActions(act))
			start(t, m, 80, 24)
			m.triageLoading = false
			deliver(t, m, press(m, "5"))
			deliver(t, m, press(m, "enter"))
			if m.action == nil || len(act.planned) != 1 || act.planned[0] != tc.want {
				t.Fatalf("enter planned %v, want %q", act.planned, tc.want)
			}
			press(m, "y")
			if m.action.phase != phaseConfirm {
				t.Fatalf("y on a drop: phase %d, want the typed confirmation", m.action.phase)
			}
			wants(t, m, "type "+tc.schema+"."+tc.table)
			typeText(m, tc.schema+"."+tc.table)
			if cmd := press(m, "enter"); cmd == nil || m.action.phase != phaseRunning {
				t.Fatalf("the table's name typed: phase %d", m.action.phase)
			}
		})
	}
}
