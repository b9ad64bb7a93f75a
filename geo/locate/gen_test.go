package locate

import (
	"math"
	"math/big"
	"math/rand/v2"
	"slices"

	"github.com/paulmach/orb"
)

// This file holds the test data generators and the brute-force reference
// the tests and benchmarks compare the index against.

// tessellation describes a square area cut into n×n cells whose shared
// sides are identical wiggly polylines, so the cells cover the area with
// neither gaps nor overlaps.
type tessellation struct {
	n            int
	x0, y0, w, h float64 // the area, in degrees
	seed         uint64
	minV, maxV   int // interior vertices per side
	integer      bool
}

// benchTessellation is the benchmark county: 50×50 grids over a 20 km
// square near Wuhan, sides of 40–200 vertices (2,500 polygons of about 480
// vertices each).
func benchTessellation() tessellation {
	const lat = 30.5
	h := 20000 / (earthRadius * math.Pi / 180)
	return tessellation{n: 50, x0: 114.4, y0: lat, w: h / math.Cos(lat*math.Pi/180), h: h, seed: 1, minV: 40, maxV: 200}
}

// interior returns the area less the margin where the outer sides wiggle:
// every point of it is in some cell.
func (ts tessellation) interior() orb.Bound {
	mx, my := 0.1*ts.w/float64(ts.n), 0.1*ts.h/float64(ts.n)
	return orb.Bound{Min: orb.Point{ts.x0 + mx, ts.y0 + my}, Max: orb.Point{ts.x0 + ts.w - mx, ts.y0 + ts.h - my}}
}

// entries generates the cells; cell (i, j) (column i, row j) has ID
// 1 + i + j·n.
func (ts tessellation) entries() []Entry {
	rng := rand.New(rand.NewPCG(ts.seed, 7))
	n := ts.n
	cw, ch := ts.w/float64(n), ts.h/float64(n)
	jitter := func(k int, size float64) float64 {
		if k == 0 || k == n {
			return 0 // keep the outer boundary on the square
		}
		return (rng.Float64()*2 - 1) * 0.15 * size
	}
	corner := make([][]orb.Point, n+1)
	for i := range corner {
		corner[i] = make([]orb.Point, n+1)
		for j := range corner[i] {
			corner[i][j] = orb.Point{ts.x0 + float64(i)*cw + jitter(i, cw), ts.y0 + float64(j)*ch + jitter(j, ch)}
			if ts.integer {
				corner[i][j] = orb.Point{math.Round(corner[i][j][0]), math.Round(corner[i][j][1])}
			}
		}
	}
	// side returns a polyline from a to b whose interior points are offset
	// along axis (0: x, 1: y) by at most 0.08·size·sin(πt): the offsets
	// vanish at the corners, which keeps the sides of a cell from crossing.
	// The offset is a smooth curve (two random harmonics, like a road or a
	// stream) with a little noise.
	side := func(a, b orb.Point, axis int, size float64) []orb.Point {
		if ts.integer {
			return []orb.Point{a, b}
		}
		k := ts.minV + rng.IntN(ts.maxV-ts.minV+1)
		f1, f2 := 1+rng.Float64()*2, 3+rng.Float64()*5
		p1, p2 := rng.Float64()*2*math.Pi, rng.Float64()*2*math.Pi
		pts := make([]orb.Point, 0, k+2)
		pts = append(pts, a)
		for m := 0; m < k; m++ {
			t := (float64(m) + 0.6 + 0.8*rng.Float64()) / float64(k+1)
			p := orb.Point{a[0] + t*(b[0]-a[0]), a[1] + t*(b[1]-a[1])}
			wave := 0.6*math.Sin(2*math.Pi*f1*t+p1) + 0.3*math.Sin(2*math.Pi*f2*t+p2) + 0.1*(rng.Float64()*2-1)
			p[axis] += 0.08 * size * math.Sin(math.Pi*t) * wave
			pts = append(pts, p)
		}
		return append(pts, b)
	}
	hside := make([][][]orb.Point, n) // hside[i][j]: corner(i,j) → corner(i+1,j)
	vside := make([][][]orb.Point, n+1)
	for i := 0; i <= n; i++ {
		if i < n {
			hside[i] = make([][]orb.Point, n+1)
		}
		vside[i] = make([][]orb.Point, n)
		for j := 0; j <= n; j++ {
			if i < n {
				hside[i][j] = side(corner[i][j], corner[i+1][j], 1, ch)
			}
			if j < n {
				vside[i][j] = side(corner[i][j], corner[i][j+1], 0, cw)
			}
		}
	}
	rev := func(s []orb.Point) []orb.Point {
		r := slices.Clone(s)
		slices.Reverse(r)
		return r
	}
	entries := make([]Entry, 0, n*n)
	for j := 0; j < n; j++ {
		for i := 0; i < n; i++ {
			ring := orb.Ring(slices.Clone(hside[i][j]))
			ring = append(ring, vside[i+1][j][1:]...)
			ring = append(ring, rev(hside[i][j+1])[1:]...)
			ring = append(ring, rev(vside[i][j])[1:]...)
			entries = append(entries, Entry{ID: int64(1 + i + j*n), Geometry: orb.MultiPolygon{{ring}}})
		}
	}
	return entries
}

// star returns a star-shaped (generally concave) ring of m vertices around
// c with radii between rmin and rmax, counter-clockwise, closed.
func star(rng *rand.Rand, c orb.Point, m int, rmin, rmax float64) orb.Ring {
	r := make(orb.Ring, 0, m+1)
	for k := 0; k < m; k++ {
		a := 2 * math.Pi * (float64(k) + 0.25 + 0.5*rng.Float64()) / float64(m)
		d := rmin + (rmax-rmin)*rng.Float64()
		r = append(r, orb.Point{c[0] + d*math.Cos(a), c[1] + d*math.Sin(a)})
	}
	return append(r, r[0])
}

// randomEntries returns n entries of one to three overlapping star
// polygons, half of them with a star hole, some with many vertices.
func randomEntries(rng *rand.Rand, n int, firstID int64) []Entry {
	es := make([]Entry, n)
	for i := range es {
		var mp orb.MultiPolygon
		for k := 1 + rng.IntN(3); k > 0; k-- {
			c := orb.Point{rng.Float64() * 10, rng.Float64() * 10}
			r := 0.2 + rng.Float64()
			m := 8 + rng.IntN(20)
			if rng.IntN(3) == 0 {
				m = 40 + rng.IntN(300)
			}
			poly := orb.Polygon{star(rng, c, m, 0.5*r, r)}
			if rng.IntN(2) == 0 {
				hole := star(rng, c, 8+rng.IntN(40), 0.05*r, 0.35*r)
				slices.Reverse(hole)
				poly = append(poly, hole)
			}
			mp = append(mp, poly)
		}
		es[i] = Entry{ID: firstID + int64(i), Geometry: mp}
	}
	return es
}

// refOrient is the orientation predicate in exact rational arithmetic.
func refOrient(a, b, c orb.Point) int {
	r := func(f float64) *big.Rat { return new(big.Rat).SetFloat64(f) }
	bx := new(big.Rat).Sub(r(b[0]), r(a[0]))
	by := new(big.Rat).Sub(r(b[1]), r(a[1]))
	cx := new(big.Rat).Sub(r(c[0]), r(a[0]))
	cy := new(big.Rat).Sub(r(c[1]), r(a[1]))
	return new(big.Rat).Sub(new(big.Rat).Mul(bx, cy), new(big.Rat).Mul(by, cx)).Sign()
}

// refEdges calls fn with every edge of ring, the closing edge included.
func refEdges(ring orb.Ring, fn func(a, b orb.Point)) {
	for i := range ring {
		j := (i + 1) % len(ring)
		fn(ring[i], ring[j])
	}
}

// refOnBoundary reports whether p lies on an edge of ring.
func refOnBoundary(ring orb.Ring, p orb.Point) (on bool) {
	refEdges(ring, func(a, b orb.Point) {
		if !on && p[0] >= min(a[0], b[0]) && p[0] <= max(a[0], b[0]) &&
			p[1] >= min(a[1], b[1]) && p[1] <= max(a[1], b[1]) && refOrient(a, b, p) == 0 {
			on = true
		}
	})
	return on
}

// refWinding is Sunday's winding number of ring around p.
func refWinding(ring orb.Ring, p orb.Point) (wn int) {
	refEdges(ring, func(a, b orb.Point) {
		if a[1] <= p[1] {
			if b[1] > p[1] && refOrient(a, b, p) > 0 {
				wn++
			}
		} else if b[1] <= p[1] && refOrient(a, b, p) < 0 {
			wn--
		}
	})
	return wn
}

// refContains is ST_Intersects(poly, p) for a valid polygon: on any
// boundary, or inside the shell and outside every hole.
func refContains(poly orb.Polygon, p orb.Point) bool {
	if len(poly) == 0 {
		return false
	}
	for _, ring := range poly {
		if refOnBoundary(ring, p) {
			return true
		}
	}
	if refWinding(poly[0], p) == 0 {
		return false
	}
	for _, hole := range poly[1:] {
		if refWinding(hole, p) != 0 {
			return false
		}
	}
	return true
}

// reference is the brute-force index: every polygon tested in turn.
type reference struct {
	entries []Entry
	bounds  [][]orb.Bound // per entry, per polygon
}

func newReference(es []Entry) *reference {
	r := &reference{entries: es, bounds: make([][]orb.Bound, len(es))}
	for i, e := range es {
		for _, poly := range e.Geometry {
			r.bounds[i] = append(r.bounds[i], poly.Bound())
		}
	}
	return r
}

// lookup returns the IDs of the entries intersecting p, ascending.
func (r *reference) lookup(p orb.Point) []int64 {
	var ids []int64
	for i, e := range r.entries {
		for j, poly := range e.Geometry {
			if r.bounds[i][j].Contains(p) && refContains(poly, p) {
				ids = append(ids, e.ID)
				break
			}
		}
	}
	slices.Sort(ids)
	return ids
}

// refLookup is reference.lookup for a one-off query.
func refLookup(es []Entry, p orb.Point) []int64 { return newReference(es).lookup(p) }

// refDistance is the distance in metres from p to e (0 inside), projected
// onto a local plane at p's latitude and measured to the closest point of
// every edge.
func refDistance(e Entry, p orb.Point) float64 {
	ky := earthRadius * math.Pi / 180
	kx := ky * math.Cos(p[1]*math.Pi/180)
	best := math.Inf(1)
	for _, poly := range e.Geometry {
		if refContains(poly, p) {
			return 0
		}
		for _, ring := range poly {
			refEdges(ring, func(a, b orb.Point) {
				ax, ay := (a[0]-p[0])*kx, (a[1]-p[1])*ky
				bx, by := (b[0]-p[0])*kx, (b[1]-p[1])*ky
				d := math.Min(math.Hypot(ax, ay), math.Hypot(bx, by))
				if l := math.Hypot(bx-ax, by-ay); l > 0 {
					t := -(ax*(bx-ax) + ay*(by-ay)) / (l * l)
					if t > 0 && t < 1 {
						d = math.Min(d, math.Abs(ax*(by-ay)-ay*(bx-ax))/l)
					}
				}
				best = math.Min(best, d)
			})
		}
	}
	return best
}
