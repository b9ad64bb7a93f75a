package store

import (
	"context"
	"encoding/json"

	"github.com/jackc/pgx/v5"

	"gridmap/geo"
)

// Units lists the children of parent, or the top-level units (counties) when parent is "".
// An unknown parent is geo.ErrNotFound.
func (s *Store) Units(ctx context.Context, parent string) ([]geo.Unit, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT code, name, level, coalesce(parent_code, '')
		FROM units
		WHERE ($1 = '' AND parent_code IS NULL) OR parent_code = $1
		ORDER BY code`, parent)
	if err != nil {
		return nil, classify("list units", err)
	}
	units, err := pgx.CollectRows(rows, scanUnit)
	if err != nil {
		return nil, classify("list units", err)
	}
	if len(units) == 0 && parent != "" {
		if err := s.unitMustExist(ctx, parent); err != nil {
			return nil, err
		}
	}
	return units, nil
}

func scanUnit(row pgx.CollectableRow) (geo.Unit, error) {
	var u geo.Unit
	err := row.Scan(&u.Code, &u.Name, &u.Level, &u.Parent)
	return u, err
}

// Unit returns one unit with its path from the county, its counts (child units, active
// grids, households, residents and party members in its whole subtree) and its bounding box.
// withGeometry adds the boundary as GeoJSON.
func (s *Store) Unit(ctx context.Context, code string, withGeometry bool) (*geo.UnitDetail, error) {
	var d geo.UnitDetail
	var bbox [4]float64
	var geom []byte
	err := s.pool.QueryRow(ctx, `
		SELECT code, name, level, coalesce(parent_code, ''),
		       ST_XMin(boundary), ST_YMin(boundary), ST_XMax(boundary), ST_YMax(boundary),
		       CASE WHEN $2 THEN ST_AsGeoJSON(boundary, 7)::bytea END
		FROM units WHERE code = $1`, code, withGeometry).
		Scan(&d.Code, &d.Name, &d.Level, &d.Parent, &bbox[0], &bbox[1], &bbox[2], &bbox[3], &geom)
	if err != nil {
		return nil, classify("get unit", notFoundIfNoRows(err, "unit", code))
	}
	d.BBox = bbox[:]
	if geom != nil {
		d.Geom = json.RawMessage(geom)
	}

	rows, err := s.pool.Query(ctx, `
		SELECT code, name, level, coalesce(parent_code, '')
		FROM units
		WHERE code IN (left($1, 6), left($1, 9)) AND code <> $1
		ORDER BY length(code)`, code)
	if err != nil {
		return nil, classify("get unit path", err)
	}
	if d.Path, err = pgx.CollectRows(rows, scanUnit); err != nil {
		return nil, classify("get unit path", err)
	}

	// Codes are digits only, so the subtree of code is the range [code, code || '999999'].
	err = s.pool.QueryRow(ctx, `
		SELECT (SELECT count(*) FROM units WHERE parent_code = $1),
		       (SELECT count(*) FROM grids WHERE valid_to IS NULL AND unit_code BETWEEN $1 AND $1 || '999999'),
		       h.households, h.residents,
		       (SELECT count(*) FROM people WHERE party_member AND unit_code BETWEEN $1 AND $1 || '999999')
		FROM (SELECT count(*) AS households, coalesce(sum(residents), 0) AS residents
		      FROM households WHERE unit_code BETWEEN $1 AND $1 || '999999') h`, code).
		Scan(&d.Counts.Children, &d.Counts.Grids, &d.Counts.Households, &d.Counts.Residents, &d.Counts.PartyMembers)
	if err != nil {
		return nil, classify("count unit", err)
	}
	if d.Path == nil {
		d.Path = []geo.Unit{}
	}
	return &d, nil
}

// unitMustExist is nil when the unit exists, else geo.ErrNotFound.
func (s *Store) unitMustExist(ctx context.Context, code string) error {
	var exists bool
	if err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM units WHERE code = $1)`, code).Scan(&exists); err != nil {
		return classify("look up unit", err)
	}
	if !exists {
		return geo.NotFound("unit", code)
	}
	return nil
}
