package store

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkb"

	"gridmap/geo"
)

// Automatic drawing in database mode: what a drawing job reads of a unit (its boundary
// without the grids kept fixed, its households, the band in force, a fingerprint of its
// grids) and how a proposal is applied (retire the old grids, create the new ones, in one
// transaction).

// DrawUnit is one village or community as a drawing job sees it.
type DrawUnit struct {
	Code  string
	Name  string
	Level geo.Level
	// Boundary is the unit's boundary minus the kept grids (lon/lat, WGS84).
	Boundary   orb.MultiPolygon
	Households []DrawHousehold // outside the kept grids, ordered by id
	Keep       []string        // kept grid codes of this unit
	// The band in force (effective_span_policy): households and residents per grid.
	HouseholdsMin, HouseholdsMax int
	ResidentsMin, ResidentsMax   int
	// NextSeq is the first free grid sequence (codes of retired grids are never reused).
	NextSeq int
	// Fingerprint changes whenever a grid of the unit is created, edited or retired.
	Fingerprint string
}

// DrawHousehold is one household to draw.
type DrawHousehold struct {
	ID         int64
	ExternalID string
	Loc        orb.Point
	Residents  int
	Grid       string // code of its current active grid, "" when it has none
}

// DrawScope checks a drawing request's unit and kept grids and returns the villages and
// communities to draw: the unit itself (12 digits) or every village/community of a
// township/street (9 digits), ordered by code. Kept codes must be active grids of those
// units; a bad one is a *geo.InputError on field "keep".
func (s *Store) DrawScope(ctx context.Context, unit string, keep []string) ([]string, error) {
	depth, err := geo.LevelOfCode("unit", unit)
	if err != nil {
		return nil, err
	}
	if depth == 6 {
		return nil, geo.Invalid("unit", fmt.Sprintf("draw a village/community (12 digits) or a township/street (9 digits), not the county %s", unit))
	}
	if err := s.unitMustExist(ctx, unit); err != nil {
		return nil, err
	}
	units := []string{unit}
	if depth == 9 {
		rows, err := s.pool.Query(ctx, `SELECT code FROM units WHERE parent_code = $1 ORDER BY code`, unit)
		if err != nil {
			return nil, classify("list units to draw", err)
		}
		if units, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
			return nil, classify("list units to draw", err)
		}
		if len(units) == 0 {
			return nil, geo.Invalid("unit", fmt.Sprintf("%s has no villages or communities to draw", unit))
		}
	}
	if len(keep) == 0 {
		return units, nil
	}
	rows, err := s.pool.Query(ctx, `
		SELECT k.code, g.unit_code
		FROM unnest($1::text[]) AS k(code)
		LEFT JOIN grids g ON g.code = k.code AND g.valid_to IS NULL`, keep)
	if err != nil {
		return nil, classify("look up kept grids", err)
	}
	type kept struct {
		code string
		unit *string
	}
	found, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (kept, error) {
		var k kept
		return k, r.Scan(&k.code, &k.unit)
	})
	if err != nil {
		return nil, classify("look up kept grids", err)
	}
	for _, k := range found {
		if k.unit == nil {
			return nil, geo.Invalid("keep", fmt.Sprintf("grid %q is not an active grid", k.code))
		}
		if !slices.Contains(units, *k.unit) {
			return nil, geo.Invalid("keep", fmt.Sprintf("grid %s belongs to unit %s, outside %s", k.code, *k.unit, unit))
		}
	}
	return units, nil
}

// LoadDrawUnit reads one village or community for drawing, in one read-only snapshot: the
// boundary minus the kept grids (those among keep that belong to the unit), the households
// outside the kept grids with their current grids, the band in force, the next free grid
// sequence and the fingerprint of the unit's grids.
func (s *Store) LoadDrawUnit(ctx context.Context, code string, keep []string) (*DrawUnit, error) {
	u := &DrawUnit{Code: code}
	err := s.drawSnapshot(ctx, "load unit to draw", func(tx pgx.Tx) error {
		var boundary []byte
		err := tx.QueryRow(ctx, `
			WITH k AS (SELECT ST_Union(boundary) AS geom FROM grids
			           WHERE unit_code = $1 AND valid_to IS NULL AND code = ANY ($2::text[]))
			SELECT u.name, u.level,
			       ST_AsBinary(CASE WHEN k.geom IS NULL THEN u.boundary
			                        ELSE ST_Multi(ST_CollectionExtract(ST_Difference(u.boundary, k.geom), 3)) END),
			       coalesce((SELECT array_agg(code ORDER BY code) FROM grids
			                 WHERE unit_code = $1 AND valid_to IS NULL AND code = ANY ($2::text[])), '{}')
			FROM units u, k WHERE u.code = $1`, code, keep).Scan(&u.Name, &u.Level, &boundary, &u.Keep)
		if err != nil {
			return notFoundIfNoRows(err, "unit", code)
		}
		g, err := wkb.Unmarshal(boundary)
		if err != nil {
			return fmt.Errorf("decode boundary of %s: %w", code, err)
		}
		switch g := g.(type) {
		case orb.MultiPolygon:
			u.Boundary = g
		case orb.Polygon:
			u.Boundary = orb.MultiPolygon{g}
		default:
			return fmt.Errorf("boundary of %s is a %T", code, g)
		}
		if u.Level != geo.LevelVillage && u.Level != geo.LevelCommunity {
			return geo.Invalid("unit", fmt.Sprintf("grids belong to a village or community, not the %s %s", u.Level, code))
		}
		err = tx.QueryRow(ctx, `
			SELECT grid_households_min, grid_households_max, grid_residents_min, grid_residents_max,
			       (SELECT coalesce(max(right(code, 3)::int), 0) + 1 FROM grids WHERE unit_code = $1),
			       (SELECT md5(coalesce(string_agg(id || ':' || version, ',' ORDER BY id), ''))
			        FROM grids WHERE unit_code = $1)
			FROM effective_span_policy($1)`, code).
			Scan(&u.HouseholdsMin, &u.HouseholdsMax, &u.ResidentsMin, &u.ResidentsMax, &u.NextSeq, &u.Fingerprint)
		if err != nil {
			return fmt.Errorf("span policy of %s: %w", code, err)
		}
		rows, err := tx.Query(ctx, `
			SELECT h.id, h.external_id, ST_X(h.location), ST_Y(h.location), h.residents, coalesce(g.code, '')
			FROM households h
			LEFT JOIN grids g ON g.id = h.grid_id AND g.valid_to IS NULL
			WHERE h.unit_code = $1
			  AND NOT EXISTS (SELECT 1 FROM grids k
			                  WHERE k.unit_code = $1 AND k.valid_to IS NULL AND k.code = ANY ($2::text[])
			                    AND k.boundary && h.location AND ST_Intersects(k.boundary, h.location))
			ORDER BY h.id`, code, keep)
		if err != nil {
			return fmt.Errorf("households of %s: %w", code, err)
		}
		u.Households, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (DrawHousehold, error) {
			var h DrawHousehold
			err := r.Scan(&h.ID, &h.ExternalID, &h.Loc[0], &h.Loc[1], &h.Residents, &h.Grid)
			return h, err
		})
		if err != nil {
			return fmt.Errorf("households of %s: %w", code, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}

// DrawApply is the proposal for one unit: the grids to create, in code order.
type DrawApply struct {
	Unit        string
	Fingerprint string   // as read by LoadDrawUnit; a different one now is geo.ErrConflict
	Keep        []string // grids left as they are
	Grids       []orb.MultiPolygon
}

// AppliedGrid is a grid created by ApplyDraw.
type AppliedGrid struct {
	ID         int64  `json:"id"`
	Code       string `json:"code"`
	Unit       string `json:"unit"`
	Name       string `json:"name"`
	Households int    `json:"households"`
}

// AppliedDraw is what ApplyDraw changed.
type AppliedDraw struct {
	Retired []string      `json:"retired"`
	Created []AppliedGrid `json:"created"`
}

// ApplyDraw applies proposals in one transaction: for each unit it locks the unit, checks
// that its grids have not changed since they were read (else geo.ErrConflict and nothing
// is written), retires its active grids except the kept ones (their branches too), and
// creates the new grids with the next sequences in the given order. The households are
// placed in the new grids by the grid triggers, in the same transaction.
func (s *Store) ApplyDraw(ctx context.Context, plans []DrawApply, by string) (*AppliedDraw, error) {
	out := &AppliedDraw{Retired: []string{}, Created: []AppliedGrid{}}
	err := s.tx(ctx, "apply drawing", func(tx pgx.Tx) error {
		for _, p := range plans {
			level, err := lockUnit(ctx, tx, p.Unit)
			if err != nil {
				return err
			}
			var name, fingerprint string
			var next int
			err = tx.QueryRow(ctx, `
				SELECT u.name,
				       (SELECT md5(coalesce(string_agg(id || ':' || version, ',' ORDER BY id), ''))
				        FROM grids WHERE unit_code = $1),
				       (SELECT coalesce(max(right(code, 3)::int), 0) + 1 FROM grids WHERE unit_code = $1)
				FROM units u WHERE u.code = $1`, p.Unit).Scan(&name, &fingerprint, &next)
			if err != nil {
				return fmt.Errorf("read grids of %s: %w", p.Unit, err)
			}
			if fingerprint != p.Fingerprint {
				return fmt.Errorf("the grids of unit %s changed since the drawing (or it was applied already); draw again: %w", p.Unit, geo.ErrConflict)
			}
			rows, err := tx.Query(ctx, `
				UPDATE grids SET valid_to = now(), version = version + 1, updated_by = $3, updated_at = now()
				WHERE unit_code = $1 AND valid_to IS NULL AND code <> ALL ($2::text[])
				RETURNING id, code`, p.Unit, p.Keep, by)
			if err != nil {
				return fmt.Errorf("retire grids of %s: %w", p.Unit, err)
			}
			type retired struct {
				id   int64
				code string
			}
			old, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (retired, error) {
				var x retired
				return x, r.Scan(&x.id, &x.code)
			})
			if err != nil {
				return fmt.Errorf("retire grids of %s: %w", p.Unit, err)
			}
			ids := make([]int64, len(old))
			for i, o := range old {
				ids[i] = o.id
				out.Retired = append(out.Retired, o.code)
			}
			if _, err := tx.Exec(ctx, `UPDATE branches SET valid_to = now() WHERE grid_id = ANY ($1) AND valid_to IS NULL`, ids); err != nil {
				return fmt.Errorf("retire branches of %s: %w", p.Unit, err)
			}
			kind := geo.KindCommunity
			if level == geo.LevelVillage {
				kind = geo.KindVillage
			}
			var created []int64
			for i, poly := range p.Grids {
				code, err := geo.GridCode(p.Unit, next+i)
				if err != nil {
					return err
				}
				g := AppliedGrid{Code: code, Unit: p.Unit, Name: fmt.Sprintf("%s第%d网格", name, next+i)}
				data, err := wkb.Marshal(poly)
				if err != nil {
					return fmt.Errorf("encode grid %s: %w", code, err)
				}
				err = tx.QueryRow(ctx, `
					WITH g AS (SELECT ST_GeomFromWKB($5, 4326) AS geom)
					INSERT INTO grids (code, unit_code, name, kind, boundary, updated_by)
					SELECT $1, $2, $3, $4,
					       CASE WHEN ST_IsValid(g.geom) THEN ST_Multi(g.geom)
					            ELSE ST_Multi(ST_CollectionExtract(ST_MakeValid(g.geom), 3)) END, $6
					FROM g RETURNING id`, code, p.Unit, g.Name, string(kind), data, by).Scan(&g.ID)
				if err != nil {
					return fmt.Errorf("insert grid %s: %w", code, err)
				}
				out.Created = append(out.Created, g)
				created = append(created, g.ID)
			}
			if err := auditDraw(ctx, tx, p.Unit, ids, created); err != nil {
				return err
			}
		}
		// The triggers have placed the households by now; count them per new grid.
		for i := range out.Created {
			g := &out.Created[i]
			if err := tx.QueryRow(ctx, `SELECT count(*) FROM households WHERE grid_id = $1`, g.ID).Scan(&g.Households); err != nil {
				return fmt.Errorf("count households of %s: %w", g.Code, err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// drawSnapshot runs fn in a read-only repeatable-read transaction: one consistent snapshot.
func (s *Store) drawSnapshot(ctx context.Context, op string, fn func(pgx.Tx) error) error {
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return classify(op, err)
	}
	defer tx.Rollback(context.Background())
	if err := fn(tx); err != nil {
		return drawErr(op, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return classify(op, err)
	}
	return nil
}

// drawErr passes domain errors through unchanged and classifies the rest.
func drawErr(op string, err error) error {
	var in *geo.InputError
	if errors.As(err, &in) || errors.Is(err, geo.ErrNotFound) || errors.Is(err, geo.ErrConflict) {
		return err
	}
	return classify(op, err)
}

// auditDraw records an applied drawing of a unit: the grids it retired and the grids it
// created, with their geometry, in the drawing's transaction.
func auditDraw(ctx context.Context, tx pgx.Tx, unit string, retired, created []int64) error {
	const grids = `SELECT coalesce(json_agg(json_build_object('code', code, 'name', name, 'version', version,
		'geometry', ST_AsGeoJSON(boundary, 7)::json) ORDER BY code), '[]')::text FROM grids WHERE id = ANY ($1)`
	var before, after []byte
	if err := tx.QueryRow(ctx, grids, retired).Scan(&before); err != nil {
		return fmt.Errorf("audit drawing of %s: %w", unit, err)
	}
	if err := tx.QueryRow(ctx, grids, created).Scan(&after); err != nil {
		return fmt.Errorf("audit drawing of %s: %w", unit, err)
	}
	return audit(ctx, tx, AuditEntry{Action: "apply", Entity: "draw", EntityID: unit, Unit: unit, Before: before, After: after})
}
