package coord

import (
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geo"
)

// metres is the great-circle (haversine) distance between a and b.
func metres(a, b orb.Point) float64 {
	return geo.DistanceHaversine(a, b)
}

// chinaGrid returns WGS84 points on a regular grid over mainland China and
// its coasts (73–135°E, 18–53°N), step degrees apart, offset so that the
// points do not sit on whole degrees.
func chinaGrid(step float64) []orb.Point {
	var ps []orb.Point
	for lon := 73.0 + step/3; lon < 135; lon += step {
		for lat := 18.0 + step/7; lat < 53; lat += step {
			ps = append(ps, orb.Point{lon, lat})
		}
	}
	return ps
}

// oneStepGCJ02ToWGS84 is the widespread one-step inverse: subtract the
// offset evaluated at the GCJ-02 point. It exists only to show, in tests,
// how far off it is; the package never uses it.
func oneStepGCJ02ToWGS84(p orb.Point) orb.Point {
	if !InChina(p) {
		return p
	}
	dLon, dLat := gcjOffset(p[0], p[1])
	return orb.Point{p[0] - dLon, p[1] - dLat}
}
