package tui

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/pgtend/pgtend/ops/config"
	"github.com/pgtend/pgtend/ops/maint"
)

// testRegistry is the default registry with one more action: the console
// must offer it without any other edit.
func testRegistry() *maint.Registry {
	reg := maint.Default()
	reg.Actions = append(reg.Actions, maint.Action{
		Name: "squash", Heading: "SQUASH", Help: "a test action", Task: "squash_task", Key: "z",
		Planner: func(context.Context, *pgx.Conn, config.Policy, string) (*maint.Plan, error) {
			return &maint.Plan{}, nil
		},
	})
	return reg
}

func TestRegistryActionGetsAKeyHelpAndAPlan(t *testing.T) {
	f := newFakeActions()
	m, _ := newTestModel(&fakeDB{}, withActions(f), func(o *Options) { o.Registry = testRegistry() })
	start(t, m, 200, 40) // room for every key in the footer
	press(m, "j", "j")   // ml_features
	if footer := plain(t, m); !strings.Contains(footer, "z squash") {
		t.Errorf("the footer does not offer the new action:\n%s", footer)
	}
	press(m, "?")
	wants(t, m, "z     squash")
	press(m, "esc")
	deliver(t, m, press(m, "z"))
	if !slices.Equal(f.planned, []string{"squash public.ml_features"}) {
		t.Fatalf("planned %q", f.planned)
	}
	wants(t, m, "SQUASH ml_features")
}

// The full help lists every bound key: the calendar's tick-off included,
// when there is somewhere to record it.
func TestHelpListsEveryBoundKey(t *testing.T) {
	m, _ := newTestModel(&fakeDB{}, everyKeyBound)
	start(t, m, 80, 24)
	press(m, "?")
	v := plain(t, m)
	k := m.keys
	// The pane keys are one line, "1-6 go to a pane" (the tab bar names
	// the panes by their keys).
	all := append(k.listKeys(), k.paneRange(), k.NextPane, k.PrevPane, k.Refresh, k.Help, k.Quit,
		k.Enter, k.Back, k.Sort, k.Filter, k.Tick)
	all = append(all, k.actionBindings()...)
	for _, b := range all {
		if !strings.Contains(v, b.Help().Desc) {
			t.Errorf("help lacks %q (%s):\n%s", b.Help().Desc, b.Help().Key, v)
		}
	}
	if !strings.Contains(v, "1-6") {
		t.Errorf("help lacks the pane keys:\n%s", v)
	}
	// Without a recorder the tick-off does nothing, so help does not offer it.
	m, _ = newTestModel(&fakeDB{})
	start(t, m, 80, 24)
	press(m, "?")
	if strings.Contains(plain(t, m), "tick off") {
		t.Error("help offers the tick-off with nowhere to record it")
	}
}

// The registry's keys must not shadow the console's own.
func TestRegistryKeysAreFree(t *testing.T) {
	k := DefaultKeyMap()
	taken := map[string]string{}
	for _, b := range append(k.listKeys(), k.Enter, k.Back, k.NextPane, k.PrevPane, k.Pane1, k.Pane2, k.Pane3, k.Pane4,
		k.Sort, k.Filter, k.Refresh, k.Tick, k.Help, k.Quit) {
		for _, key := range b.Keys() {
			taken[key] = b.Help().Desc
		}
	}
	for _, a := range maint.Default().Actions {
		if a.Key == "" { // no console key (pgtend run only)
			continue
		}
		if other, ok := taken[a.Key]; ok {
			t.Errorf("action %s's key %q is already %q", a.Name, a.Key, other)
		}
		taken[a.Key] = a.Name
	}
}
