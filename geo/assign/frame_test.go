package assign

import (
	"math"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geo"
)

// TestFrameDistance checks the local frame against great-circle distance
// over a township-sized area: within 0.1% at up to ~20 km.
func TestFrameDistance(t *testing.T) {
	centre := orb.Point{113.6, 34.7}
	pts := []orb.Point{centre}
	for _, d := range [][2]float64{{0.1, 0}, {0, 0.1}, {-0.08, 0.07}, {0.12, -0.09}, {0.001, 0.001}} {
		pts = append(pts, orb.Point{centre[0] + d[0], centre[1] + d[1]})
	}
	f := newFrame(pts)
	for i, a := range pts {
		for _, b := range pts[i+1:] {
			// orb's haversine uses the equatorial radius; rescale to the mean.
			want := geo.DistanceHaversine(a, b) * earthRadius / orb.EarthRadius
			got := f.project(a).dist(f.project(b))
			if math.Abs(got-want) > 1e-3*want {
				t.Errorf("%v–%v: frame %.2f m, haversine %.2f m", a, b, got, want)
			}
		}
	}
}

func TestFrameCentre(t *testing.T) {
	f := newFrame([]orb.Point{{116, 30}}, []orb.Point{{117, 32}})
	if c := f.project(orb.Point{116.5, 31}); math.Abs(c.x) > 1e-9 || math.Abs(c.y) > 1e-9 {
		t.Errorf("centre projects to %v, want origin", c)
	}
	if got := f.projectAll([]orb.Point{{116.5, 31}, {116.5, 32}}); len(got) != 2 || math.Abs(got[1].y-earthRadius*math.Pi/180) > 1e-6 {
		t.Errorf("projectAll = %v", got)
	}
}
