package partition

import (
	"errors"
	"math"
	"slices"
)

// xy is a point in the local planar frame (metres).
type xy struct{ X, Y float64 }

func (a xy) sub(b xy) xy        { return xy{a.X - b.X, a.Y - b.Y} }
func (a xy) add(b xy) xy        { return xy{a.X + b.X, a.Y + b.Y} }
func (a xy) scale(s float64) xy { return xy{a.X * s, a.Y * s} }
func (a xy) dot(b xy) float64   { return a.X*b.X + a.Y*b.Y }
func (a xy) cross(b xy) float64 { return a.X*b.Y - a.Y*b.X }
func (a xy) dist2(b xy) float64 { d := a.sub(b); return d.X*d.X + d.Y*d.Y }
func (a xy) dist(b xy) float64  { return math.Sqrt(a.dist2(b)) }
func (a xy) perp() xy           { return xy{-a.Y, a.X} } // rotated 90° counter-clockwise
func orient(a, b, c xy) float64 { return b.sub(a).cross(c.sub(a)) }
func midpoint(a, b xy) xy       { return xy{(a.X + b.X) / 2, (a.Y + b.Y) / 2} }
func finite(a xy) bool          { return !math.IsNaN(a.X+a.Y) && !math.IsInf(a.X+a.Y, 0) }

// triangulation is a Delaunay triangulation in half-edge form (the layout of
// mapbox/delaunator): triangle t has half-edges 3t, 3t+1, 3t+2, half-edge e
// starts at point tri[e] and ends at tri[next(e)], half[e] is the opposite
// half-edge or -1 on the convex hull. Triangles are counter-clockwise.
type triangulation struct {
	pts  []xy
	tri  []int32
	half []int32
}

var errDegenerate = errors.New("partition: degenerate point set (all points on a line)")

func nextHalf(e int32) int32 {
	if e%3 == 2 {
		return e - 2
	}
	return e + 1
}

func prevHalf(e int32) int32 {
	if e%3 == 0 {
		return e + 2
	}
	return e - 1
}

// triangulate builds the Delaunay triangulation of pts with the sweep-hull
// algorithm of delaunator. Points closer than machine precision to an
// earlier point are skipped; callers merge duplicates beforehand.
func triangulate(pts []xy) (*triangulation, error) {
	n := len(pts)
	if n < 3 {
		return nil, errDegenerate
	}
	d := &delaunator{pts: pts}
	if err := d.run(); err != nil {
		return nil, err
	}
	return &triangulation{pts: pts, tri: d.tri[:d.trianglesLen], half: d.half[:d.trianglesLen]}, nil
}

type delaunator struct {
	pts          []xy
	tri, half    []int32
	trianglesLen int32
	hullPrev     []int32
	hullNext     []int32
	hullTri      []int32
	hullHash     []int32
	hullStart    int32
	center       xy
	stack        []int32
}

func (d *delaunator) hashKey(p xy) int {
	dx, dy := p.X-d.center.X, p.Y-d.center.Y
	// pseudo-angle in [0, 1)
	q := dx / (math.Abs(dx) + math.Abs(dy))
	var a float64
	if dy > 0 {
		a = (3 - q) / 4
	} else {
		a = (1 + q) / 4
	}
	n := len(d.hullHash)
	k := int(math.Floor(a*float64(n))) % n
	if k < 0 {
		k += n
	}
	return k
}

func circumcenter(a, b, c xy) xy {
	dx, dy := b.X-a.X, b.Y-a.Y
	ex, ey := c.X-a.X, c.Y-a.Y
	bl := dx*dx + dy*dy
	cl := ex*ex + ey*ey
	den := 0.5 / (dx*ey - dy*ex)
	return xy{a.X + (ey*bl-dy*cl)*den, a.Y + (dx*cl-ex*bl)*den}
}

func circumradius2(a, b, c xy) float64 {
	cc := circumcenter(a, b, c)
	r := cc.dist2(a)
	if math.IsNaN(r) {
		return math.Inf(1)
	}
	return r
}

// inCircle reports whether d lies strictly inside the circumcircle of the
// counter-clockwise triangle abc.
func inCircle(a, b, c, d xy) bool {
	adx, ady := a.X-d.X, a.Y-d.Y
	bdx, bdy := b.X-d.X, b.Y-d.Y
	cdx, cdy := c.X-d.X, c.Y-d.Y
	ap := adx*adx + ady*ady
	bp := bdx*bdx + bdy*bdy
	cp := cdx*cdx + cdy*cdy
	det := ap*(bdx*cdy-cdx*bdy) + bp*(cdx*ady-adx*cdy) + cp*(adx*bdy-bdx*ady)
	return det > 0
}

func (d *delaunator) run() error {
	pts := d.pts
	n := len(pts)
	maxTri := 2*n - 5
	d.tri = make([]int32, maxTri*3)
	d.half = make([]int32, maxTri*3)
	hashSize := int(math.Ceil(math.Sqrt(float64(n))))
	d.hullPrev = make([]int32, n)
	d.hullNext = make([]int32, n)
	d.hullTri = make([]int32, n)
	d.hullHash = make([]int32, hashSize)
	for i := range d.hullHash {
		d.hullHash[i] = -1
	}

	minX, minY := math.Inf(1), math.Inf(1)
	maxX, maxY := math.Inf(-1), math.Inf(-1)
	for _, p := range pts {
		minX, maxX = math.Min(minX, p.X), math.Max(maxX, p.X)
		minY, maxY = math.Min(minY, p.Y), math.Max(maxY, p.Y)
	}
	c := xy{(minX + maxX) / 2, (minY + maxY) / 2}

	i0, i1, i2 := -1, -1, -1
	best := math.Inf(1)
	for i, p := range pts {
		if dd := c.dist2(p); dd < best {
			i0, best = i, dd
		}
	}
	best = math.Inf(1)
	for i, p := range pts {
		if i == i0 {
			continue
		}
		if dd := pts[i0].dist2(p); dd < best && dd > 0 {
			i1, best = i, dd
		}
	}
	best = math.Inf(1)
	for i, p := range pts {
		if i == i0 || i == i1 {
			continue
		}
		if r := circumradius2(pts[i0], pts[i1], p); r < best {
			i2, best = i, r
		}
	}
	if i1 < 0 || i2 < 0 || math.IsInf(best, 1) {
		return errDegenerate
	}
	if orient(pts[i0], pts[i1], pts[i2]) < 0 {
		i1, i2 = i2, i1
	}
	d.center = circumcenter(pts[i0], pts[i1], pts[i2])

	ids := make([]int32, n)
	dists := make([]float64, n)
	for i, p := range pts {
		ids[i] = int32(i)
		dists[i] = d.center.dist2(p)
	}
	slices.SortFunc(ids, func(a, b int32) int {
		if dists[a] < dists[b] {
			return -1
		}
		if dists[a] > dists[b] {
			return 1
		}
		return int(a - b)
	})

	I0, I1, I2 := int32(i0), int32(i1), int32(i2)
	d.hullStart = I0
	d.hullNext[I0], d.hullPrev[I2] = I1, I1
	d.hullNext[I1], d.hullPrev[I0] = I2, I2
	d.hullNext[I2], d.hullPrev[I1] = I0, I0
	d.hullTri[I0], d.hullTri[I1], d.hullTri[I2] = 0, 1, 2
	d.hullHash[d.hashKey(pts[I0])] = I0
	d.hullHash[d.hashKey(pts[I1])] = I1
	d.hullHash[d.hashKey(pts[I2])] = I2
	d.addTriangle(I0, I1, I2, -1, -1, -1)

	var prev xy
	for k, i := range ids {
		p := pts[i]
		if k > 0 && math.Abs(p.X-prev.X) <= 1e-12 && math.Abs(p.Y-prev.Y) <= 1e-12 {
			continue
		}
		prev = p
		if i == I0 || i == I1 || i == I2 {
			continue
		}
		// find a visible edge on the convex hull using the edge hash
		start := int32(0)
		key := d.hashKey(p)
		for j := 0; j < hashSize; j++ {
			start = d.hullHash[(key+j)%hashSize]
			if start != -1 && start != d.hullNext[start] {
				break
			}
		}
		start = d.hullPrev[start]
		e := start
		for {
			q := d.hullNext[e]
			if orient(pts[e], pts[q], p) < 0 {
				break
			}
			e = q
			if e == start {
				e = -1
				break
			}
		}
		if e == -1 {
			continue // inside the hull by rounding: a near-duplicate
		}
		t := d.addTriangle(e, i, d.hullNext[e], -1, -1, d.hullTri[e])
		d.hullTri[i] = d.legalize(t + 2)
		d.hullTri[e] = t

		nn := d.hullNext[e]
		for {
			q := d.hullNext[nn]
			if !(orient(pts[nn], pts[q], p) < 0) {
				break
			}
			t = d.addTriangle(nn, i, q, d.hullTri[i], -1, d.hullTri[nn])
			d.hullTri[i] = d.legalize(t + 2)
			d.hullNext[nn] = nn
			nn = q
		}
		if e == start {
			for {
				q := d.hullPrev[e]
				if !(orient(pts[q], pts[e], p) < 0) {
					break
				}
				t = d.addTriangle(q, i, e, -1, d.hullTri[e], d.hullTri[q])
				d.legalize(t + 2)
				d.hullTri[q] = t
				d.hullNext[e] = e
				e = q
			}
		}
		d.hullStart = e
		d.hullPrev[i] = e
		d.hullNext[e] = i
		d.hullPrev[nn] = i
		d.hullNext[i] = nn
		d.hullHash[d.hashKey(p)] = i
		d.hullHash[d.hashKey(pts[e])] = e
	}
	return nil
}

func (d *delaunator) link(a, b int32) {
	d.half[a] = b
	if b != -1 {
		d.half[b] = a
	}
}

func (d *delaunator) addTriangle(i0, i1, i2, a, b, c int32) int32 {
	t := d.trianglesLen
	d.tri[t], d.tri[t+1], d.tri[t+2] = i0, i1, i2
	d.link(t, a)
	d.link(t+1, b)
	d.link(t+2, c)
	d.trianglesLen += 3
	return t
}

func (d *delaunator) legalize(a int32) int32 {
	pts := d.pts
	d.stack = d.stack[:0]
	var ar int32
	for {
		b := d.half[a]
		a0 := a - a%3
		ar = a0 + (a+2)%3
		if b == -1 {
			if len(d.stack) == 0 {
				break
			}
			a = d.stack[len(d.stack)-1]
			d.stack = d.stack[:len(d.stack)-1]
			continue
		}
		b0 := b - b%3
		al := a0 + (a+1)%3
		bl := b0 + (b+2)%3
		p0, pr, pl, p1 := d.tri[ar], d.tri[a], d.tri[al], d.tri[bl]
		if inCircle(pts[p0], pts[pr], pts[pl], pts[p1]) {
			d.tri[a] = p1
			d.tri[b] = p0
			hbl := d.half[bl]
			if hbl == -1 {
				e := d.hullStart
				for {
					if d.hullTri[e] == bl {
						d.hullTri[e] = a
						break
					}
					e = d.hullPrev[e]
					if e == d.hullStart {
						break
					}
				}
			}
			d.link(a, hbl)
			d.link(b, d.half[ar])
			d.link(ar, bl)
			br := b0 + (b+1)%3
			if len(d.stack) < 1<<16 {
				d.stack = append(d.stack, br)
			}
		} else {
			if len(d.stack) == 0 {
				break
			}
			a = d.stack[len(d.stack)-1]
			d.stack = d.stack[:len(d.stack)-1]
		}
	}
	return ar
}
