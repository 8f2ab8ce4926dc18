package report

import (
	"context"
	"net/url"
	"os"
	oexec "os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"

	"github.com/pgtend/pgtend/ops/config"
	"github.com/pgtend/pgtend/ops/pgtest"
)

// On a hot standby an unlogged table has only its init fork (its main fork
// is neither copied by pg_basebackup nor WAL-logged): measured by files it
// is still a table of that size, not one whose files went missing.
func TestUnloggedTableOnAStandby(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	conn := connect(t, dsn)
	exec(t, conn, `CREATE UNLOGGED TABLE nolog (id int PRIMARY KEY, v text);
		INSERT INTO nolog SELECT i, md5(i::text) FROM generate_series(1, 5000) i;
		CREATE TABLE logged (id int PRIMARY KEY);
		INSERT INTO logged SELECT generate_series(1, 5000);
		CHECKPOINT;`)

	// The standby runs as the user the test cluster runs as.
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
	// Not inside the cluster's directory: a swept cluster directory must
	// hold no other running server.
	dir := pgtest.SharedTempDir(t, "pgtend-standby-test-")
	if err := os.Chown(dir, int(owner.Uid), int(owner.Gid)); err != nil {
		t.Fatal(err)
	}
	data, port := filepath.Join(dir, "data"), pgtest.Cluster.Port+1
	asServer("pg_basebackup", "-h", pgtest.Cluster.SocketDir(), "-p", strconv.Itoa(pgtest.Cluster.Port),
		"-U", pgtest.Cluster.Superuser, "-D", data, "-R", "-X", "stream", "-c", "fast")
	conf, err := os.OpenFile(filepath.Join(data, "postgresql.auto.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	conf.WriteString("\nport = " + strconv.Itoa(port) + "\nunix_socket_directories = '" + dir + "'\nhot_standby = on\n")
	conf.Close()
	asServer("pg_ctl", "-D", data, "-l", filepath.Join(dir, "server.log"), "-w", "start")
	t.Cleanup(func() { asServer("pg_ctl", "-D", data, "-m", "immediate", "-w", "stop") })

	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("host", dir)
	q.Set("port", strconv.Itoa(port))
	u.RawQuery = q.Encode()
	standby := connect(t, u.String())
	var inRecovery bool
	var want int64
	if err := standby.QueryRow(context.Background(), "SELECT pg_is_in_recovery(), pg_total_relation_size('nolog')").Scan(&inRecovery, &want); err != nil || !inRecovery {
		t.Fatalf("standby in recovery: %v (%v)", inRecovery, err)
	}
	var r *Report
	dbSize := stableDatabaseSize(t, standby, func() { r = collect(t, standby, config.Policy{}) })
	if r.MeasuredBy != MeasuredByFiles {
		t.Fatalf("measured by %s", r.MeasuredBy)
	}
	nolog := find(t, r, "public", "nolog")
	if nolog.Locked || nolog.TotalBytes == nil || *nolog.TotalBytes != want {
		t.Errorf("unlogged table on the standby: locked=%v total=%v, pg_total_relation_size %d", nolog.Locked, nolog.TotalBytes, want)
	}
	catalogConn = standby
	checkSizes(t, find(t, r, "public", "logged"))
	if r.Server.DatabaseBytes != dbSize {
		t.Errorf("database %d bytes, pg_database_size %d", r.Server.DatabaseBytes, dbSize)
	}
}
