package health

import "fmt"

// KindRole is an item about a login role (its own connection limit).
const KindRole = "role"

// connLimits judges each role's and database's own connection limit
// (ALTER ROLE … CONNECTION LIMIT n, ALTER DATABASE … CONNECTION LIMIT n)
// against the client sessions of that role or in that database, by the
// policy's connection thresholds: an application's pool fails with "too
// many connections for role" long before max_connections is reached.
func (j judge) connLimits(clients []Session) []Item {
	byRole, byDB := map[string]int{}, map[string]int{}
	for _, s := range clients {
		byRole[s.User]++
		byDB[s.Database]++
	}
	var items []Item
	for _, l := range j.raw.limits {
		used, kind, src := byRole[l.name], KindRole, "pg_roles.rolconnlimit"
		if l.kind == "database" {
			used, kind, src = byDB[l.name], KindDatabase, "pg_database.datconnlimit"
		}
		share := pct(float64(used), float64(l.limit))
		status := OK
		switch {
		case share >= float64(j.h.ConnectionsCritical):
			status = Critical
		case share >= float64(j.h.ConnectionsWarn):
			status = Warning
		}
		if status == OK {
			continue
		}
		text := fmt.Sprintf("%s %s: %d of its %d connections in use (%.0f%%)", l.kind, l.name, used, l.limit, share)
		items = append(items, Item{Kind: kind, Status: status, Name: l.name, Text: text, Evidence: []Evidence{
			ev("connection limit", fmt.Sprint(l.limit), src),
			ev("in use", fmt.Sprint(used), "pg_stat_activity (client backends of it)"),
		}})
	}
	return items
}
