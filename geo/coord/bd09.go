package coord

import (
	"math"

	"github.com/paulmach/orb"
)

// xPi is the published constant of the BD-09 formulas, π·3000/180.
const xPi = math.Pi * 3000.0 / 180.0

// Tolerance and bound of the BD-09 → GCJ-02 refinement; the published
// closed form starts within about 0.2 m, and each step gains about three
// orders of magnitude, so three or four steps suffice.
const (
	bdTolerance = 1e-11
	bdMaxIter   = 10
)

// GCJ02ToBD09 converts a GCJ-02 point to BD-09 with the published formula.
func GCJ02ToBD09(p orb.Point) orb.Point {
	x, y := p[0], p[1]
	z := math.Hypot(x, y) + 0.00002*math.Sin(y*xPi)
	theta := math.Atan2(y, x) + 0.000003*math.Cos(x*xPi)
	return orb.Point{z*math.Cos(theta) + 0.0065, z*math.Sin(theta) + 0.006}
}

// BD09ToGCJ02 converts a BD-09 point to GCJ-02: the published closed form
// (which evaluates its small correction terms at the BD-09 point instead
// of the GCJ-02 one and so is off by up to about 0.2 m in China) refined by
// fixed-point iteration until GCJ02ToBD09 of the result matches p to 1e-11°
// (about 1 µm).
func BD09ToGCJ02(p orb.Point) orb.Point {
	g := bd09ToGCJ02Closed(p)
	for range bdMaxIter {
		b := GCJ02ToBD09(g)
		rx, ry := b[0]-p[0], b[1]-p[1]
		g[0] -= rx
		g[1] -= ry
		if math.Abs(rx) < bdTolerance && math.Abs(ry) < bdTolerance {
			break
		}
	}
	return g
}

// bd09ToGCJ02Closed is the published one-shot BD-09 → GCJ-02 formula.
func bd09ToGCJ02Closed(p orb.Point) orb.Point {
	x, y := p[0]-0.0065, p[1]-0.006
	z := math.Hypot(x, y) - 0.00002*math.Sin(y*xPi)
	theta := math.Atan2(y, x) - 0.000003*math.Cos(x*xPi)
	return orb.Point{z * math.Cos(theta), z * math.Sin(theta)}
}

// WGS84ToBD09 converts a WGS84 point to BD-09 (through GCJ-02).
func WGS84ToBD09(p orb.Point) orb.Point {
	return GCJ02ToBD09(WGS84ToGCJ02(p))
}

// BD09ToWGS84 converts a BD-09 point to WGS84: BD09ToGCJ02, then the
// iterative GCJ02ToWGS84.
func BD09ToWGS84(p orb.Point) orb.Point {
	return GCJ02ToWGS84(BD09ToGCJ02(p))
}
