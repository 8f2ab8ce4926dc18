package report

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
// the relation rel (an expression of type oid).
func fileSize(rel string) string {
	stat := func(suffix string) string {
		return `coalesce((pg_stat_file(fp.p` + suffix + `, true)).size, 0)`
	}
	// main is read once; the init fork exists only for unlogged relations;
	// segments only when main fills a whole one.
	return `(SELECT m.main + ` + stat(`||'_fsm'`) + ` + ` + stat(`||'_vm'`) + `
	        + CASE WHEN fp.persistence = 'u' THEN ` + stat(`||'_init'`) + ` ELSE 0 END
	        + CASE WHEN m.main >= (SELECT setting::bigint * current_setting('block_size')::bigint
	                               FROM pg_settings WHERE name = 'segment_size') THEN
	            (WITH RECURSIVE seg(n, sz) AS (
	                SELECT 1, (pg_stat_file(fp.p || '.1', true)).size
	                UNION ALL
	                SELECT n + 1, (pg_stat_file(fp.p || '.' || (n + 1), true)).size FROM seg WHERE sz IS NOT NULL)
	             SELECT coalesce(sum(sz), 0) FROM seg)
	          ELSE 0 END
	    FROM (SELECT pg_relation_filepath(` + rel + `) AS p,
	                 (SELECT relpersistence FROM pg_class WHERE oid = ` + rel + `) AS persistence) fp,
	         LATERAL (SELECT ` + stat("") + ` AS main) m)`
}

// indexFileSizes sums fileSize over the indexes of rel.
func indexFileSizes(rel string) string {
	return `(SELECT coalesce(sum(` + fileSize("i.indexrelid") + `), 0) FROM pg_index i WHERE i.indrelid = ` + rel + `)`
}
