package report

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/pgtend/pgtend/ops/config"
	"github.com/pgtend/pgtend/ops/pgtest"
)

// What a role may read decides what pgtend asks. A table it may read
// (granted whole, by column, or partition by partition) gets its oldest
// row; one it may not is never asked as a whole: each refused query on a
// partitioned table or hypertable is first planned over every chunk
// (seconds at thousands of chunks). The server's log shows what was asked.
func TestOldestRowFollowsWhatTheRoleMayRead(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	conn := connect(t, dsn)
	exec(t, conn, unseededSchema)
	exec(t, conn, `
		CREATE TABLE leafonly (ts timestamptz NOT NULL, v int) PARTITION BY RANGE (ts);
		CREATE TABLE leafonly_1 PARTITION OF leafonly FOR VALUES FROM ('2026-01-01') TO ('2026-02-01');
		CREATE TABLE leafonly_2 PARTITION OF leafonly FOR VALUES FROM ('2026-02-01') TO ('2026-03-01');
		INSERT INTO leafonly VALUES ('2026-01-05', 1), ('2026-02-05', 2);
		CREATE TABLE parentonly (ts timestamptz NOT NULL, v int) PARTITION BY RANGE (ts);
		CREATE TABLE parentonly_1 PARTITION OF parentonly FOR VALUES FROM ('2026-01-01') TO ('2026-02-01');
		INSERT INTO parentonly VALUES ('2026-01-07', 1);
		CREATE ROLE reader LOGIN;
		GRANT SELECT (created) ON docs TO reader;
		GRANT SELECT ON leafonly_1, leafonly_2 TO reader;
		GRANT SELECT ON parentonly TO reader;`)
	policy := config.Policy{Tables: []config.TablePolicy{
		{Name: "events", RetentionDays: 10}, {Name: "docs", TimeColumn: "created", RetentionDays: 5},
		{Name: "leafonly", RetentionDays: 30}, {Name: "parentonly", RetentionDays: 30},
	}}
	rc := pgtest.ConnectAs(t, dsn, "reader")
	var pid int
	pgtest.QueryRow(t, rc, "SELECT pg_backend_pid()").Scan(&pid)
	logBefore, _ := os.Stat(pgtest.Cluster.LogPath())

	r := collect(t, rc, policy)
	for name, readable := range map[string]bool{"docs": true, "leafonly": true, "parentonly": true, "events": false, "bydate": false} {
		tb := find(t, r, "public", name)
		if (tb.Oldest != nil) != readable || tb.TotalBytes == nil {
			t.Errorf("%s: oldest %v, total %v; readable by the role: %v", name, tb.Oldest, tb.TotalBytes, readable)
		}
	}
	if docs := find(t, r, "public", "docs"); docs.ExpiredBytes == nil || *docs.ExpiredBytes == 0 {
		t.Errorf("docs (its time column granted): past retention %v, want an estimate", docs.ExpiredBytes)
	}
	log, err := os.ReadFile(pgtest.Cluster.LogPath())
	if err != nil {
		t.Fatal(err)
	}
	mine := fmt.Sprintf("[%d]", pid)
	for _, line := range strings.Split(string(log[logBefore.Size():]), "\n") {
		for _, parent := range []string{"events", "bydate", "leafonly"} {
			if strings.Contains(line, mine) && strings.HasSuffix(line, "permission denied for table "+parent) {
				t.Errorf("the report asked a table it may not read as a whole: %s", line)
			}
		}
	}
}
