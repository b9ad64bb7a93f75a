package partition

import (
	"math"

	"github.com/paulmach/orb"
)

// earthRadius is the WGS84 mean radius in metres.
const earthRadius = 6371008.8

// projection is an equirectangular projection around a reference point: a
// local planar frame in metres. It is affine in longitude and latitude, so
// a tiling in the plane is a tiling in longitude/latitude as well.
type projection struct {
	lon0, lat0 float64
	kx, ky     float64 // metres per degree
}

func newProjection(b orb.Bound) projection {
	c := b.Center()
	ky := earthRadius * math.Pi / 180
	return projection{lon0: c[0], lat0: c[1], kx: ky * math.Cos(c[1]*math.Pi/180), ky: ky}
}

func (p projection) fwd(q orb.Point) xy {
	return xy{(q[0] - p.lon0) * p.kx, (q[1] - p.lat0) * p.ky}
}

func (p projection) inv(q xy) orb.Point {
	return orb.Point{q.X/p.kx + p.lon0, q.Y/p.ky + p.lat0}
}
