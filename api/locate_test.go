package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"gridmap/api"
	"gridmap/geo/coord"
	"gridmap/geo/demo"
	"gridmap/geo/store"
)

// locateServer serves a demo county with the locate index loaded and kept fresh.
func locateServer(t testing.TB, households int) (*httptest.Server, *store.Store, *api.Server) {
	t.Helper()
	st := pg.Store(t)
	c, err := demo.Generate(demo.Options{Households: households, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := demo.Load(context.Background(), st.Pool(), c); err != nil {
		t.Fatal(err)
	}
	srv := api.New(st, api.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan struct{})
	done := make(chan struct{})
	go func() { srv.Locate().Listen(ctx, ready); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	select {
	case <-ready:
	case <-time.After(30 * time.Second):
		t.Fatal("the locate index did not load")
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	authorize(t, ts.URL, st, store.NewAPIToken{Name: "tests", Role: "admin"})
	return ts, st, srv
}

type locateAnswer struct {
	Grid  *struct{ Code, Name, Kind string }
	Units []struct {
		Code, Name, Level string
	}
	Branch *struct{ Name, Secretary string }
	Team   []struct{ Role, Name string }
	Member *struct {
		ID   int64
		Name string
	}
	Matches []string
	Nearest *struct {
		Grid      string
		DistanceM float64 `json:"distance_m"`
	}
}

// postLocate sends a batch and returns the answers.
func postLocate(t *testing.T, base, crs string, pts []orb.Point) []locateAnswer {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"crs": crs, "points": pts})
	r := do(t, "POST", base+"/api/v1/locate", bytes.NewReader(body))
	if r.status != 200 {
		t.Fatalf("POST locate: %d %.300s", r.status, r.body)
	}
	out := decode[struct{ Results []locateAnswer }](t, r)
	if len(out.Results) != len(pts) {
		t.Fatalf("%d results for %d points", len(out.Results), len(pts))
	}
	return out.Results
}

// postgisMatches asks PostGIS for the active grids intersecting each point, codes in id order.
func postgisMatches(t *testing.T, st *store.Store, pts []orb.Point) [][]string {
	t.Helper()
	xs, ys := make([]float64, len(pts)), make([]float64, len(pts))
	for i, p := range pts {
		xs[i], ys[i] = p[0], p[1]
	}
	rows, err := st.Pool().Query(context.Background(), `
		SELECT p.i, coalesce(array_agg(g.code ORDER BY g.id) FILTER (WHERE g.id IS NOT NULL), '{}')
		FROM unnest($1::float8[], $2::float8[]) WITH ORDINALITY AS p(x, y, i)
		LEFT JOIN grids g ON g.valid_to IS NULL AND ST_Intersects(g.boundary, ST_SetSRID(ST_MakePoint(p.x, p.y), 4326))
		GROUP BY p.i ORDER BY p.i`, xs, ys)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := make([][]string, 0, len(pts))
	for rows.Next() {
		var i int64
		var codes []string
		if err := rows.Scan(&i, &codes); err != nil {
			t.Fatal(err)
		}
		out = append(out, codes)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func countyBound(t *testing.T, st *store.Store) orb.Bound {
	t.Helper()
	var b orb.Bound
	if err := st.Pool().QueryRow(context.Background(), `SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e)
		FROM (SELECT ST_Extent(boundary) e FROM units WHERE parent_code IS NULL) x`).Scan(&b.Min[0], &b.Min[1], &b.Max[0], &b.Max[1]); err != nil {
		t.Fatal(err)
	}
	return b
}

// TestLocateEqualsPostGIS compares 100,000 random points (and every vertex of some grids,
// which lie on edges shared with neighbours) with PostGIS ST_Intersects.
func TestLocateEqualsPostGIS(t *testing.T) {
	ts, st, _ := locateServer(t, 20000)
	b := countyBound(t, st)
	// 5% beyond the county on every side, so some points are in no grid.
	dx, dy := (b.Max[0]-b.Min[0])*0.05, (b.Max[1]-b.Min[1])*0.05
	b = orb.Bound{Min: orb.Point{b.Min[0] - dx, b.Min[1] - dy}, Max: orb.Point{b.Max[0] + dx, b.Max[1] + dy}}
	rng := rand.New(rand.NewPCG(8, 8))
	pts := make([]orb.Point, 0, 101000)
	for range 100000 {
		pts = append(pts, orb.Point{b.Min[0] + rng.Float64()*(b.Max[0]-b.Min[0]), b.Min[1] + rng.Float64()*(b.Max[1]-b.Min[1])})
	}
	rows, err := st.Pool().Query(context.Background(), `
		SELECT ST_X(d.geom), ST_Y(d.geom) FROM (SELECT boundary FROM grids ORDER BY id LIMIT 40) g,
		LATERAL ST_DumpPoints(g.boundary) d LIMIT 1000`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var p orb.Point
		if err := rows.Scan(&p[0], &p[1]); err != nil {
			t.Fatal(err)
		}
		pts = append(pts, p)
	}
	rows.Close()

	var shared, inside, outside int
	for lo := 0; lo < len(pts); lo += api.MaxLocateBatch {
		batch := pts[lo:min(lo+api.MaxLocateBatch, len(pts))]
		got := postLocate(t, ts.URL, "wgs84", batch)
		want := postgisMatches(t, st, batch)
		for i := range batch {
			w := want[i]
			g := got[i]
			if !slices.Equal(g.Matches, w) {
				t.Fatalf("point %v: matches %v, PostGIS %v", batch[i], g.Matches, w)
			}
			switch {
			case len(w) == 0:
				outside++
				if g.Grid != nil || g.Nearest == nil {
					t.Fatalf("point %v outside: %+v", batch[i], g)
				}
			case g.Grid == nil || g.Grid.Code != w[0]:
				t.Fatalf("point %v: grid %+v, want %s (lowest id)", batch[i], g.Grid, w[0])
			default:
				inside++
				if len(w) > 1 {
					shared++
				}
			}
		}
	}
	t.Logf("%d points: %d in a grid (%d on shared edges), %d outside", len(pts), inside, shared, outside)
	if shared == 0 || inside < 50000 || outside == 0 {
		t.Fatalf("test points do not exercise the index: %d inside, %d shared", inside, shared)
	}
}

// TestLocateAnswer checks one answer against the database: unit path, branch, team, and
// the member responsible for the nearest household in the grid; GCJ-02 and BD-09 inputs
// give the grid of their WGS84 point.
func TestLocateAnswer(t *testing.T) {
	ts, st, _ := locateServer(t, 6000)
	ctx := context.Background()
	var code, unit string
	var gid int64
	var p orb.Point
	if err := st.Pool().QueryRow(ctx, `
		SELECT g.id, g.code, g.unit_code, ST_X(c), ST_Y(c)
		FROM grids g JOIN branches b ON b.grid_id = g.id, LATERAL ST_PointOnSurface(g.boundary) c
		WHERE g.valid_to IS NULL ORDER BY g.id LIMIT 1`).Scan(&gid, &code, &unit, &p[0], &p[1]); err != nil {
		t.Fatal(err)
	}
	r := do(t, "GET", fmt.Sprintf("%s/api/v1/locate?lon=%v&lat=%v", ts.URL, p[0], p[1]), nil)
	if r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	a := decode[locateAnswer](t, r)
	if a.Grid == nil || a.Grid.Code != code || a.Grid.Name == "" || a.Grid.Kind == "" {
		t.Fatalf("grid %+v, want %s", a.Grid, code)
	}
	if len(a.Units) != 3 || a.Units[0].Code != unit[:6] || a.Units[1].Code != unit[:9] || a.Units[2].Code != unit || a.Units[0].Level != "county" {
		t.Fatalf("units %+v for %s", a.Units, unit)
	}
	var branch, secretary string
	if err := st.Pool().QueryRow(ctx, `SELECT b.name, coalesce(p.name, '') FROM branches b LEFT JOIN people p ON p.id = b.secretary_id
		WHERE b.grid_id = $1 AND b.valid_to IS NULL`, gid).Scan(&branch, &secretary); err != nil {
		t.Fatal(err)
	}
	if a.Branch == nil || a.Branch.Name != branch || a.Branch.Secretary != secretary {
		t.Fatalf("branch %+v, want %s / %s", a.Branch, branch, secretary)
	}
	teamSize := count(t, st, `SELECT count(*) FROM grid_team WHERE grid_id = $1`, gid)
	if len(a.Team) != teamSize || teamSize == 0 {
		t.Fatalf("team %+v, want %d members", a.Team, teamSize)
	}
	order := map[string]int{"leader": 0, "worker": 1, "assistant": 2, "instructor": 3}
	for i := 1; i < len(a.Team); i++ {
		if order[a.Team[i].Role] < order[a.Team[i-1].Role] {
			t.Fatalf("team not in role order: %+v", a.Team)
		}
	}
	var member int64
	var mname string
	if err := st.Pool().QueryRow(ctx, `
		SELECT l.member_id, p.name FROM households h
		JOIN member_household_links l ON l.household_id = h.id JOIN people p ON p.id = l.member_id
		WHERE h.grid_id = $1
		ORDER BY ((ST_X(h.location) - $2) * cos(radians($3)))^2 + (ST_Y(h.location) - $3)^2, h.id LIMIT 1`,
		gid, p[0], p[1]).Scan(&member, &mname); err != nil {
		t.Fatal(err)
	}
	if a.Member == nil || a.Member.ID != member || a.Member.Name != mname {
		t.Fatalf("member %+v, want %d %s", a.Member, member, mname)
	}
	if !slices.Equal(a.Matches, []string{code}) {
		t.Fatalf("matches %v", a.Matches)
	}
	for _, leak := range []string{"phone", "head_name", "address"} {
		if strings.Contains(string(r.body), leak) {
			t.Fatalf("answer mentions %s: %s", leak, r.body)
		}
	}
	rows, err := st.Pool().Query(ctx, `SELECT phone FROM people WHERE phone IS NOT NULL UNION SELECT head_phone FROM households WHERE head_phone IS NOT NULL`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(r.body), s) {
			t.Fatalf("answer holds phone %s", s)
		}
	}
	rows.Close()

	// GCJ-02 and BD-09: the WGS84 points converted forward land in the same grids.
	b := countyBound(t, st)
	rng := rand.New(rand.NewPCG(2, 7))
	var wgs []orb.Point
	for len(wgs) < 2000 {
		wgs = append(wgs, orb.Point{b.Min[0] + rng.Float64()*(b.Max[0]-b.Min[0]), b.Min[1] + rng.Float64()*(b.Max[1]-b.Min[1])})
	}
	base := postLocate(t, ts.URL, "wgs84", wgs)
	for _, crs := range []coord.CRS{coord.GCJ02, coord.BD09} {
		conv := make([]orb.Point, len(wgs))
		for i, q := range wgs {
			conv[i] = coord.FromWGS84(q, crs)
			if conv[i] == q {
				t.Fatalf("%s conversion is the identity at %v", crs, q)
			}
		}
		got := postLocate(t, ts.URL, crs.String(), conv)
		for i := range wgs {
			if !slices.Equal(got[i].Matches, base[i].Matches) {
				t.Fatalf("%s point %v (WGS84 %v): %v, WGS84 gives %v", crs, conv[i], wgs[i], got[i].Matches, base[i].Matches)
			}
		}
		// GET too, on the first points inside a grid.
		n := 0
		for i := range wgs {
			if base[i].Grid == nil || n == 50 {
				continue
			}
			n++
			r := do(t, "GET", fmt.Sprintf("%s/api/v1/locate?lon=%v&lat=%v&crs=%s", ts.URL, conv[i][0], conv[i][1], crs), nil)
			if a := decode[locateAnswer](t, r); r.status != 200 || a.Grid.Code != base[i].Grid.Code {
				t.Fatalf("GET %s: %d %s, want %s", crs, r.status, r.body, base[i].Grid.Code)
			}
		}
	}

	// Bad input.
	wantError(t, do(t, "GET", ts.URL+"/api/v1/locate?lon=200&lat=30", nil), 400, "invalid_parameter", "lon")
	wantError(t, do(t, "GET", ts.URL+"/api/v1/locate?lon=120", nil), 400, "invalid_parameter", "lat")
	wantError(t, do(t, "GET", ts.URL+"/api/v1/locate?lon=120&lat=30&crs=utm", nil), 400, "invalid_parameter", "crs")
	wantError(t, do(t, "GET", ts.URL+"/api/v1/locate?lon=120&lat=30&srs=gcj02", nil), 400, "unknown_parameter", "srs")
}

// TestLocateOutside: a point in no grid is 404 naming the nearest grid and its distance,
// the same as PostGIS's to within 1%.
func TestLocateOutside(t *testing.T) {
	ts, st, _ := locateServer(t, 4000)
	b := countyBound(t, st)
	p := orb.Point{b.Min[0] - 0.02, (b.Min[1] + b.Max[1]) / 2}
	r := do(t, "GET", fmt.Sprintf("%s/api/v1/locate?lon=%v&lat=%v", ts.URL, p[0], p[1]), nil)
	wantError(t, r, 404, "not_found", "")
	var e struct {
		Error struct {
			Details struct {
				NearestGrid string  `json:"nearest_grid"`
				DistanceM   float64 `json:"distance_m"`
			}
		}
	}
	if err := json.Unmarshal(r.body, &e); err != nil {
		t.Fatal(err)
	}
	var code string
	var dist float64
	if err := st.Pool().QueryRow(context.Background(), `
		SELECT code, ST_Distance(boundary::geography, ST_SetSRID(ST_MakePoint($1, $2), 4326)::geography)
		FROM grids WHERE valid_to IS NULL
		ORDER BY ST_Distance(boundary::geography, ST_SetSRID(ST_MakePoint($1, $2), 4326)::geography) LIMIT 1`, p[0], p[1]).Scan(&code, &dist); err != nil {
		t.Fatal(err)
	}
	if e.Error.Details.NearestGrid != code || math.Abs(e.Error.Details.DistanceM-dist) > 0.01*dist {
		t.Fatalf("nearest %+v, PostGIS %s at %.1f m", e.Error.Details, code, dist)
	}

	// The batch answers the same point with nearest instead of an error.
	got := postLocate(t, ts.URL, "", []orb.Point{p})
	if got[0].Grid != nil || got[0].Nearest == nil || got[0].Nearest.Grid != code || len(got[0].Matches) != 0 {
		t.Fatalf("batch outside: %+v", got[0])
	}
	// Batch limits and bad bodies.
	big := make([]orb.Point, api.MaxLocateBatch+1)
	for i := range big {
		big[i] = p
	}
	body, _ := json.Marshal(map[string]any{"points": big})
	wantError(t, do(t, "POST", ts.URL+"/api/v1/locate", bytes.NewReader(body)), 413, "too_many_points", "points")
	wantError(t, do(t, "POST", ts.URL+"/api/v1/locate", strings.NewReader(`{"points":[[1,2]`)), 400, "invalid_parameter", "points")
	wantError(t, do(t, "POST", ts.URL+"/api/v1/locate", strings.NewReader(`{"points":[[500,2]]}`)), 400, "invalid_parameter", "points")
	wantError(t, do(t, "POST", ts.URL+"/api/v1/locate", strings.NewReader(`{"crs":"x","points":[]}`)), 400, "invalid_parameter", "crs")
	wantError(t, do(t, "POST", ts.URL+"/api/v1/locate", strings.NewReader(`{"pts":[]}`)), 400, "invalid_parameter", "points")
	if r := do(t, "POST", ts.URL+"/api/v1/locate", strings.NewReader(`{"points":[]}`)); r.status != 200 || string(r.body) != `{"results":[]}` {
		t.Fatalf("empty batch: %d %s", r.status, r.body)
	}
	// A body over the server's limit is a 413 too.
	small := httptest.NewServer(api.New(pg.Store(t), api.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), BodyLimit: "1K"}))
	t.Cleanup(small.Close)
	wantError(t, do(t, "POST", small.URL+"/api/v1/locate", bytes.NewReader(body[:4096])), 413, "body_too_large", "")
	// Before the index is loaded (no Listen), locate answers 503.
	wantError(t, do(t, "GET", small.URL+"/api/v1/locate?lon=120&lat=30", nil), 503, "unavailable", "")
}

// TestLocateSeesEdits: a grid moved, reshaped or retired by SQL shows in locate answers
// within one second (LISTEN/NOTIFY), without restarting anything.
func TestLocateSeesEdits(t *testing.T) {
	ts, st, _ := locateServer(t, 4000)
	ctx := context.Background()
	var code string
	var in orb.Point
	if err := st.Pool().QueryRow(ctx, `SELECT code, ST_X(c), ST_Y(c) FROM grids, LATERAL ST_PointOnSurface(boundary) c
		WHERE valid_to IS NULL ORDER BY id LIMIT 1`).Scan(&code, &in[0], &in[1]); err != nil {
		t.Fatal(err)
	}
	at := func(p orb.Point) (int, string) {
		r := do(t, "GET", fmt.Sprintf("%s/api/v1/locate?lon=%v&lat=%v", ts.URL, p[0], p[1]), nil)
		if r.status != 200 {
			return r.status, ""
		}
		return r.status, decode[locateAnswer](t, r).Grid.Code
	}
	waitFor := func(what string, p orb.Point, status int, want string) {
		t.Helper()
		t0 := time.Now()
		for {
			s, c := at(p)
			if s == status && c == want {
				t.Logf("%s: visible after %v", what, time.Since(t0).Round(time.Millisecond))
				return
			}
			if time.Since(t0) > time.Second {
				t.Fatalf("%s: after 1 s locate says %d %q, want %d %q", what, s, c, status, want)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	if s, c := at(in); s != 200 || c != code {
		t.Fatalf("before: %d %s", s, c)
	}
	// Readers keep asking while the index is swapped under them: every answer is whole.
	stop := make(chan struct{})
	bad := make(chan string, 1)
	var readers sync.WaitGroup
	for range 4 {
		readers.Add(1)
		go func() {
			defer readers.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				// Authenticated: anonymous callers are rate-limited.
				req, _ := http.NewRequest("GET", fmt.Sprintf("%s/api/v1/locate?lon=%v&lat=%v", ts.URL, in[0], in[1]), nil)
				req.Header.Set("Authorization", "Bearer "+defaultToken(ts.URL))
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					select {
					case bad <- err.Error():
					default:
					}
					return
				}
				b, _ := io.ReadAll(res.Body)
				res.Body.Close()
				if res.StatusCode != 200 && res.StatusCode != 404 || !json.Valid(b) {
					select {
					case bad <- fmt.Sprintf("%d %s", res.StatusCode, b):
					default:
					}
					return
				}
			}
		}()
	}
	defer func() {
		close(stop)
		readers.Wait()
		select {
		case msg := <-bad:
			t.Errorf("a concurrent reader got %s", msg)
		default:
		}
	}()
	// Move the grid 0.5° east (away from everything).
	if _, err := st.Pool().Exec(ctx, `UPDATE grids SET boundary = ST_Translate(boundary, 0.5, 0), version = version + 1 WHERE code = $1`, code); err != nil {
		t.Fatal(err)
	}
	moved := orb.Point{in[0] + 0.5, in[1]}
	waitFor("moved grid at its new place", moved, 200, code)
	if s, c := at(in); s == 200 && c == code {
		t.Fatalf("the old place still answers %s", c)
	}
	// Retire it.
	if _, err := st.Pool().Exec(ctx, `UPDATE grids SET valid_to = now(), version = version + 1 WHERE code = $1`, code); err != nil {
		t.Fatal(err)
	}
	waitFor("retired grid", moved, 404, "")
}

// BenchmarkLocateHandler measures GET /api/v1/locate through the whole Echo stack
// (middleware included) in process, on points spread over the county.
func BenchmarkLocateHandler(b *testing.B) {
	_, st, srv := locateServer(b, 20000)
	var bd orb.Bound
	if err := st.Pool().QueryRow(context.Background(), `SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e)
		FROM (SELECT ST_Extent(boundary) e FROM grids) x`).Scan(&bd.Min[0], &bd.Min[1], &bd.Max[0], &bd.Max[1]); err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 1))
	reqs := make([]*http.Request, 1024)
	for i := range reqs {
		reqs[i] = httptest.NewRequest("GET", fmt.Sprintf("/api/v1/locate?lon=%.6f&lat=%.6f",
			bd.Min[0]+rng.Float64()*(bd.Max[0]-bd.Min[0]), bd.Min[1]+rng.Float64()*(bd.Max[1]-bd.Min[1])), nil)
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			w := httptest.NewRecorder()
			srv.ServeHTTP(w, reqs[i%len(reqs)])
			if w.Code != 200 && w.Code != 404 {
				b.Fatalf("%d %s", w.Code, w.Body)
			}
			i++
		}
	})
}
