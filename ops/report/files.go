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
// directories once and stats each file that exists — ~25,000 files in
// ~0.1 s, where probing every fork of every relation took ~0.5 s — and
// sums a relation's files itself: its forks (main, fsm, vm, init) and their
// 1 GB segments (.1, .2, …), which is what pg_relation_size counts, block
// for block (the tests compare the two). pg_relation_filepath, which says
// where a relation's files are, reads only the catalog.

// databaseFilesQuery lists the current database's files: its directory
// under base/ and, for each tablespace, the directory this server version
// uses (pg_upgrade leaves the older version's beside it). The files
// summed are exactly those pg_database_size sums. A file removed between
// listing and stat has no size and is left out.
const databaseFilesQuery = `
WITH db AS (SELECT oid FROM pg_database WHERE datname = current_database()),
dirs AS (
	SELECT 'base/' || db.oid AS dir FROM db
	UNION ALL
	SELECT 'pg_tblspc/' || t.oid || '/' || v || '/' || db.oid
	FROM db, pg_tablespace t, LATERAL pg_ls_dir('pg_tblspc/' || t.oid, true, false) v
	WHERE t.spcname NOT IN ('pg_default', 'pg_global')
	  AND v LIKE 'PG\_' || current_setting('server_version_num')::int / 10000 || '\_%'
),
files AS (
	SELECT d.dir, f.name, (pg_stat_file(d.dir || '/' || f.name, true)).size
	FROM dirs d, LATERAL pg_ls_dir(d.dir, true, false) AS f(name)
)
SELECT dir, name, size FROM files WHERE size IS NOT NULL`

// relationFiles is one relation's files as listed: all forks and segments
// summed, and whether its main fork was there (every relation with storage
// has one, so a missing main fork means the relation got new files after
// the listing: a rewrite, a TRUNCATE, a new chunk).
type relationFiles struct {
	bytes int64
	main  bool
}

// databaseFiles is the listing, by relation file path (as
// pg_relation_filepath gives it), and the database's total.
type databaseFiles struct {
	relations map[string]relationFiles
	total     int64
}

// readDatabaseFiles lists and sizes every file of the current database.
func readDatabaseFiles(ctx context.Context, conn *pgx.Conn) (databaseFiles, error) {
	out := databaseFiles{relations: map[string]relationFiles{}}
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
		base, isMain := relationFile(name)
		key := dir + "/" + base
		rf := out.relations[key]
		rf.bytes += size
		rf.main = rf.main || isMain
		out.relations[key] = rf
	}
	if err := rows.Err(); err != nil {
		return out, fmt.Errorf("listing the database's files: %w", err)
	}
	return out, nil
}

// relationFile maps a file name to the relation file it belongs to:
// "16384.2", "16384_fsm" and "16384_vm.1" all belong to "16384"; isMain
// when the name is the main fork's first segment itself. Other files
// (PG_VERSION, pg_filenode.map) map to themselves and no relation asks for
// them.
func relationFile(name string) (base string, isMain bool) {
	base = name
	if i := strings.LastIndexByte(base, '.'); i > 0 && allDigits(base[i+1:]) {
		base = base[:i]
	}
	for _, fork := range []string{"_fsm", "_vm", "_init"} {
		if strings.HasSuffix(base, fork) {
			return strings.TrimSuffix(base, fork), false
		}
	}
	return base, base == name
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
// relation without storage, or none at all); ok is false when its files
// were not in the listing.
func (d databaseFiles) size(path *string) (n int64, ok bool) {
	if path == nil {
		return 0, true
	}
	rf := d.relations[*path]
	return rf.bytes, rf.main
}

// sizes sums size over paths; ok only when every one was listed.
func (d databaseFiles) sizes(paths []*string) (n int64, ok bool) {
	ok = true
	for _, p := range paths {
		s, listed := d.size(p)
		n += s
		ok = ok && listed
	}
	return n, ok
}
