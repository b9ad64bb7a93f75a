package coord

import (
	"math"

	"github.com/paulmach/orb"
)

// Constants of the published GCJ-02 formula.
const (
	krasovskyA  = 6378245.0              // semi-major axis of the Krasovsky 1940 ellipsoid, metres
	krasovskyEE = 0.00669342162296594323 // its first eccentricity squared

	// gcjTolerance is the residual, in degrees, at which the iterative
	// inverse stops: 1e-10° is about 0.011 mm on the ground.
	gcjTolerance = 1e-10
	// gcjMaxIter bounds the iteration. It converges by a factor of
	// roughly 100 per step, so 3–5 steps are typical.
	gcjMaxIter = 30
)

// InChina reports whether p is inside the rough bounding box in which the
// GCJ-02 offset is applied: longitude 72.004–137.8347°E, latitude
// 0.8293–55.8271°N (bounds inclusive). This is the box used by the widely
// copied reference implementations (eviltransform, coordtransform, gcoord).
// It is a box, not the border: parts of neighbouring countries inside it are
// shifted too, exactly as the map providers' own SDKs do.
func InChina(p orb.Point) bool {
	return p[0] >= 72.004 && p[0] <= 137.8347 && p[1] >= 0.8293 && p[1] <= 55.8271
}

// WGS84ToGCJ02 converts a WGS84 point to GCJ-02 with the published closed
// form. Points outside China (see InChina) are returned unchanged.
func WGS84ToGCJ02(p orb.Point) orb.Point {
	if !InChina(p) {
		return p
	}
	dLon, dLat := gcjOffset(p[0], p[1])
	return orb.Point{p[0] + dLon, p[1] + dLat}
}

// GCJ02ToWGS84 converts a GCJ-02 point to WGS84 by solving
// WGS84ToGCJ02(w) = p with fixed-point iteration, to a residual below
// 1e-10° (about 0.01 mm). Points outside China are returned unchanged.
//
// The iteration uses the offset without the bounding-box test, so a point
// whose WGS84 position lies just inside the box but whose GCJ-02 position
// falls just outside it (a strip a few hundred metres wide along the box's
// edges, far from any Chinese settlement) is passed through.
func GCJ02ToWGS84(p orb.Point) orb.Point {
	if !InChina(p) {
		return p
	}
	w := p
	for range gcjMaxIter {
		dLon, dLat := gcjOffset(w[0], w[1])
		rLon := w[0] + dLon - p[0]
		rLat := w[1] + dLat - p[1]
		w[0] -= rLon
		w[1] -= rLat
		if math.Abs(rLon) < gcjTolerance && math.Abs(rLat) < gcjTolerance {
			break
		}
	}
	return w
}

// gcjOffset returns the GCJ-02 shift, in degrees, of the WGS84 point
// (lon, lat): the published polynomial-and-sine offset in metres around
// 105°E 35°N, scaled by the Krasovsky radii of curvature at lat.
func gcjOffset(lon, lat float64) (dLon, dLat float64) {
	x, y := lon-105.0, lat-35.0
	mLon, mLat := gcjMetres(x, y)

	rad := lat * math.Pi / 180
	s := math.Sin(rad)
	w := 1 - krasovskyEE*s*s
	sw := math.Sqrt(w)
	// meridional radius M = a(1-e²)/W³ and prime-vertical radius N = a/W.
	dLat = mLat * 180 / (krasovskyA * (1 - krasovskyEE) / (w * sw) * math.Pi)
	dLon = mLon * 180 / (krasovskyA / sw * math.Cos(rad) * math.Pi)
	return dLon, dLat
}

// gcjMetres is the published offset polynomial of the GCJ-02 formula for
// x = lon-105, y = lat-35 (degrees); its values are nominal metres.
func gcjMetres(x, y float64) (mLon, mLat float64) {
	sx := math.Sqrt(math.Abs(x))
	xp, yp := x*math.Pi, y*math.Pi
	common := (20*math.Sin(6*xp) + 20*math.Sin(2*xp)) * 2 / 3

	mLat = -100 + 2*x + 3*y + 0.2*y*y + 0.1*x*y + 0.2*sx + common +
		(20*math.Sin(yp)+40*math.Sin(yp/3))*2/3 +
		(160*math.Sin(yp/12)+320*math.Sin(yp/30))*2/3
	mLon = 300 + x + 2*y + 0.1*x*x + 0.1*x*y + 0.1*sx + common +
		(20*math.Sin(xp)+40*math.Sin(xp/3))*2/3 +
		(150*math.Sin(xp/12)+300*math.Sin(xp/30))*2/3
	return mLon, mLat
}
