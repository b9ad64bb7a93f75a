package geo_test

import (
	"encoding/json"
	"errors"
	"math"
	"testing"

	"gridmap/geo"
	"gridmap/geo/coord"
)

func TestParseArea(t *testing.T) {
	ok := []string{
		`{"type":"Polygon","coordinates":[[[114,30],[114.1,30],[114.1,30.1],[114,30.1],[114,30]]]}`,
		`{"type":"MultiPolygon","coordinates":[[[[114,30],[114.1,30],[114.1,30.1],[114,30]]],[[[115,30],[115.1,30],[115.1,30.1],[115,30]]]]}`,
		`{"type":"Polygon","crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:OGC:1.3:CRS84"}},"coordinates":[[[114,30],[114.1,30],[114.1,30.1],[114,30]]]}`,
	}
	for _, s := range ok {
		a, err := geo.ParseArea("geometry", json.RawMessage(s), coord.WGS84)
		if err != nil || a.MultiPolygon.NumPolygons() == 0 || a.MultiPolygon.SRID() != 4326 {
			t.Fatalf("%s: %v", s, err)
		}
		if _, err := a.EWKB(); err != nil {
			t.Fatal(err)
		}
	}
	bad := map[string]string{
		"empty":        ``,
		"null":         `null`,
		"point":        `{"type":"Point","coordinates":[114,30]}`,
		"3d":           `{"type":"Polygon","coordinates":[[[114,30,1],[114.1,30,1],[114.1,30.1,1],[114,30,1]]]}`,
		"unclosed":     `{"type":"Polygon","coordinates":[[[114,30],[114.1,30],[114.1,30.1],[114,30.1]]]}`,
		"short ring":   `{"type":"Polygon","coordinates":[[[114,30],[114.1,30],[114,30]]]}`,
		"no rings":     `{"type":"Polygon","coordinates":[]}`,
		"empty multi":  `{"type":"MultiPolygon","coordinates":[]}`,
		"lat range":    `{"type":"Polygon","coordinates":[[[114,30],[114.1,30],[114.1,95],[114,30]]]}`,
		"ragged":       `{"type":"Polygon","coordinates":[[114,30],[114.1,30]]}`,
		"strings":      `{"type":"Polygon","coordinates":[[["114","30"],[114.1,30],[114.1,30.1],[114,30]]]}`,
		"foreign crs":  `{"type":"Polygon","crs":{"type":"name","properties":{"name":"EPSG:3857"}},"coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}`,
		"no coords":    `{"type":"Polygon"}`,
		"not geojson":  `[1,2,3]`,
		"huge numbers": `{"type":"Polygon","coordinates":[[[1e400,30],[114.1,30],[114.1,30.1],[1e400,30]]]}`,
	}
	for name, s := range bad {
		_, err := geo.ParseArea("geometry", json.RawMessage(s), coord.WGS84)
		var in *geo.InputError
		if !errors.As(err, &in) || in.Code != "invalid_geometry" || in.Field == "" || in.Reason == "" {
			t.Errorf("%s: want invalid_geometry naming the field, got %v", name, err)
		}
	}
}

// FuzzParseArea: whatever the bytes, ParseArea either returns an *InputError or a closed,
// finite, in-range area that encodes to EWKB; it never panics.
func FuzzParseArea(f *testing.F) {
	for _, s := range []string{
		`{"type":"Polygon","coordinates":[[[114,30],[114.1,30],[114.1,30.1],[114,30.1],[114,30]]]}`,
		`{"type":"MultiPolygon","coordinates":[[[[114,30],[114.1,30],[114.1,30.1],[114,30]]]]}`,
		`{"type":"Polygon","coordinates":[[[114,30],[114.1,30],[114.1,30.1],[114,30.1]]]}`,
		`{"type":"Polygon","crs":{"type":"name","properties":{"name":"EPSG:4326"}},"coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}`,
		`{"type":"Point","coordinates":[1,2]}`, `null`, `{`, `[]`,
	} {
		f.Add([]byte(s), uint8(0))
	}
	f.Fuzz(func(t *testing.T, data []byte, crsByte uint8) {
		crs := []coord.CRS{coord.WGS84, coord.GCJ02, coord.BD09}[int(crsByte)%3]
		a, err := geo.ParseArea("geometry", data, crs)
		if err != nil {
			var in *geo.InputError
			if !errors.As(err, &in) {
				t.Fatalf("non-input error %T: %v", err, err)
			}
			return
		}
		for i := 0; i < a.MultiPolygon.NumPolygons(); i++ {
			p := a.MultiPolygon.Polygon(i)
			for r := 0; r < p.NumLinearRings(); r++ {
				ring := p.LinearRing(r)
				n := ring.NumCoords()
				if n < 4 || !ring.Coord(0).Equal(ring.Layout(), ring.Coord(n-1)) {
					t.Fatalf("ring %d of polygon %d: %d points, closed %v", r, i, n, ring.Coord(0).Equal(ring.Layout(), ring.Coord(n-1)))
				}
				for k := 0; k < n; k++ {
					c := ring.Coord(k)
					if math.IsNaN(c[0]) || math.IsNaN(c[1]) || math.Abs(c[0]) > 181 || math.Abs(c[1]) > 91 {
						t.Fatalf("coordinate %v", c)
					}
				}
			}
		}
		if _, err := a.EWKB(); err != nil {
			t.Fatal(err)
		}
	})
}
