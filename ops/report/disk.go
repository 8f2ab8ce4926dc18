package report

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// diskFacts is what the server says about where it keeps its data.
type diskFacts struct {
	DataDirectory *string // nil when this role may not read the setting
	Port          string
	DatabaseBytes int64
	WALBytes      *int64
}

// measureDisk uses statfs on the data directory, but only after checking that
// the directory on this machine belongs to the server we are connected to
// (its postmaster.pid names the same directory and port): a path that merely
// exists here would measure the wrong disk.
func measureDisk(f diskFacts) Disk {
	d := Disk{DatabaseBytes: f.DatabaseBytes, WALBytes: f.WALBytes, Path: f.DataDirectory}
	if f.DataDirectory == nil {
		d.Reason = "the server does not tell this role its data directory (needs pg_read_all_settings)"
		return d
	}
	dir := *f.DataDirectory
	if err := sameServer(dir, f.Port); err != nil {
		d.Reason = err.Error()
		return d
	}
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		d.Reason = fmt.Sprintf("cannot measure %s: %v", dir, err)
		return d
	}
	total := int64(st.Blocks) * int64(st.Bsize)
	free := int64(st.Bavail) * int64(st.Bsize)
	d.Visible, d.TotalBytes, d.FreeBytes = true, &total, &free
	if d.WALBytes == nil {
		if n, err := dirSize(filepath.Join(dir, "pg_wal")); err == nil {
			d.WALBytes = &n
		}
	}
	return d
}

func sameServer(dir, port string) error {
	f, err := os.Open(filepath.Join(dir, "postmaster.pid"))
	if err != nil {
		if os.IsNotExist(err) {
			return fmt.Errorf("the data directory %s is not on this machine (pgtend is not running on the database host)", dir)
		}
		return fmt.Errorf("cannot read %s: %v", filepath.Join(dir, "postmaster.pid"), err)
	}
	defer f.Close()
	// postmaster.pid: line 1 pid, 2 data directory, 3 start time, 4 port.
	var lines []string
	sc := bufio.NewScanner(f)
	for sc.Scan() && len(lines) < 4 {
		lines = append(lines, strings.TrimSpace(sc.Text()))
	}
	if len(lines) < 4 || lines[1] != dir || lines[3] != port {
		return fmt.Errorf("%s here belongs to another server than the one pgtend is connected to", dir)
	}
	return nil
}

func dirSize(dir string) (int64, error) {
	var n int64
	err := filepath.WalkDir(dir, func(_ string, e os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if e.Type().IsRegular() {
			if fi, err := e.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n, err
}
