package report

import "fmt"

// Measuring by files. Every size function (pg_relation_size and the rest)
// opens the relation, and a new server backend builds its relation cache
// entry for each one first: at 5,000 chunks, ~22,000 relations (chunk,
// index, TOAST table, TOAST index, compressed relations), that is most of a
// one-shot report's time. When the role may call pg_stat_file (superusers,
// or a GRANT EXECUTE), pgtend reads the same figures from the files'
// sizes: pg_relation_filepath needs only the catalog, and a relation's size
// is the sum of its fork files (main, fsm, vm, init) and main's 1 GB
// segments (.1, .2, …) — exactly what pg_relation_size counts, block for
// block (the tests compare the two).

// fileSize is the SQL expression for the size of every fork and segment of
// the relation rel (an expression of type oid); segment is the server's
// segment size in bytes.
func fileSize(rel string, segment int64) string {
	stat := func(suffix string) string {
		return `coalesce((pg_stat_file(fp.p` + suffix + `, true)).size, 0)`
	}
	// main is read once; indexes have no visibility map; the init fork
	// exists only for unlogged relations; further segments only when main
	// fills a whole one.
	return fmt.Sprintf(`(SELECT mf.main + %s
	        + CASE WHEN pc.relkind <> 'i' THEN %s ELSE 0 END
	        + CASE WHEN pc.relpersistence = 'u' THEN %s ELSE 0 END
	        + CASE WHEN mf.main >= %d THEN
	            (WITH RECURSIVE seg(n, sz) AS (
	                SELECT 1, (pg_stat_file(fp.p || '.1', true)).size
	                UNION ALL
	                SELECT n + 1, (pg_stat_file(fp.p || '.' || (n + 1), true)).size FROM seg WHERE sz IS NOT NULL)
	             SELECT coalesce(sum(sz), 0) FROM seg)
	          ELSE 0 END
	    FROM pg_class pc,
	         LATERAL (SELECT pg_relation_filepath(pc.oid) AS p) fp,
	         LATERAL (SELECT %s AS main) mf
	    WHERE pc.oid = %s)`, stat(`||'_fsm'`), stat(`||'_vm'`), stat(`||'_init'`), segment, stat(""), rel)
}

// indexFileSizes sums fileSize over the indexes of rel.
func indexFileSizes(rel string, segment int64) string {
	return `(SELECT coalesce(sum(` + fileSize("i.indexrelid", segment) + `), 0) FROM pg_index i WHERE i.indrelid = ` + rel + `)`
}
