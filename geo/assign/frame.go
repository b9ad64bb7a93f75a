package assign

import (
	"math"

	"github.com/paulmach/orb"
)

// earthRadius is the IUGG mean Earth radius in metres.
const earthRadius = 6371008.8

// xy is a point in a local metric frame, metres.
type xy struct{ x, y float64 }

func (a xy) dist(b xy) float64 { return math.Hypot(a.x-b.x, a.y-b.y) }

// frame is a local equirectangular projection centred on (lon0, lat0):
// x east and y north in metres. Within a village or a township (tens of
// kilometres) its distances are within a fraction of a percent of the
// great-circle ones.
type frame struct{ lon0, lat0, kx, ky float64 }

// newFrame centres a frame on the bounding box of the given point sets.
func newFrame(sets ...[]orb.Point) frame {
	var b orb.Bound
	first := true
	for _, ps := range sets {
		for _, p := range ps {
			if first {
				b, first = orb.Bound{Min: p, Max: p}, false
				continue
			}
			b = b.Extend(p)
		}
	}
	c := b.Center()
	k := earthRadius * math.Pi / 180
	return frame{lon0: c[0], lat0: c[1], kx: k * math.Cos(c[1]*math.Pi/180), ky: k}
}

func (f frame) project(p orb.Point) xy {
	return xy{(p[0] - f.lon0) * f.kx, (p[1] - f.lat0) * f.ky}
}

func (f frame) projectAll(ps []orb.Point) []xy {
	out := make([]xy, len(ps))
	for i, p := range ps {
		out[i] = f.project(p)
	}
	return out
}
