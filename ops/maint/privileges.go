package maint

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
)

// Need is what the connected role must be allowed on a step's relation
// (Step.Target) for the step to do anything.
type Need int

// What steps need.
const (
	// NeedMaintain: VACUUM, ANALYZE, REINDEX, CLUSTER: the owner, a member
	// of the owner's role, a superuser, the database's owner before
	// PostgreSQL 17, or the MAINTAIN privilege from 17 on (pg_maintain).
	NeedMaintain Need = iota + 1
	// NeedOwner: DETACH, DROP, drop_chunks, compression: the owner (or a
	// member of its role, or a superuser).
	NeedOwner
	NeedSelect
	NeedDelete
	NeedUpdate // row locks (SELECT … FOR UPDATE)
)

func (n Need) privilege() string {
	return map[Need]string{NeedSelect: "SELECT", NeedDelete: "DELETE", NeedUpdate: "UPDATE"}[n]
}

// needOn is a Need on one relation (quoted).
type needOn struct {
	rel  string
	need Need
}

// needs makes the list of what a step needs on rel.
func needs(rel string, ns ...Need) []needOn {
	out := make([]needOn, len(ns))
	for i, n := range ns {
		out[i] = needOn{rel, n}
	}
	return out
}

// privilegesQuery answers, for each (relation, need) pair, whether the
// current role may, and who owns the relation.
const privilegesQuery = `
SELECT x.i, coalesce(o.rolname, '?'),
       CASE WHEN c.oid IS NULL THEN true -- gone since the plan: the step will say so
            WHEN x.need IN (1, 2) AND (pg_has_role(current_user, c.relowner, 'USAGE')
                 OR (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)) THEN true
            WHEN x.need = 1 AND current_setting('server_version_num')::int < 170000
                 AND pg_has_role(current_user, (SELECT datdba FROM pg_database WHERE datname = current_database()), 'USAGE') THEN true
            WHEN x.need = 1 AND current_setting('server_version_num')::int >= 170000 THEN has_table_privilege(c.oid, 'MAINTAIN')
            WHEN x.need IN (3, 4, 5) THEN has_table_privilege(c.oid, x.priv)
            ELSE false END
FROM unnest($1::text[], $2::int[], $3::text[]) WITH ORDINALITY AS x(rel, need, priv, i)
LEFT JOIN pg_class c ON c.oid = to_regclass(x.rel)
LEFT JOIN pg_roles o ON o.oid = c.relowner
ORDER BY x.i`

// markDenied checks, before the plan is shown, what the connected role may
// do: each step it may not do gets Denied, saying why and what would allow
// it. A plan where nothing can run is refused with that explanation.
func markDenied(ctx context.Context, conn *pgx.Conn, p *Plan) error {
	var rels, privs []string
	var needs []int32
	var steps []int
	for i, s := range p.Steps {
		for _, n := range s.needs {
			rels, needs, privs, steps = append(rels, n.rel), append(needs, int32(n.need)), append(privs, n.need.privilege()), append(steps, i)
		}
	}
	if len(rels) == 0 {
		return nil
	}
	var role string
	var recordable bool
	if err := conn.QueryRow(ctx, `SELECT current_user, CASE WHEN to_regclass('pgtend.history') IS NOT NULL
		THEN has_schema_privilege('pgtend', 'USAGE') AND has_table_privilege('pgtend.history', 'INSERT')
		ELSE has_database_privilege(current_database(), 'CREATE') END`).Scan(&role, &recordable); err != nil {
		return err
	}
	if !recordable {
		p.Notes = append(p.Notes, fmt.Sprintf("%s may not write pgtend.history (CREATE on the database makes it, INSERT on it records): the run is recorded in this machine's history file instead", role))
	}
	rows, err := conn.Query(ctx, privilegesQuery, rels, needs, privs)
	if err != nil {
		return fmt.Errorf("checking what %s may do: %w", role, err)
	}
	defer rows.Close()
	for rows.Next() {
		var i int
		var owner string
		var ok bool
		if err := rows.Scan(&i, &owner, &ok); err != nil {
			return err
		}
		k := i - 1
		if ok || p.Steps[steps[k]].Denied != "" {
			continue
		}
		p.Steps[steps[k]].Denied = deniedReason(role, owner, rels[k], Need(needs[k]))
	}
	if err := rows.Err(); err != nil {
		return err
	}
	// Each table's summary says so too: a folded plan still shows it.
	for ti, t := range p.Tables {
		n, first := 0, ""
		for _, i := range t.Steps {
			if d := p.Steps[i].Denied; d != "" {
				n, first = n+1, cmp.Or(first, d)
			}
		}
		if n > 0 {
			p.Tables[ti].Findings = append(p.Tables[ti].Findings, fmt.Sprintf("%d of %d steps are not allowed and will be skipped: %s", n, len(t.Steps), first))
		}
	}
	var denied []string
	for _, s := range p.Steps {
		if s.Denied == "" {
			return nil
		}
		if !slices.Contains(denied, s.Denied) {
			denied = append(denied, s.Denied)
		}
	}
	return &DeniedError{Role: role, Reasons: denied}
}

// DeniedError refuses a plan of which the role may do nothing.
type DeniedError struct {
	Role    string
	Reasons []string
}

func (e *DeniedError) Error() string {
	more := ""
	if len(e.Reasons) > 3 {
		more = fmt.Sprintf("; and %d more", len(e.Reasons)-3)
	}
	return fmt.Sprintf("role %s may do none of this plan: %s%s", e.Role, strings.Join(e.Reasons[:min(len(e.Reasons), 3)], "; "), more)
}

// IsDenied tells a plan refused for the role's privileges.
func IsDenied(err error) bool {
	var d *DeniedError
	return errors.As(err, &d)
}

func deniedReason(role, owner, rel string, n Need) string {
	switch n {
	case NeedMaintain:
		return fmt.Sprintf("%s may not maintain %s (owned by %s): run as %s, or GRANT %s TO %s (PostgreSQL 17: GRANT MAINTAIN ON %s TO %s, or the role pg_maintain)",
			role, rel, owner, owner, owner, role, rel, role)
	case NeedOwner:
		return fmt.Sprintf("only the owner of %s (%s) may do this: run as %s, or GRANT %s TO %s", rel, owner, owner, owner, role)
	}
	return fmt.Sprintf("%s lacks %s on %s: GRANT %s ON %s TO %s", role, n.privilege(), rel, n.privilege(), rel, role)
}
