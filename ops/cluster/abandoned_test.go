package cluster

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// sweep runs sweepAbandoned, failing the test if it blocks.
func sweep(t *testing.T, tmp string) []string {
	t.Helper()
	done := make(chan []string, 1)
	go func() { done <- sweepAbandoned(tmp) }()
	select {
	case r := <-done:
		slices.Sort(r)
		return r
	case <-time.After(10 * time.Second):
		t.Fatal("sweepAbandoned blocked")
		return nil
	}
}

// Only directories whose owner is gone (its lock free) and whose server
// does not run are swept; live, detached, foreign and odd ones stay.
func TestAbandonedClusterDirectoriesAreSwept(t *testing.T) {
	tmp := filepath.Join(t.TempDir(), "tmp[with*glob?chars")
	if err := os.Mkdir(tmp, 0o755); err != nil {
		t.Fatal(err)
	}
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

	// owner: "" none, "gone" an unlocked owner file, "held" one this test
	// holds locked as a running pgtend would.
	mk := func(name, owner string, postmaster int) string {
		t.Helper()
		dir := filepath.Join(tmp, dirPrefix+name)
		if err := os.MkdirAll(filepath.Join(dir, "data"), 0o700); err != nil {
			t.Fatal(err)
		}
		switch owner {
		case "gone":
			os.WriteFile(filepath.Join(dir, ownerFile), []byte(strconv.Itoa(deadPID)+"\n"), 0o644)
		case "held":
			f, err := claim(dir)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { f.Close() })
		case "fifo":
			if err := syscall.Mkfifo(filepath.Join(dir, ownerFile), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if postmaster > 0 {
			os.WriteFile(filepath.Join(dir, "data", "postmaster.pid"), []byte(strconv.Itoa(postmaster)+"\n/some/dir\n"), 0o600)
		}
		return dir
	}
	killed := mk("killed", "gone", 0)                   // pgtend SIGKILLed, server quit and removed its pid file
	killedStale := mk("stale", "gone", deadPID)         // the server's pid file left behind too
	live := mk("live", "held", runningPID)              // a running pgtend
	starting := mk("starting", "held", 0)               // a running pgtend, server not started yet
	detached := mk("detached", "", runningPID)          // pgtend demo --keep
	serverLeft := mk("server-left", "gone", runningPID) // owner gone, server still up
	fifo := mk("fifo", "fifo", 0)                       // someone's trap: must not block
	fifoServer := mk("fifo-server", "gone", 0)          // a FIFO as postmaster.pid: no server to read
	syscall.Mkfifo(filepath.Join(fifoServer, "data", "postmaster.pid"), 0o600)
	other := filepath.Join(tmp, "not-ours")
	os.Mkdir(other, 0o755)
	target := filepath.Join(t.TempDir(), "target") // a symlink is not followed
	os.MkdirAll(target, 0o755)
	os.WriteFile(filepath.Join(target, ownerFile), []byte("1\n"), 0o644)
	os.Symlink(target, filepath.Join(tmp, dirPrefix+"link"))

	want := []string{killed, killedStale, fifoServer}
	slices.Sort(want)
	if removed := sweep(t, tmp); !slices.Equal(removed, want) {
		t.Errorf("removed %v, want %v", removed, want)
	}
	for _, dir := range []string{live, starting, detached, serverLeft, fifo, other, target, filepath.Join(tmp, dirPrefix+"link")} {
		if _, err := os.Lstat(dir); err != nil {
			t.Errorf("%s should stay: %v", dir, err)
		}
	}
}

// A directory of another user is never ours to sweep (as root: the
// server's user and root are ours, nobody else).
func TestForeignClusterDirectoriesStay(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to make a directory of another user")
	}
	tmp := t.TempDir()
	dir := filepath.Join(tmp, dirPrefix+"foreign")
	os.MkdirAll(dir, 0o755)
	os.WriteFile(filepath.Join(dir, ownerFile), []byte("1\n"), 0o644)
	foreign := 4242
	for uid := range ourUIDs() {
		if int(uid) == foreign {
			t.Skip("uid 4242 is ours here")
		}
	}
	if err := os.Chown(dir, foreign, foreign); err != nil {
		t.Fatal(err)
	}
	if removed := sweep(t, tmp); len(removed) != 0 {
		t.Errorf("removed another user's directory: %v", removed)
	}
}

// TestSweepHelper is the sweep run by another process (see below).
func TestSweepHelper(t *testing.T) {
	dir := os.Getenv("PGTEND_SWEEP_HELPER_DIR")
	if dir == "" {
		t.Skip("run by TestSweepFromAnotherPIDNamespace")
	}
	t.Logf("removed %v", sweepAbandoned(dir))
}

// A pgtend in another PID namespace sharing the temp dir (a container with
// the host's /tmp) cannot see this process or its server by PID; the lock
// still tells it the cluster is alive.
func TestSweepFromAnotherPIDNamespace(t *testing.T) {
	unshare, err := exec.LookPath("unshare")
	if err != nil || os.Geteuid() != 0 {
		t.Skip("SKIPPED: needs root and unshare(1) to start a process in a new PID namespace")
	}
	if out, err := exec.Command(unshare, "--pid", "--fork", "--mount-proc", "true").CombinedOutput(); err != nil {
		t.Skipf("SKIPPED: this machine does not allow a new PID namespace: %v %s", err, out)
	}
	// Not t.TempDir: its parent is private, and the server may run as
	// another user (pgtest.SharedTempDir, which this package cannot import).
	tmp, err := os.MkdirTemp("", "sweep-ns-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(tmp)
	os.Chmod(tmp, 0o755)
	t.Setenv("TMPDIR", tmp)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := Start(ctx, Options{NoTimescale: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Destroy()
	cmd := exec.Command(unshare, "--pid", "--fork", "--mount-proc", os.Args[0], "-test.run", "^TestSweepHelper$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), "PGTEND_SWEEP_HELPER_DIR="+tmp)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("sweep in a new PID namespace: %v\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(c.Dir, "data", "PG_VERSION")); err != nil {
		t.Errorf("a live cluster was swept from another PID namespace: %v\n%s", err, out)
	}
}
