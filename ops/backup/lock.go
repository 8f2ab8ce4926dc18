package backup

import (
	"errors"
	"os"
	"syscall"
)

// Locks tell other pgtend processes what is in use: whoever writes,
// verifies or restores a backup holds a lock on it (flock, on the file or
// the directory), and rotation deletes only what it can lock exclusively
// itself, so it never deletes a backup being verified or restored (Barman
// once expired the backup being restored).

// lock is a held flock; release drops it.
type lock struct{ f *os.File }

func (l *lock) release() {
	if l != nil && l.f != nil {
		syscall.Flock(int(l.f.Fd()), syscall.LOCK_UN)
		l.f.Close()
		l.f = nil
	}
}

// tryLock locks path (a file or a directory) without waiting: shared for
// readers, exclusive for rotation. It fails with errInUse when someone else
// holds a conflicting lock.
func tryLock(path string, exclusive bool) (*lock, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	how := syscall.LOCK_SH
	if exclusive {
		how = syscall.LOCK_EX
	}
	if err := syscall.Flock(int(f.Fd()), how|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, errInUse
		}
		return nil, err
	}
	return &lock{f: f}, nil
}

var errInUse = errors.New("in use by another pgtend (being written, verified or restored)")

// inUse says whether another process holds a lock on path.
func inUse(path string) bool {
	l, err := tryLock(path, true)
	if err != nil {
		return errors.Is(err, errInUse)
	}
	l.release()
	return false
}

func isUnsupported(err error) bool {
	return errors.Is(err, syscall.EINVAL) || errors.Is(err, syscall.ENOTSUP)
}

// readLock holds a shared lock on path while it is read (verified,
// restored), waiting out a rotation's brief exclusive one, and makes sure
// the path still names what was locked.
func readLock(path string) (*lock, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_SH); err != nil {
		f.Close()
		return nil, err
	}
	l := &lock{f: f}
	held, err1 := f.Stat()
	now, err2 := os.Stat(path)
	if err1 != nil || err2 != nil || !os.SameFile(held, now) {
		l.release()
		return nil, errors.New(path + " was deleted meanwhile")
	}
	return l, nil
}
