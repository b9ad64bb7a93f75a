// Package tiles renders gridmap's map layers as Mapbox Vector Tiles in PostGIS (ST_AsMVT over
// stored Web-Mercator geometry, one prepared statement per layer), caches gzipped tiles in
// memory with strong ETags, drops the cached tiles of an area when the database announces a
// change there (LISTEN gridmap_changes, so replicas stay coherent), and describes the layers
// as TileJSON 3.0.0 and a MapLibre style.
package tiles

// Layer is one map layer: its SQL, the zooms it has data at, and its fields for TileJSON.
// The SQL takes $1 = z, $2 = x, $3 = y and returns one bytea: the layer's MVT (empty when
// the tile holds nothing). ST_AsMVT skips rows whose clipped geometry is NULL, so the
// queries do not filter them (a filter would clip every geometry twice). No layer carries personal fields (names of residents, phones,
// addresses).
type Layer struct {
	Name        string
	Description string
	MinZoom     int
	MaxZoom     int
	Fields      map[string]string // field → type/description, for TileJSON vector_layers
	sql         string
	lowSQL      string // used below lowZoom when set (aggregated form)
	lowZoom     int
	// Scoped layers are not public: their SQL takes $4, the caller's subtrees (text[];
	// NULL for everything), and keeps only the rows inside them (in_scope).
	Scoped bool
}

// The tile envelope with a 64/4096 buffer, for index-backed filters; WGS84 for point tables.
const (
	envelope     = `ST_TileEnvelope($1, $2, $3)`
	envelopeBuf  = `ST_TileEnvelope($1, $2, $3, margin => 0.015625)`
	envelope4326 = `ST_Transform(ST_TileEnvelope($1, $2, $3, margin => 0.015625), 4326)`
	mvtGeom      = `, ` + envelope + `, 4096, 64, true)`
)

// MaxZoom is the deepest zoom served.
const MaxZoom = 22

// Layers returns gridmap's layers in drawing order.
func Layers() []Layer {
	return []Layer{
		{
			Name: "units", Description: "Administrative units: county, township/street, village/community",
			MinZoom: 0, MaxZoom: MaxZoom,
			Fields: map[string]string{"code": "String: statistical code", "name": "String", "level": "String: county|township|street|village|community"},
			sql: `SELECT ST_AsMVT(t, 'units', 4096, 'geom', 'id') FROM (
				SELECT u.id, u.code, u.name, u.level, ST_AsMVTGeom(u.boundary_3857` + mvtGeom + ` AS geom
				FROM units u WHERE u.boundary_3857 && ` + envelopeBuf + `
				  AND (length(u.code) <= 6 + 3 * greatest(0, least(2, ($1 - 7) / 3)))
			) t`,
		},
		{
			Name: "grids", Description: "Active grids with their party branch, counts and coverage state",
			MinZoom: 0, MaxZoom: MaxZoom,
			Fields: map[string]string{
				"code": "String: 15-character grid code", "name": "String", "kind": "String: village|community|specialised",
				"unit": "String: village/community name", "branch": "String: party branch", "secretary": "String: branch secretary",
				"party_groups": "Number", "households": "Number", "residents": "Number", "party_members": "Number",
				"coverage": "String: ok|out_of_band|no_branch|no_worker",
			},
			sql: `SELECT ST_AsMVT(t, 'grids', 4096, 'geom', 'id') FROM (
				SELECT s.grid_id AS id, s.code, s.name, s.kind, s.unit_name AS unit, s.branch, s.secretary,
				       s.party_groups, s.households, s.residents, s.party_members, s.state AS coverage,
				       ST_AsMVTGeom(s.boundary_3857` + mvtGeom + ` AS geom
				FROM grid_stats s
				WHERE s.boundary_3857 && ` + envelopeBuf + `
			) t`,
		},
		{
			Name: "branches", Scoped: true, Description: "One labelled point per grid party branch",
			MinZoom: 10, MaxZoom: MaxZoom,
			Fields: map[string]string{"name": "String: branch", "secretary": "String", "grid": "String: grid code", "members": "Number: party members in the grid"},
			sql: `SELECT ST_AsMVT(t, 'branches', 4096, 'geom', 'id') FROM (
				SELECT s.branch_id AS id, s.branch AS name, s.secretary, s.code AS grid, s.party_members AS members,
				       ST_AsMVTGeom(s.label_3857` + mvtGeom + ` AS geom
				FROM grid_stats s
				WHERE s.branch_id IS NOT NULL AND s.label_3857 && ` + envelopeBuf + ` AND ($4::text[] IS NULL OR in_scope(s.code, $4))
			) t`,
		},
		{
			Name: "members", Scoped: true, Description: "Party members' homes, with the households each serves",
			MinZoom: 13, MaxZoom: MaxZoom,
			Fields: map[string]string{"grid": "String: grid code", "households": "Number: households served", "central": "Boolean: keeps a central household (党员中心户)", "cadre": "Boolean"},
			sql: `SELECT ST_AsMVT(t, 'members', 4096, 'geom', 'id') FROM (
				SELECT p.id, g.code AS grid,
				       (SELECT count(*) FROM member_household_links l WHERE l.member_id = p.id)::int AS households,
				       EXISTS (SELECT 1 FROM central_households c WHERE c.person_id = p.id) AS central, p.cadre,
				       ST_AsMVTGeom(ST_Transform(h.location, 3857)` + mvtGeom + ` AS geom
				FROM households h
				JOIN people p ON p.household_id = h.id AND p.party_member
				LEFT JOIN grids g ON g.id = h.grid_id
				WHERE h.location && ` + envelope4326 + ` AND ($4::text[] IS NULL OR in_scope(coalesce(g.code, h.unit_code), $4))
			) t`,
		},
		{
			Name: "households", Scoped: true, Description: "Households: points from z15 (grid code, party flag); per-grid counts below",
			MinZoom: 10, MaxZoom: MaxZoom,
			Fields:  map[string]string{"grid": "String: grid code", "party": "Boolean (points)", "households": "Number (per-grid counts below z15)", "party_members": "Number (per-grid counts below z15)"},
			lowZoom: 15,
			lowSQL: `SELECT ST_AsMVT(t, 'households', 4096, 'geom', 'id') FROM (
				SELECT s.grid_id AS id, s.code AS grid, s.households, s.party_members,
				       ST_AsMVTGeom(s.label_3857` + mvtGeom + ` AS geom
				FROM grid_stats s
				WHERE s.households > 0 AND s.label_3857 && ` + envelopeBuf + ` AND ($4::text[] IS NULL OR in_scope(s.code, $4))
			) t`,
			sql: `SELECT ST_AsMVT(t, 'households', 4096, 'geom', 'id') FROM (
				SELECT h.id, g.code AS grid, h.party,
				       ST_AsMVTGeom(ST_Transform(h.location, 3857)` + mvtGeom + ` AS geom
				FROM households h LEFT JOIN grids g ON g.id = h.grid_id
				WHERE h.location && ` + envelope4326 + ` AND ($4::text[] IS NULL OR in_scope(coalesce(g.code, h.unit_code), $4))
			) t`,
		},
		{
			Name: "links", Scoped: true, Description: "Lines from each party member's home to the households they serve",
			MinZoom: 16, MaxZoom: MaxZoom,
			Fields: map[string]string{"grid": "String: grid code", "member": "Number: member id"},
			sql: `SELECT ST_AsMVT(t, 'links', 4096, 'geom', 'id') FROM (
				SELECT h.id, g.code AS grid, l.member_id AS member,
				       ST_AsMVTGeom(ST_Transform(ST_MakeLine(mh.location, h.location), 3857)` + mvtGeom + ` AS geom
				FROM households h
				JOIN member_household_links l ON l.household_id = h.id
				JOIN people p ON p.id = l.member_id
				JOIN households mh ON mh.id = p.household_id
				LEFT JOIN grids g ON g.id = h.grid_id
				WHERE h.location && ` + envelope4326 + ` AND ($4::text[] IS NULL OR in_scope(coalesce(g.code, h.unit_code), $4))
			) t`,
		},
		{
			Name: "coverage", Scoped: true, Description: "Coverage problems: grids out of band or without branch/worker; households in no grid (z12+)",
			MinZoom: 0, MaxZoom: MaxZoom,
			Fields: map[string]string{"kind": "String: out_of_band|no_branch|no_worker|uncovered_household", "grid": "String: grid code", "households": "Number"},
			sql: `SELECT ST_AsMVT(t, 'coverage', 4096, 'geom', 'id') FROM (
				SELECT s.grid_id AS id, s.state AS kind, s.code AS grid, s.households,
				       ST_AsMVTGeom(s.boundary_3857` + mvtGeom + ` AS geom
				FROM grid_stats s
				WHERE s.state <> 'ok' AND s.boundary_3857 && ` + envelopeBuf + ` AND ($4::text[] IS NULL OR in_scope(s.code, $4))
				UNION ALL
				SELECT NULL, 'uncovered_household', NULL, 1,
				       ST_AsMVTGeom(ST_Transform(h.location, 3857)` + mvtGeom + `
				FROM households h
				WHERE $1 >= 12 AND h.grid_id IS NULL AND h.location && ` + envelope4326 + ` AND ($4::text[] IS NULL OR in_scope(h.unit_code, $4))
			) t`,
		},
	}
}

// query returns the SQL for the layer at zoom z, or "" when the layer has nothing there.
func (l *Layer) query(z int) string {
	if z < l.MinZoom || z > l.MaxZoom {
		return ""
	}
	if l.lowSQL != "" && z < l.lowZoom {
		return l.lowSQL
	}
	return l.sql
}
