package cluster

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
)

// Only directories whose owner is gone and whose server does not run are
// swept; detached clusters (no owner file) and live ones stay.
func TestAbandonedClusterDirectoriesAreSwept(t *testing.T) {
	tmp := t.TempDir()
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	running := exec.Command("sleep", "60")
	if err := running.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { running.Process.Kill(); running.Wait() }()
	deadPID, runningPID := dead.Process.Pid, running.Process.Pid

	make := func(name string, owner, postmaster int) string {
		dir := filepath.Join(tmp, "pgtend-cluster-"+name)
		if err := os.MkdirAll(filepath.Join(dir, "data"), 0o755); err != nil {
			t.Fatal(err)
		}
		if owner > 0 {
			os.WriteFile(filepath.Join(dir, ownerFile), []byte(strconv.Itoa(owner)+"\n"), 0o644)
		}
		if postmaster > 0 {
			os.WriteFile(filepath.Join(dir, "data", "postmaster.pid"), []byte(strconv.Itoa(postmaster)+"\n/some/dir\n"), 0o600)
		}
		return dir
	}
	killed := make("killed", deadPID, 0)                   // pgtend SIGKILLed, server quit
	killedStale := make("stale", deadPID, deadPID)         // server's pid file left behind too
	live := make("live", os.Getpid(), runningPID)          // a running pgtend
	detached := make("detached", 0, runningPID)            // pgtend demo --keep
	serverLeft := make("server-left", deadPID, runningPID) // owner gone, server still up
	other := filepath.Join(tmp, "not-ours")
	os.Mkdir(other, 0o755)

	removed := sweepAbandoned(tmp)
	slices.Sort(removed)
	want := []string{killed, killedStale}
	slices.Sort(want)
	if !slices.Equal(removed, want) {
		t.Errorf("removed %v, want %v", removed, want)
	}
	for _, dir := range []string{live, detached, serverLeft, other} {
		if _, err := os.Stat(dir); err != nil {
			t.Errorf("%s should stay: %v", dir, err)
		}
	}
	for _, dir := range want {
		if _, err := os.Stat(dir); !os.IsNotExist(err) {
			t.Errorf("%s should be gone: %v", dir, err)
		}
	}
}
