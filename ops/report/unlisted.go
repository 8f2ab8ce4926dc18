package report

import "sort"

// Every byte of the database is accounted for: the listed tables' sizes
// plus UnlistedBytes are the database's size (pg_database_size, or the
// listing of its files), exactly. The unlisted bytes are split into groups
// by what holds them; the last group, UnlistedFiles, is what no relation
// of the catalog holds (PG_VERSION, pg_filenode.map, the relation cache's
// init file, files of relations created or dropped while the report was
// read) and what could not be measured (relations locked by another
// session).

// Unlisted groups.
const (
	UnlistedSystemCatalogs = "system_catalogs" // pg_catalog and information_schema, with their TOAST and indexes
	UnlistedLargeObjects   = "large_objects"   // pg_largeobject and pg_largeobject_metadata
	UnlistedSequences      = "sequences"
	UnlistedTimescale      = "timescaledb_catalog" // TimescaleDB's catalog and internal relations no listed table holds
	UnlistedPgtend         = "pgtend"              // pgtend's own history
	UnlistedTemporary      = "temporary_tables"    // sessions' temporary tables
	UnlistedOther          = "other_relations"     // any other relation: an extension's tables, ...
	UnlistedFiles          = "other_files"         // files of no relation, and relations not measured
)

// unlistedGroup names the group of a relation (alias c, namespace n) no
// listed table holds.
const unlistedGroup = `CASE
	WHEN n.nspname = 'pg_catalog' AND c.relname IN ('pg_largeobject', 'pg_largeobject_metadata') THEN '` + UnlistedLargeObjects + `'
	WHEN n.nspname IN ('pg_catalog', 'information_schema') THEN '` + UnlistedSystemCatalogs + `'
	WHEN c.relkind = 'S' THEN '` + UnlistedSequences + `'
	WHEN n.nspname ~ '^_?timescaledb_' THEN '` + UnlistedTimescale + `'
	WHEN n.nspname = 'pgtend' THEN '` + UnlistedPgtend + `'
	WHEN n.nspname ~ '^pg_temp_' OR c.relpersistence = 't' THEN '` + UnlistedTemporary + `'
	ELSE '` + UnlistedOther + `' END`

// UnlistedGroup is the bytes of one kind of relation no listed table
// holds, and how many relations they are (0 for UnlistedFiles).
type UnlistedGroup struct {
	Group     string `json:"group"`
	Bytes     int64  `json:"bytes"`
	Relations int    `json:"relations"`
	// Unmeasured counts the relations of UnlistedFiles locked by another
	// session (listed tables' included): their bytes are in that group.
	Unmeasured int `json:"unmeasured"`
}

// unlistedGroups sums the unlisted members by group, largest first;
// unmeasured counts those that got no size (locked).
func unlistedGroups(members []member) (groups []UnlistedGroup, unmeasured int) {
	by := map[string]*UnlistedGroup{}
	for _, m := range members {
		if m.Group == nil {
			continue
		}
		if m.Table == nil || m.Index == nil || m.Toast == nil {
			unmeasured++
			continue
		}
		g := by[*m.Group]
		if g == nil {
			g = &UnlistedGroup{Group: *m.Group}
			by[*m.Group] = g
		}
		g.Bytes += m.total()
		g.Relations++
	}
	for _, g := range by {
		groups = append(groups, *g)
	}
	sort.Slice(groups, func(i, j int) bool {
		if groups[i].Bytes != groups[j].Bytes {
			return groups[i].Bytes > groups[j].Bytes
		}
		return groups[i].Group < groups[j].Group
	})
	return groups, unmeasured
}

// ListedBytes sums the listed tables' measured sizes.
func (r *Report) ListedBytes() int64 {
	var n int64
	for _, t := range r.Tables {
		n += orZero(t.TotalBytes)
	}
	return n
}

// account sets UnlistedBytes, the database's size less the listed
// tables', and its groups: the relations measured (groups), and the rest
// as UnlistedFiles. An estimated report's figures need not add up (its
// database size counts no free space or visibility map): there the rest
// is never below zero.
func (r *Report) account(groups []UnlistedGroup, unmeasured int) {
	for _, t := range r.Tables {
		if t.Locked {
			unmeasured++
		}
	}
	r.UnlistedBytes = r.Server.DatabaseBytes - r.ListedBytes()
	rest := r.UnlistedBytes
	r.Unlisted = []UnlistedGroup{}
	for _, g := range groups {
		r.Unlisted = append(r.Unlisted, g)
		rest -= g.Bytes
	}
	if r.Estimated && rest < 0 {
		r.UnlistedBytes -= rest
		rest = 0
	}
	if rest != 0 || unmeasured > 0 {
		r.Unlisted = append(r.Unlisted, UnlistedGroup{Group: UnlistedFiles, Bytes: rest, Unmeasured: unmeasured})
	}
}
