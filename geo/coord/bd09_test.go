package coord

import (
	"math"
	"testing"

	"github.com/paulmach/orb"
)

func TestGCJ02ToBD09(t *testing.T) {
	cases := []struct {
		name    string
		gcj, bd orb.Point
		tol     float64
	}{
		// wandergis/coordtransform, test/app.js: gcj02tobd09(116.404, 39.915).
		{"coordtransform", orb.Point{116.404, 39.915}, orb.Point{116.41036949371029, 39.92133699351021}, 1e-12},
		// hujiulong/gcoord, test/unit/crs/GCJ02.spec.ts (checked there to 5 decimals).
		{"gcoord/[123,45]", orb.Point{123, 45}, orb.Point{123.00636499, 45.00636899}, 1e-7},
		// hujiulong/gcoord, test/fixtures/china-cities.json: values from the
		// map services, rounded to 1e-7°; they agree to about 4e-8°.
		{"gcoord/zhumadian", orb.Point{114.022306, 33.0115324}, orb.Point{114.0287781, 33.0176697}, 1e-7},
		{"gcoord/nagqu", orb.Point{92.0512438, 31.4762063}, orb.Point{92.0576832, 31.4824421}, 1e-7},
		{"gcoord/shenyang", orb.Point{123.4314787, 41.8057023}, orb.Point{123.438095, 41.8114013}, 1e-7},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := GCJ02ToBD09(tc.gcj)
			if d := maxAbs(got, tc.bd); d > tc.tol {
				t.Errorf("GCJ02ToBD09(%v) = %v, want %v (off by %.3g°)", tc.gcj, got, tc.bd, d)
			}
			back := BD09ToGCJ02(got)
			if d := metres(back, tc.gcj); d > 1e-4 {
				t.Errorf("BD09ToGCJ02(GCJ02ToBD09(%v)) = %v, off by %.3g m", tc.gcj, back, d)
			}
		})
	}
}

func TestBD09ToGCJ02(t *testing.T) {
	cases := []struct {
		name    string
		bd, gcj orb.Point
		tol     float64
	}{
		// wandergis/coordtransform, test/app.js: bd09togcj02(116.404, 39.915)
		// = [116.39762729119315, 39.90865673957631] from the closed form; the
		// refined inverse is 4e-7° (about 5 cm) away from it, see
		// TestBD09ClosedForm, so compare at 1e-6°.
		{"coordtransform", orb.Point{116.404, 39.915}, orb.Point{116.39762729119315, 39.90865673957631}, 1e-6},
		// hujiulong/gcoord, test/unit/crs/BD09.spec.ts (5 decimals there).
		{"gcoord/[123,45]", orb.Point{123, 45}, orb.Point{122.99363304, 44.99365430}, 5e-6},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := BD09ToGCJ02(tc.bd)
			if d := maxAbs(got, tc.gcj); d > tc.tol {
				t.Errorf("BD09ToGCJ02(%v) = %v, want %v (off by %.3g°)", tc.bd, got, tc.gcj, d)
			}
			if d := metres(GCJ02ToBD09(got), tc.bd); d > 1e-4 {
				t.Errorf("forward of the inverse is %.3g m from %v", d, tc.bd)
			}
		})
	}
}

func TestBD09ToWGS84(t *testing.T) {
	// hujiulong/gcoord, test/unit/crs/BD09.spec.ts: BD09 → WGS84 of
	// [123, 45] is [122.98762210, 44.99171540] (5 decimals there).
	got := BD09ToWGS84(orb.Point{123, 45})
	if d := maxAbs(got, orb.Point{122.98762210, 44.99171540}); d > 5e-6 {
		t.Errorf("BD09ToWGS84([123 45]) = %v, off by %.3g°", got, d)
	}
	// hujiulong/gcoord, test/fixtures/china-cities.json, Shenyang: the
	// service values (≈0.7 m apart from the formula, see gcjRefs).
	got = BD09ToWGS84(orb.Point{123.438095, 41.8114013})
	if d := metres(got, orb.Point{123.4253306, 41.8032629}); d > 1.5 {
		t.Errorf("BD09ToWGS84(shenyang) = %v, %.2f m from the published WGS84", got, d)
	}
}

// TestBD09ClosedForm measures the published closed-form BD-09 → GCJ-02 and
// the refined inverse over China. The closed form is off by up to about
// 0.2 m; the refined one by well under a micrometre.
func TestBD09ClosedForm(t *testing.T) {
	worstClosed, worstRefined := 0.0, 0.0
	for _, w := range chinaGrid(0.5) {
		g := WGS84ToGCJ02(w)
		b := GCJ02ToBD09(g)
		worstClosed = math.Max(worstClosed, metres(g, bd09ToGCJ02Closed(b)))
		worstRefined = math.Max(worstRefined, metres(g, BD09ToGCJ02(b)))
	}
	t.Logf("BD-09 → GCJ-02 max error: closed form %.3g m, refined %.3g m", worstClosed, worstRefined)
	if worstClosed < 0.01 {
		t.Errorf("closed form max error %.3g m: expected centimetres or more", worstClosed)
	}
	if worstRefined > 1e-5 {
		t.Errorf("refined BD09ToGCJ02 max error %.3g m, want < 0.01 mm", worstRefined)
	}
}

func TestBD09RoundTrip(t *testing.T) {
	ps := chinaGrid(0.25)
	worst, at := 0.0, orb.Point{}
	for _, w := range ps {
		back := BD09ToWGS84(WGS84ToBD09(w))
		if d := metres(w, back); d > worst {
			worst, at = d, w
		}
	}
	t.Logf("%d points, max WGS84 → BD-09 → WGS84 error %.3g m at %v", len(ps), worst, at)
	if worst > 1e-3 {
		t.Fatalf("max round-trip error %.3g m at %v, want < 1 mm", worst, at)
	}
}

// TestBD09OutsideChina: the BD-09 step applies everywhere (as Baidu's
// formulas do), while the GCJ-02 step does not; round trips still hold.
func TestBD09OutsideChina(t *testing.T) {
	for _, w := range []orb.Point{{-0.1276, 51.5072}, {-74.006, 40.7128}, {151.21, -33.87}} {
		b := WGS84ToBD09(w)
		if b == w {
			t.Errorf("WGS84ToBD09(%v) unchanged", w)
		}
		if want := GCJ02ToBD09(w); b != want {
			t.Errorf("WGS84ToBD09(%v) = %v, want the BD-09 step alone %v", w, b, want)
		}
		if d := metres(BD09ToWGS84(b), w); d > 1e-4 {
			t.Errorf("round trip of %v is %.3g m off", w, d)
		}
	}
}
