package report

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
)

// Measuring by files. Every size function (pg_relation_size and the rest)
// opens the relation, and a new server backend builds its relation cache
// entry for each one first: at 5,000 chunks, ~22,000 relations (chunk,
// index, TOAST table, TOAST index, compressed relations), that is most of a
// one-shot report's time. When the role may call pg_ls_dir and pg_stat_file
// (superusers, or a GRANT EXECUTE on both), pgtend lists the database's
// directories once and stats each file that exists — fewer stat calls
// than probing every fork of every relation — and sums a relation's files
// itself: its forks (main, fsm, vm, init) and their
// 1 GB segments (.1, .2, …), which is what pg_relation_size counts, block
// for block (the tests compare the two). pg_relation_filepath, which says
// where a relation's files are, reads only the catalog.

// databaseFilesQuery lists the current database's files: its directory
// under base/ and its directory in each tablespace, under the version
// directory of this server (PG_<major>_<catalog version>; pg_upgrade
// leaves older ones beside it) — exactly the files pg_database_size sums.
// A file removed between listing and stat has no size and is left out.
const databaseFilesQuery = `
WITH db AS (SELECT oid FROM pg_database WHERE datname = current_database()),
dirs AS (
	SELECT 'base/' || db.oid AS dir FROM db
	UNION ALL
	SELECT 'pg_tblspc/' || t.oid || '/PG_' || current_setting('server_version_num')::int / 10000
	       || '_' || (SELECT catalog_version_no FROM pg_control_system()) || '/' || db.oid
	FROM db, pg_tablespace t
	WHERE t.spcname NOT IN ('pg_default', 'pg_global')
),
files AS (
	SELECT d.dir, f.name, (pg_stat_file(d.dir || '/' || f.name, true)).size
	FROM dirs d, LATERAL pg_ls_dir(d.dir, true, false) AS f(name)
)
SELECT dir, name, size FROM files WHERE size IS NOT NULL`

// databaseFiles is the listing: the bytes of each relation's files (all
// forks and segments) by its file path as pg_relation_filepath gives it,
// and the database's total. Every relation with storage has at least one
// file (its main fork; on a standby an unlogged relation has only its init
// fork), so a relation absent here got its files after the listing.
type databaseFiles struct {
	relations map[string]int64
	total     int64
}

// readDatabaseFiles lists and sizes every file of the current database.
func readDatabaseFiles(ctx context.Context, conn *pgx.Conn) (databaseFiles, error) {
	out := databaseFiles{relations: map[string]int64{}}
	rows, err := conn.Query(ctx, databaseFilesQuery)
	if err != nil {
		return out, fmt.Errorf("listing the database's files: %w", err)
	}
	defer rows.Close()
	var dir, name string
	var size int64
	for rows.Next() {
		if err := rows.Scan(&dir, &name, &size); err != nil {
			return out, fmt.Errorf("listing the database's files: %w", err)
		}
		out.total += size
		out.relations[dir+"/"+relationFile(name)] += size
	}
	if err := rows.Err(); err != nil {
		return out, fmt.Errorf("listing the database's files: %w", err)
	}
	return out, nil
}

// relationFile maps a file name to the relation file it belongs to:
// "16384.2", "16384_fsm" and "16384_vm.1" all belong to "16384". Other
// files (PG_VERSION, pg_filenode.map) map to themselves and no relation
// asks for them.
func relationFile(name string) string {
	base := name
	if i := strings.LastIndexByte(base, '.'); i > 0 && allDigits(base[i+1:]) {
		base = base[:i]
	}
	for _, fork := range []string{"_fsm", "_vm", "_init"} {
		if strings.HasSuffix(base, fork) {
			return strings.TrimSuffix(base, fork)
		}
	}
	return base
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// size is the bytes of the relation whose files are at path (nil: a
// relation without storage, or none at all); ok is false when that path
// was not current before the listing (before) or its files are not in it.
func (d databaseFiles) size(path *string, before map[string]bool) (n int64, ok bool) {
	if path == nil {
		return 0, true
	}
	n, listed := d.relations[*path]
	return n, listed && before[*path]
}

// sizes sums size over paths; ok only when every one is.
func (d databaseFiles) sizes(paths []*string, before map[string]bool) (n int64, ok bool) {
	ok = true
	for _, p := range paths {
		s, settled := d.size(p, before)
		n += s
		ok = ok && settled
	}
	return n, ok
}
