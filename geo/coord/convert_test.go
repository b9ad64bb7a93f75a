package coord

import (
	"fmt"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/project"
)

var allCRS = []CRS{WGS84, GCJ02, BD09}

func TestToFromWGS84(t *testing.T) {
	w := orb.Point{116.404, 39.915}
	cases := []struct {
		crs  CRS
		want orb.Point // w expressed in crs
	}{
		{WGS84, w},
		{GCJ02, WGS84ToGCJ02(w)},
		{BD09, GCJ02ToBD09(WGS84ToGCJ02(w))},
	}
	for _, tc := range cases {
		t.Run(tc.crs.String(), func(t *testing.T) {
			if got := FromWGS84(w, tc.crs); got != tc.want {
				t.Errorf("FromWGS84 = %v, want %v", got, tc.want)
			}
			if d := metres(ToWGS84(tc.want, tc.crs), w); d > 1e-4 {
				t.Errorf("ToWGS84 is %.3g m off", d)
			}
		})
	}
}

// TestConvertRoundTrip converts every pair of systems there and back on a
// grid over China and checks the worst error.
func TestConvertRoundTrip(t *testing.T) {
	ps := chinaGrid(1)
	for _, from := range allCRS {
		for _, to := range allCRS {
			t.Run(from.String()+"→"+to.String(), func(t *testing.T) {
				worst := 0.0
				for _, w := range ps {
					p := FromWGS84(w, from)
					back := Convert(Convert(p, from, to), to, from)
					if d := metres(p, back); d > worst {
						worst = d
					}
					if d := metres(ToWGS84(Convert(p, from, to), to), w); d > 1e-3 {
						t.Fatalf("%v: WGS84 of the converted point is %.3g m off", w, d)
					}
				}
				if worst > 1e-3 {
					t.Errorf("max round-trip error %.3g m, want < 1 mm", worst)
				}
			})
		}
	}
}

func TestProjection(t *testing.T) {
	ring := orb.Ring{{116.40, 39.91}, {116.41, 39.91}, {116.41, 39.92}, {116.40, 39.92}, {116.40, 39.91}}
	g := project.Geometry(orb.Polygon{ring.Clone()}, Projection(GCJ02, WGS84)).(orb.Polygon)
	for i, p := range g[0] {
		if want := GCJ02ToWGS84(ring[i]); p != want {
			t.Errorf("vertex %d = %v, want %v", i, p, want)
		}
	}
	if p := Projection(WGS84, WGS84)(ring[0]); p != ring[0] {
		t.Errorf("identity projection moved %v to %v", ring[0], p)
	}
}

func TestInvalidCRSPanics(t *testing.T) {
	cases := map[string]func(){
		"ToWGS84":    func() { ToWGS84(orb.Point{}, CRS(5)) },
		"FromWGS84":  func() { FromWGS84(orb.Point{}, CRS(5)) },
		"Convert":    func() { Convert(orb.Point{}, CRS(5), CRS(5)) },
		"Projection": func() { Projection(WGS84, CRS(5)) },
	}
	for name, f := range cases {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("no panic for an invalid CRS")
				}
			}()
			f()
		})
	}
}

// BenchmarkConvert measures every direction on 4,096 points spread over
// China and reports conversions per second.
func BenchmarkConvert(b *testing.B) {
	wgs := chinaGrid(0.5)[:4096]
	in := map[CRS][]orb.Point{WGS84: wgs}
	for _, c := range []CRS{GCJ02, BD09} {
		for _, w := range wgs {
			in[c] = append(in[c], FromWGS84(w, c))
		}
	}
	pairs := [][2]CRS{{WGS84, GCJ02}, {GCJ02, WGS84}, {GCJ02, BD09}, {BD09, GCJ02}, {WGS84, BD09}, {BD09, WGS84}}
	for _, pair := range pairs {
		from, to := pair[0], pair[1]
		b.Run(fmt.Sprintf("%v→%v", from, to), func(b *testing.B) {
			ps := in[from]
			b.ReportAllocs()
			n := 0
			var sink orb.Point
			for b.Loop() {
				sink = Convert(ps[n%len(ps)], from, to)
				n++
			}
			_ = sink
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "conv/s")
		})
	}
}
