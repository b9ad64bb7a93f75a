package store

import (
	"context"

	"github.com/jackc/pgx/v5"

	"gridmap/geo"
)

// GridFilter selects active grids: in a unit's subtree and/or meeting a lon/lat box.
type GridFilter struct {
	Unit string      // "" for all units
	BBox *[4]float64 // minLon, minLat, maxLon, maxLat; nil for no box
}

// Grids lists the active grids matching f, with household and resident counts, ordered by
// code. Geometry comes back as GeoJSON from the database. An unknown unit is geo.ErrNotFound.
func (s *Store) Grids(ctx context.Context, f GridFilter) ([]geo.GridSummary, error) {
	var box []float64
	if f.BBox != nil {
		box = f.BBox[:]
	}
	rows, err := s.pool.Query(ctx, `
		SELECT g.id, g.code, g.name, g.kind, g.unit_code, coalesce(h.n, 0), coalesce(h.r, 0),
		       g.version, g.valid_from, ST_AsGeoJSON(g.boundary, 7)::bytea
		FROM grids g
		LEFT JOIN LATERAL (SELECT count(*) AS n, sum(residents) AS r
		                   FROM households WHERE grid_id = g.id) h ON true
		WHERE g.valid_to IS NULL
		  AND ($1 = '' OR g.unit_code BETWEEN $1 AND $1 || '999999')
		  AND ($2::float8[] IS NULL OR g.boundary && ST_MakeEnvelope($2[1], $2[2], $2[3], $2[4], 4326))
		ORDER BY g.code`, f.Unit, box)
	if err != nil {
		return nil, classify("list grids", err)
	}
	grids, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (geo.GridSummary, error) {
		var g geo.GridSummary
		var geom []byte
		err := row.Scan(&g.ID, &g.Code, &g.Name, &g.Kind, &g.Unit, &g.Households, &g.Residents,
			&g.Version, &g.ValidFrom, &geom)
		g.Geometry = geom
		return g, err
	})
	if err != nil {
		return nil, classify("list grids", err)
	}
	if len(grids) == 0 && f.Unit != "" {
		if err := s.unitMustExist(ctx, f.Unit); err != nil {
			return nil, err
		}
	}
	return grids, nil
}
