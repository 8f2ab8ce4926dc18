package report

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/pgtend/pgtend/ops/config"
	"github.com/pgtend/pgtend/ops/pgtest"
)

// A role that may not read a table's rows gets its sizes and no oldest row,
// without pgtend asking (each refused query would first be planned over
// every chunk: seconds at thousands of chunks). The server's log shows no
// refused query from the report's session.
func TestTablesThisRoleMayNotReadAreNotAsked(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	conn := connect(t, dsn)
	exec(t, conn, unseededSchema)
	exec(t, conn, `CREATE ROLE no_select LOGIN; GRANT SELECT ON docs TO no_select`)
	policy := config.Policy{Tables: []config.TablePolicy{{Name: "events", RetentionDays: 10}, {Name: "docs", TimeColumn: "created", RetentionDays: 5}}}
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	cfg.User = "no_select"
	rc, err := pgx.ConnectConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close(context.Background())
	var pid int
	rc.QueryRow(context.Background(), "SELECT pg_backend_pid()").Scan(&pid)
	logBefore, _ := os.Stat(pgtest.Cluster.LogPath())

	r := collect(t, rc, policy)
	events, docs := find(t, r, "public", "events"), find(t, r, "public", "docs")
	if events.Oldest != nil || events.TotalBytes == nil || events.ExpiredBytes == nil {
		t.Errorf("events (not readable): oldest %v, total %v, past retention %v; want no oldest, sizes", events.Oldest, events.TotalBytes, events.ExpiredBytes)
	}
	if docs.Oldest == nil {
		t.Error("docs (readable): no oldest row")
	}
	log, err := os.ReadFile(pgtest.Cluster.LogPath())
	if err != nil {
		t.Fatal(err)
	}
	mine := fmt.Sprintf("[%d]", pid)
	for _, line := range strings.Split(string(log[logBefore.Size():]), "\n") {
		if strings.Contains(line, mine) && strings.Contains(line, "permission denied") {
			t.Errorf("the report asked what it may not read: %s", line)
		}
	}
}
