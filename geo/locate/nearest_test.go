package locate

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/paulmach/orb"
)

func TestNearest(t *testing.T) {
	ix, err := New(fixture())
	if err != nil {
		t.Fatal(err)
	}
	deg := earthRadius * math.Pi / 180 // metres per degree of latitude
	tests := []struct {
		name   string
		p      orb.Point
		wantID int64
		wantM  float64
	}{
		{"inside", orb.Point{0.5, 0.5}, 10, 0},
		{"on a shared corner: lowest ID", orb.Point{1, 1}, 10, 0},
		{"south of the block, below the shared edge", orb.Point{1, -1}, 10, deg},
		{"south of square 11", orb.Point{1.5, -0.5}, 11, deg / 2},
		{"in the hole, on the island", orb.Point{12, 2}, 31, 0},
		{"north of the hole", orb.Point{12, 4.5}, 30, deg / 2},
		{"between the triangles", orb.Point{22, 1.5}, 40, 0}, // measured below
		{"west, at the equator scale", orb.Point{-1, 0.5}, 10, deg * math.Cos(0.5*math.Pi/180)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, m, ok := ix.Nearest(tt.p)
			want := tt.wantM
			if tt.name == "between the triangles" {
				want = refDistance(fixture()[6], tt.p)
			}
			if !ok || id != tt.wantID || math.Abs(m-want) > 1e-6*max(1, want) {
				t.Errorf("Nearest(%v) = %d, %.3f m, %v; want %d, %.3f m", tt.p, id, m, ok, tt.wantID, want)
			}
		})
	}
	if id, _, ok := ix.Nearest(orb.Point{math.NaN(), 1}); ok {
		t.Errorf("Nearest(NaN) = %d", id)
	}
	if _, _, ok := (*Index)(nil).Nearest(orb.Point{}); ok {
		t.Error("Nearest on a nil index found something")
	}
	if _, _, ok := mustNew(t, []Entry{{ID: 1}}).Nearest(orb.Point{}); ok {
		t.Error("Nearest on an index without polygons found something")
	}
}

func mustNew(t testing.TB, es []Entry) *Index {
	t.Helper()
	ix, err := New(es)
	if err != nil {
		t.Fatal(err)
	}
	return ix
}

// TestNearestRandom compares Nearest with a scan of every entry, for points
// inside and around random stars and a wiggly tessellation.
func TestNearestRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	fine := tessellation{n: 10, x0: 114.4, y0: 30.5, w: 0.04, h: 0.035, seed: 4, minV: 3, maxV: 30}
	stars := randomEntries(rng, 100, 1)
	for i := range stars { // shrink to a few km near Wuhan, where metres are local
		for _, poly := range stars[i].Geometry {
			for _, ring := range poly {
				for k, p := range ring {
					ring[k] = orb.Point{114 + p[0]/200, 30 + p[1]/200}
				}
			}
		}
	}
	tests := []struct {
		name    string
		entries []Entry
	}{
		{"stars", stars},
		{"tessellation", fine.entries()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ix := mustNew(t, tt.entries)
			ext := ix.Bound()
			w, h := ext.Max[0]-ext.Min[0], ext.Max[1]-ext.Min[1]
			for k := 0; k < 500; k++ {
				p := orb.Point{ext.Min[0] - w/2 + rng.Float64()*2*w, ext.Min[1] - h/2 + rng.Float64()*2*h}
				id, m, ok := ix.Nearest(p)
				if !ok {
					t.Fatalf("Nearest(%v) found nothing", p)
				}
				best, bestID := math.Inf(1), int64(0)
				var got float64
				for _, e := range tt.entries {
					d := refDistance(e, p)
					if d < best {
						best, bestID = d, e.ID
					}
					if e.ID == id {
						got = d
					}
				}
				tol := 1e-6 * max(1, best)
				if math.Abs(m-best) > tol || math.Abs(got-best) > tol {
					t.Fatalf("Nearest(%v) = %d at %.6f m (reference %.6f m); reference nearest %d at %.6f m", p, id, m, got, bestID, best)
				}
				if best > tol && id != bestID && math.Abs(got-best) > 1e-9 {
					t.Errorf("Nearest(%v) = %d, want %d", p, id, bestID)
				}
			}
		})
	}
}

func BenchmarkNearest(b *testing.B) {
	ix := mustNew(b, benchTessellation().entries())
	ext := ix.Bound()
	w, h := ext.Max[0]-ext.Min[0], ext.Max[1]-ext.Min[1]
	// Points within 2 km outside the county.
	rng := rand.New(rand.NewPCG(8, 8))
	pts := make([]orb.Point, 1024)
	for i := range pts {
		p := orb.Point{ext.Min[0] - 0.1*w + rng.Float64()*1.2*w, ext.Min[1] - 0.1*h + rng.Float64()*1.2*h}
		for ext.Contains(p) {
			p = orb.Point{ext.Min[0] - 0.1*w + rng.Float64()*1.2*w, ext.Min[1] - 0.1*h + rng.Float64()*1.2*h}
		}
		pts[i] = p
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		ix.Nearest(pts[i&1023])
	}
}
