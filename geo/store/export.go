package store

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// Exports stream rows to a callback one at a time, straight off the wire, so a million rows
// never sit in memory. A unit "" means every unit. No export carries personal fields
// (residents' names, phones, addresses; people's names and phones) until callers can be
// told apart (accounts and roles come with the auth work).

// HouseholdRow is one exported household.
type HouseholdRow struct {
	ID         int64
	ExternalID string
	Unit       string
	Lon, Lat   float64
	Residents  int32
	Party      bool
	Grid       *string
}

// ExportHouseholds streams the households of the unit's subtree in id order.
func (s *Store) ExportHouseholds(ctx context.Context, unit string, fn func(*HouseholdRow) error) error {
	rows, err := s.pool.Query(ctx, `
		SELECT h.id, h.external_id, h.unit_code, ST_X(h.location), ST_Y(h.location), h.residents, h.party, g.code
		FROM households h LEFT JOIN grids g ON g.id = h.grid_id
		WHERE $1 = '' OR h.unit_code BETWEEN $1 AND $1 || '999999'
		ORDER BY h.id`, unit)
	if err != nil {
		return classify("export households", err)
	}
	var r HouseholdRow
	_, err = pgx.ForEachRow(rows, []any{&r.ID, &r.ExternalID, &r.Unit, &r.Lon, &r.Lat, &r.Residents, &r.Party, &r.Grid},
		func() error { return fn(&r) })
	return wrapExport("households", err)
}

// GridRow is one exported active grid; Geometry is GeoJSON or WKT as asked.
type GridRow struct {
	ID         int64
	Code       string
	Name       string
	Kind       string
	Unit       string
	Version    int32
	Households int32
	Residents  int32
	Geometry   []byte
}

// ExportGrids streams the active grids of the unit's subtree in code order, geometry as
// GeoJSON (wkt false) or WKT.
func (s *Store) ExportGrids(ctx context.Context, unit string, wkt bool, fn func(*GridRow) error) error {
	rows, err := s.pool.Query(ctx, `
		SELECT g.id, g.code, g.name, g.kind, g.unit_code, g.version,
		       coalesce(st.households, 0), coalesce(st.residents, 0),
		       CASE WHEN $2 THEN ST_AsText(g.boundary, 7) ELSE ST_AsGeoJSON(g.boundary, 7) END::bytea
		FROM grids g LEFT JOIN grid_stats st ON st.grid_id = g.id
		WHERE g.valid_to IS NULL AND ($1 = '' OR g.unit_code BETWEEN $1 AND $1 || '999999')
		ORDER BY g.code`, unit, wkt)
	if err != nil {
		return classify("export grids", err)
	}
	var r GridRow
	_, err = pgx.ForEachRow(rows, []any{&r.ID, &r.Code, &r.Name, &r.Kind, &r.Unit, &r.Version, &r.Households, &r.Residents, &r.Geometry},
		func() error { return fn(&r) })
	return wrapExport("grids", err)
}

// PersonRow is one exported person, without name or phone.
type PersonRow struct {
	ID          int64
	Unit        string
	PartyMember bool
	Cadre       bool
	Household   *int64
	Grid        *string
	Branch      *int64
	Group       *int64
	Lon, Lat    *float64 // home
}

// ExportPeople streams the people of the unit's subtree in id order.
func (s *Store) ExportPeople(ctx context.Context, unit string, fn func(*PersonRow) error) error {
	rows, err := s.pool.Query(ctx, `
		SELECT p.id, p.unit_code, p.party_member, p.cadre, p.household_id, g.code, p.branch_id, p.group_id,
		       ST_X(h.location), ST_Y(h.location)
		FROM people p
		LEFT JOIN households h ON h.id = p.household_id
		LEFT JOIN grids g ON g.id = h.grid_id
		WHERE $1 = '' OR p.unit_code BETWEEN $1 AND $1 || '999999'
		ORDER BY p.id`, unit)
	if err != nil {
		return classify("export people", err)
	}
	var r PersonRow
	_, err = pgx.ForEachRow(rows, []any{&r.ID, &r.Unit, &r.PartyMember, &r.Cadre, &r.Household, &r.Grid, &r.Branch, &r.Group, &r.Lon, &r.Lat},
		func() error { return fn(&r) })
	return wrapExport("people", err)
}

// LinkRow is one member → household link with both ends and its length in metres.
type LinkRow struct {
	Member     int64
	Household  int64
	ExternalID string
	Grid       *string
	FromLon    float64
	FromLat    float64
	ToLon      float64
	ToLat      float64
	DistanceM  float64
}

// ExportLinks streams the member → household links whose household is in the unit's subtree.
func (s *Store) ExportLinks(ctx context.Context, unit string, fn func(*LinkRow) error) error {
	rows, err := s.pool.Query(ctx, `
		SELECT l.member_id, l.household_id, h.external_id, g.code,
		       ST_X(mh.location), ST_Y(mh.location), ST_X(h.location), ST_Y(h.location),
		       ST_Distance(mh.location::geography, h.location::geography, false)
		FROM member_household_links l
		JOIN households h ON h.id = l.household_id
		JOIN people p ON p.id = l.member_id
		JOIN households mh ON mh.id = p.household_id
		LEFT JOIN grids g ON g.id = h.grid_id
		WHERE $1 = '' OR h.unit_code BETWEEN $1 AND $1 || '999999'
		ORDER BY l.household_id`, unit)
	if err != nil {
		return classify("export links", err)
	}
	var r LinkRow
	_, err = pgx.ForEachRow(rows, []any{&r.Member, &r.Household, &r.ExternalID, &r.Grid, &r.FromLon, &r.FromLat, &r.ToLon, &r.ToLat, &r.DistanceM},
		func() error { return fn(&r) })
	return wrapExport("links", err)
}

func wrapExport(what string, err error) error {
	if err == nil {
		return nil
	}
	return classify(fmt.Sprintf("export %s", what), err)
}
