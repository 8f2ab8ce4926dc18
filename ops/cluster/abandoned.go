package cluster

import (
	"bufio"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// A cluster removes itself when pgtend exits or is signalled, but nothing
// runs when pgtend is killed with SIGKILL: the server quits (Pdeathsig) and
// its directory stays in the temp dir. The next Start sweeps such
// directories. Only those provably abandoned go: the directory names its
// owner (ownerFile, written right after it is made; none for a detached
// cluster, which the user was told how to remove), that owner is gone, and
// no server runs on its data.

const (
	dirPattern = "pgtend-cluster-*"
	ownerFile  = "pgtend.pid"
)

// writeOwner records this process as the owner of dir.
func writeOwner(dir string) error {
	return os.WriteFile(filepath.Join(dir, ownerFile), []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644)
}

// sweepAbandoned removes the abandoned cluster directories under tmp and
// returns the ones it removed. Errors are not fatal to a new cluster: a
// directory that cannot be read or removed is left as it is.
func sweepAbandoned(tmp string) []string {
	dirs, _ := filepath.Glob(filepath.Join(tmp, dirPattern))
	var removed []string
	for _, dir := range dirs {
		if !abandoned(dir) {
			continue
		}
		if err := os.RemoveAll(dir); err == nil {
			removed = append(removed, dir)
		}
	}
	return removed
}

func abandoned(dir string) bool {
	owner, ok := readPID(filepath.Join(dir, ownerFile))
	if !ok || alive(owner) {
		return false // a detached cluster, one being made, or its owner still runs
	}
	if server, ok := readPID(filepath.Join(dir, "data", "postmaster.pid")); ok && alive(server) {
		return false
	}
	return true
}

// readPID reads the process ID on the first line of path.
func readPID(path string) (int, bool) {
	f, err := os.Open(path)
	if err != nil {
		return 0, false
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	if !s.Scan() {
		return 0, false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(s.Text()))
	return pid, err == nil && pid > 0
}

// alive: a process with this ID exists (EPERM: it exists, as another user).
func alive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
