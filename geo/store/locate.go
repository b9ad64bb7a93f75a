package store

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkb"

	"gridmap/geo"
)

// LocateGrid is what the locate service keeps in memory for one active grid: its area, the
// unit path, the branch, the team and the households that have a responsible party member.
// It holds no phone numbers.
type LocateGrid struct {
	ID       int64
	Code     string
	Name     string
	Kind     string
	Boundary orb.MultiPolygon
	Units    []geo.Unit // county, township/street, village/community (those that exist)
	Branch   *LocateBranch
	Team     []LocateTeamMember // leader, worker, assistant, instructor; by name within a role
	// Households with a responsible party member, ordered by household id; Member indexes
	// Members.
	Households []LocateHousehold
	Members    []LocateMember
}

// LocateBranch is a grid's active party branch.
type LocateBranch struct {
	Name      string
	Secretary string // "" when none is named
}

// LocateTeamMember is one member of a grid's team (一长三员).
type LocateTeamMember struct {
	Role string
	Name string
}

// LocateHousehold is a household point and the index of its responsible member.
type LocateHousehold struct {
	Point  orb.Point
	Member int32
}

// LocateMember is a party member responsible for households.
type LocateMember struct {
	ID   int64
	Name string
}

// LocateGrids loads the active grids whose boundary box meets bbox (minLon, minLat, maxLon,
// maxLat), or every active grid when bbox is nil, with everything the locate service
// answers. Grids come back ordered by id.
func (s *Store) LocateGrids(ctx context.Context, bbox *[4]float64) ([]*LocateGrid, error) {
	var box []float64
	if bbox != nil {
		box = bbox[:]
	}
	rows, err := s.pool.Query(ctx, `
		SELECT g.id, g.code, g.name, g.kind, ST_AsBinary(g.boundary),
		       u3.code, u3.name, u3.level, coalesce(u2.code, ''), coalesce(u2.name, ''), coalesce(u2.level, ''),
		       coalesce(u1.code, ''), coalesce(u1.name, ''), coalesce(u1.level, ''),
		       b.name, coalesce(sp.name, ''),
		       coalesce(t.roles, '{}'), coalesce(t.names, '{}')
		FROM grids g
		JOIN units u3 ON u3.code = g.unit_code
		LEFT JOIN units u2 ON u2.code = u3.parent_code
		LEFT JOIN units u1 ON u1.code = u2.parent_code
		LEFT JOIN branches b ON b.grid_id = g.id AND b.valid_to IS NULL
		LEFT JOIN people sp ON sp.id = b.secretary_id
		LEFT JOIN LATERAL (
			SELECT array_agg(gt.role ORDER BY array_position(ARRAY['leader', 'worker', 'assistant', 'instructor'], gt.role), p.name, p.id) AS roles,
			       array_agg(p.name ORDER BY array_position(ARRAY['leader', 'worker', 'assistant', 'instructor'], gt.role), p.name, p.id) AS names
			FROM grid_team gt JOIN people p ON p.id = gt.person_id
			WHERE gt.grid_id = g.id) t ON true
		WHERE g.valid_to IS NULL
		  AND ($1::float8[] IS NULL OR g.boundary && ST_MakeEnvelope($1[1], $1[2], $1[3], $1[4], 4326))
		ORDER BY g.id`, box)
	if err != nil {
		return nil, classify("load grids for locate", err)
	}
	byID := map[int64]*LocateGrid{}
	grids, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*LocateGrid, error) {
		g := new(LocateGrid)
		var u [3]geo.Unit
		var branch *string
		var secretary string
		var roles, names []string
		err := row.Scan(&g.ID, &g.Code, &g.Name, &g.Kind, wkb.Scanner(&g.Boundary),
			&u[2].Code, &u[2].Name, &u[2].Level, &u[1].Code, &u[1].Name, &u[1].Level,
			&u[0].Code, &u[0].Name, &u[0].Level, &branch, &secretary, &roles, &names)
		if err != nil {
			return nil, err
		}
		for _, x := range u {
			if x.Code != "" {
				g.Units = append(g.Units, x)
			}
		}
		if branch != nil {
			g.Branch = &LocateBranch{Name: *branch, Secretary: secretary}
		}
		for i := range min(len(roles), len(names)) {
			g.Team = append(g.Team, LocateTeamMember{Role: roles[i], Name: names[i]})
		}
		byID[g.ID] = g
		return g, nil
	})
	if err != nil {
		return nil, classify("load grids for locate", err)
	}
	if len(grids) == 0 {
		return grids, nil
	}
	ids := make([]int64, len(grids))
	for i, g := range grids {
		ids[i] = g.ID
	}

	// The households of those grids that have a responsible member, with the member's name.
	rows, err = s.pool.Query(ctx, `
		SELECT h.grid_id, ST_X(h.location), ST_Y(h.location), l.member_id, p.name
		FROM households h
		JOIN member_household_links l ON l.household_id = h.id
		JOIN people p ON p.id = l.member_id
		WHERE h.grid_id = ANY ($1)
		ORDER BY h.grid_id, h.id`, ids)
	if err != nil {
		return nil, classify("load households for locate", err)
	}
	defer rows.Close()
	var (
		cur       *LocateGrid
		memberIdx map[int64]int32
		gridID    int64
		h         LocateHousehold
		memberID  int64
		name      string
	)
	for rows.Next() {
		if err := rows.Scan(&gridID, &h.Point[0], &h.Point[1], &memberID, &name); err != nil {
			return nil, classify("load households for locate", err)
		}
		if cur == nil || cur.ID != gridID {
			cur = byID[gridID]
			if cur == nil {
				return nil, fmt.Errorf("store: load households for locate: unexpected grid %d", gridID)
			}
			memberIdx = map[int64]int32{}
		}
		mi, ok := memberIdx[memberID]
		if !ok {
			mi = int32(len(cur.Members))
			memberIdx[memberID] = mi
			cur.Members = append(cur.Members, LocateMember{ID: memberID, Name: name})
		}
		h.Member = mi
		// Households of one building with the same member are one point for "nearest".
		if n := len(cur.Households); n > 0 && cur.Households[n-1] == h {
			continue
		}
		cur.Households = append(cur.Households, h)
	}
	if err := rows.Err(); err != nil {
		return nil, classify("load households for locate", err)
	}
	return grids, nil
}
