package partition

import (
	"math"

	"github.com/paulmach/orb"
)

// ring is one boundary ring in the planar frame, without the closing
// point, oriented so that the domain lies on its left: outer rings
// counter-clockwise, holes clockwise. orig keeps the input coordinates so
// that output polygons reuse them exactly.
type ring struct {
	pts  []xy
	orig []orb.Point
}

// domain is the area to tile: the rings of a multipolygon with an index
// for point-in-polygon queries.
type domain struct {
	rings    []ring
	area     float64
	min, max xy
	slabs    [][]edgeRef
	slabH    float64
}

type edgeRef struct{ a, b xy }

func ringArea(p []xy) float64 {
	var s float64
	for i := range p {
		j := i + 1
		if j == len(p) {
			j = 0
		}
		s += p[i].cross(p[j])
	}
	return s / 2
}

// newDomain projects and normalises a multipolygon: closing and repeated
// points are removed, degenerate rings dropped, orientation fixed.
func newDomain(mp orb.MultiPolygon, pr projection) (*domain, error) {
	d := &domain{min: xy{math.Inf(1), math.Inf(1)}, max: xy{math.Inf(-1), math.Inf(-1)}}
	for _, poly := range mp {
		for ri, r := range poly {
			var rg ring
			for _, q := range r {
				p := pr.fwd(q)
				if !finite(p) {
					return nil, errInvalidBoundary
				}
				if n := len(rg.pts); n > 0 && rg.orig[n-1] == q {
					continue
				}
				rg.pts = append(rg.pts, p)
				rg.orig = append(rg.orig, q)
			}
			for len(rg.pts) > 1 && rg.orig[0] == rg.orig[len(rg.orig)-1] {
				rg.pts = rg.pts[:len(rg.pts)-1]
				rg.orig = rg.orig[:len(rg.orig)-1]
			}
			if len(rg.pts) < 3 {
				continue
			}
			a := ringArea(rg.pts)
			if a == 0 {
				continue
			}
			hole := ri > 0
			if (a < 0) != hole {
				reverseRing(&rg)
				a = -a
			}
			if !hole && a <= 0 {
				continue
			}
			d.area += a
			for _, p := range rg.pts {
				d.min = xy{math.Min(d.min.X, p.X), math.Min(d.min.Y, p.Y)}
				d.max = xy{math.Max(d.max.X, p.X), math.Max(d.max.Y, p.Y)}
			}
			d.rings = append(d.rings, rg)
		}
	}
	if len(d.rings) == 0 || d.area <= 0 {
		return nil, errInvalidBoundary
	}
	d.index()
	return d, nil
}

func reverseRing(r *ring) {
	for i, j := 0, len(r.pts)-1; i < j; i, j = i+1, j-1 {
		r.pts[i], r.pts[j] = r.pts[j], r.pts[i]
		r.orig[i], r.orig[j] = r.orig[j], r.orig[i]
	}
}

// index buckets the ring edges into horizontal slabs.
func (d *domain) index() {
	n := 0
	for _, r := range d.rings {
		n += len(r.pts)
	}
	ns := int(math.Sqrt(float64(n))) + 1
	d.slabs = make([][]edgeRef, ns)
	d.slabH = (d.max.Y - d.min.Y) / float64(ns)
	if d.slabH <= 0 {
		d.slabH = 1
	}
	for _, r := range d.rings {
		for i := range r.pts {
			a, b := r.pts[i], r.pts[(i+1)%len(r.pts)]
			lo, hi := d.slab(math.Min(a.Y, b.Y)), d.slab(math.Max(a.Y, b.Y))
			for s := lo; s <= hi; s++ {
				d.slabs[s] = append(d.slabs[s], edgeRef{a, b})
			}
		}
	}
}

func (d *domain) slab(y float64) int {
	s := int((y - d.min.Y) / d.slabH)
	if s < 0 {
		return 0
	}
	if s >= len(d.slabs) {
		return len(d.slabs) - 1
	}
	return s
}

// contains reports whether p lies inside the domain (even-odd rule).
func (d *domain) contains(p xy) bool {
	if p.X < d.min.X || p.X > d.max.X || p.Y < d.min.Y || p.Y > d.max.Y {
		return false
	}
	in := false
	for _, e := range d.slabs[d.slab(p.Y)] {
		if (e.a.Y > p.Y) != (e.b.Y > p.Y) {
			x := e.a.X + (p.Y-e.a.Y)*(e.b.X-e.a.X)/(e.b.Y-e.a.Y)
			if x > p.X {
				in = !in
			}
		}
	}
	return in
}

// pointInRing reports whether p is inside the closed polyline r (even-odd).
func pointInRing(p xy, r []xy) bool {
	in := false
	for i := range r {
		a, b := r[i], r[(i+1)%len(r)]
		if (a.Y > p.Y) != (b.Y > p.Y) {
			x := a.X + (p.Y-a.Y)*(b.X-a.X)/(b.Y-a.Y)
			if x > p.X {
				in = !in
			}
		}
	}
	return in
}
