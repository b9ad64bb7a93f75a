package ogc

// property is one queryable, filterable property of a collection: a column of its view.
type property struct {
	Name        string
	Type        string // JSON Schema type: string, integer, number, boolean; "date-time" is a string format
	Description string
}

// collection is one feature collection: a SQL view with the columns k (bigint keyset key,
// unique, ascending), fid (text feature id), geom (geometry, SRID 4326) and one column per
// property. No view selects personal fields (residents' names, phones, addresses).
type collection struct {
	ID          string
	Title       string
	Description string
	Geometry    string // queryables format: geometry-polygon, geometry-point, …
	NumericID   bool   // fid is an integer (written as a JSON number)
	Props       []property
	Temporal    bool   // valid_from / valid_to: datetime filters them; no datetime means current only
	Extent      string // which extent: units, grids, households, coverage
	View        string
	ScopeCol    string // the view's grid (or unit) code column that scoped callers are filtered by; "" for public collections
}

func (c *collection) prop(name string) (property, bool) {
	for _, p := range c.Props {
		if p.Name == name {
			return p, true
		}
	}
	return property{}, false
}

// collections returns gridmap's collections in listing order.
func collections() []*collection {
	return []*collection{
		{
			ID: "units", Title: "Administrative units", Extent: "units",
			Description: "County, townships/streets and villages/communities with their statistical codes",
			Geometry:    "geometry-multipolygon",
			Props: []property{
				{"code", "string", "statistical code (6, 9 or 12 digits)"},
				{"name", "string", ""},
				{"level", "string", "county | township | street | village | community"},
				{"parent", "string", "code of the parent unit"},
			},
			View: `SELECT u.id AS k, u.code AS fid, u.boundary AS geom,
				u.code, u.name, u.level, u.parent_code AS parent
			FROM units u`,
		},
		{
			ID: "grids", Title: "Grids", Extent: "grids", Temporal: true,
			Description: "Grids with their party branch, team leader and worker, counts and coverage state; " +
				"current grids unless datetime asks for another time",
			Geometry: "geometry-multipolygon",
			Props: []property{
				{"code", "string", "15-character grid code"},
				{"name", "string", ""},
				{"kind", "string", "village | community | specialised"},
				{"unit", "string", "code of the village/community"},
				{"unit_name", "string", ""},
				{"branch", "string", "party branch"},
				{"secretary", "string", "branch secretary"},
				{"leader", "string", "grid leader (网格长)"},
				{"worker", "string", "grid worker (网格员)"},
				{"households", "integer", ""},
				{"residents", "integer", ""},
				{"party_members", "integer", ""},
				{"coverage", "string", "ok | out_of_band | no_branch | no_worker"},
				{"version", "integer", ""},
				{"valid_from", "date-time", ""},
				{"valid_to", "date-time", "null while current"},
			},
			View: `SELECT g.id AS k, g.code AS fid, g.boundary AS geom,
				g.code, g.name, g.kind, g.unit_code AS unit, u.name AS unit_name,
				b.name AS branch, sp.name AS secretary,
				(SELECT string_agg(p.name, ', ' ORDER BY p.name) FROM grid_team t JOIN people p ON p.id = t.person_id
				 WHERE t.grid_id = g.id AND t.role = 'leader') AS leader,
				(SELECT string_agg(p.name, ', ' ORDER BY p.name) FROM grid_team t JOIN people p ON p.id = t.person_id
				 WHERE t.grid_id = g.id AND t.role = 'worker') AS worker,
				s.households, s.residents, s.party_members, s.state AS coverage,
				g.version, g.valid_from, g.valid_to
			FROM grids g
			JOIN units u ON u.code = g.unit_code
			LEFT JOIN grid_stats s ON s.grid_id = g.id
			LEFT JOIN branches b ON b.grid_id = g.id AND b.valid_to IS NULL
			LEFT JOIN people sp ON sp.id = b.secretary_id`,
		},
		{
			ID: "branches", ScopeCol: "grid", Title: "Party branches", Extent: "grids", NumericID: true,
			Description: "One point per active grid party branch (on its grid's label point)",
			Geometry:    "geometry-point",
			Props: []property{
				{"name", "string", "branch"},
				{"secretary", "string", ""},
				{"grid", "string", "grid code"},
				{"members", "integer", "party members living in the grid"},
				{"party_groups", "integer", ""},
			},
			View: `SELECT b.id AS k, b.id::text AS fid, ST_Transform(g.label_3857, 4326) AS geom,
				b.name, sp.name AS secretary, g.code AS grid, coalesce(s.party_members, 0) AS members,
				(SELECT count(*) FROM party_groups pg WHERE pg.branch_id = b.id)::int AS party_groups
			FROM branches b
			JOIN grids g ON g.id = b.grid_id
			LEFT JOIN people sp ON sp.id = b.secretary_id
			LEFT JOIN grid_stats s ON s.grid_id = g.id
			WHERE b.valid_to IS NULL AND g.valid_to IS NULL`,
		},
		{
			ID: "members", ScopeCol: "scope_code", Title: "Party members", Extent: "households", NumericID: true,
			Description: "Party members' homes with the number of households each serves (no names)",
			Geometry:    "geometry-point",
			Props: []property{
				{"grid", "string", "grid code of the home"},
				{"unit", "string", "village/community code"},
				{"households", "integer", "households served"},
				{"central", "boolean", "keeps a central household (党员中心户)"},
				{"cadre", "boolean", ""},
			},
			View: `SELECT p.id AS k, p.id::text AS fid, h.location AS geom,
				g.code AS grid, p.unit_code AS unit,
				(SELECT count(*) FROM member_household_links l WHERE l.member_id = p.id)::int AS households,
				EXISTS (SELECT 1 FROM central_households c WHERE c.person_id = p.id) AS central, p.cadre,
				coalesce(g.code, p.unit_code) AS scope_code
			FROM people p
			JOIN households h ON h.id = p.household_id
			LEFT JOIN grids g ON g.id = h.grid_id
			WHERE p.party_member`,
		},
		{
			ID: "households", ScopeCol: "scope_code", Title: "Households", Extent: "households", NumericID: true,
			Description: "Household points with their grid (no names, phones or addresses)",
			Geometry:    "geometry-point",
			Props: []property{
				{"external_id", "string", "household number in its village/community"},
				{"unit", "string", "village/community code"},
				{"grid", "string", "grid code (null when in no grid)"},
				{"residents", "integer", ""},
				{"party", "boolean", "a party member lives here"},
			},
			View: `SELECT h.id AS k, h.id::text AS fid, h.location AS geom,
				h.external_id, h.unit_code AS unit, g.code AS grid, h.residents, h.party,
				coalesce(g.code, h.unit_code) AS scope_code
			FROM households h
			LEFT JOIN grids g ON g.id = h.grid_id`,
		},
		{
			ID: "links", ScopeCol: "grid", Title: "Member–household links", Extent: "households", NumericID: true,
			Description: "A line from each party member's home to each household they serve",
			Geometry:    "geometry-linestring",
			Props: []property{
				{"member", "integer", "member id (members collection)"},
				{"household", "integer", "household id (households collection)"},
				{"grid", "string", "grid code of the household"},
				{"distance_m", "number", "great-circle distance in metres"},
			},
			View: `SELECT l.household_id AS k, l.household_id::text AS fid, ST_MakeLine(mh.location, h.location) AS geom,
				l.member_id AS member, l.household_id AS household, g.code AS grid,
				round(ST_DistanceSphere(mh.location, h.location)::numeric, 1)::float8 AS distance_m
			FROM member_household_links l
			JOIN households h ON h.id = l.household_id
			JOIN people p ON p.id = l.member_id
			JOIN households mh ON mh.id = p.household_id
			LEFT JOIN grids g ON g.id = h.grid_id`,
		},
		{
			ID: "coverage", ScopeCol: "scope_code", Title: "Coverage problems", Extent: "coverage",
			Description: "Current grids out of their household band or without branch or worker, and households in no grid",
			Geometry:    "geometry-any",
			Props: []property{
				{"kind", "string", "out_of_band | no_branch | no_worker | uncovered_household"},
				{"grid", "string", "grid code (grids)"},
				{"households", "integer", ""},
			},
			View: `SELECT g.id * 2 AS k, 'grid-' || g.code AS fid, g.boundary AS geom,
				s.state AS kind, g.code AS grid, s.households, g.code AS scope_code
			FROM grids g JOIN grid_stats s ON s.grid_id = g.id
			WHERE g.valid_to IS NULL AND s.state <> 'ok'
			UNION ALL
			SELECT h.id * 2 + 1, 'household-' || h.id, h.location, 'uncovered_household', NULL, 1, h.unit_code
			FROM households h WHERE h.grid_id IS NULL`,
		},
	}
}
