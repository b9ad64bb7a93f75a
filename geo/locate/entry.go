package locate

import (
	"fmt"

	"github.com/paulmach/orb"
)

// Entry is one indexed geometry: a grid's ID and its area as lon/lat
// (WGS84) polygons, each an exterior ring followed by its holes. Rings may
// be given closed (first point repeated at the end, as in GeoJSON) or open;
// the closing edge is implied. Polygons are expected to be valid (simple
// rings, holes inside their shell); the answers for invalid ones follow
// the even-odd rule over all rings of a polygon. Any finite coordinates of
// geographic magnitude work, planar ones too.
type Entry struct {
	ID       int64
	Geometry orb.MultiPolygon
}

// validate reports the first non-finite coordinate of e.
func (e Entry) validate() error {
	for i, poly := range e.Geometry {
		for j, ring := range poly {
			for k, p := range ring {
				if !finite(p[0]) || !finite(p[1]) {
					return fmt.Errorf("locate: entry %d: polygon %d ring %d point %d: non-finite coordinate", e.ID, i, j, k)
				}
			}
		}
	}
	return nil
}

// finite reports whether f is neither NaN nor infinite (f − f is NaN then).
func finite(f float64) bool { return f-f == 0 }
