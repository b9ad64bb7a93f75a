package store

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkb"
)

// TilingReport is PostGIS's verdict on polygons that should tile a boundary: areas in m²
// (planar in lon/lat, scaled at the boundary's latitude).
type TilingReport struct {
	Polygons   int     // parts checked
	Invalid    int     // not ST_IsValid
	MultiPart  int     // more than one polygon
	GapM2      float64 // area of the symmetric difference of their union and the boundary
	OverlapM2  float64 // sum of the pairwise intersections' areas
	BoundaryM2 float64 // area of the boundary
}

// CheckTiling asks PostGIS, not our own geometry code, whether parts tile boundary (all
// lon/lat, WGS84): it loads them into a temporary table with binary COPY and measures the
// gap (ST_SymDifference of their ST_Union with the boundary) and the overlaps (pairwise
// ST_Intersection through a GiST index). The table lives for one transaction.
func (s *Store) CheckTiling(ctx context.Context, boundary orb.MultiPolygon, parts []orb.MultiPolygon) (*TilingReport, error) {
	rep := &TilingReport{Polygons: len(parts)}
	bwkb, err := wkb.Marshal(boundary)
	if err != nil {
		return nil, fmt.Errorf("store: check tiling: encode boundary: %w", err)
	}
	err = s.tx(ctx, "check tiling", func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `CREATE TEMP TABLE tiling_parts (i integer, g geometry) ON COMMIT DROP`); err != nil {
			return fmt.Errorf("temp table: %w", err)
		}
		rows := make([][]any, len(parts))
		for i, p := range parts {
			data, err := wkb.Marshal(p)
			if err != nil {
				return fmt.Errorf("encode part %d: %w", i, err)
			}
			rows[i] = []any{int32(i), data}
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"tiling_parts"}, []string{"i", "g"}, pgx.CopyFromRows(rows)); err != nil {
			return fmt.Errorf("copy parts: %w", err)
		}
		if _, err := tx.Exec(ctx, `UPDATE tiling_parts SET g = ST_SetSRID(g, 4326)`); err != nil {
			return fmt.Errorf("set srid: %w", err)
		}
		if _, err := tx.Exec(ctx, `CREATE INDEX ON tiling_parts USING gist (g)`); err != nil {
			return fmt.Errorf("index parts: %w", err)
		}
		if _, err := tx.Exec(ctx, `ANALYZE tiling_parts`); err != nil {
			return fmt.Errorf("analyze parts: %w", err)
		}
		// Areas are planar in lon/lat, as PostGIS computes ST_Union and ST_Intersection on
		// geometry, scaled to m² at the boundary's latitude: a spheroidal (geography) area
		// would count the lune between a geodesic and the straight edge that the grids
		// share with the boundary as a gap.
		return tx.QueryRow(ctx, `
			WITH b AS (SELECT g, (pi() * 6371008.8 / 180) ^ 2 * cos(radians(ST_Y(ST_Centroid(g)))) AS m2
			           FROM (SELECT ST_SetSRID(ST_GeomFromWKB($1), 4326) AS g) x)
			SELECT (SELECT count(*) FROM tiling_parts WHERE NOT ST_IsValid(g)),
			       (SELECT count(*) FROM tiling_parts WHERE ST_NumGeometries(g) <> 1),
			       (SELECT coalesce(ST_Area(ST_SymDifference(ST_Union(p.g), b.g)), ST_Area(b.g)) * b.m2
			        FROM tiling_parts p),
			       (SELECT coalesce(sum(ST_Area(ST_Intersection(x.g, y.g))), 0) * b.m2
			        FROM tiling_parts x JOIN tiling_parts y ON x.i < y.i AND x.g && y.g AND ST_Intersects(x.g, y.g)),
			       ST_Area(b.g) * b.m2
			FROM b`, bwkb).Scan(&rep.Invalid, &rep.MultiPart, &rep.GapM2, &rep.OverlapM2, &rep.BoundaryM2)
	})
	if err != nil {
		return nil, err
	}
	return rep, nil
}
