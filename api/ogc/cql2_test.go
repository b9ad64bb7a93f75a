package ogc

import (
	"errors"
	"strings"
	"testing"
	"time"

	"gridmap/geo"
)

func households(t *testing.T) *collection {
	t.Helper()
	for _, c := range collections() {
		if c.ID == "households" {
			return c
		}
	}
	t.Fatal("no households collection")
	return nil
}

func TestParseFilter(t *testing.T) {
	coll := households(t)
	for _, c := range []struct {
		src, sql string
		nargs    int
	}{
		{"residents >= 4", `(t."residents" >= $1::bigint)`, 1},
		{"4 < residents", `($1::bigint < t."residents")`, 1},
		{"party = TRUE AND NOT grid IS NULL", `((t."party" = $1::boolean) AND (NOT (t."grid" IS NULL)))`, 1},
		{"grid IS NOT NULL OR residents <> 2", `((t."grid" IS NOT NULL) OR (t."residents" <> $1::bigint))`, 1},
		{`"external_id" LIKE 'A%'`, `(t."external_id" LIKE $1)`, 1},
		{"residents BETWEEN 1 AND 3", `((t."residents" >= $1::bigint) AND (t."residents" <= $2::bigint))`, 2},
		{"residents not in (1, 2)", `(NOT ((t."residents" = $1::bigint) OR (t."residents" = $2::bigint)))`, 2},
		{"(residents = 1 OR residents = 2) AND party = false", `(((t."residents" = $1::bigint) OR (t."residents" = $2::bigint)) AND (t."party" = $3::boolean))`, 3},
		{"S_INTERSECTS(geometry, POINT(120.5 30.25))", `ST_Intersects(t.geom, ST_SetSRID(ST_GeomFromWKB($1), 4326))`, 1},
		{"s_intersects(BBOX(1,2,3,4), geom)", `ST_Intersects(ST_SetSRID(ST_GeomFromWKB($1), 4326), t.geom)`, 1},
		{"S_INTERSECTS(geometry, POLYGON((0 0, 1 0, 1 1, 0 0), (0.1 0.1, 0.2 0.1, 0.2 0.2, 0.1 0.1)))", `ST_Intersects(t.geom, ST_SetSRID(ST_GeomFromWKB($1), 4326))`, 1},
		{"S_INTERSECTS(geometry, MULTIPOINT((1 2), (3 4)))", `ST_Intersects(t.geom, ST_SetSRID(ST_GeomFromWKB($1), 4326))`, 1},
		{"external_id = 'it''s'", `(t."external_id" = $1::text)`, 1},
	} {
		var a args
		sql, err := parseFilter(c.src, coll, &a, crsKind{uri: CRS84, srid: 4326})
		if err != nil {
			t.Errorf("%q: %v", c.src, err)
			continue
		}
		if sql != c.sql || len(a) != c.nargs {
			t.Errorf("%q:\n got %s (%d args)\nwant %s (%d args)", c.src, sql, len(a), c.sql, c.nargs)
		}
	}
	var a args
	if _, err := parseFilter("external_id = 'it''s'", coll, &a, crsKind{uri: CRS84, srid: 4326}); err != nil || a[0] != "it's" {
		t.Fatalf("quote escape: %v %v", a, err)
	}
	var b args
	sql, err := parseFilter("S_INTERSECTS(geometry, POINT(3000000 13000000))", coll, &b, crsKind{uri: EPSG3857, srid: 3857})
	if err != nil || !strings.Contains(sql, "ST_Transform(ST_SetSRID(ST_GeomFromWKB($1), 3857), 4326)") {
		t.Fatalf("filter-crs 3857: %s %v", sql, err)
	}
}

func TestParseFilterErrors(t *testing.T) {
	coll := households(t)
	for _, src := range []string{
		"", "residents", "residents >", "residents = = 2", "head_name = 'x'", "residents = 'x'",
		"party = 1", "grid LIKE 3", "residents LIKE 'x'", "1 = 1", "(residents = 1", "residents = 1)",
		"grid = 'open", `"grid = 1`, "residents IN (1, 2", "residents BETWEEN 1 3", "grid IS 3",
		"S_INTERSECTS(geometry, POLYGON((0 0, 1 1)))", "S_INTERSECTS(geometry, POINT(1))",
		"S_INTERSECTS(geometry, CIRCLE(1 2))", "S_INTERSECTS(residents, POINT(1 2))",
		"S_INTERSECTS(geometry, BBOX(3, 2, 1, 4))", "residents = 1 AND", "residents # 2", "NOT",
	} {
		var a args
		_, err := parseFilter(src, coll, &a, crsKind{uri: CRS84, srid: 4326})
		var in *geo.InputError
		if !errors.As(err, &in) || in.Field != "filter" || !strings.Contains(in.Reason, "CQL2") {
			t.Errorf("%q: %v, want an input error on filter", src, err)
		}
	}
}

func TestCursorRoundTrip(t *testing.T) {
	c := cursor{after: 1<<40 + 7, matched: 1000000}
	got, err := decodeCursor(c.encode())
	if err != nil || got != c {
		t.Fatalf("%+v %v", got, err)
	}
	for _, bad := range []string{"", "abc", "AQ", c.encode() + "x"} {
		if _, err := decodeCursor(bad); err == nil {
			t.Errorf("cursor %q accepted", bad)
		}
	}
}

func TestParseDatetime(t *testing.T) {
	ts := func(s string) *time.Time { x, _ := time.Parse(time.RFC3339, s); return &x }
	for _, c := range []struct {
		in       string
		from, to *time.Time
	}{
		{"2024-01-02T03:04:05Z", ts("2024-01-02T03:04:05Z"), ts("2024-01-02T03:04:05Z")},
		{"2024-01-01T00:00:00Z/..", ts("2024-01-01T00:00:00Z"), nil},
		{"../2024-01-01", nil, ts("2024-01-01T00:00:00Z")},
		{"/2024-01-01T00:00:00Z", nil, ts("2024-01-01T00:00:00Z")},
	} {
		from, to, err := parseDatetime(c.in)
		if err != nil || !eqTime(from, c.from) || !eqTime(to, c.to) {
			t.Errorf("%q: %v %v %v", c.in, from, to, err)
		}
	}
	for _, bad := range []string{"yesterday", "..", "2024-02-01/2024-01-01", "2024-13-01"} {
		if _, _, err := parseDatetime(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func eqTime(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(*b)
}

func TestParseCRS(t *testing.T) {
	for in, want := range map[string]crsKind{
		"":            {uri: CRS84, srid: 4326},
		CRS84:         {uri: CRS84, srid: 4326},
		"[EPSG:4326]": {uri: EPSG4326, srid: 4326, latLon: true},
		EPSG3857:      {uri: EPSG3857, srid: 3857},
		"EPSG:3857":   {uri: EPSG3857, srid: 3857},
	} {
		got, err := parseCRS("crs", in)
		if err != nil || got != want {
			t.Errorf("%q: %+v %v", in, got, err)
		}
	}
	if _, err := parseCRS("crs", "EPSG:2000"); err == nil {
		t.Error("EPSG:2000 accepted")
	}
}

// TestViewsHaveTheirProperties guards the collection table: every property a view declares
// is a column name (the SQL text holds "AS name" or ".name").
func TestViewsHaveTheirProperties(t *testing.T) {
	ids := map[string]bool{}
	for _, c := range collections() {
		if ids[c.ID] || strings.Contains(c.ID, ".") {
			t.Errorf("collection id %q repeated or dotted", c.ID)
		}
		ids[c.ID] = true
		for _, col := range []string{" AS k", " AS fid", " AS geom"} {
			if !strings.Contains(c.View, col) {
				t.Errorf("%s: view lacks %s", c.ID, col)
			}
		}
		for _, p := range c.Props {
			if !strings.Contains(c.View, " AS "+p.Name) && !strings.Contains(c.View, "."+p.Name) {
				t.Errorf("%s: property %s is not a column of the view", c.ID, p.Name)
			}
			switch p.Type {
			case "string", "integer", "number", "boolean", "date-time":
			default:
				t.Errorf("%s.%s: type %q", c.ID, p.Name, p.Type)
			}
		}
	}
}
