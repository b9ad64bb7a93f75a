package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
	"github.com/paulmach/orb/planar"

	"gridmap/geo/partition"
)

// drawFixture writes a 400 m × 300 m boundary and a household file with a
// point every 10 m (1 household, 3 residents; every 7th point without
// properties) and returns their paths.
func drawFixture(t *testing.T, heavy int) (boundary, households, barriers string) {
	t.Helper()
	dir := t.TempDir()
	const lon0, lat0 = 120.15, 30.28
	kx, ky := 1/(111195*math.Cos(lat0*math.Pi/180)), 1/111195.0
	pt := func(x, y float64) orb.Point { return orb.Point{lon0 + x*kx, lat0 + y*ky} }
	poly := orb.Polygon{{pt(0, 0), pt(400, 0), pt(400, 300), pt(0, 300), pt(0, 0)}}
	write := func(name string, v any) string {
		data, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	boundary = write("boundary.geojson", geojson.NewFeature(poly))
	fc := geojson.NewFeatureCollection()
	n := 0
	for y := 5.0; y < 300; y += 10 {
		for x := 5.0; x < 400; x += 10 {
			f := geojson.NewFeature(pt(x, y))
			if n%7 != 0 {
				f.Properties = geojson.Properties{"households": 1, "residents": "3"}
			}
			fc.Append(f)
			n++
		}
	}
	if heavy > 0 {
		f := geojson.NewFeature(pt(200, 150))
		f.Properties = geojson.Properties{"households": heavy}
		fc.Append(f)
	}
	households = write("households.geojson", fc)
	bar := geojson.NewFeatureCollection()
	bar.Append(geojson.NewFeature(orb.LineString{pt(200, -10), pt(200, 310)}))
	barriers = write("barriers.geojson", bar)
	return boundary, households, barriers
}

func TestRunDraw(t *testing.T) {
	b, h, r := drawFixture(t, 0)
	_, hHeavy, _ := drawFixture(t, 700)
	cases := []struct {
		name    string
		args    []string
		code    int // 0: success
		grids   int // expected number of grids when > 0
		wantErr string
		barrier bool
	}{
		{"households", []string{"--boundary", b, "--households", h, "--min", "10", "--max", "15"}, 0, 0, "", false},
		{"residents", []string{"--boundary", b, "--households", h, "--min", "30", "--max", "45", "--weight", "residents"}, 0, 0, "", false},
		{"barrier", []string{"--boundary", b, "--households", h, "--min", "10", "--max", "15", "--barriers", r, "--seed", "9"}, 0, 0, "", true},
		{"one-grid", []string{"--boundary", b, "--households", h, "--min", "1000", "--max", "2000"}, 0, 1, "", false},
		{"heavy-building", []string{"--boundary", b, "--households", hHeavy, "--min", "300", "--max", "500"}, 3, 0, "weighs 700", false},
		{"too-few", []string{"--boundary", b, "--households", h, "--min", "3000", "--max", "5000"}, 3, 0, "lighter than min", false},
		{"missing-out", []string{"--boundary", b, "--households", h}, 2, 0, "missing --out", false},
		{"bad-band", []string{"--boundary", b, "--households", h, "--min", "20", "--max", "10"}, 2, 0, "min <= max", false},
		{"bad-weight", []string{"--boundary", b, "--households", h, "--weight", "cats"}, 2, 0, "unknown weight", false},
		{"bad-file", []string{"--boundary", h, "--households", h}, 2, 0, "Polygon or MultiPolygon", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "grids.geojson")
			args := append(append([]string{}, tc.args...), "--out", out)
			if tc.name == "missing-out" {
				args = tc.args
			}
			var stdout, stderr bytes.Buffer
			err := runDraw(context.Background(), config{}, nil, args, &stdout, &stderr)
			if tc.code != 0 {
				var ee *exitError
				if !errors.As(err, &ee) || ee.code != tc.code {
					t.Fatalf("err = %v, want exit code %d", err, tc.code)
				}
				if !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want it to mention %q", err, tc.wantErr)
				}
				if tc.code == 3 && !errors.Is(err, partition.ErrInfeasible) {
					t.Fatalf("exit 3 without ErrInfeasible: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("runDraw: %v\n%s", err, stderr.String())
			}
			if !strings.Contains(stderr.String(), "100.0% in band") {
				t.Fatalf("summary = %q", stderr.String())
			}
			data, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			fc, err := geojson.UnmarshalFeatureCollection(data)
			if err != nil {
				t.Fatal(err)
			}
			if tc.grids > 0 && len(fc.Features) != tc.grids {
				t.Fatalf("%d grids, want %d", len(fc.Features), tc.grids)
			}
			total, area := 0, 0.0
			for i, f := range fc.Features {
				p := f.Properties
				if p.MustInt("grid") != i+1 {
					t.Fatalf("feature %d has grid %v", i, p["grid"])
				}
				hh := p.MustInt("households")
				key, lo, hi := "households", 10, 15
				switch tc.name {
				case "one-grid":
					lo, hi = 1000, 2000
				case "residents":
					key, lo, hi = "residents", 30, 45
				}
				if w := p.MustInt(key); w < lo || w > hi {
					t.Fatalf("grid %d holds %d %s", i+1, w, key)
				}
				if pp := p.MustFloat64("polsby_popper"); pp <= 0 || pp > 1 {
					t.Fatalf("grid %d: polsby_popper %v", i+1, pp)
				}
				for _, k := range []string{"residents", "points"} {
					if _, ok := p[k]; !ok {
						t.Fatalf("grid %d lacks %s", i+1, k)
					}
				}
				poly, ok := f.Geometry.(orb.Polygon)
				if !ok {
					t.Fatalf("grid %d is a %T", i+1, f.Geometry)
				}
				area += planar.Area(poly)
				total += hh
			}
			if total != 1200 {
				t.Fatalf("grids hold %d households, want 1200", total)
			}
			bf, _ := os.ReadFile(b)
			bfeat, _ := geojson.UnmarshalFeature(bf)
			want := planar.Area(bfeat.Geometry)
			if math.Abs(area-want) > 1e-9*want {
				t.Fatalf("grid area %g, boundary %g", area, want)
			}
			if tc.barrier {
				checkNoStraddle(t, fc, 120.15+200/(111195*math.Cos(30.28*math.Pi/180)))
			}
		})
	}
}

// checkNoStraddle fails when a grid has area on both sides of the meridian
// x by more than a cell's width.
func checkNoStraddle(t *testing.T, fc *geojson.FeatureCollection, x float64) {
	t.Helper()
	cell := 12 / (111195 * math.Cos(30.28*math.Pi/180))
	for i, f := range fc.Features {
		b := f.Geometry.Bound()
		if b.Min[0] < x-cell && b.Max[0] > x+cell {
			t.Fatalf("grid %d straddles the barrier: %v", i+1, fmt.Sprint(b))
		}
	}
}
