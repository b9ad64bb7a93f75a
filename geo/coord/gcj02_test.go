package coord

import (
	"math"
	"testing"

	"github.com/paulmach/orb"
)

// refPair is a published WGS84 / GCJ-02 pair.
type refPair struct {
	name     string
	wgs, gcj orb.Point
	tol      float64 // degrees, for the forward direction
}

// gcjRefs are published reference pairs for WGS84 → GCJ-02.
var gcjRefs = []refPair{
	// googollee/eviltransform, go/transform_test.go and python/test.py
	// ("shanghai", "shenzhen", "beijing"); their values use lat, lng order.
	{"eviltransform/shanghai", orb.Point{121.5272106, 31.1774276}, orb.Point{121.531541859215, 31.17530398364597}, 1e-12},
	{"eviltransform/shenzhen", orb.Point{113.912316, 22.543847}, orb.Point{113.9171764808363, 22.540796131694766}, 1e-12},
	{"eviltransform/beijing", orb.Point{116.377817, 39.911954}, orb.Point{116.38404722455657, 39.91334545536069}, 1e-12},
	// wandergis/coordtransform, test/app.js: wgs84togcj02(116.404, 39.915).
	{"coordtransform/beijing", orb.Point{116.404, 39.915}, orb.Point{116.41024449916938, 39.91640428150164}, 1e-12},
	// hujiulong/gcoord, test/fixtures/china-cities.json: coordinates of
	// city centres as served by online map services, rounded to 1e-7°.
	// They agree with the formula to about 6e-6° (≈0.7 m), so the
	// tolerance here is 1e-5°.
	{"gcoord/zhumadian", orb.Point{114.0164322, 33.0133556}, orb.Point{114.022306, 33.0115324}, 1e-5},
	{"gcoord/nagqu", orb.Point{92.0499619, 31.4784436}, orb.Point{92.0512438, 31.4762063}, 1e-5},
	{"gcoord/shenyang", orb.Point{123.4253306, 41.8032629}, orb.Point{123.4314787, 41.8057023}, 1e-5},
	{"gcoord/jiuquan", orb.Point{98.4937175, 39.7319946}, orb.Point{98.4943595, 39.7328234}, 1e-5},
}

func TestWGS84ToGCJ02(t *testing.T) {
	for _, tc := range gcjRefs {
		t.Run(tc.name, func(t *testing.T) {
			got := WGS84ToGCJ02(tc.wgs)
			if d := maxAbs(got, tc.gcj); d > tc.tol {
				t.Errorf("WGS84ToGCJ02(%v) = %v, want %v (off by %.3g°)", tc.wgs, got, tc.gcj, d)
			}
		})
	}
}

func TestGCJ02ToWGS84(t *testing.T) {
	// Exact pairs: the inverse of the published forward value must land on
	// the published WGS84 input to well under a millimetre.
	for _, tc := range gcjRefs {
		if tc.tol > 1e-9 {
			continue
		}
		t.Run(tc.name, func(t *testing.T) {
			got := GCJ02ToWGS84(tc.gcj)
			if d := metres(got, tc.wgs); d > 1e-3 {
				t.Errorf("GCJ02ToWGS84(%v) = %v, want %v (off by %.3g m)", tc.gcj, got, tc.wgs, d)
			}
		})
	}
	// hujiulong/gcoord, test/unit/crs/GCJ02.spec.ts: GCJ02 → WGS84 of
	// [123, 45] is [122.99395597, 44.99804071], checked there to 5 decimals
	// (gcoord's own iteration stops early; the exact inverse is 1.6e-7° away).
	got := GCJ02ToWGS84(orb.Point{123, 45})
	if d := maxAbs(got, orb.Point{122.99395597, 44.99804071}); d > 5e-6 {
		t.Errorf("gcoord [123,45]: got %v, off by %.3g°", got, d)
	}
	if back := WGS84ToGCJ02(got); metres(back, orb.Point{123, 45}) > 1e-4 {
		t.Errorf("gcoord [123,45]: forward of the inverse is %v", back)
	}
}

// TestGCJ02RoundTrip is the accuracy guarantee: over a 0.25° grid of China,
// GCJ-02 → WGS84 of the forward image lands back within 1 mm (the contract
// asks for 1 cm).
func TestGCJ02RoundTrip(t *testing.T) {
	ps := chinaGrid(0.25)
	worst, at := 0.0, orb.Point{}
	for _, w := range ps {
		back := GCJ02ToWGS84(WGS84ToGCJ02(w))
		if d := metres(w, back); d > worst {
			worst, at = d, w
		}
	}
	t.Logf("%d points, max round-trip error %.3g m at %v", len(ps), worst, at)
	if worst > 1e-3 {
		t.Fatalf("max round-trip error %.3g m at %v, want < 1 mm", worst, at)
	}
}

// TestOneStepInverseIsWorse shows why the inverse iterates: the common
// one-step inverse is metres off, and would fail TestGCJ02RoundTrip.
func TestOneStepInverseIsWorse(t *testing.T) {
	// wandergis/coordtransform, test/app.js: its (one-step) gcj02towgs84
	// of (116.404, 39.915) is [116.39775550083061, 39.91359571849836].
	// The helper reproduces it, so it is the inverse in common use.
	one := oneStepGCJ02ToWGS84(orb.Point{116.404, 39.915})
	if d := maxAbs(one, orb.Point{116.39775550083061, 39.91359571849836}); d > 1e-12 {
		t.Fatalf("one-step helper = %v, does not reproduce coordtransform", one)
	}

	ps := chinaGrid(0.25)
	worstOne, worstIter := 0.0, 0.0
	for _, w := range ps {
		g := WGS84ToGCJ02(w)
		worstOne = math.Max(worstOne, metres(w, oneStepGCJ02ToWGS84(g)))
		worstIter = math.Max(worstIter, metres(w, GCJ02ToWGS84(g)))
	}
	t.Logf("max error: one-step %.2f m, iterative %.3g m", worstOne, worstIter)
	if worstOne < 1 {
		t.Errorf("one-step max error %.3g m: expected metres", worstOne)
	}
	if worstIter > worstOne/1000 {
		t.Errorf("iterative inverse (%.3g m) is not far better than one-step (%.3g m)", worstIter, worstOne)
	}
}

func TestInChina(t *testing.T) {
	cases := []struct {
		name string
		p    orb.Point
		want bool
	}{
		{"beijing", orb.Point{116.39, 39.9}, true},
		{"urumqi", orb.Point{87.6, 43.8}, true},
		{"sanya", orb.Point{109.5, 18.25}, true},
		{"west corner", orb.Point{72.004, 0.8293}, true},
		{"east corner", orb.Point{137.8347, 55.8271}, true},
		{"null island", orb.Point{0, 0}, false},
		{"london", orb.Point{-0.12, 51.5}, false},
		{"west of box", orb.Point{72.0, 30}, false},
		{"north of box", orb.Point{120, 55.83}, false},
		{"south of box", orb.Point{110, 0.8}, false},
		{"east of box", orb.Point{137.84, 40}, false},
		{"NaN", orb.Point{math.NaN(), math.NaN()}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := InChina(tc.p); got != tc.want {
				t.Errorf("InChina(%v) = %v, want %v", tc.p, got, tc.want)
			}
		})
	}
}

func TestOutsideChinaPassThrough(t *testing.T) {
	for _, p := range []orb.Point{{0, 0}, {-0.1276, 51.5072}, {-74.006, 40.7128}, {151.21, -33.87}, {183, 45}, {139.69, 35.69}} {
		if got := WGS84ToGCJ02(p); got != p {
			t.Errorf("WGS84ToGCJ02(%v) = %v, want unchanged", p, got)
		}
		if got := GCJ02ToWGS84(p); got != p {
			t.Errorf("GCJ02ToWGS84(%v) = %v, want unchanged", p, got)
		}
	}
}

// TestGCJ02Offset checks the size of the shift: about 500–600 m in the seed
// counties (east and central China), and never more than ~1 km.
func TestGCJ02Offset(t *testing.T) {
	worst := 0.0
	for _, w := range chinaGrid(1) {
		worst = math.Max(worst, metres(w, WGS84ToGCJ02(w)))
	}
	if worst < 300 || worst > 1500 {
		t.Errorf("max GCJ-02 shift %.0f m, want a few hundred metres", worst)
	}
	if d := metres(orb.Point{116.404, 39.915}, WGS84ToGCJ02(orb.Point{116.404, 39.915})); d < 400 || d > 700 {
		t.Errorf("shift in Beijing %.0f m, want 400–700 m", d)
	}
}

func maxAbs(a, b orb.Point) float64 {
	return math.Max(math.Abs(a[0]-b[0]), math.Abs(a[1]-b[1]))
}

// FuzzGCJ02RoundTrip checks the inverse anywhere inside the box, kept
// 0.05° from its edges (where a shifted point can leave the box).
func FuzzGCJ02RoundTrip(f *testing.F) {
	f.Add(116.404, 39.915)
	f.Add(72.06, 0.88)
	f.Add(137.78, 55.77)
	f.Fuzz(func(t *testing.T, lon, lat float64) {
		if math.IsNaN(lon) || math.IsNaN(lat) || lon < 72.054 || lon > 137.7847 || lat < 0.8793 || lat > 55.7771 {
			t.Skip()
		}
		w := orb.Point{lon, lat}
		if d := metres(w, GCJ02ToWGS84(WGS84ToGCJ02(w))); d > 1e-3 {
			t.Fatalf("%v: round trip %.3g m off", w, d)
		}
		if d := metres(w, BD09ToWGS84(WGS84ToBD09(w))); d > 1e-3 {
			t.Fatalf("%v: BD-09 round trip %.3g m off", w, d)
		}
	})
}
