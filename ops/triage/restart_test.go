package triage

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pgtend/pgtend/ops/cluster"
	"github.com/pgtend/pgtend/ops/config"
	"github.com/pgtend/pgtend/ops/pgtest"
)

// The archiver and the server's logs need settings that only a restart
// changes (archive_mode, logging_collector): a cluster of their own,
// started with them, destroyed after. archive_command 'false' fails every
// segment, so the WAL piles up in pg_wal; the logging collector writes
// into log/ inside the data directory.
func TestFailingArchiverAndServerLogsAreFound(t *testing.T) {
	ctx := context.Background()
	c, err := cluster.Start(ctx, cluster.Options{NoTimescale: true, NoCron: true, Settings: map[string]string{
		"archive_mode": "on", "archive_command": "false", "logging_collector": "on", "log_directory": "log",
		"max_wal_size": "64MB", "min_wal_size": "32MB",
	}})
	if err != nil {
		t.Fatalf("starting a cluster with archive_mode and logging_collector on: %v", err)
	}
	t.Cleanup(func() {
		if err := c.Destroy(); err != nil {
			t.Errorf("destroying the cluster: %v", err)
		}
	})
	conn := pgtest.Connect(t, c.DSN("postgres"))
	pgtest.Exec(t, conn, `CREATE TABLE w (payload text)`)
	for i := 0; i < 3; i++ {
		pgtest.Exec(t, conn, `INSERT INTO w SELECT md5(g::text) FROM generate_series(1, 20000) g`)
		pgtest.Exec(t, conn, `SELECT pg_switch_wal()`)
	}
	deadline := time.Now().Add(30 * time.Second)
	for pgtest.Count(t, conn, `SELECT failed_count FROM pg_stat_archiver`) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the archiver reported no failure within 30 s")
		}
		time.Sleep(100 * time.Millisecond)
	}

	// Log lines, then a rotation: the file they went to is an old log now,
	// which triage counts (the one being written it leaves out).
	var first string
	pgtest.QueryRow(t, conn, `SELECT pg_current_logfile()`).Scan(&first)
	for i := 0; i < 50; i++ {
		pgtest.Exec(t, conn, `DO $$ BEGIN RAISE LOG 'pgtend triage test: %', repeat('x', 1000); END $$`)
	}
	time.Sleep(1100 * time.Millisecond) // log files are named by the second
	pgtest.Exec(t, conn, `SELECT pg_rotate_logfile()`)
	var current string
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		pgtest.QueryRow(t, conn, `SELECT pg_current_logfile()`).Scan(&current)
		if current != first {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the log did not rotate: still %s", current)
		}
	}

	tr := collect(t, conn, config.Policy{})
	arch := find(tr, KindArchiver, "")
	var ready, segment, failed int64
	var lastFailed string
	pgtest.QueryRow(t, conn, `SELECT (SELECT count(*) FROM pg_ls_archive_statusdir() WHERE name LIKE '%.ready'), pg_size_bytes(current_setting('wal_segment_size')),
		failed_count, last_failed_wal FROM pg_stat_archiver`).Scan(&ready, &segment, &failed, &lastFailed)
	if arch == nil {
		t.Fatalf("no archiver option with %d failures, %d segments waiting: %+v", failed, ready, tr.Options)
	}
	t.Logf("archiver: %d bytes, %s; %s", arch.Bytes, arch.Detail, arch.Basis)
	if ready < 3 || arch.Bytes < (ready-1)*segment || arch.Bytes > (ready+1)*segment || arch.Estimate || arch.Frees != FreesCheckpoint {
		t.Errorf("archiver: %d bytes predicted, %d segments of %d waiting: %+v", arch.Bytes, ready, segment, arch)
	}
	if !strings.Contains(arch.Detail, "archive_command fails") || !strings.Contains(arch.Detail, lastFailed) {
		t.Errorf("the archiver's explanation does not name the failure (last failed %s): %q", lastFailed, arch.Detail)
	}
	var walBytes int64
	pgtest.QueryRow(t, conn, `SELECT sum(size)::bigint FROM pg_ls_waldir()`).Scan(&walBytes)
	if arch.Bytes > walBytes {
		t.Errorf("the archiver holds %d bytes, more than pg_wal's %d", arch.Bytes, walBytes)
	}

	logs := find(tr, KindServerLogs, "")
	if logs == nil {
		t.Fatalf("no server_logs option: %+v (notes %q)", tr.Options, tr.Notes)
	}
	// What triage counts is what is on disk in log/, the file being
	// written excepted.
	var onDisk int64
	entries, err := os.ReadDir(filepath.Join(c.Dir, "data", "log"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if fi, err := e.Info(); err == nil && e.Name() != filepath.Base(current) {
			onDisk += fi.Size()
		}
	}
	t.Logf("server logs: %d bytes (%d on disk), %s", logs.Bytes, onDisk, logs.Detail)
	if logs.Bytes < 50*1000 || logs.Bytes != onDisk || logs.Frees != FreesNow || logs.Object != "log" {
		t.Errorf("server logs: %+v, %d bytes of old logs on disk", logs, onDisk)
	}
}
