package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"gridmap/geo"
)

// GridDetail is one grid as read and written through the API.
type GridDetail struct {
	ID         int64
	Code       string
	Name       string
	Kind       geo.GridKind
	Unit       string
	Version    int
	ValidFrom  time.Time
	ValidTo    *time.Time
	UpdatedBy  string
	UpdatedAt  time.Time
	Households int
	Geometry   json.RawMessage // GeoJSON
	Trimmed    float64         // m² trimmed off as slivers by the last write
}

// GridInput is what a client sends to create or replace a grid.
type GridInput struct {
	Code string // optional on create: the next sequence in the unit
	Unit string // optional when Code is given
	Name string
	Kind geo.GridKind // optional: village for villages, community for communities
	Area geo.Area
}

// Tolerances of the topology rules: a grid may stick out of its unit by up to 1 m and
// overlap a sibling by up to 1 m²; such slivers are trimmed off, larger ones are refused.
const (
	unitToleranceM     = 1.0
	overlapToleranceM2 = 1.0
)

const gridColumns = `g.id, g.code, g.name, g.kind, g.unit_code, g.version, g.valid_from, g.valid_to, g.updated_by,
	g.updated_at, (SELECT count(*) FROM households h WHERE h.grid_id = g.id), ST_AsGeoJSON(g.boundary, 7)::bytea`

func scanGrid(row pgx.Row) (*GridDetail, error) {
	var d GridDetail
	var geom []byte
	err := row.Scan(&d.ID, &d.Code, &d.Name, &d.Kind, &d.Unit, &d.Version, &d.ValidFrom, &d.ValidTo, &d.UpdatedBy,
		&d.UpdatedAt, &d.Households, &geom)
	d.Geometry = geom
	return &d, err
}

// Grid returns the active grid with that code; a retired or unknown grid is geo.ErrNotFound.
func (s *Store) Grid(ctx context.Context, code string) (*GridDetail, error) {
	d, err := scanGrid(s.pool.QueryRow(ctx, `SELECT `+gridColumns+` FROM grids g WHERE g.code = $1 AND g.valid_to IS NULL`, code))
	if err != nil {
		return nil, classify("get grid", notFoundIfNoRows(err, "grid", code))
	}
	return d, nil
}

// CreateGrid validates and inserts a grid in one transaction: the topology rules, the code
// (next free sequence in the unit unless given), and the households it now holds (moved by
// trigger in the same transaction).
func (s *Store) CreateGrid(ctx context.Context, in GridInput, by string) (*GridDetail, error) {
	if in.Code != "" {
		if len(in.Code) != 15 {
			return nil, geo.Invalid("code", "a grid code has 15 digits: the 12-digit village/community code and a 3-digit sequence")
		}
		if _, err := geo.LevelOfCode("code", in.Code[:12]); err != nil {
			return nil, err
		}
		if in.Unit != "" && in.Unit != in.Code[:12] {
			return nil, geo.Invalid("unit", fmt.Sprintf("grid %s belongs to unit %s, not %s", in.Code, in.Code[:12], in.Unit))
		}
		in.Unit = in.Code[:12]
	}
	var out *GridDetail
	err := s.tx(ctx, "create grid", func(tx pgx.Tx) error {
		level, err := lockUnit(ctx, tx, in.Unit)
		if err != nil {
			return err
		}
		if in.Kind == "" {
			in.Kind = geo.KindCommunity
			if level == geo.LevelVillage {
				in.Kind = geo.KindVillage
			}
		}
		if in.Code == "" {
			var next int
			if err := tx.QueryRow(ctx, `SELECT coalesce(max(right(code, 3)::int), 0) + 1 FROM grids WHERE unit_code = $1`, in.Unit).Scan(&next); err != nil {
				return fmt.Errorf("next grid sequence: %w", err)
			}
			if in.Code, err = geo.GridCode(in.Unit, next); err != nil {
				return err
			}
		} else {
			var taken bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM grids WHERE code = $1)`, in.Code).Scan(&taken); err != nil {
				return fmt.Errorf("look up grid code: %w", err)
			}
			if taken {
				return fmt.Errorf("grid code %s is taken (codes of retired grids are not reused): %w", in.Code, geo.ErrConflict)
			}
		}
		geom, trimmed, err := checkTopology(ctx, tx, in.Unit, 0, in.Area)
		if err != nil {
			return err
		}
		var id int64
		err = tx.QueryRow(ctx, `
			INSERT INTO grids (code, unit_code, name, kind, boundary, updated_by)
			VALUES ($1, $2, $3, $4, ST_GeomFromEWKB($5), $6) RETURNING id`,
			in.Code, in.Unit, in.Name, string(in.Kind), geom, by).Scan(&id)
		if err != nil {
			return fmt.Errorf("insert grid: %w", err)
		}
		out, err = scanGrid(tx.QueryRow(ctx, `SELECT `+gridColumns+` FROM grids g WHERE g.id = $1`, id))
		if err != nil {
			return err
		}
		out.Trimmed = trimmed
		return auditGrid(ctx, tx, "create", by, id, in.Code, in.Unit, nil)
	})
	return out, err
}

// auditGrid records a grid write with the state before (nil on create) and after.
func auditGrid(ctx context.Context, tx pgx.Tx, action, by string, id int64, code, unit string, before json.RawMessage) error {
	after, err := gridSnapshot(ctx, tx, id)
	if err != nil {
		return err
	}
	return audit(ctx, tx, AuditEntry{Actor: by, Action: action, Entity: "grid", EntityID: code, Unit: unit, Before: before, After: after})
}

// ReplaceGrid replaces name, kind and boundary of the active grid when its version is still
// version (optimistic concurrency): a stale version is geo.ErrPrecondition and changes
// nothing.
func (s *Store) ReplaceGrid(ctx context.Context, code string, version int, in GridInput, by string) (*GridDetail, error) {
	var out *GridDetail
	err := s.tx(ctx, "replace grid", func(tx pgx.Tx) error {
		cur, err := lockGrid(ctx, tx, code)
		if err != nil {
			return err
		}
		if cur.version != version {
			return fmt.Errorf("grid %s is at version %d, not %d: %w", code, cur.version, version, geo.ErrPrecondition)
		}
		if in.Kind == "" {
			in.Kind = cur.kind
		}
		geom, trimmed, err := checkTopology(ctx, tx, cur.unit, cur.id, in.Area)
		if err != nil {
			return err
		}
		before, err := gridSnapshot(ctx, tx, cur.id)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `
			UPDATE grids SET name = $2, kind = $3, boundary = ST_GeomFromEWKB($4), version = version + 1,
			       updated_by = $5, updated_at = now()
			WHERE id = $1`, cur.id, in.Name, string(in.Kind), geom, by)
		if err != nil {
			return fmt.Errorf("update grid: %w", err)
		}
		out, err = scanGrid(tx.QueryRow(ctx, `SELECT `+gridColumns+` FROM grids g WHERE g.id = $1`, cur.id))
		if err != nil {
			return err
		}
		out.Trimmed = trimmed
		return auditGrid(ctx, tx, "replace", by, cur.id, code, cur.unit, before)
	})
	return out, err
}

// RetireGrid ends an active grid (valid_to = now); it leaves current views and stays in the
// history. version < 0 skips the version check. Its households lose their grid.
func (s *Store) RetireGrid(ctx context.Context, code string, version int, by string) error {
	return s.tx(ctx, "retire grid", func(tx pgx.Tx) error {
		cur, err := lockGrid(ctx, tx, code)
		if err != nil {
			return err
		}
		if version >= 0 && cur.version != version {
			return fmt.Errorf("grid %s is at version %d, not %d: %w", code, cur.version, version, geo.ErrPrecondition)
		}
		before, err := gridSnapshot(ctx, tx, cur.id)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `
			UPDATE grids SET valid_to = now(), version = version + 1, updated_by = $2, updated_at = now()
			WHERE id = $1`, cur.id, by)
		if err == nil {
			_, err = tx.Exec(ctx, `UPDATE branches SET valid_to = now() WHERE grid_id = $1 AND valid_to IS NULL`, cur.id)
		}
		if err != nil {
			return err
		}
		return auditGrid(ctx, tx, "retire", by, cur.id, code, cur.unit, before)
	})
}

// GridVersion is one entry of a grid's history.
type GridVersion struct {
	Version   int             `json:"version"`
	Name      string          `json:"name"`
	Kind      string          `json:"kind"`
	ValidFrom time.Time       `json:"valid_from"`
	ValidTo   *time.Time      `json:"valid_to"`
	ChangedBy string          `json:"changed_by"`
	ChangedAt time.Time       `json:"changed_at"`
	Geometry  json.RawMessage `json:"geometry"`
}

// GridHistory lists every version of a grid (retired ones too), oldest first.
func (s *Store) GridHistory(ctx context.Context, code string) ([]GridVersion, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT v.version, v.name, v.kind, v.valid_from, v.valid_to, v.changed_by, v.changed_at,
		       ST_AsGeoJSON(v.boundary, 7)::bytea
		FROM grid_versions v JOIN grids g ON g.id = v.grid_id
		WHERE g.code = $1 ORDER BY v.version`, code)
	if err != nil {
		return nil, classify("grid history", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (GridVersion, error) {
		var v GridVersion
		var geom []byte
		err := row.Scan(&v.Version, &v.Name, &v.Kind, &v.ValidFrom, &v.ValidTo, &v.ChangedBy, &v.ChangedAt, &geom)
		v.Geometry = geom
		return v, err
	})
	if err != nil {
		return nil, classify("grid history", err)
	}
	if len(out) == 0 {
		return nil, geo.NotFound("grid", code)
	}
	return out, nil
}

type lockedGrid struct {
	id      int64
	unit    string
	kind    geo.GridKind
	version int
}

// lockGrid locks the active grid's unit, then the grid itself, in that order (the same
// order as CreateGrid), so edits in one unit queue instead of racing the overlap rule.
func lockGrid(ctx context.Context, tx pgx.Tx, code string) (*lockedGrid, error) {
	if len(code) != 15 {
		return nil, geo.NotFound("grid", code)
	}
	if _, err := lockUnit(ctx, tx, code[:12]); err != nil {
		return nil, err
	}
	var g lockedGrid
	err := tx.QueryRow(ctx, `SELECT id, unit_code, kind, version FROM grids WHERE code = $1 AND valid_to IS NULL FOR UPDATE`, code).
		Scan(&g.id, &g.unit, &g.kind, &g.version)
	if err != nil {
		return nil, notFoundIfNoRows(err, "grid", code)
	}
	return &g, nil
}

// lockUnit locks a village/community row for the rest of the transaction.
func lockUnit(ctx context.Context, tx pgx.Tx, code string) (geo.Level, error) {
	if code == "" {
		return "", geo.Invalid("unit", "a grid needs its village or community: give properties.unit or properties.code")
	}
	if d, err := geo.LevelOfCode("unit", code); err != nil {
		return "", err
	} else if d != 12 {
		return "", geo.Invalid("unit", fmt.Sprintf("grids belong to a village or community (12 digits), not %s", code))
	}
	var level geo.Level
	err := tx.QueryRow(ctx, `SELECT level FROM units WHERE code = $1 FOR UPDATE`, code).Scan(&level)
	if err != nil {
		return "", notFoundIfNoRows(err, "unit", code)
	}
	return level, nil
}

// checkTopology applies the rules to a new boundary of a grid in unit (exclude: the grid's
// own id when replacing) and returns the boundary to store (slivers
// trimmed, as EWKB) and the trimmed area in m². Broken rules are *geo.InputError values (422) with
// the rule and the offending location as GeoJSON.
func checkTopology(ctx context.Context, tx pgx.Tx, unit string, exclude int64, area geo.Area) ([]byte, float64, error) {
	wkb, err := area.EWKB()
	if err != nil {
		return nil, 0, err
	}
	// 1. Valid geometry: PostGIS says why and where.
	var valid bool
	var reason *string
	var where []byte
	err = tx.QueryRow(ctx, `
		SELECT (d).valid, (d).reason, ST_AsGeoJSON((d).location, 7)::bytea
		FROM (SELECT ST_IsValidDetail(ST_GeomFromEWKB($1)) AS d) x`, wkb).Scan(&valid, &reason, &where)
	if err != nil {
		return nil, 0, fmt.Errorf("validate geometry: %w", err)
	}
	if !valid {
		why := "invalid geometry"
		if reason != nil {
			why = *reason
		}
		return nil, 0, topology("invalid_geometry", "self_intersection", "geometry is not valid: "+why, where, nil)
	}
	// 2. Inside the unit, beyond a 1 m tolerance; 3. no overlap with an active sibling beyond
	// 1 m². Measured on the spheroid (geography), in metres.
	var beyond bool
	var beyondGeom []byte
	err = tx.QueryRow(ctx, `
		WITH g AS (SELECT ST_GeomFromEWKB($1) AS geom), u AS (SELECT boundary FROM units WHERE code = $2)
		SELECT NOT ST_IsEmpty(x), ST_AsGeoJSON(x, 7)::bytea
		FROM (SELECT ST_Difference(g.geom, ST_Buffer(u.boundary::geography, $3)::geometry) AS x FROM g, u) d`,
		wkb, unit, unitToleranceM).Scan(&beyond, &beyondGeom)
	if err != nil {
		return nil, 0, fmt.Errorf("check unit boundary: %w", err)
	}
	if beyond {
		return nil, 0, topology("topology_outside_unit", "inside_unit",
			fmt.Sprintf("the grid reaches outside its unit %s by more than %g m", unit, unitToleranceM), beyondGeom, nil)
	}
	rows, err := tx.Query(ctx, `
		WITH g AS (SELECT ST_GeomFromEWKB($1) AS geom)
		SELECT s.code, ST_Area(ST_Intersection(g.geom, s.boundary)::geography),
		       ST_AsGeoJSON(ST_Intersection(g.geom, s.boundary), 7)::bytea
		FROM grids s, g
		WHERE s.unit_code = $2 AND s.valid_to IS NULL AND s.id <> $3 AND s.boundary && g.geom
		  AND ST_Intersects(s.boundary, g.geom)
		ORDER BY 2 DESC`, wkb, unit, exclude)
	if err != nil {
		return nil, 0, fmt.Errorf("check overlaps: %w", err)
	}
	type overlap struct {
		code string
		area float64
		geom []byte
	}
	overlaps, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (overlap, error) {
		var o overlap
		return o, r.Scan(&o.code, &o.area, &o.geom)
	})
	if err != nil {
		return nil, 0, fmt.Errorf("check overlaps: %w", err)
	}
	if len(overlaps) > 0 && overlaps[0].area > overlapToleranceM2 {
		o := overlaps[0]
		return nil, 0, topology("topology_overlap", "no_overlap",
			fmt.Sprintf("the grid overlaps grid %s by %.1f m² (more than %g m²)", o.code, o.area, overlapToleranceM2),
			o.geom, map[string]any{"grid": o.code, "area_m2": o.area})
	}
	// 4. Trim the slivers: clip to the unit, cut away the siblings; keep polygons only.
	var out []byte
	var before, after float64
	var empty bool
	err = tx.QueryRow(ctx, `
		WITH g AS (SELECT ST_GeomFromEWKB($1) AS geom),
		     u AS (SELECT boundary FROM units WHERE code = $2),
		     s AS (SELECT ST_Union(boundary) AS geom FROM grids
		           WHERE unit_code = $2 AND valid_to IS NULL AND id <> $3 AND boundary && (SELECT geom FROM g)),
		     t AS (SELECT ST_Multi(ST_CollectionExtract(ST_MakeValid(
		                 CASE WHEN s.geom IS NULL THEN ST_Intersection(g.geom, u.boundary)
		                      ELSE ST_Difference(ST_Intersection(g.geom, u.boundary), s.geom) END), 3)) AS geom
		           FROM g, u, s)
		SELECT ST_AsEWKB(t.geom), ST_Area(g.geom::geography), ST_Area(t.geom::geography), ST_IsEmpty(t.geom)
		FROM t, g`, wkb, unit, exclude).Scan(&out, &before, &after, &empty)
	if err != nil {
		return nil, 0, fmt.Errorf("trim slivers: %w", err)
	}
	if empty {
		return nil, 0, topology("invalid_geometry", "not_empty", "nothing of the grid is left inside its unit", nil, nil)
	}
	return out, before - after, nil
}

func topology(code, rule, msg string, where []byte, extra map[string]any) error {
	d := map[string]any{"rule": rule}
	if len(where) > 0 {
		d["location"] = json.RawMessage(where)
	}
	for k, v := range extra {
		d[k] = v
	}
	return &geo.InputError{Code: code, Field: "geometry", Reason: msg, Details: d}
}

// tx runs fn in a transaction; an error rolls everything back.
func (s *Store) tx(ctx context.Context, op string, fn func(pgx.Tx) error) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return classify(op, err)
	}
	defer tx.Rollback(context.Background())
	if err := fn(tx); err != nil {
		var in *geo.InputError
		if errors.As(err, &in) || errors.Is(err, geo.ErrNotFound) || errors.Is(err, geo.ErrConflict) || errors.Is(err, geo.ErrPrecondition) {
			return err
		}
		return classify(op, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return classify(op, err)
	}
	return nil
}
