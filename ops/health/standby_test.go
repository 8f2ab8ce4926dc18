package health

import (
	"net/url"
	"os"
	oexec "os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pgtend/pgtend/ops/config"
	"github.com/pgtend/pgtend/ops/pgtest"
)

// A real standby with hot_standby_feedback, through a physical slot: while
// it runs it holds the xmin horizon back as a standby; once it is gone its
// slot keeps the xmin, inactive, and is named for it.
func TestAbandonedSlotHoldsXmin(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	conn := pgtest.Connect(t, dsn)
	const slot = "gone_replica"
	physicalSlot(t, dsn, conn, slot)

	st, err := os.Stat(pgtest.Cluster.Dir)
	if err != nil {
		t.Fatal(err)
	}
	owner := st.Sys().(*syscall.Stat_t)
	asServer := func(name string, args ...string) {
		t.Helper()
		cmd := oexec.Command(filepath.Join(pgtest.Cluster.BinDir, name), args...)
		if os.Geteuid() == 0 {
			cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: owner.Uid, Gid: owner.Gid}}
		}
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s %v: %v\n%s", name, args, err, out)
		}
	}
	dir := pgtest.SharedTempDir(t, "pgtend-health-standby-")
	if err := os.Chown(dir, int(owner.Uid), int(owner.Gid)); err != nil {
		t.Fatal(err)
	}
	data, port := filepath.Join(dir, "data"), pgtest.Cluster.Port+1
	asServer("pg_basebackup", "-h", pgtest.Cluster.SocketDir(), "-p", strconv.Itoa(pgtest.Cluster.Port),
		"-U", pgtest.Cluster.Superuser, "-D", data, "-R", "-X", "stream", "-S", slot, "-c", "fast")
	conf, err := os.OpenFile(filepath.Join(data, "postgresql.auto.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	conf.WriteString("\nport = " + strconv.Itoa(port) + "\nunix_socket_directories = '" + dir + "'\nhot_standby = on\nhot_standby_feedback = on\n" +
		"wal_receiver_status_interval = 1s\nshared_preload_libraries = ''\n")
	conf.Close()
	asServer("pg_ctl", "-D", data, "-l", filepath.Join(dir, "server.log"), "-w", "start")
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			asServer("pg_ctl", "-D", data, "-m", "immediate", "-w", "stop")
		}
	}
	t.Cleanup(stop)

	// A query on the standby holds a snapshot its feedback reports.
	u, _ := url.Parse(dsn)
	q := u.Query()
	q.Set("host", dir)
	q.Set("port", strconv.Itoa(port))
	u.RawQuery = q.Encode()
	standby := pgtest.Connect(t, u.String())
	pgtest.Exec(t, standby, "BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT count(*) FROM pg_class")
	var xmin *int64
	deadline := time.Now().Add(30 * time.Second)
	for xmin == nil {
		// Through a slot, the standby's feedback lands in the slot's xmin.
		pgtest.QueryRow(t, conn, "SELECT age(xmin)::bigint FROM pg_replication_slots WHERE slot_name = $1", slot).Scan(&xmin)
		if time.Now().After(deadline) {
			t.Fatal("the standby never reported an xmin")
		}
		time.Sleep(200 * time.Millisecond)
	}
	for range 5 {
		pgtest.Exec(t, conn, "SELECT txid_current()")
	}
	f := finding(t, collect(t, dsn, config.Health{}), CheckXminHorizon)
	var standbyItem, slotItem *Item
	for i, it := range f.Items {
		switch it.Kind {
		case KindStandby:
			standbyItem = &f.Items[i]
		case KindSlot:
			slotItem = &f.Items[i]
		}
	}
	if slotItem == nil || slotItem.Status != OK || !strings.HasPrefix(slotItem.Text, "replication slot gone_replica (physical, active) holds xmin") {
		t.Fatalf("a running standby with hot_standby_feedback, through its slot:\n%s", dump(f))
	}
	if standbyItem != nil {
		t.Errorf("a standby through a slot reports its xmin in the slot, not pg_stat_replication: %q", standbyItem.Text)
	}

	// The standby goes away for good; its slot stays and keeps the xmin.
	stop()
	deadline = time.Now().Add(30 * time.Second)
	for {
		var active bool
		pgtest.QueryRow(t, conn, "SELECT active FROM pg_replication_slots WHERE slot_name = $1", slot).Scan(&active)
		if !active {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the slot is still active")
		}
		time.Sleep(100 * time.Millisecond)
	}
	pgtest.Exec(t, conn, "SELECT txid_current()")
	f = finding(t, collect(t, dsn, config.Health{}), CheckXminHorizon)
	if f.Status != Warning || len(f.Items) == 0 || f.Items[0].Kind != KindSlot || f.Items[0].Name != slot {
		t.Fatalf("abandoned slot:\n%s", dump(f))
	}
	if it := f.Items[0]; !strings.HasPrefix(it.Text, "replication slot gone_replica (physical, inactive) holds xmin ") || it.Status != Warning {
		t.Errorf("slot item %q (%s)", it.Text, it.Status)
	}
	if !strings.Contains(f.Summary, "replication slot gone_replica") {
		t.Errorf("summary %q", f.Summary)
	}
}

// physicalSlot creates a physical replication slot reserving WAL at once,
// dropped after the test (slots are the cluster's, not the test
// database's); skipped when wal_level is minimal.
func physicalSlot(t *testing.T, dsn string, conn *pgx.Conn, slot string) {
	t.Helper()
	var walLevel string
	pgtest.QueryRow(t, conn, "SHOW wal_level").Scan(&walLevel)
	if walLevel == "minimal" {
		t.Skip("SKIPPED: wal_level is minimal: the test cluster cannot have replication slots")
	}
	pgtest.Exec(t, conn, "SELECT pg_create_physical_replication_slot($1, true)", slot)
	t.Cleanup(func() {
		c := pgtest.Connect(t, dsn)
		pgtest.Exec(t, c, "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1 AND NOT active", slot)
	})
}
