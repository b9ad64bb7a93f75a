package api_test

import (
	"context"
	"encoding/json"
	"math"
	"strings"
	"sync"
	"testing"

	"github.com/paulmach/orb"

	"gridmap/geo/coord"
	"gridmap/geo/store"
)

// A village 114.00–114.02 E, 30.00–30.01 N with households on a lattice.
func editFixture(t *testing.T) (string, *store.Store) {
	t.Helper()
	ts, st, _ := newServer(t, 0)
	_, err := st.Pool().Exec(context.Background(), `
		INSERT INTO units (code, name, level, boundary) VALUES ('999001', '示范县', 'county', ST_Multi(ST_MakeEnvelope(114, 30, 114.02, 30.01, 4326)));
		INSERT INTO units (code, name, level, parent_code, boundary) VALUES ('999001001', '青石镇', 'township', '999001', ST_Multi(ST_MakeEnvelope(114, 30, 114.02, 30.01, 4326)));
		INSERT INTO units (code, name, level, parent_code, boundary) VALUES ('999001001001', '柳河村', 'village', '999001001', ST_Multi(ST_MakeEnvelope(114, 30, 114.02, 30.01, 4326)));
		INSERT INTO households (unit_code, external_id, location)
		SELECT '999001001001', 'h' || i || '_' || j, ST_SetSRID(ST_MakePoint(114.0005 + i * 0.001, 30.0005 + j * 0.001), 4326)
		FROM generate_series(0, 19) i, generate_series(0, 9) j;`)
	if err != nil {
		t.Fatal(err)
	}
	return ts.URL, st
}

func rect(x0, y0, x1, y1 float64) [][][2]float64 {
	return [][][2]float64{{{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}, {x0, y0}}}
}

func feature(props map[string]any, geometry any) string {
	b, _ := json.Marshal(map[string]any{"type": "Feature", "geometry": geometry, "properties": props})
	return string(b)
}

func polygon(rings any) map[string]any {
	return map[string]any{"type": "Polygon", "coordinates": rings}
}

// send sends a GeoJSON body with extra headers.
func send(t *testing.T, method, url, body string, header map[string]string) response {
	t.Helper()
	h := map[string]string{"Content-Type": "application/geo+json"}
	for k, v := range header {
		h[k] = v
	}
	return request(t, method, url, strings.NewReader(body), h)
}

type gridBody struct {
	ID         string
	Properties struct {
		Code, Name, Kind, Unit string
		Version, Households    int
		Trimmed                float64 `json:"trimmed_m2"`
	}
}

type errorDetails struct {
	Error struct {
		Code, Field, Message string
		Details              map[string]any
	}
}

func TestGridLifecycle(t *testing.T) {
	base, st := editFixture(t)
	ctx := context.Background()
	grids := base + "/api/v1/grids"

	// Create the west half: code assigned, households placed in the same transaction.
	r := send(t, "POST", grids, feature(map[string]any{"unit": "999001001001", "name": "西片"}, polygon(rect(114, 30, 114.01, 30.01))), nil)
	if r.status != 201 {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	west := decode[gridBody](t, r)
	if west.Properties.Code != "999001001001001" || r.header.Get("Location") != "/api/v1/grids/999001001001001" ||
		west.Properties.Kind != "village" || west.Properties.Households != 100 || west.Properties.Version != 1 {
		t.Fatalf("created %+v, location %q", west, r.header.Get("Location"))
	}
	etag := r.header.Get("ETag")

	// The east half overlapping the west one by a triangle well under 1 m² is trimmed.
	sliver := [][][2]float64{{{114.009999, 30}, {114.02, 30}, {114.02, 30.01}, {114.01, 30.01}, {114.01, 30.000001}, {114.009999, 30}}}
	r = send(t, "POST", grids, feature(map[string]any{"code": "999001001001007", "name": "东片"}, polygon(sliver)), nil)
	if r.status != 201 {
		t.Fatalf("create east: %d %s", r.status, r.body)
	}
	east := decode[gridBody](t, r)
	if east.Properties.Code != "999001001001007" || east.Properties.Trimmed <= 0 || east.Properties.Trimmed > 1 || east.Properties.Households != 100 {
		t.Fatalf("east %+v", east)
	}
	var overlap float64
	if err := st.Pool().QueryRow(ctx, `SELECT ST_Area(ST_Intersection(a.boundary, b.boundary)::geography) FROM grids a, grids b WHERE a.code = '999001001001001' AND b.code = '999001001001007'`).Scan(&overlap); err != nil {
		t.Fatal(err)
	}
	if overlap > 1e-6 {
		t.Fatalf("sliver kept: overlap %g m²", overlap)
	}
	// A code not given continues after the highest sequence.
	r = send(t, "POST", grids, feature(map[string]any{"unit": "999001001001", "name": "重叠"}, polygon(rect(114.005, 30, 114.015, 30.01))), nil)
	e := decode[errorDetails](t, r)
	if r.status != 422 || e.Error.Code != "topology_overlap" || e.Error.Details["grid"] == nil || e.Error.Details["location"] == nil {
		t.Fatalf("overlap: %d %s", r.status, r.body)
	}

	// GET with ETag and If-None-Match.
	r = send(t, "GET", grids+"/999001001001001", "", nil)
	if r.status != 200 || r.header.Get("ETag") != etag {
		t.Fatalf("get: %d etag %q want %q", r.status, r.header.Get("ETag"), etag)
	}
	if r = send(t, "GET", grids+"/999001001001001", "", map[string]string{"If-None-Match": etag}); r.status != 304 {
		t.Fatalf("If-None-Match: %d", r.status)
	}

	// Two editors hold the same ETag: the first PUT wins, the second gets 412 and changes nothing.
	shrink := feature(map[string]any{"name": "西片（缩）"}, polygon(rect(114, 30, 114.005, 30.01)))
	other := feature(map[string]any{"name": "另一人的名字"}, polygon(rect(114, 30, 114.01, 30.01)))
	if r = send(t, "PUT", grids+"/999001001001001", shrink, nil); r.status != 428 {
		t.Fatalf("PUT without If-Match: %d %s", r.status, r.body)
	}
	var wg sync.WaitGroup
	results := make([]response, 2)
	for i, body := range []string{shrink, other} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = send(t, "PUT", grids+"/999001001001001", body, map[string]string{"If-Match": etag})
		}()
	}
	wg.Wait()
	ok, stale := 0, 0
	for _, r := range results {
		switch r.status {
		case 200:
			ok++
		case 412:
			stale++
		default:
			t.Fatalf("concurrent PUT: %d %s", r.status, r.body)
		}
	}
	if ok != 1 || stale != 1 {
		t.Fatalf("concurrent PUTs: %d ok, %d stale", ok, stale)
	}
	var name string
	var version int
	if err := st.Pool().QueryRow(ctx, `SELECT name, version FROM grids WHERE code = '999001001001001'`).Scan(&name, &version); err != nil {
		t.Fatal(err)
	}
	if version != 2 {
		t.Fatalf("version %d after one accepted PUT", version)
	}
	winner := results[0]
	if results[1].status == 200 {
		winner = results[1]
	}
	if decode[gridBody](t, winner).Properties.Name != name {
		t.Fatalf("database holds %q, the accepted PUT said %q", name, decode[gridBody](t, winner).Properties.Name)
	}
	if r = send(t, "PUT", grids+"/999001001001001", shrink, map[string]string{"If-Match": etag}); r.status != 412 {
		t.Fatalf("stale If-Match: %d", r.status)
	}
	// Households follow the reshaped grid within the same transaction.
	var inWest int
	st.Pool().QueryRow(ctx, `SELECT count(*) FROM households h JOIN grids g ON g.id = h.grid_id WHERE g.code = '999001001001001'`).Scan(&inWest)
	if name == "西片（缩）" && inWest != 50 || name != "西片（缩）" && inWest != 100 {
		t.Fatalf("grid %q holds %d households", name, inWest)
	}

	// Retire: gone from current views, kept in history.
	r = send(t, "GET", grids+"/999001001001001", "", nil)
	if r = send(t, "DELETE", grids+"/999001001001001", "", map[string]string{"If-Match": r.header.Get("ETag")}); r.status != 204 {
		t.Fatalf("delete: %d %s", r.status, r.body)
	}
	wantError(t, send(t, "GET", grids+"/999001001001001", "", nil), 404, "not_found", "")
	list := decode[featureCollection](t, send(t, "GET", grids+"?unit=999001001001", "", nil))
	if len(list.Features) != 1 || list.Features[0].Properties.Code != "999001001001007" {
		t.Fatalf("list after retire: %+v", list.Features)
	}
	var hist struct {
		Versions []struct {
			Version   int
			ValidTo   *string `json:"valid_to"`
			ChangedBy string  `json:"changed_by"`
			Geometry  json.RawMessage
		}
	}
	r = send(t, "GET", grids+"/999001001001001/history", "", nil)
	if err := json.Unmarshal(r.body, &hist); err != nil || len(hist.Versions) != 3 || hist.Versions[2].ValidTo == nil ||
		hist.Versions[0].ChangedBy == "" || len(hist.Versions[0].Geometry) == 0 {
		t.Fatalf("history: %s", r.body)
	}
	var orphans int
	st.Pool().QueryRow(ctx, `SELECT count(*) FROM households WHERE grid_id IS NULL`).Scan(&orphans)
	if orphans != 100 {
		t.Fatalf("%d households without grid after retiring the west grid, want 100", orphans)
	}
	// Codes of retired grids are never reused; the next one continues the sequence.
	r = send(t, "POST", grids, feature(map[string]any{"unit": "999001001001", "name": "新西片"}, polygon(rect(114, 30, 114.01, 30.01))), nil)
	if r.status != 201 || decode[gridBody](t, r).Properties.Code != "999001001001008" {
		t.Fatalf("new grid after retire: %d %s", r.status, r.body)
	}
	if r = send(t, "POST", grids, feature(map[string]any{"code": "999001001001001", "name": "x"}, polygon(rect(114, 30, 114.001, 30.001))), nil); r.status != 409 {
		t.Fatalf("reused code: %d %s", r.status, r.body)
	}
}

func TestGridRules(t *testing.T) {
	base, _ := editFixture(t)
	grids := base + "/api/v1/grids"
	unit := map[string]any{"unit": "999001001001", "name": "网格"}
	bowtie := polygon([][][2]float64{{{114, 30}, {114.01, 30.01}, {114.01, 30}, {114, 30.01}, {114, 30}}})
	many := make([][2]float64, 0, 100002)
	for i := 0; i < 100001; i++ {
		a := float64(i) / 100001 * 6.283185307179586
		many = append(many, [2]float64{114.01 + 0.004*math.Cos(a), 30.005 + 0.004*math.Sin(a)})
	}
	many = append(many, many[0])
	cases := []struct {
		name, body      string
		status          int
		code, field     string
		wantLocation    bool
		query, rawField string
	}{
		{"self-intersection", feature(unit, bowtie), 422, "invalid_geometry", "geometry", true, "", ""},
		{"unclosed ring", feature(unit, polygon([][][2]float64{{{114, 30}, {114.01, 30}, {114.01, 30.01}, {114, 30.01}}})), 422, "invalid_geometry", "geometry", true, "", ""},
		{"too few points", feature(unit, polygon([][][2]float64{{{114, 30}, {114.01, 30}, {114, 30}}})), 422, "invalid_geometry", "geometry", false, "", ""},
		{"latitude out of range", feature(unit, polygon(rect(114, 30, 114.01, 91))), 422, "invalid_geometry", "geometry", true, "", ""},
		{"lat/lon swapped", feature(unit, polygon(rect(30, 114, 30.01, 114.01))), 422, "invalid_geometry", "geometry", true, "", ""},
		{"NaN is not JSON", strings.Replace(feature(unit, polygon(rect(114, 30, 114.01, 30.01))), "114.01", "NaN", 1), 400, "malformed_json", "body", false, "", ""},
		{"point", feature(unit, map[string]any{"type": "Point", "coordinates": []float64{114, 30}}), 422, "invalid_geometry", "geometry", false, "", ""},
		{"no geometry", feature(unit, nil), 422, "invalid_geometry", "geometry", false, "", ""},
		{"more than 100,000 vertices", feature(unit, polygon([][][2]float64{many})), 422, "invalid_geometry", "geometry", false, "", ""},
		{"outside the unit", feature(unit, polygon(rect(114.015, 30, 114.03, 30.01))), 422, "topology_outside_unit", "geometry", true, "", ""},
		{"unknown property", feature(map[string]any{"unit": "999001001001", "name": "x", "colour": "red"}, polygon(rect(114, 30, 114.01, 30.01))), 400, "unknown_field", "colour", false, "", ""},
		{"unknown member", `{"type":"Feature","geometry":null,"properties":{},"extra":1}`, 400, "unknown_field", "extra", false, "", ""},
		{"missing name", feature(map[string]any{"unit": "999001001001"}, polygon(rect(114, 30, 114.01, 30.01))), 400, "invalid_parameter", "properties.name", false, "", ""},
		{"bad kind", feature(map[string]any{"unit": "999001001001", "name": "x", "kind": "park"}, polygon(rect(114, 30, 114.01, 30.01))), 400, "invalid_parameter", "properties.kind", false, "", ""},
		{"unit is a township", feature(map[string]any{"unit": "999001001", "name": "x"}, polygon(rect(114, 30, 114.01, 30.01))), 400, "invalid_parameter", "unit", false, "", ""},
		{"unknown unit", feature(map[string]any{"unit": "999001001009", "name": "x"}, polygon(rect(114, 30, 114.01, 30.01))), 404, "not_found", "", false, "", ""},
		{"not a feature", `{"type":"FeatureCollection","features":[]}`, 400, "unknown_field", "features", false, "", ""},
		{"malformed JSON", `{"type":"Feature",`, 400, "malformed_json", "body", false, "", ""},
		{"bad crs parameter", feature(unit, polygon(rect(114, 30, 114.01, 30.01))), 400, "invalid_parameter", "crs", false, "?crs=utm", ""},
		{"foreign CRS member", `{"type":"Feature","properties":{"unit":"999001001001","name":"x"},"geometry":{"type":"Polygon","crs":{"type":"name","properties":{"name":"EPSG:3857"}},"coordinates":[[[0,0],[1,0],[1,1],[0,1],[0,0]]]}}`, 422, "invalid_geometry", "geometry.crs", false, "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := send(t, "POST", grids+tc.query, tc.body, nil)
			wantError(t, r, tc.status, tc.code, tc.field)
			if tc.wantLocation {
				e := decode[errorDetails](t, r)
				if e.Error.Details["location"] == nil {
					t.Fatalf("no location in %s", r.body)
				}
			}
		})
	}
	// Nothing was written by any of them.
	if fc := decode[featureCollection](t, send(t, "GET", grids, "", nil)); len(fc.Features) != 0 {
		t.Fatalf("%d grids written by bad requests", len(fc.Features))
	}
	// Half a metre outside the unit is within tolerance: accepted and trimmed to the unit.
	r := send(t, "POST", grids, feature(unit, polygon(rect(114.01, 30, 114.020005, 30.01))), nil)
	if r.status != 201 || decode[gridBody](t, r).Properties.Trimmed <= 0 {
		t.Fatalf("within tolerance: %d %s", r.status, r.body)
	}
}

// TestGridIntakeInChineseCRS sends the same rectangle in GCJ-02 and BD-09: PostGIS stores
// the WGS84 original.
func TestGridIntakeInChineseCRS(t *testing.T) {
	base, st := editFixture(t)
	for i, crs := range []coord.CRS{coord.GCJ02, coord.BD09} {
		x0 := 114.001 + float64(i)*0.01
		w := [][2]float64{{x0, 30.001}, {x0 + 0.005, 30.001}, {x0 + 0.005, 30.006}, {x0, 30.006}, {x0, 30.001}}
		shifted := make([][2]float64, len(w))
		for k, p := range w {
			q := coord.FromWGS84(orb.Point(p), crs)
			shifted[k] = [2]float64{q[0], q[1]}
		}
		r := send(t, "POST", base+"/api/v1/grids?crs="+crs.String(), feature(map[string]any{"unit": "999001001001", "name": crs.String()}, polygon([][][2]float64{shifted})), nil)
		if r.status != 201 {
			t.Fatalf("%s: %d %s", crs, r.status, r.body)
		}
		var dist float64
		err := st.Pool().QueryRow(context.Background(), `SELECT ST_HausdorffDistance(boundary, ST_MakeEnvelope($1, 30.001, $2, 30.006, 4326)) FROM grids WHERE name = $3`,
			x0, x0+0.005, crs.String()).Scan(&dist)
		if err != nil {
			t.Fatal(err)
		}
		if dist > 1e-7 {
			t.Fatalf("%s intake is %g° from the WGS84 rectangle", crs, dist)
		}
	}
}
