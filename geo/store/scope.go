package store

import (
	"context"
	"fmt"
)

// ScopeKind names what ScopeOf looks up.
type ScopeKind string

// The things whose place in the unit hierarchy the access check needs.
const (
	ScopePerson  ScopeKind = "person"            // the person's unit
	ScopeBranch  ScopeKind = "branch"            // the branch's grid
	ScopeGroup   ScopeKind = "group"             // the party group's grid
	ScopeCentral ScopeKind = "central_household" // the household's grid, else its unit
)

// ScopeOf returns the unit or grid code that holds the thing with that id, for the access
// check: a person's unit, a branch's or party group's grid code, a central household's
// grid (or unit). An unknown id is geo.ErrNotFound.
func (s *Store) ScopeOf(ctx context.Context, kind ScopeKind, id int64) (string, error) {
	var sql string
	switch kind {
	case ScopePerson:
		sql = `SELECT unit_code FROM people WHERE id = $1`
	case ScopeBranch:
		sql = `SELECT g.code FROM branches b JOIN grids g ON g.id = b.grid_id WHERE b.id = $1`
	case ScopeGroup:
		sql = `SELECT g.code FROM party_groups pg JOIN branches b ON b.id = pg.branch_id JOIN grids g ON g.id = b.grid_id WHERE pg.id = $1`
	case ScopeCentral:
		sql = `SELECT coalesce(g.code, h.unit_code) FROM central_households c JOIN households h ON h.id = c.household_id
			LEFT JOIN grids g ON g.id = h.grid_id WHERE c.id = $1`
	default:
		return "", fmt.Errorf("store: scope of %q: unknown kind", kind)
	}
	var code string
	if err := s.pool.QueryRow(ctx, sql, id).Scan(&code); err != nil {
		return "", classify("look up scope", notFoundIfNoRows(err, string(kind), fmt.Sprint(id)))
	}
	return code, nil
}
