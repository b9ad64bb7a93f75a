package api_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/paulmach/orb"
	"golang.org/x/text/encoding/simplifiedchinese"

	"gridmap/api"
	"gridmap/geo/coord"
	"gridmap/geo/demo"
	"gridmap/geo/store"
	"gridmap/geo/store/storetest"
)

// importServer serves the API with room for import bodies, on a database holding a small
// demo county, and returns points inside a few of its villages and communities.
func importServer(t *testing.T) (*httptest.Server, *pgxpool.Pool, []orb.Point) {
	t.Helper()
	st := pg.Store(t)
	c, err := demo.Generate(demo.Options{Households: 2000, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := demo.Load(context.Background(), st.Pool(), c); err != nil {
		t.Fatal(err)
	}
	srv := api.New(st, api.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), BodyLimit: "8M"})
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	t.Cleanup(srv.Close)
	authorize(t, ts.URL, st, store.NewAPIToken{Name: "tests", Role: "admin"})
	rows, err := st.Pool().Query(context.Background(), `
		SELECT ST_X(p), ST_Y(p) FROM (
		    SELECT ST_PointOnSurface(boundary) AS p FROM units
		    WHERE level IN ('village', 'community') ORDER BY code LIMIT 6) x`) // a 2,000-household county has four
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var pts []orb.Point
	for rows.Next() {
		var p orb.Point
		if err := rows.Scan(&p[0], &p[1]); err != nil {
			t.Fatal(err)
		}
		pts = append(pts, p)
	}
	if len(pts) < 3 {
		t.Fatalf("%d villages", len(pts))
	}
	return ts, st.Pool(), pts
}

func post(t *testing.T, url, contentType string, body []byte) response {
	t.Helper()
	var h map[string]string
	if contentType != "" {
		h = map[string]string{"Content-Type": contentType}
	}
	return request(t, http.MethodPost, url, bytes.NewReader(body), h)
}

type importBody struct {
	Inserted, Updated, Unchanged, Skipped int
	Bulk                                  bool
	Report                                reportBody
}

type reportBody struct {
	Rows []struct {
		Line          int
		Field, Reason string
	}
	BadRows int `json:"bad_rows"`
}

type rowsErrorBody struct {
	Error struct {
		Code, Field, Message string
		Details              reportBody
	}
}

func wantImported(t *testing.T, r response, inserted, updated, unchanged, skipped int) importBody {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	b := decode[importBody](t, r)
	if b.Inserted != inserted || b.Updated != updated || b.Unchanged != unchanged || b.Skipped != skipped {
		t.Fatalf("got %+v, want inserted %d updated %d unchanged %d skipped %d", b, inserted, updated, unchanged, skipped)
	}
	if !strings.Contains(string(r.body), `"rows":[`) {
		t.Fatalf("report rows missing or null: %s", r.body)
	}
	return b
}

// wantRows asserts a 422 with the report, and returns its problems.
func wantRows(t *testing.T, r response, badRows int) reportBody {
	t.Helper()
	wantError(t, r, http.StatusUnprocessableEntity, "invalid_rows", "file")
	b := decode[rowsErrorBody](t, r)
	if b.Error.Details.BadRows != badRows || len(b.Error.Details.Rows) == 0 {
		t.Fatalf("report %+v, want %d bad rows", b.Error.Details, badRows)
	}
	return b.Error.Details
}

func dbState(t *testing.T, pool *pgxpool.Pool) string {
	t.Helper()
	var n int
	var sum string
	err := pool.QueryRow(context.Background(), `
		SELECT (SELECT count(*) FROM households),
		       md5(coalesce((SELECT string_agg(h::text, '|' ORDER BY id) FROM households h), '') ||
		           coalesce((SELECT string_agg(s::text, '|' ORDER BY grid_id) FROM grid_stats s), ''))`).Scan(&n, &sum)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%d %s", n, sum)
}

func csvFile(pts []orb.Point, prefix string) string {
	var b strings.Builder
	b.WriteString("external_id,lon,lat,address,residents,party\n")
	for i, p := range pts {
		fmt.Fprintf(&b, "%s%d,%.9f,%.9f,地址 %d,%d,%d\n", prefix, i, p[0], p[1], i, i+1, i%2)
	}
	return b.String()
}

func geoJSONFile(pts []orb.Point, prefix string) string {
	var b strings.Builder
	b.WriteString(`{"type":"FeatureCollection","features":[`)
	for i, p := range pts {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"type":"Feature","geometry":{"type":"Point","coordinates":[%.9f,%.9f]},"properties":{"external_id":"%s%d","residents":%d,"party":%t}}`,
			p[0], p[1], prefix, i, i+1, i%2 == 0)
	}
	b.WriteString("]}")
	return b.String()
}

func TestImportHouseholds(t *testing.T) {
	ts, pool, pts := importServer(t)
	url := ts.URL + "/api/v1/import/households"

	r := post(t, url, "text/csv", []byte(csvFile(pts, "C")))
	wantImported(t, r, len(pts), 0, 0, 0)
	r = post(t, url, "text/csv; charset=utf-8", []byte(csvFile(pts, "C")))
	wantImported(t, r, 0, 0, len(pts), 0)
	moved := append([]orb.Point{pts[1]}, pts[1:]...) // C0 moves to C1's village
	r = post(t, url+"?unit=", "text/csv", []byte(csvFile(moved, "C")))
	wantImported(t, r, 1, 0, len(pts)-1, 0) // another village: a new household there

	r = post(t, url, "application/geo+json", []byte(geoJSONFile(pts, "G")))
	wantImported(t, r, len(pts), 0, 0, 0)
	r = post(t, url, "application/json", []byte(geoJSONFile(pts[:2], "G")))
	wantImported(t, r, 0, 0, 2, 0)
	r = post(t, url, "application/octet-stream", []byte("\n "+geoJSONFile(pts[:1], "O")))
	wantImported(t, r, 1, 0, 0, 0)
	r = post(t, url, "", []byte(csvFile(pts[:1], "P")))
	wantImported(t, r, 1, 0, 0, 0)

	// Multipart uploads, as a browser form sends them.
	for _, tc := range []struct{ name, ctype, data string }{
		{"households.csv", "application/octet-stream", csvFile(pts, "M")},
		{"households.geojson", "", geoJSONFile(pts, "MG")},
	} {
		var body bytes.Buffer
		mw := multipart.NewWriter(&body)
		if err := mw.WriteField("note", "ignored"); err != nil {
			t.Fatal(err)
		}
		fw, err := mw.CreateFormFile("file", tc.name)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(fw, tc.data)
		mw.Close()
		r = post(t, url, mw.FormDataContentType(), body.Bytes())
		wantImported(t, r, len(pts), 0, 0, 0)
	}

	// Every household sits in grid_at(location), and the grid statistics agree.
	var wrong, stale int
	err := pool.QueryRow(context.Background(), `
		SELECT (SELECT count(*) FROM households WHERE grid_id IS DISTINCT FROM grid_at(location)),
		       (SELECT count(*) FROM grids g JOIN grid_stats s ON s.grid_id = g.id
		        WHERE s.households <> (SELECT count(*) FROM households h WHERE h.grid_id = g.id))`).Scan(&wrong, &stale)
	if err != nil {
		t.Fatal(err)
	}
	if wrong != 0 || stale != 0 {
		t.Fatalf("%d misplaced households, %d stale grid statistics", wrong, stale)
	}
	var placed int
	if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM households WHERE external_id LIKE 'M%' AND grid_id IS NOT NULL`).Scan(&placed); err != nil {
		t.Fatal(err)
	}
	if placed == 0 {
		t.Fatal("no imported household landed in a grid")
	}
}

func TestImportHouseholdsEncodingsAndCRS(t *testing.T) {
	ts, pool, pts := importServer(t)
	url := ts.URL + "/api/v1/import/households"
	text := fmt.Sprintf("户号,经度,纬度,地址,人口,党员户,户主\n甲1,%.9f,%.9f,青石镇柳河村一组12号,3,是,张三\n", pts[0][0], pts[0][1])
	gbk, err := simplifiedchinese.GBK.NewEncoder().Bytes([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, query, ctype string
		body               []byte
	}{
		{"utf-8", "", "text/csv", []byte(text)},
		{"utf-8 BOM", "", "text/csv", append([]byte("\xef\xbb\xbf"), text...)},
		{"gbk detected", "", "text/csv", gbk},
		{"gbk declared", "?encoding=gbk", "text/csv", gbk},
		{"gbk charset", "", "text/csv; charset=GBK", gbk},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := pool.Exec(context.Background(), `DELETE FROM households WHERE external_id = '甲1'`); err != nil {
				t.Fatal(err)
			}
			wantImported(t, post(t, url+tc.query, tc.ctype, tc.body), 1, 0, 0, 0)
			var addr, head string
			var party bool
			if err := pool.QueryRow(context.Background(), `SELECT address, head_name, party FROM households WHERE external_id = '甲1'`).Scan(&addr, &head, &party); err != nil {
				t.Fatal(err)
			}
			if addr != "青石镇柳河村一组12号" || head != "张三" || !party {
				t.Fatalf("stored %q %q %v", addr, head, party)
			}
		})
	}

	// The same point sent in WGS84, GCJ-02 and BD-09 is stored at the same place.
	wgs := pts[2]
	for _, c := range []coord.CRS{coord.WGS84, coord.GCJ02, coord.BD09} {
		p := coord.FromWGS84(wgs, c)
		csv := fmt.Sprintf("external_id,lon,lat\ncrs-%s,%.12f,%.12f\n", c, p[0], p[1])
		wantImported(t, post(t, url+"?crs="+c.String(), "text/csv", []byte(csv)), 1, 0, 0, 0)
		gj := fmt.Sprintf(`{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Point","coordinates":[%.12f,%.12f]},"properties":{"id":"crs-gj-%s"}}]}`, p[0], p[1], c)
		wantImported(t, post(t, url+"?crs="+c.String(), "application/geo+json", []byte(gj)), 1, 0, 0, 0)
	}
	rows, err := pool.Query(context.Background(), `SELECT external_id, ST_X(location), ST_Y(location) FROM households WHERE external_id LIKE 'crs-%'`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var id string
		var x, y float64
		if err := rows.Scan(&id, &x, &y); err != nil {
			t.Fatal(err)
		}
		if math.Abs(x-wgs[0]) > 1e-7 || math.Abs(y-wgs[1]) > 1e-7 {
			t.Errorf("%s at %.9f,%.9f, want %v", id, x, y, wgs)
		}
		n++
	}
	if n != 6 {
		t.Fatalf("%d households", n)
	}
}

func TestImportHouseholdsBadInput(t *testing.T) {
	ts, pool, pts := importServer(t)
	url := ts.URL + "/api/v1/import/households"
	in := fmt.Sprintf("%.6f,%.6f", pts[0][0], pts[0][1])
	before := dbState(t, pool)

	fileErrors := []struct {
		name, query, ctype, body string
		status                   int
		code, field              string
	}{
		{"malformed CSV", "", "text/csv", "external_id,lon,lat\nH\"1," + in + "\n", 400, "invalid_file", "file"},
		{"unterminated quote", "", "text/csv", "external_id,lon,lat\nH1," + in + "\nH2,\"1,2\n", 400, "invalid_file", "file"},
		{"missing id column", "", "text/csv", "lon,lat\n" + in + "\n", 400, "invalid_file", "external_id"},
		{"missing lat column", "", "text/csv", "external_id,lon\nH1,114\n", 400, "invalid_file", "lat"},
		{"empty body", "", "text/csv", "", 400, "invalid_file", "file"},
		{"malformed JSON", "", "application/geo+json", `{"type":"FeatureCollection","features":[{]}`, 400, "invalid_file", "file"},
		{"not a FeatureCollection", "", "application/geo+json", `{"type":"Feature"}`, 400, "invalid_file", "type"},
		{"foreign crs member", "", "application/geo+json", `{"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"EPSG:3857"}},"features":[]}`, 400, "invalid_file", "crs"},
		{"bad crs parameter", "?crs=utm50", "text/csv", "external_id,lon,lat\nH1," + in + "\n", 400, "invalid_parameter", "crs"},
		{"unknown unit", "?unit=999001999999", "text/csv", "external_id,lon,lat\nH1," + in + "\n", 400, "invalid_parameter", "unit"},
		{"township unit", "?unit=999001001", "text/csv", "external_id,lon,lat\nH1," + in + "\n", 400, "invalid_parameter", "unit"},
		{"malformed unit", "?unit=abc", "text/csv", "external_id,lon,lat\nH1," + in + "\n", 400, "invalid_parameter", "unit"},
		{"bad skip_invalid", "?skip_invalid=sometimes", "text/csv", "external_id,lon,lat\nH1," + in + "\n", 400, "invalid_parameter", "skip_invalid"},
		{"bad encoding", "?encoding=ebcdic", "text/csv", "external_id,lon,lat\nH1," + in + "\n", 400, "invalid_parameter", "encoding"},
		{"unknown parameter", "?crs=wgs84&skip=true", "text/csv", "external_id,lon,lat\nH1," + in + "\n", 400, "unknown_parameter", "skip"},
		{"multipart without file", "", "multipart/form-data; boundary=XX", "--XX\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nhi\r\n--XX--\r\n", 400, "invalid_parameter", "file"},
	}
	for _, tc := range fileErrors {
		t.Run(tc.name, func(t *testing.T) {
			wantError(t, post(t, url+tc.query, tc.ctype, []byte(tc.body)), tc.status, tc.code, tc.field)
		})
	}

	// Bad rows: 422 with the report; with one bad row in the middle of many good ones.
	many := func(bad string) string {
		var b strings.Builder
		b.WriteString("external_id,lon,lat,residents,party\n")
		for i := range 300 {
			if i == 150 {
				b.WriteString(bad + "\n")
				continue
			}
			p := pts[i%len(pts)]
			fmt.Fprintf(&b, "R%d,%.9f,%.9f,%d,%d\n", i, p[0]+float64(i%10)*1e-6, p[1], i%5, i%2)
		}
		return b.String()
	}
	rowErrors := []struct {
		name, body, field, reason string
	}{
		{"bad number", "X,114.2x," + fmt.Sprintf("%.6f", pts[0][1]) + ",1,0", "lon", "not a number"},
		{"NaN", "X,NaN," + fmt.Sprintf("%.6f", pts[0][1]) + ",1,0", "lon", "not a finite number"},
		{"longitude out of range", "X,190,30,1,0", "lon", "outside −180…180"},
		{"latitude out of range", "X,114,-95,1,0", "lat", "outside −90…90"},
		{"residents out of range", "X," + in + ",500,0", "residents", "0 to 200"},
		{"party", "X," + in + ",1,sometimes", "party", "yes/no"},
		{"missing id", "," + in + ",1,0", "external_id", "missing external id"},
		{"duplicate id", "R3," + in + ",1,0", "external_id", "first used on line 5"},
		{"outside every village", "X,100,20,1,0", "location", "no village or community"},
		{"wrong field count", "X," + in + ",1,0,extra", "file", "6 fields"},
	}
	for _, tc := range rowErrors {
		t.Run(tc.name, func(t *testing.T) {
			rep := wantRows(t, post(t, url, "text/csv", []byte(many(tc.body))), 1)
			p := rep.Rows[0]
			if p.Line != 152 || p.Field != tc.field || !strings.Contains(p.Reason, tc.reason) {
				t.Fatalf("problem %+v, want line 152 field %s reason ~ %q", p, tc.field, tc.reason)
			}
			if after := dbState(t, pool); after != before {
				t.Fatal("a rejected import changed the database")
			}
		})
	}
	t.Run("non-Point GeoJSON", func(t *testing.T) {
		body := `{"type":"FeatureCollection","features":[
			{"type":"Feature","geometry":{"type":"Point","coordinates":[` + in + `]},"properties":{"id":"P1"}},
			{"type":"Feature","geometry":{"type":"LineString","coordinates":[[114,30],[114.1,30.1]]},"properties":{"id":"L1"}}]}`
		rep := wantRows(t, post(t, url, "application/geo+json", []byte(body)), 1)
		if p := rep.Rows[0]; p.Line != 2 || p.Field != "geometry" || !strings.Contains(p.Reason, `"LineString"`) {
			t.Fatalf("problem %+v", p)
		}
		if after := dbState(t, pool); after != before {
			t.Fatal("a rejected import changed the database")
		}
	})
	t.Run("skip_invalid loads the good rows", func(t *testing.T) {
		r := post(t, url+"?skip_invalid=true", "text/csv", []byte(many("X,100,20,1,0")))
		b := wantImported(t, r, 299, 0, 0, 1)
		if b.Report.BadRows != 1 || len(b.Report.Rows) != 1 || b.Report.Rows[0].Line != 152 || b.Report.Rows[0].Field != "location" {
			t.Fatalf("report %+v", b.Report)
		}
		var wrong int
		if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM households WHERE grid_id IS DISTINCT FROM grid_at(location)`).Scan(&wrong); err != nil || wrong != 0 {
			t.Fatalf("%d misplaced (%v)", wrong, err)
		}
	})
}

// chunked hides a reader's length, so the client sends the body chunked.
type chunked struct{ r io.Reader }

func (c chunked) Read(b []byte) (int, error) { return c.r.Read(b) }

func TestImportHouseholdsTooLarge(t *testing.T) {
	st := pg.Store(t)
	srv := api.New(st, api.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), BodyLimit: "1K", ImportLimit: 1 << 10})
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	t.Cleanup(srv.Close)
	authorize(t, ts.URL, st, store.NewAPIToken{Name: "tests", Role: "admin"})
	url := ts.URL + "/api/v1/import/households"
	big := "external_id,lon,lat\n" + strings.Repeat("H1,114,30\n", 300)
	wantError(t, post(t, url, "text/csv", []byte(big)), http.StatusRequestEntityTooLarge, "body_too_large", "")

	req, err := http.NewRequest(http.MethodPost, url, chunked{strings.NewReader(big)})
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "text/csv")
	req.Header.Set("Authorization", "Bearer "+defaultToken(url))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	wantError(t, response{res.StatusCode, res.Header, b}, http.StatusRequestEntityTooLarge, "body_too_large", "")
}

// A file of more than 100,000 households goes the bulk way over HTTP too: cut short after
// the bulk load has begun it changes nothing (data or table); whole, it loads every row
// into its grid and leaves the table as it was.
func TestImportHouseholdsBulkOverHTTP(t *testing.T) {
	ts, pool, pts := importServer(t)
	file := func(n int, tail string) []byte {
		var b bytes.Buffer
		b.WriteString("external_id,lon,lat\n")
		for i := range n {
			p := pts[i%len(pts)]
			fmt.Fprintf(&b, "BULK%d,%.7f,%.7f\n", i, p[0]+float64(i%101)*1e-6, p[1])
		}
		b.WriteString(tail)
		return b.Bytes()
	}
	before, shape := dbState(t, pool), storetest.TableShape(t, pool, "households")
	url := ts.URL + "/api/v1/import/households"
	wantError(t, post(t, url, "text/csv", file(120000, "X,114,\"30\n")), http.StatusBadRequest, "invalid_file", "file")
	if got := dbState(t, pool); got != before {
		t.Fatalf("a failed bulk import changed the households: %s, want %s", got, before)
	}
	if got := storetest.TableShape(t, pool, "households"); got != shape {
		t.Fatalf("a failed bulk import changed the table:\n%s\nwant\n%s", got, shape)
	}
	b := wantImported(t, post(t, url, "text/csv", file(120000, "")), 120000, 0, 0, 0)
	if !b.Bulk {
		t.Fatal("120,000 households did not take the bulk path")
	}
	if got := storetest.TableShape(t, pool, "households"); got != shape {
		t.Fatalf("the bulk import changed the table:\n%s\nwant\n%s", got, shape)
	}
	var n, off int
	if err := pool.QueryRow(context.Background(), `SELECT count(*), count(*) FILTER (WHERE grid_id IS DISTINCT FROM grid_at(location))
		FROM households WHERE external_id LIKE 'BULK%'`).Scan(&n, &off); err != nil || n != 120000 || off != 0 {
		t.Fatalf("%d imported, %d off grid_at (%v)", n, off, err)
	}
}
