package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/maptile"

	"gridmap/api"
	"gridmap/geo/store"
)

// busiestPoint is the point of the demo county with most households (a big building).
func busiestPoint(t *testing.T, st *store.Store) orb.Point {
	t.Helper()
	var p orb.Point
	err := st.Pool().QueryRow(context.Background(), `
		SELECT ST_X(location), ST_Y(location) FROM households
		GROUP BY location ORDER BY count(*) DESC, ST_X(location) LIMIT 1`).Scan(&p[0], &p[1])
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func tilePath(layers string, tl maptile.Tile) string {
	return fmt.Sprintf("/tiles/%s/%d/%d/%d.mvt", layers, tl.Z, tl.X, tl.Y)
}

func getTile(t *testing.T, url string) (mvt.Layers, response) {
	t.Helper()
	r := do(t, "GET", url, nil)
	if r.status == http.StatusNoContent {
		return nil, r
	}
	if r.status != 200 {
		t.Fatalf("%s: %d %s", url, r.status, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/vnd.mapbox-vector-tile" {
		t.Fatalf("%s: content type %q", url, ct)
	}
	layers, err := mvt.Unmarshal(r.body)
	if err != nil {
		t.Fatalf("%s: decode: %v", url, err)
	}
	return layers, r
}

func layerByName(ls mvt.Layers, name string) *mvt.Layer {
	for _, l := range ls {
		if l.Name == name {
			return l
		}
	}
	return nil
}

// personal holds every resident's name, phone and address, to prove none reaches a tile.
func personal(t *testing.T, st *store.Store) map[string]bool {
	t.Helper()
	rows, err := st.Pool().Query(context.Background(), `
		SELECT head_name FROM households UNION SELECT head_phone FROM households
		UNION SELECT address FROM households UNION SELECT phone FROM people WHERE phone IS NOT NULL`)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out[s] = true
	}
	return out
}

func TestTileLayers(t *testing.T) {
	ts, st, _ := newServer(t, 4000)
	ctx := context.Background()
	secrets := personal(t, st)
	p := busiestPoint(t, st)

	allowed := map[string][]string{
		"units":      {"code", "name", "level"},
		"grids":      {"code", "name", "kind", "unit", "branch", "secretary", "party_groups", "households", "residents", "party_members", "coverage"},
		"branches":   {"name", "secretary", "grid", "members"},
		"members":    {"grid", "households", "central", "cadre"},
		"households": {"grid", "party", "households", "party_members"},
		"links":      {"grid", "member"},
		"coverage":   {"kind", "grid", "households"},
	}
	all := "units,grids,branches,members,households,links,coverage"
	ls, r := getTile(t, ts.URL+tilePath(all, maptile.At(p, 16)))
	if len(r.body) > 100<<10 {
		t.Fatalf("z16 tile of every layer is %d bytes", len(r.body))
	}
	for name, keys := range allowed {
		l := layerByName(ls, name)
		if l == nil {
			if name == "coverage" {
				continue // a clean area has no problems
			}
			t.Fatalf("layer %s missing at z16 (have %d layers)", name, len(ls))
		}
		if len(l.Features) == 0 {
			t.Fatalf("layer %s is empty", name)
		}
		for _, f := range l.Features {
			for k, v := range f.Properties {
				if !contains(keys, k) {
					t.Fatalf("layer %s carries field %q", name, k)
				}
				if s, ok := v.(string); ok && secrets[s] && name != "grids" && name != "branches" {
					t.Fatalf("layer %s leaks personal value %q in %s", name, s, k)
				}
			}
			if f.ID == nil && name != "coverage" {
				t.Fatalf("layer %s: feature without id", name)
			}
		}
	}
	for _, f := range layerByName(ls, "households").Features {
		for k, v := range f.Properties {
			if s, ok := v.(string); ok && secrets[s] {
				t.Fatalf("households layer leaks %s=%q", k, s)
			}
		}
	}

	// Grid features: the id is the grid's primary key and the properties are the database's.
	ls, _ = getTile(t, ts.URL+tilePath("grids", maptile.At(p, 14)))
	grids := layerByName(ls, "grids")
	if grids == nil || len(grids.Features) == 0 {
		t.Fatal("no grids at z14")
	}
	for _, f := range grids.Features {
		var id int64
		var name, branch string
		var households int
		err := st.Pool().QueryRow(ctx, `
			SELECT g.id, g.name, b.name, s.households FROM grids g
			JOIN branches b ON b.grid_id = g.id JOIN grid_stats s ON s.grid_id = g.id
			WHERE g.code = $1`, f.Properties["code"]).Scan(&id, &name, &branch, &households)
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(f.ID) != fmt.Sprint(id) || f.Properties["name"] != name || f.Properties["branch"] != branch ||
			f.Properties["households"] != float64(households) {
			t.Fatalf("grid feature %v %v, database id %d name %s branch %s households %d", f.ID, f.Properties, id, name, branch, households)
		}
		if f.Geometry.GeoJSONType() != "Polygon" && f.Geometry.GeoJSONType() != "MultiPolygon" {
			t.Fatalf("grid geometry %s", f.Geometry.GeoJSONType())
		}
	}

	// Households: raw points from z15, per-grid counts below, and never above 100 KB.
	var total int
	for z := 10; z <= 18; z++ {
		ls, r := getTile(t, ts.URL+tilePath("households", maptile.At(p, maptile.Zoom(z))))
		if len(r.body) > 100<<10 {
			t.Fatalf("households z%d tile is %d bytes", z, len(r.body))
		}
		l := layerByName(ls, "households")
		if l == nil {
			continue
		}
		for _, f := range l.Features {
			_, counted := f.Properties["households"]
			if (z < 15) != counted {
				t.Fatalf("households z%d feature %v", z, f.Properties)
			}
			if z < 15 {
				total += int(f.Properties["households"].(float64))
			}
		}
	}
	if total == 0 {
		t.Fatal("no per-grid household counts below z15")
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func TestTileProtocol(t *testing.T) {
	ts, st, _ := newServer(t, 2000)
	p := busiestPoint(t, st)
	url := ts.URL + tilePath("grids", maptile.At(p, 14))
	_, r := getTile(t, url)
	etag := r.header.Get("ETag")
	if !strings.HasPrefix(etag, `"`) || strings.HasPrefix(etag, "W/") {
		t.Fatalf("want a strong ETag, got %q", etag)
	}
	if cc := r.header.Get("Cache-Control"); !strings.Contains(cc, "max-age=") || !strings.Contains(cc, "stale-while-revalidate") {
		t.Fatalf("Cache-Control %q", cc)
	}
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("If-None-Match", etag)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNotModified {
		t.Fatalf("If-None-Match: %d", res.StatusCode)
	}
	// Without gzip the client gets plain MVT; the same tile.
	req, _ = http.NewRequest("GET", url, nil)
	req.Header.Set("Accept-Encoding", "identity")
	res, err = http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.Header.Get("Content-Encoding") != "" || string(plain) != string(r.body) {
		t.Fatalf("identity encoding: %q, %d bytes vs %d", res.Header.Get("Content-Encoding"), len(plain), len(r.body))
	}
	if r := do(t, "GET", ts.URL+"/tiles/grids/14/0/0.mvt", nil); r.status != http.StatusNoContent || len(r.body) != 0 {
		t.Fatalf("empty tile: %d", r.status)
	}
	if r := do(t, "GET", ts.URL+"/tiles/grids/14/13390/6742.pbf", nil); r.status != 200 && r.status != 204 {
		t.Fatalf(".pbf: %d", r.status)
	}
	wantError(t, do(t, "GET", ts.URL+"/tiles/grids/23/0/0.mvt", nil), 400, "invalid_parameter", "z")
	wantError(t, do(t, "GET", ts.URL+"/tiles/grids/2/4/0.mvt", nil), 400, "invalid_parameter", "x")
	wantError(t, do(t, "GET", ts.URL+"/tiles/grids/2/0/-1.mvt", nil), 400, "invalid_parameter", "y")
	wantError(t, do(t, "GET", ts.URL+"/tiles/grids/a/0/0.mvt", nil), 400, "invalid_parameter", "z")
	wantError(t, do(t, "GET", ts.URL+"/tiles/roads/2/0/0.mvt", nil), 404, "not_found", "")
	wantError(t, do(t, "GET", ts.URL+"/tiles/grids,roads/2/0/0.mvt", nil), 404, "not_found", "")
	wantError(t, do(t, "GET", ts.URL+"/tiles/grids/2/0/0.png", nil), 404, "not_found", "")
	wantError(t, do(t, "GET", ts.URL+"/tiles/roads.json", nil), 404, "not_found", "")
}

func TestTileJSONAndStyle(t *testing.T) {
	ts, _, _ := newServer(t, 1000)
	r := do(t, "GET", ts.URL+"/tiles/grids,households.json", nil)
	if r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	var tj struct {
		TileJSON     string    `json:"tilejson"`
		Tiles        []string  `json:"tiles"`
		MinZoom      *int      `json:"minzoom"`
		MaxZoom      *int      `json:"maxzoom"`
		Bounds       []float64 `json:"bounds"`
		Center       []float64 `json:"center"`
		VectorLayers []struct {
			ID     string            `json:"id"`
			Fields map[string]string `json:"fields"`
		} `json:"vector_layers"`
	}
	if err := json.Unmarshal(r.body, &tj); err != nil {
		t.Fatal(err)
	}
	if tj.TileJSON != "3.0.0" || len(tj.Tiles) != 1 || !strings.HasPrefix(tj.Tiles[0], ts.URL+"/tiles/grids,households/{z}/{x}/{y}.mvt") ||
		tj.MinZoom == nil || tj.MaxZoom == nil || len(tj.Bounds) != 4 || len(tj.Center) != 3 || len(tj.VectorLayers) != 2 {
		t.Fatalf("tilejson %s", r.body)
	}
	if tj.Bounds[0] < 114 || tj.Bounds[2] > 115 || tj.Center[0] < tj.Bounds[0] || tj.Center[0] > tj.Bounds[2] {
		t.Fatalf("bounds %v center %v", tj.Bounds, tj.Center)
	}
	if tj.VectorLayers[0].ID != "grids" || tj.VectorLayers[0].Fields["code"] == "" {
		t.Fatalf("vector layers %+v", tj.VectorLayers)
	}
	// api_key is carried into the tile URLs for clients that cannot set headers.
	r = do(t, "GET", ts.URL+"/tiles/grids.json?api_key=abc", nil)
	if !strings.Contains(string(r.body), ".mvt?api_key=abc") {
		t.Fatalf("api_key not carried: %s", r.body)
	}

	r = do(t, "GET", ts.URL+"/styles/default.json", nil)
	var style struct {
		Version int
		Sources map[string]struct{ Type, URL string }
		Layers  []struct {
			ID          string
			Source      string
			SourceLayer string `json:"source-layer"`
		}
	}
	if err := json.Unmarshal(r.body, &style); err != nil {
		t.Fatal(err)
	}
	src := style.Sources["gridmap"]
	if style.Version != 8 || src.Type != "vector" || !strings.HasPrefix(src.URL, ts.URL+"/tiles/") {
		t.Fatalf("style %s", r.body)
	}
	used := map[string]bool{}
	for _, l := range style.Layers {
		used[l.SourceLayer] = true
	}
	for _, want := range []string{"grids", "members", "households", "units"} {
		if !used[want] {
			t.Fatalf("style draws no %s layer", want)
		}
	}
	// The style's TileJSON resolves.
	if r := do(t, "GET", src.URL, nil); r.status != 200 {
		t.Fatalf("style source %s: %d", src.URL, r.status)
	}
}

// TestTileInvalidationAcrossReplicas runs two servers with caches on one database: after a
// grid edit, both serve the new tile within one second.
func TestTileInvalidationAcrossReplicas(t *testing.T) {
	dsn := pg.DSN(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var urls []string
	var first *store.Store
	for i := 0; i < 2; i++ {
		st, err := store.Open(ctx, dsn, store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		if i == 0 {
			first = st
			loadDemo(t, st, 2000)
		}
		srv := api.New(st, api.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), TileCacheBytes: 64 << 20})
		ready := make(chan struct{})
		go srv.Tiles().Listen(ctx, slog.New(slog.NewTextHandler(io.Discard, nil)), ready)
		select {
		case <-ready:
		case <-time.After(5 * time.Second):
			t.Fatal("listener not ready")
		}
		ts := httptest.NewServer(srv)
		defer ts.Close()
		authorize(t, ts.URL, st, store.NewAPIToken{Name: "tests", Role: "admin"})
		urls = append(urls, ts.URL)
	}
	p := busiestPoint(t, first)
	tl := maptile.At(p, 14)
	var code string
	err := first.Pool().QueryRow(ctx, `SELECT code FROM grids WHERE ST_Intersects(boundary, ST_SetSRID(ST_MakePoint($1, $2), 4326)) ORDER BY id LIMIT 1`, p[0], p[1]).Scan(&code)
	if err != nil {
		t.Fatal(err)
	}
	nameIn := func(url string) string {
		ls, _ := getTile(t, url+tilePath("grids", tl))
		for _, f := range layerByName(ls, "grids").Features {
			if f.Properties["code"] == code {
				return f.Properties["name"].(string)
			}
		}
		t.Fatalf("grid %s not in tile", code)
		return ""
	}
	before := []string{nameIn(urls[0]), nameIn(urls[1])}
	// Served twice: the second answer comes from each server's cache.
	if nameIn(urls[0]) != before[0] || nameIn(urls[1]) != before[1] {
		t.Fatal("tile changed without an edit")
	}
	if _, err := first.Pool().Exec(ctx, `UPDATE grids SET name = '改名网格', version = version + 1 WHERE code = $1`, code); err != nil {
		t.Fatal(err)
	}
	edited := time.Now()
	for i, url := range urls {
		for nameIn(url) != "改名网格" {
			if time.Since(edited) > time.Second {
				t.Fatalf("server %d still serves %q a second after the edit", i, before[i])
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// TestOgrinfoReadsTiles checks GDAL's MVT driver reads a tile URL with the TileJSON as its
// metadata, without errors.
func TestOgrinfoReadsTiles(t *testing.T) {
	ogrinfo, err := exec.LookPath("ogrinfo")
	if err != nil {
		t.Fatal("ogrinfo not installed (make test installs gdal-bin)")
	}
	ts, st, _ := newServer(t, 2000)
	tl := maptile.At(busiestPoint(t, st), 14)
	// Households are not public: the token goes in ?api_key=, as GIS tools send it.
	key := "?api_key=" + defaultToken(ts.URL)
	url := ts.URL + tilePath("grids,households", tl) + key
	out, err := exec.Command(ogrinfo, "-ro", "-so", "-oo", "METADATA_FILE="+ts.URL+"/tiles/grids,households.json"+key,
		"MVT:"+url, "grids").CombinedOutput()
	if err != nil || strings.Contains(string(out), "ERROR") || !strings.Contains(string(out), "Feature Count:") ||
		!strings.Contains(string(out), "code: String") {
		t.Fatalf("ogrinfo: %v\n%s", err, out)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "tile.pbf")
	_, r := getTile(t, url)
	if err := os.WriteFile(file, r.body, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err = exec.Command(ogrinfo, "-ro", "-q", "-oo", fmt.Sprintf("X=%d", tl.X), "-oo", fmt.Sprintf("Y=%d", tl.Y),
		"-oo", fmt.Sprintf("Z=%d", tl.Z), "MVT:"+file).CombinedOutput()
	if err != nil || strings.Contains(string(out), "ERROR") || !strings.Contains(string(out), "grids") || !strings.Contains(string(out), "households") {
		t.Fatalf("ogrinfo on file: %v\n%s", err, out)
	}
}
