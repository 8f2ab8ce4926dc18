package cluster

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// A cluster removes itself when pgtend exits or is signalled, but nothing
// runs when pgtend is killed with SIGKILL: the server quits (Pdeathsig) and
// its directory stays in the temp dir. The next Start sweeps such
// directories. Only those provably abandoned go: a directory of ours (owned
// by this user, or by the server's user when we are root), whose owner file
// is a regular file that no process holds locked — the owning pgtend keeps
// an exclusive flock on it for as long as it runs, which holds across PID
// namespaces and hosts sharing the directory, unlike a PID — and on whose
// data no server runs. A detached cluster (`demo --keep`) has no owner file
// and is never swept; the user was told how to remove it.

const (
	dirPrefix = "pgtend-cluster-"
	ownerFile = "pgtend.pid"
)

// claim makes this process the owner of dir: it creates the owner file,
// holds an exclusive lock on it until release, and writes its PID in it
// for people.
func claim(dir string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, ownerFile), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("locking %s: %w", f.Name(), err)
	}
	if _, err := f.WriteString(strconv.Itoa(os.Getpid()) + "\n"); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// removeOwned removes dir, the owner file last, so that a pgtend killed
// midway leaves a directory the next sweep still recognises; then lets go
// of the owner file.
func removeOwned(dir string, owner *os.File) error {
	entries, err := os.ReadDir(dir)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	for _, e := range entries {
		if e.Name() != ownerFile {
			if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
				return err
			}
		}
	}
	err = os.RemoveAll(dir)
	if owner != nil {
		owner.Close()
	}
	return err
}

// sweepAbandoned removes the abandoned cluster directories in tmp and
// returns the ones it removed. Nothing here is fatal to a new cluster: a
// directory that cannot be read or removed is left as it is.
func sweepAbandoned(tmp string) []string {
	entries, _ := os.ReadDir(tmp)
	uids := ourUIDs()
	var removed []string
	for _, e := range entries {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), dirPrefix) { // IsDir: a symlink is not followed
			continue
		}
		dir := filepath.Join(tmp, e.Name())
		if sweepIfAbandoned(dir, uids) {
			removed = append(removed, dir)
		}
	}
	return removed
}

// sweepIfAbandoned removes dir if it is abandoned, holding the owner
// file's lock meanwhile so that two sweeps do not race.
func sweepIfAbandoned(dir string, uids map[uint32]bool) bool {
	var st syscall.Stat_t
	if err := syscall.Lstat(dir, &st); err != nil || st.Mode&syscall.S_IFMT != syscall.S_IFDIR || !uids[st.Uid] {
		return false
	}
	owner, err := openRegular(filepath.Join(dir, ownerFile))
	if err != nil {
		return false // a detached cluster, one being made, or not ours
	}
	defer owner.Close()
	if syscall.Flock(int(owner.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) != nil {
		return false // its pgtend still runs
	}
	if server, ok := readPID(filepath.Join(dir, "data", "postmaster.pid")); ok && alive(server) {
		return false
	}
	return os.RemoveAll(dir) == nil
}

// ourUIDs: the users a cluster directory of ours may belong to.
func ourUIDs() map[uint32]bool {
	uids := map[uint32]bool{uint32(os.Geteuid()): true}
	if cred, err := serverCredential(); err == nil && cred != nil {
		uids[cred.Uid] = true
	}
	return uids
}

// openRegular opens path for reading only if it is a regular file: not
// following a symlink, and not blocking on a FIFO someone put there.
func openRegular(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	if info, err := f.Stat(); err != nil || !info.Mode().IsRegular() {
		f.Close()
		return nil, errors.New("not a regular file")
	}
	return f, nil
}

// readPID reads the process ID on the first line of path, a regular file.
func readPID(path string) (int, bool) {
	f, err := openRegular(path)
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
