package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"gridmap/geo/store"
)

type ogcLink struct{ Href, Rel, Type string }

type ogcPage struct {
	Type           string
	NumberMatched  int
	NumberReturned int
	Links          []ogcLink
	Features       []struct {
		Type     string
		ID       json.RawMessage
		Geometry struct {
			Type        string
			Coordinates json.RawMessage
		}
		Properties map[string]any
	}
}

func (p ogcPage) next() string {
	for _, l := range p.Links {
		if l.Rel == "next" && l.Type == "application/geo+json" {
			return l.Href
		}
	}
	return ""
}

func getPage(t *testing.T, u string) ogcPage {
	t.Helper()
	r := do(t, "GET", u, nil)
	if r.status != 200 {
		t.Fatalf("%s: %d %s", u, r.status, r.body)
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/geo+json") {
		t.Fatalf("%s: content type %q", u, ct)
	}
	return decode[ogcPage](t, r)
}

// allPages follows next links to the end and returns every feature id and the first
// page's numberMatched.
func allPages(t *testing.T, u string) (ids []string, matched, pages int) {
	t.Helper()
	matched = -1
	for u != "" {
		p := getPage(t, u)
		if matched < 0 {
			matched = p.NumberMatched
		} else if p.NumberMatched != matched {
			t.Fatalf("numberMatched changed between pages: %d then %d", matched, p.NumberMatched)
		}
		if p.NumberReturned != len(p.Features) {
			t.Fatalf("numberReturned %d, %d features", p.NumberReturned, len(p.Features))
		}
		for _, f := range p.Features {
			if len(f.ID) == 0 || string(f.ID) == "null" {
				t.Fatalf("feature without id: %+v", f)
			}
			ids = append(ids, string(f.ID))
		}
		pages++
		u = p.next()
	}
	return ids, matched, pages
}

func count(t *testing.T, st *store.Store, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := st.Pool().QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestOGCLandingConformanceAPI(t *testing.T) {
	ts, _, _ := newServer(t, 2000)
	for _, path := range []string{"/ogc/", "/ogc"} {
		r := do(t, "GET", ts.URL+path, nil)
		if r.status != 200 {
			t.Fatalf("%s: %d %s", path, r.status, r.body)
		}
		land := decode[struct{ Links []ogcLink }](t, r)
		rels := map[string]ogcLink{}
		for _, l := range land.Links {
			rels[l.Rel] = l
		}
		if rels["service-desc"].Type != "application/vnd.oai.openapi+json;version=3.0" ||
			rels["conformance"].Href != ts.URL+"/ogc/conformance" || rels["data"].Href != ts.URL+"/ogc/collections" || rels["self"].Href == "" {
			t.Fatalf("%s: links %+v", path, land.Links)
		}
	}
	conf := decode[struct{ ConformsTo []string }](t, do(t, "GET", ts.URL+"/ogc/conformance", nil))
	for _, want := range []string{"ogcapi-features-1/1.0/conf/core", "ogcapi-features-1/1.0/conf/geojson",
		"ogcapi-features-1/1.0/conf/oas30", "ogcapi-features-2/1.0/conf/crs", "ogcapi-features-3/1.0/conf/filter", "cql2/1.0/conf/cql2-text"} {
		if !strings.Contains(strings.Join(conf.ConformsTo, " "), want) {
			t.Errorf("conformance lacks %s", want)
		}
	}
	r := do(t, "GET", ts.URL+"/ogc/api", nil)
	if r.status != 200 || r.header.Get("Content-Type") != "application/vnd.oai.openapi+json;version=3.0" {
		t.Fatalf("api: %d %q", r.status, r.header.Get("Content-Type"))
	}
	oas := decode[struct {
		OpenAPI string
		Paths   map[string]struct {
			Get struct {
				Parameters []struct {
					Name   string
					Schema struct{ Default, Maximum any }
				}
			}
		}
	}](t, r)
	if !strings.HasPrefix(oas.OpenAPI, "3.0") {
		t.Fatalf("openapi %q", oas.OpenAPI)
	}
	var lim bool
	for _, p := range oas.Paths["/collections/grids/items"].Get.Parameters {
		if p.Name == "limit" && p.Schema.Default == 100.0 && p.Schema.Maximum == 10000.0 {
			lim = true
		}
	}
	if !lim {
		t.Fatal("the OpenAPI document lacks limit's default and maximum on grids items")
	}
}

func TestOGCCollections(t *testing.T) {
	ts, st, _ := newServer(t, 2000)
	r := do(t, "GET", ts.URL+"/ogc/collections", nil)
	if r.status != 200 || r.header.Get("ETag") == "" {
		t.Fatalf("%d etag %q %s", r.status, r.header.Get("ETag"), r.body)
	}
	type coll struct {
		ID, ItemType string
		Crs          []string
		Links        []ogcLink
		Extent       struct {
			Spatial struct {
				Bbox [][]float64
				Crs  string
			}
			Temporal struct{ Interval [][]*string }
		}
	}
	cs := decode[struct{ Collections []coll }](t, r)
	var ids []string
	for _, c := range cs.Collections {
		ids = append(ids, c.ID)
		if strings.Contains(c.ID, ".") {
			t.Errorf("collection id %q has a dot", c.ID)
		}
		if len(c.Extent.Spatial.Bbox) != 1 || c.Extent.Spatial.Crs != "http://www.opengis.net/def/crs/OGC/1.3/CRS84" {
			t.Errorf("%s: extent %+v", c.ID, c.Extent)
		}
		if !strings.Contains(strings.Join(c.Crs, " "), "EPSG/0/3857") {
			t.Errorf("%s: crs %v", c.ID, c.Crs)
		}
	}
	if got := strings.Join(ids, ","); got != "units,grids,branches,members,households,links,coverage" {
		t.Fatalf("collections %s", got)
	}

	// One collection: the grids' extent equals PostGIS's, with the temporal extent.
	r = do(t, "GET", ts.URL+"/ogc/collections/grids", nil)
	g := decode[coll](t, r)
	var want [4]float64
	if err := st.Pool().QueryRow(context.Background(), `SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e)
		FROM (SELECT ST_Extent(boundary) e FROM grids) x`).Scan(&want[0], &want[1], &want[2], &want[3]); err != nil {
		t.Fatal(err)
	}
	for i := range want {
		if g.Extent.Spatial.Bbox[0][i] != want[i] {
			t.Fatalf("grids extent %v, want %v", g.Extent.Spatial.Bbox, want)
		}
	}
	if len(g.Extent.Temporal.Interval) != 1 || g.Extent.Temporal.Interval[0][0] == nil {
		t.Fatalf("grids temporal extent %+v", g.Extent.Temporal)
	}
	// ETag / 304.
	etag := r.header.Get("ETag")
	req, _ := http.NewRequest("GET", ts.URL+"/ogc/collections/grids", nil)
	req.Header.Set("If-None-Match", etag)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNotModified {
		t.Fatalf("If-None-Match: %d", res.StatusCode)
	}
	wantError(t, do(t, "GET", ts.URL+"/ogc/collections/nope", nil), 404, "not_found", "")
	wantError(t, do(t, "GET", ts.URL+"/ogc/collections?foo=1", nil), 400, "unknown_parameter", "foo")
	if r := do(t, "GET", ts.URL+"/ogc/collections?f=json&api_key=x", nil); r.status != 200 {
		t.Fatalf("f and api_key: %d %s", r.status, r.body)
	}

	// Queryables.
	q := decode[struct {
		Type       string
		Properties map[string]map[string]any
	}](t, do(t, "GET", ts.URL+"/ogc/collections/grids/queryables", nil))
	if q.Properties["code"]["type"] != "string" || q.Properties["households"]["type"] != "integer" || q.Properties["geometry"] == nil {
		t.Fatalf("queryables %+v", q)
	}
}

func TestOGCItemsPaging(t *testing.T) {
	ts, st, _ := newServer(t, 3000)
	for _, c := range []struct {
		coll, sql string
		limit     int
	}{
		{"units", `SELECT count(*) FROM units`, 7},
		{"grids", `SELECT count(*) FROM grids WHERE valid_to IS NULL`, 3},
		{"branches", `SELECT count(*) FROM branches b JOIN grids g ON g.id = b.grid_id WHERE b.valid_to IS NULL AND g.valid_to IS NULL`, 4},
		{"members", `SELECT count(*) FROM people WHERE party_member AND household_id IS NOT NULL`, 50},
		{"households", `SELECT count(*) FROM households`, 700},
		{"links", `SELECT count(*) FROM member_household_links`, 600},
		{"coverage", `SELECT (SELECT count(*) FROM grid_stats s JOIN grids g ON g.id = s.grid_id WHERE g.valid_to IS NULL AND s.state <> 'ok')
			+ (SELECT count(*) FROM households WHERE grid_id IS NULL)`, 2},
	} {
		t.Run(c.coll, func(t *testing.T) {
			want := count(t, st, c.sql)
			ids, matched, pages := allPages(t, fmt.Sprintf("%s/ogc/collections/%s/items?limit=%d", ts.URL, c.coll, c.limit))
			if matched != want || len(ids) != want {
				t.Fatalf("numberMatched %d, features %d over %d pages; database has %d", matched, len(ids), pages, want)
			}
			if want > c.limit && pages < 2 {
				t.Fatalf("%d features in %d pages of %d", want, pages, c.limit)
			}
			seen := map[string]bool{}
			for _, id := range ids {
				if seen[id] {
					t.Fatalf("feature %s twice", id)
				}
				seen[id] = true
			}
		})
	}

	// Personal fields never appear.
	pers := personal(t, st)
	for _, coll := range []string{"households", "members", "links", "grids", "branches"} {
		r := do(t, "GET", ts.URL+"/ogc/collections/"+coll+"/items?limit=10000", nil)
		var fc ogcPage
		if err := json.Unmarshal(r.body, &fc); err != nil {
			t.Fatal(err)
		}
		for _, f := range fc.Features {
			for k, v := range f.Properties {
				if s, ok := v.(string); ok && pers[s] && k != "secretary" && k != "leader" && k != "worker" {
					t.Fatalf("%s: personal value %q in %s", coll, s, k)
				}
				if k == "address" || k == "head_name" || k == "phone" || k == "head_phone" {
					t.Fatalf("%s: personal field %s", coll, k)
				}
			}
		}
	}
}

func TestOGCItemsFilters(t *testing.T) {
	ts, st, _ := newServer(t, 3000)
	items := ts.URL + "/ogc/collections/"
	matched := func(u string) int {
		t.Helper()
		ids, m, _ := allPages(t, u)
		if len(ids) != m {
			t.Fatalf("%s: %d features, numberMatched %d", u, len(ids), m)
		}
		return m
	}
	ctx := context.Background()
	var box [4]float64
	if err := st.Pool().QueryRow(ctx, `SELECT ST_X(c) - 0.01, ST_Y(c) - 0.01, ST_X(c) + 0.01, ST_Y(c) + 0.01
		FROM (SELECT ST_Centroid(ST_Extent(location)) c FROM households) x`).Scan(&box[0], &box[1], &box[2], &box[3]); err != nil {
		t.Fatal(err)
	}
	bbox := fmt.Sprintf("%v,%v,%v,%v", box[0], box[1], box[2], box[3])
	want := count(t, st, `SELECT count(*) FROM households WHERE ST_Intersects(location, ST_MakeEnvelope($1, $2, $3, $4, 4326))`, box[0], box[1], box[2], box[3])
	if want == 0 {
		t.Fatal("empty test box")
	}
	if got := matched(items + "households/items?limit=500&bbox=" + bbox); got != want {
		t.Fatalf("bbox: %d, want %d", got, want)
	}
	// The same box in EPSG:4326 axis order (lat, lon) and in EPSG:3857.
	latlon := fmt.Sprintf("%v,%v,%v,%v", box[1], box[0], box[3], box[2])
	if got := matched(items + "households/items?limit=500&bbox-crs=" + url.QueryEscape("http://www.opengis.net/def/crs/EPSG/0/4326") + "&bbox=" + latlon); got != want {
		t.Fatalf("bbox in EPSG:4326: %d, want %d", got, want)
	}
	var m [4]float64
	if err := st.Pool().QueryRow(ctx, `SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e)
		FROM (SELECT ST_Transform(ST_MakeEnvelope($1, $2, $3, $4, 4326), 3857) e) x`, box[0], box[1], box[2], box[3]).Scan(&m[0], &m[1], &m[2], &m[3]); err != nil {
		t.Fatal(err)
	}
	for i := range m {
		m[i] = math.Round(m[i]*1000) / 1000
	}
	want3857 := count(t, st, `SELECT count(*) FROM households WHERE ST_Intersects(location,
		ST_Transform(ST_MakeEnvelope($1, $2, $3, $4, 3857), 4326))`, m[0], m[1], m[2], m[3])
	if got := matched(items + fmt.Sprintf("households/items?limit=1000&bbox-crs=%s&bbox=%.3f,%.3f,%.3f,%.3f",
		url.QueryEscape("http://www.opengis.net/def/crs/EPSG/0/3857"), m[0], m[1], m[2], m[3])); got != want3857 {
		t.Fatalf("bbox in EPSG:3857: %d, want %d", got, want3857)
	}

	// Property filters.
	if got, want := matched(items+"households/items?limit=1000&party=true"), count(t, st, `SELECT count(*) FROM households WHERE party`); got != want {
		t.Fatalf("party=true: %d, want %d", got, want)
	}
	var code string
	if err := st.Pool().QueryRow(ctx, `SELECT code FROM grids ORDER BY id LIMIT 1`).Scan(&code); err != nil {
		t.Fatal(err)
	}
	if got, want := matched(items+"households/items?limit=1000&grid="+code), count(t, st, `SELECT count(*) FROM households h JOIN grids g ON g.id = h.grid_id WHERE g.code = $1`, code); got != want || want == 0 {
		t.Fatalf("grid=%s: %d, want %d", code, got, want)
	}
	wantError(t, do(t, "GET", items+"households/items?residents=many", nil), 400, "invalid_parameter", "residents")
	wantError(t, do(t, "GET", items+"households/items?head_name=x", nil), 400, "unknown_parameter", "head_name")
	wantError(t, do(t, "GET", items+"grids/items?limt=3", nil), 400, "unknown_parameter", "limt")
	wantError(t, do(t, "GET", items+"grids/items?limit=0", nil), 400, "invalid_parameter", "limit")
	wantError(t, do(t, "GET", items+"grids/items?bbox=1,2,3", nil), 400, "invalid_parameter", "bbox")
	wantError(t, do(t, "GET", items+"grids/items?crs=EPSG:2000", nil), 400, "invalid_parameter", "crs")
	wantError(t, do(t, "GET", items+"grids/items?cursor=zzz", nil), 400, "invalid_parameter", "cursor")
	wantError(t, do(t, "GET", items+"households/items?datetime=2020-01-01T00:00:00Z", nil), 400, "invalid_parameter", "datetime")

	// CQL2 text.
	for _, c := range []struct{ filter, sql string }{
		{"residents >= 4 AND party = TRUE", `SELECT count(*) FROM households WHERE residents >= 4 AND party`},
		{"NOT (residents < 3) OR grid IS NULL", `SELECT count(*) FROM households h LEFT JOIN grids g ON g.id = h.grid_id WHERE NOT residents < 3 OR g.code IS NULL`},
		{"grid = '" + code + "'", `SELECT count(*) FROM households h JOIN grids g ON g.id = h.grid_id WHERE g.code = '` + code + `'`},
		{"residents BETWEEN 2 AND 3", `SELECT count(*) FROM households WHERE residents BETWEEN 2 AND 3`},
		{"residents IN (1, 5)", `SELECT count(*) FROM households WHERE residents IN (1, 5)`},
		{"external_id LIKE '%1'", `SELECT count(*) FROM households WHERE external_id LIKE '%1'`},
		{fmt.Sprintf("S_INTERSECTS(geometry, BBOX(%v,%v,%v,%v))", box[0], box[1], box[2], box[3]),
			fmt.Sprintf(`SELECT count(*) FROM households WHERE ST_Intersects(location, ST_MakeEnvelope(%v,%v,%v,%v, 4326))`, box[0], box[1], box[2], box[3])},
		{fmt.Sprintf("S_INTERSECTS(geometry, POLYGON((%[1]v %[2]v, %[3]v %[2]v, %[3]v %[4]v, %[1]v %[4]v, %[1]v %[2]v))) AND party = false", box[0], box[1], box[2], box[3]),
			fmt.Sprintf(`SELECT count(*) FROM households WHERE NOT party AND ST_Intersects(location, ST_MakeEnvelope(%v,%v,%v,%v, 4326))`, box[0], box[1], box[2], box[3])},
	} {
		want := count(t, st, c.sql)
		if got := matched(items + "households/items?limit=1000&filter-lang=cql2-text&filter=" + url.QueryEscape(c.filter)); got != want {
			t.Errorf("filter %q: %d, want %d", c.filter, got, want)
		}
	}
	// A point inside one grid: S_INTERSECTS on grids finds that grid.
	var px, py float64
	if err := st.Pool().QueryRow(ctx, `SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(boundary) p FROM grids WHERE code = $1) x`, code).Scan(&px, &py); err != nil {
		t.Fatal(err)
	}
	p := getPage(t, items+"grids/items?filter="+url.QueryEscape(fmt.Sprintf("S_INTERSECTS(geometry, POINT(%v %v))", px, py)))
	if len(p.Features) < 1 || p.Features[0].Properties["code"] != code {
		t.Fatalf("S_INTERSECTS point: %+v", p.Features)
	}
	for _, bad := range []string{"residents >", "nosuch = 1", "residents = 'x'", "S_INTERSECTS(geometry, POLYGON((0 0, 1 1)))", "grid = 'a", "(party = true"} {
		wantError(t, do(t, "GET", items+"households/items?filter="+url.QueryEscape(bad), nil), 400, "invalid_parameter", "filter")
	}
}

func TestOGCDatetimeCRSAndItem(t *testing.T) {
	ts, st, _ := newServer(t, 2000)
	ctx := context.Background()
	items := ts.URL + "/ogc/collections/grids/items"
	active := count(t, st, `SELECT count(*) FROM grids WHERE valid_to IS NULL`)
	// Retire one grid as of a fixed time; current grids exclude it, a datetime before sees it.
	var code string
	if err := st.Pool().QueryRow(ctx, `UPDATE grids SET valid_from = '2020-01-01Z', valid_to = '2024-01-01Z', version = version + 1
		WHERE id = (SELECT min(id) FROM grids) RETURNING code`).Scan(&code); err != nil {
		t.Fatal(err)
	}
	if _, m, _ := allPages(t, items+"?limit=1000"); m != active-1 {
		t.Fatalf("current grids %d, want %d", m, active-1)
	}
	p := getPage(t, items+"?datetime=2022-06-01T00:00:00Z&limit=1000")
	if p.NumberMatched != 1 || p.Features[0].Properties["code"] != code {
		t.Fatalf("datetime 2022: %d %+v", p.NumberMatched, p.Features)
	}
	if p := getPage(t, items+"?datetime=2023-01-01T00:00:00Z/..&limit=1000"); p.NumberMatched != active {
		t.Fatalf("datetime 2023/..: %d, want %d", p.NumberMatched, active)
	}
	if p := getPage(t, items+"?datetime=../2019-01-01&limit=1000"); p.NumberMatched != 0 {
		t.Fatalf("datetime ../2019: %d", p.NumberMatched)
	}
	wantError(t, do(t, "GET", items+"?datetime=yesterday", nil), 400, "invalid_parameter", "datetime")

	// crs=EPSG:3857 output equals PostGIS's transform; EPSG:4326 swaps axes.
	var other string
	var x3857, y3857, lon, lat float64
	if err := st.Pool().QueryRow(ctx, `SELECT code, ST_X(ST_PointN(ST_ExteriorRing(ST_GeometryN(boundary_3857, 1)), 1)),
		ST_Y(ST_PointN(ST_ExteriorRing(ST_GeometryN(boundary_3857, 1)), 1)),
		ST_X(ST_PointN(ST_ExteriorRing(ST_GeometryN(boundary, 1)), 1)), ST_Y(ST_PointN(ST_ExteriorRing(ST_GeometryN(boundary, 1)), 1))
		FROM grids WHERE valid_to IS NULL ORDER BY id LIMIT 1`).Scan(&other, &x3857, &y3857, &lon, &lat); err != nil {
		t.Fatal(err)
	}
	r := do(t, "GET", items+"/"+other+"?crs="+url.QueryEscape("http://www.opengis.net/def/crs/EPSG/0/3857"), nil)
	if r.status != 200 || r.header.Get("Content-Crs") != "<http://www.opengis.net/def/crs/EPSG/0/3857>" {
		t.Fatalf("item in 3857: %d %q %s", r.status, r.header.Get("Content-Crs"), r.body)
	}
	first := func(r response) [2]float64 {
		t.Helper()
		var f struct {
			ID       string
			Geometry struct{ Coordinates [][][][2]float64 }
		}
		if err := json.Unmarshal(r.body, &f); err != nil {
			t.Fatal(err)
		}
		if f.ID != other {
			t.Fatalf("item id %q, want %q", f.ID, other)
		}
		return f.Geometry.Coordinates[0][0][0]
	}
	if got := first(r); abs(got[0]-x3857) > 0.01 || abs(got[1]-y3857) > 0.01 {
		t.Fatalf("3857 first vertex %v, want %v %v", got, x3857, y3857)
	}
	r = do(t, "GET", items+"/"+other+"?crs="+url.QueryEscape("http://www.opengis.net/def/crs/EPSG/0/4326"), nil)
	if got := first(r); abs(got[0]-lat) > 1e-7 || abs(got[1]-lon) > 1e-7 {
		t.Fatalf("4326 first vertex %v, want lat,lon %v %v", got, lat, lon)
	}
	r = do(t, "GET", items+"/"+other, nil)
	if got := first(r); abs(got[0]-lon) > 1e-7 || abs(got[1]-lat) > 1e-7 {
		t.Fatalf("CRS84 first vertex %v, want %v %v", got, lon, lat)
	}
	// Pages in 3857 too.
	pg := getPage(t, items+"?limit=2&crs="+url.QueryEscape("http://www.opengis.net/def/crs/EPSG/0/3857"))
	if !regexp.MustCompile(`^\[\[\[\[1[0-9]{7}\.?[0-9]*,[0-9]{6,7}`).Match(pg.Features[0].Geometry.Coordinates) {
		t.Fatalf("3857 page coordinates %.60s", pg.Features[0].Geometry.Coordinates)
	}

	// Item ETag, 304 and 404.
	etag := r.header.Get("ETag")
	req, _ := http.NewRequest("GET", items+"/"+other, nil)
	req.Header.Set("If-None-Match", etag)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if etag == "" || res.StatusCode != http.StatusNotModified {
		t.Fatalf("item ETag %q: %d", etag, res.StatusCode)
	}
	// Items pages have an ETag too, stable across requests.
	a, b := do(t, "GET", items+"?limit=3", nil), do(t, "GET", items+"?limit=3", nil)
	if a.header.Get("ETag") == "" || a.header.Get("ETag") != b.header.Get("ETag") {
		t.Fatalf("page ETags %q %q", a.header.Get("ETag"), b.header.Get("ETag"))
	}
	wantError(t, do(t, "GET", items+"/999999999999999", nil), 404, "not_found", "")
	wantError(t, do(t, "GET", ts.URL+"/ogc/collections/households/items/123456789", nil), 404, "not_found", "")
	wantError(t, do(t, "GET", ts.URL+"/ogc/collections/households/items/abc", nil), 404, "not_found", "")
	// Coverage features have string ids over two kinds of rows; each is fetchable.
	cov := getPage(t, ts.URL+"/ogc/collections/coverage/items?limit=1000")
	if len(cov.Features) == 0 {
		t.Fatal("no coverage problems in the demo county to fetch")
	}
	for i, f := range cov.Features {
		if i == 3 {
			break
		}
		var fid string
		if err := json.Unmarshal(f.ID, &fid); err != nil || !strings.HasPrefix(fid, "grid-") && !strings.HasPrefix(fid, "household-") {
			t.Fatalf("coverage id %s", f.ID)
		}
		r := do(t, "GET", ts.URL+"/ogc/collections/coverage/items/"+fid, nil)
		if r.status != 200 || !strings.Contains(string(r.body), `"id":"`+fid+`"`) {
			t.Fatalf("coverage item %s: %d %s", fid, r.status, r.body)
		}
	}
	var hid int64
	if err := st.Pool().QueryRow(ctx, `SELECT min(id) FROM households`).Scan(&hid); err != nil {
		t.Fatal(err)
	}
	r = do(t, "GET", ts.URL+"/ogc/collections/households/items/"+strconv.FormatInt(hid, 10), nil)
	if r.status != 200 || !strings.Contains(string(r.body), `"id":`+strconv.FormatInt(hid, 10)+`,`) {
		t.Fatalf("household item: %d %s", r.status, r.body)
	}
}

func abs(f float64) float64 {
	if f < 0 {
		return -f
	}
	return f
}

// TestOGCWithGDAL is the acceptance: GDAL's OAPIF driver lists the grids layer with the
// right count and ogr2ogr copies every household, page after page, into a GeoPackage.
func TestOGCWithGDAL(t *testing.T) {
	for _, tool := range []string{"ogrinfo", "ogr2ogr"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed (scripts/install-deps.sh installs gdal-bin)", tool)
		}
	}
	base, st, srv := newServer(t, 3000)
	srvURL := base.URL
	var pages atomic.Int64 // household pages GDAL asked for
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/ogc/collections/households/items" {
			pages.Add(1)
		}
		srv.ServeHTTP(w, r)
	}))
	t.Cleanup(ts.Close)
	authorize(t, ts.URL, st, store.NewAPIToken{Name: "gdal", Role: "viewer", Units: []string{"999001"}, ReadOnly: true})
	srvURL = ts.URL
	grids := count(t, st, `SELECT count(*) FROM grids WHERE valid_to IS NULL`)
	households := count(t, st, `SELECT count(*) FROM households`)

	run := func(name string, args ...string) string {
		t.Helper()
		cmd := exec.Command(name, args...)
		// Households are not public: GDAL sends the token as a header.
		cmd.Env = append(cmd.Environ(), "GDAL_HTTP_TIMEOUT=60", "CPL_DEBUG=OFF",
			"GDAL_HTTP_HEADERS=Authorization: Bearer "+defaultToken(srvURL))
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s %v: %v\n%s", name, args, err, out)
		}
		return string(out)
	}
	out := run("ogrinfo", "-so", "OAPIF:"+ts.URL+"/ogc/", "grids")
	if !strings.Contains(out, fmt.Sprintf("Feature Count: %d\n", grids)) {
		t.Fatalf("ogrinfo grids: want Feature Count: %d\n%s", grids, out)
	}
	gpkg := filepath.Join(t.TempDir(), "out.gpkg")
	run("ogr2ogr", "-f", "GPKG", gpkg, "OAPIF:"+ts.URL+"/ogc/", "households", "-oo", "PAGE_SIZE=500")
	out = run("ogrinfo", "-so", gpkg, "households")
	if !strings.Contains(out, fmt.Sprintf("Feature Count: %d\n", households)) {
		t.Fatalf("the GeoPackage: want Feature Count: %d (%d pages of 500)\n%s", households, (households+499)/500, out)
	}
	if n := pages.Load(); n < int64((households+499)/500) {
		t.Fatalf("GDAL read %d household pages; %d households need %d of 500", n, households, (households+499)/500)
	}
	t.Logf("ogr2ogr copied %d households in %d requests", households, pages.Load())
}
