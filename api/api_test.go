package api_test

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"gridmap/api"
	"gridmap/geo/auth"
	"gridmap/geo/demo"
	"gridmap/geo/store"
	"gridmap/geo/store/storetest"
)

var pg *storetest.Cluster

func TestMain(m *testing.M) { os.Exit(storetest.Run(m, &pg)) }

// newServer serves the API over real HTTP on a fresh database holding a small demo county.
func newServer(t *testing.T, households int) (*httptest.Server, *store.Store, *api.Server) {
	t.Helper()
	st := pg.Store(t)
	if households > 0 {
		loadDemo(t, st, households)
	}
	srv := api.New(st, api.Config{Logger: slog.New(slog.NewTextHandler(testLog(), nil)), BodyLimit: "8M"})
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	t.Cleanup(srv.Close)
	listenTokens(t, srv)
	authorize(t, ts.URL, st, store.NewAPIToken{Name: "tests", Role: "admin"})
	return ts, st, srv
}

// listenTokens runs the server's token listener, as gridmap serve does: token lookups are
// cached while it listens for revocations.
func listenTokens(t *testing.T, srv *api.Server) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan struct{})
	done := make(chan struct{})
	go func() { srv.ListenTokens(ctx, ready); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	select {
	case <-ready:
	case <-time.After(10 * time.Second):
		t.Fatal("the token listener did not start")
	}
}

// tokens maps a test server's URL to the token do() and request() send to it: tests act
// as an admin (without the right to see personal data) unless they ask otherwise.
var tokens sync.Map

// authorize creates a token on st and makes it the default credential for requests to
// base (a test server's URL).
func authorize(t testing.TB, base string, st *store.Store, in store.NewAPIToken) string {
	t.Helper()
	secret := newToken(t, st, in)
	tokens.Store(base, secret)
	t.Cleanup(func() { tokens.Delete(base) })
	return secret
}

// newToken creates an API token directly in the store.
func newToken(t testing.TB, st *store.Store, in store.NewAPIToken) string {
	t.Helper()
	secret, hash, err := auth.NewToken()
	if err != nil {
		t.Fatal(err)
	}
	in.Hash = hash
	if _, err := st.CreateToken(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	return secret
}

// defaultToken is the token registered for the server that url points at.
func defaultToken(url string) string {
	var tok string
	tokens.Range(func(k, v any) bool {
		if base := k.(string); url == base || strings.HasPrefix(url, base+"/") || strings.HasPrefix(url, base+"?") {
			tok = v.(string)
			return false
		}
		return true
	})
	return tok
}

// loadDemo loads a small demo county (seed 3) into the store's database.
func loadDemo(t *testing.T, st *store.Store, households int) {
	t.Helper()
	c, err := demo.Generate(demo.Options{Households: households, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := demo.Load(context.Background(), st.Pool(), c); err != nil {
		t.Fatal(err)
	}
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func do(t *testing.T, method, url string, body io.Reader) response {
	t.Helper()
	return request(t, method, url, body, nil)
}

// request sends one request over real HTTP with the given headers and reads the answer.
func request(t *testing.T, method, url string, body io.Reader, header map[string]string) response {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	// The server's default token unless the test sets Authorization ("" for anonymous).
	if _, ok := header["Authorization"]; !ok {
		if tok := defaultToken(url); tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
	}
	for k, v := range header {
		if v != "" {
			req.Header.Set(k, v)
		}
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{res.StatusCode, res.Header, b}
}

func decode[T any](t *testing.T, r response) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
	return v
}

type errorBody struct {
	Error struct {
		Code, Message, Field string
	} `json:"error"`
}

// wantError asserts status and the JSON error shape, and that nothing internal leaks.
func wantError(t *testing.T, r response, status int, code, field string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.body)
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("content type %q", ct)
	}
	e := decode[errorBody](t, r)
	if e.Error.Code != code || e.Error.Field != field || e.Error.Message == "" {
		t.Fatalf("error %+v, want code %q field %q", e.Error, code, field)
	}
	for _, leak := range []string{"goroutine", ".go:", "panic", "pgx", "SQLSTATE", "store:"} {
		if strings.Contains(string(r.body), leak) {
			t.Fatalf("error body leaks %q: %s", leak, r.body)
		}
	}
}

type unitsBody struct {
	Units []struct{ Code, Name, Level, Parent string } `json:"units"`
}

type unitBody struct {
	Code, Name, Level, Parent string
	Path                      []struct{ Code string }
	Counts                    struct {
		Children, Grids, Households, Residents int
		PartyMembers                           int `json:"party_members"`
	}
}

type featureCollection struct {
	Type     string
	Features []struct {
		Type       string
		ID         string
		Geometry   struct{ Type string }
		Properties struct {
			Code, Name, Kind, Unit string
			Households             int
		}
	}
}

func TestHealth(t *testing.T) {
	ts, _, _ := newServer(t, 0)
	r := do(t, "GET", ts.URL+"/health", nil)
	if r.status != 200 || !strings.Contains(string(r.body), `"database":"ok"`) {
		t.Fatalf("health: %d %s", r.status, r.body)
	}
}

func TestUnits(t *testing.T) {
	ts, st, _ := newServer(t, 4000)
	r := do(t, "GET", ts.URL+"/api/v1/units", nil)
	if r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	counties := decode[unitsBody](t, r).Units
	if len(counties) != 1 || counties[0].Code != "999001" || counties[0].Level != "county" || counties[0].Name != "示范县" {
		t.Fatalf("counties %+v", counties)
	}
	towns := decode[unitsBody](t, do(t, "GET", ts.URL+"/api/v1/units?parent=999001", nil)).Units
	if len(towns) < 2 {
		t.Fatalf("townships %+v", towns)
	}
	for _, u := range towns {
		if u.Parent != "999001" || len(u.Code) != 9 || (u.Level != "township" && u.Level != "street") {
			t.Fatalf("township %+v", u)
		}
	}

	// The county's counts equal what the database holds; its children add up to it.
	county := decode[unitBody](t, do(t, "GET", ts.URL+"/api/v1/units/999001", nil))
	var grids, households, members int
	err := st.Pool().QueryRow(context.Background(), `SELECT (SELECT count(*) FROM grids), (SELECT count(*) FROM households), (SELECT count(*) FROM people WHERE party_member)`).Scan(&grids, &households, &members)
	if err != nil {
		t.Fatal(err)
	}
	if county.Counts.Households != 4000 || county.Counts.Households != households || county.Counts.Grids != grids ||
		county.Counts.PartyMembers != members || county.Counts.Children != len(towns) || len(county.Path) != 0 {
		t.Fatalf("county %+v; database grids %d households %d members %d", county, grids, households, members)
	}
	sum := 0
	for _, u := range towns {
		sum += decode[unitBody](t, do(t, "GET", ts.URL+"/api/v1/units/"+u.Code, nil)).Counts.Households
	}
	if sum != households {
		t.Fatalf("townships hold %d households, county %d", sum, households)
	}
	villages := decode[unitsBody](t, do(t, "GET", ts.URL+"/api/v1/units?parent="+towns[0].Code, nil)).Units
	v := decode[unitBody](t, do(t, "GET", ts.URL+"/api/v1/units/"+villages[0].Code, nil))
	if len(v.Path) != 2 || v.Path[0].Code != "999001" || v.Path[1].Code != towns[0].Code || v.Counts.Children != 0 || v.Counts.Grids == 0 {
		t.Fatalf("village %+v", v)
	}

	wantError(t, do(t, "GET", ts.URL+"/api/v1/units/12345", nil), 400, "invalid_parameter", "code")
	wantError(t, do(t, "GET", ts.URL+"/api/v1/units/99900x", nil), 400, "invalid_parameter", "code")
	wantError(t, do(t, "GET", ts.URL+"/api/v1/units/888001", nil), 404, "not_found", "")
	wantError(t, do(t, "GET", ts.URL+"/api/v1/units?parent=888001", nil), 404, "not_found", "")
	wantError(t, do(t, "GET", ts.URL+"/api/v1/units?parent=abc", nil), 400, "invalid_parameter", "parent")
	wantError(t, do(t, "GET", ts.URL+"/api/v1/units?parnet=999001", nil), 400, "unknown_parameter", "parnet")
	wantError(t, do(t, "GET", ts.URL+"/api/v1/units/999001?geometry=yes", nil), 400, "invalid_parameter", "geometry")
}

func TestGrids(t *testing.T) {
	ts, st, _ := newServer(t, 4000)
	all := decode[featureCollection](t, do(t, "GET", ts.URL+"/api/v1/grids", nil))
	var n, households int
	if err := st.Pool().QueryRow(context.Background(), `SELECT count(*) FROM grids`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if all.Type != "FeatureCollection" || len(all.Features) != n || n == 0 {
		t.Fatalf("%s with %d features, database has %d grids", all.Type, len(all.Features), n)
	}
	for _, f := range all.Features {
		if f.Type != "Feature" || f.ID != f.Properties.Code || len(f.Properties.Code) != 15 || f.Geometry.Type != "MultiPolygon" {
			t.Fatalf("feature %+v", f)
		}
		households += f.Properties.Households
	}
	if households != 4000 {
		t.Fatalf("grids hold %d households, want 4000", households)
	}

	towns := decode[unitsBody](t, do(t, "GET", ts.URL+"/api/v1/units?parent=999001", nil)).Units
	some := decode[featureCollection](t, do(t, "GET", ts.URL+"/api/v1/grids?unit="+towns[0].Code, nil))
	if len(some.Features) == 0 || len(some.Features) >= len(all.Features) {
		t.Fatalf("%d grids in %s of %d", len(some.Features), towns[0].Code, len(all.Features))
	}
	for _, f := range some.Features {
		if !strings.HasPrefix(f.Properties.Code, towns[0].Code) {
			t.Fatalf("grid %s outside unit %s", f.Properties.Code, towns[0].Code)
		}
	}
	// A box around the county's south-west corner holds some grids but not all.
	boxed := decode[featureCollection](t, do(t, "GET", ts.URL+"/api/v1/grids?bbox=114.19,30.29,114.205,30.305", nil))
	if len(boxed.Features) == 0 || len(boxed.Features) >= len(all.Features) {
		t.Fatalf("%d grids in box of %d", len(boxed.Features), len(all.Features))
	}
	if r := do(t, "GET", ts.URL+"/api/v1/grids?bbox=0,0,1,1", nil); r.status != 200 || len(decode[featureCollection](t, r).Features) != 0 {
		t.Fatalf("empty box: %d %s", r.status, r.body)
	}

	wantError(t, do(t, "GET", ts.URL+"/api/v1/grids?unit=888001", nil), 404, "not_found", "")
	wantError(t, do(t, "GET", ts.URL+"/api/v1/grids?unit=9990011", nil), 400, "invalid_parameter", "unit")
	wantError(t, do(t, "GET", ts.URL+"/api/v1/grids?bbox=1,2,3", nil), 400, "invalid_parameter", "bbox")
	wantError(t, do(t, "GET", ts.URL+"/api/v1/grids?bbox=1,2,3,x", nil), 400, "invalid_parameter", "bbox")
	wantError(t, do(t, "GET", ts.URL+"/api/v1/grids?bbox=114,30,113,31", nil), 400, "invalid_parameter", "bbox")
	wantError(t, do(t, "GET", ts.URL+"/api/v1/grids?bbox=114,30,200,31", nil), 400, "invalid_parameter", "bbox")
}

func TestErrorsKeepTheirShape(t *testing.T) {
	ts, _, srv := newServer(t, 0)
	srv.Echo().GET("/test/panic", func(echo.Context) error { panic("boom at secret.go:12") })
	srv.Echo().POST("/test/echo", func(c echo.Context) error {
		b, err := io.ReadAll(c.Request().Body)
		if err != nil {
			return err
		}
		return c.Blob(200, "text/plain", b)
	})
	wantError(t, do(t, "GET", ts.URL+"/no/such/route", nil), 404, "not_found", "")
	wantError(t, do(t, "DELETE", ts.URL+"/api/v1/units", nil), 405, "method_not_allowed", "")
	wantError(t, do(t, "GET", ts.URL+"/test/panic", nil), 500, "internal", "")
	wantError(t, do(t, "POST", ts.URL+"/test/echo", strings.NewReader(strings.Repeat("x", 9<<20))), 413, "body_too_large", "")
	if r := do(t, "POST", ts.URL+"/test/echo", strings.NewReader("small")); r.status != 200 || string(r.body) != "small" {
		t.Fatalf("small body: %d %s", r.status, r.body)
	}
	// HEAD gets the status without a body.
	if r := do(t, "HEAD", ts.URL+"/api/v1/units/888001", nil); r.status != 404 || len(r.body) != 0 {
		t.Fatalf("HEAD: %d %q", r.status, r.body)
	}
}

// TestDatabaseOutage stops a database mid-service: every endpoint that needs it answers 503
// with the JSON error shape, and health says so too.
func TestDatabaseOutage(t *testing.T) {
	cl, err := storetest.Start(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	st := cl.Store(t)
	srv := api.New(st, api.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	ts := httptest.NewServer(srv)
	defer ts.Close()
	authorize(t, ts.URL, st, store.NewAPIToken{Name: "tests", Role: "admin"})
	if r := do(t, "GET", ts.URL+"/health", nil); r.status != 200 {
		t.Fatalf("health before outage: %d", r.status)
	}
	if err := cl.Cluster().Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/health", "/api/v1/units", "/api/v1/units/999001", "/api/v1/grids?unit=999001"} {
		wantError(t, do(t, "GET", ts.URL+path, nil), 503, "database_unavailable", "")
	}
}

func TestMetricsAndGzip(t *testing.T) {
	ts, _, _ := newServer(t, 0)
	do(t, "GET", ts.URL+"/api/v1/units", nil)
	do(t, "GET", ts.URL+"/api/v1/units/888001", nil)
	r := do(t, "GET", ts.URL+"/metrics", nil)
	for _, want := range []string{
		`gridmap_http_requests_total{method="GET",route="/api/v1/units",status="200"} 1`,
		`gridmap_http_requests_total{method="GET",route="/api/v1/units/:code",status="404"} 1`,
		`gridmap_http_request_duration_seconds_bucket{method="GET",route="/api/v1/units",le="+Inf"} 1`,
	} {
		if !strings.Contains(string(r.body), want) {
			t.Fatalf("metrics lack %s", want)
		}
	}

	req, _ := http.NewRequest("GET", ts.URL+"/api/v1/units", nil)
	req.Header.Set("Accept-Encoding", "gzip")
	res, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("no gzip: %v", res.Header)
	}
	zr, err := gzip.NewReader(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(zr)
	if !strings.Contains(string(b), `"units"`) {
		t.Fatalf("gzipped body %s", b)
	}
}

// testLog is where test servers log: nowhere, or stderr with GRIDMAP_TEST_LOG=1.
func testLog() io.Writer {
	if os.Getenv("GRIDMAP_TEST_LOG") != "" {
		return os.Stderr
	}
	return io.Discard
}
