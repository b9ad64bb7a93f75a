package locate

import (
	"math"
	"slices"

	"github.com/paulmach/orb"
)

// bandThreshold is the edge count from which a polygon gets an edge index
// of several bands and a raster; smaller polygons scan all their edges.
const bandThreshold = 32

// edgesPerBand is the average number of edges per band the edge index aims
// for in a polygon above bandThreshold.
const edgesPerBand = 4

// polygon is one prepared polygon (exterior ring and holes) of an entry. It
// owns copies of its coordinates and is never modified after prepare, so
// successive indexes share it.
type polygon struct {
	id   int64
	part int32 // index in the entry's MultiPolygon

	// The raster (nil below bandThreshold): cell (i, j) of the polygon's
	// box, cells[j·cx.n()+i], says whether every point mapping to it is
	// inside, outside, or whether edges must decide.
	cx, cy axis
	cells  []uint8

	// The edge index: edge e joins pts[e] and pts[e+1]. Band k of by lists
	// edges[start[k]:start[k+1]], every edge whose closed y range meets it.
	by    axis
	start []int32
	edges []int32

	pts   []orb.Point // every ring, each closed (first point repeated last)
	rings []int32     // ring r is pts[rings[r]:rings[r+1]]
	bound orb.Bound
}

// preparePolygon copies poly into a polygon with its edge index and raster.
// It returns nil for a polygon without points.
func preparePolygon(id int64, poly orb.Polygon) *polygon {
	var s scratch
	return s.prepare(id, poly)
}

// scratch holds the reusable buffers of a goroutine preparing polygons:
// per vertex, its band and its raster column and row.
type scratch struct {
	band, col, row []int32
}

// prepare is preparePolygon with s's buffers.
func (s *scratch) prepare(id int64, poly orb.Polygon) *polygon {
	n := 0
	for _, r := range poly {
		if len(r) > 0 {
			n += len(r) + 1
		}
	}
	if n == 0 {
		return nil
	}
	pg := &polygon{id: id, pts: make([]orb.Point, 0, n), rings: make([]int32, 1, len(poly)+1)}
	for _, r := range poly {
		if len(r) == 0 {
			continue
		}
		pg.pts = append(pg.pts, r...)
		if r[0] != r[len(r)-1] || len(r) == 1 {
			pg.pts = append(pg.pts, r[0])
		}
		pg.rings = append(pg.rings, int32(len(pg.pts)))
	}
	b := orb.Bound{Min: pg.pts[0], Max: pg.pts[0]}
	for _, p := range pg.pts[1:] { // plain comparisons: no NaN here
		if p[0] < b.Min[0] {
			b.Min[0] = p[0]
		} else if p[0] > b.Max[0] {
			b.Max[0] = p[0]
		}
		if p[1] < b.Min[1] {
			b.Min[1] = p[1]
		} else if p[1] > b.Max[1] {
			b.Max[1] = p[1]
		}
	}
	pg.bound = b
	ne := pg.edgeCount()
	if ne < bandThreshold {
		s.buildBands(pg, 1)
		return pg
	}
	s.buildBands(pg, ne/edgesPerBand)
	g := min(max(int(1.5*math.Sqrt(float64(ne))), 8), 128)
	s.buildRaster(pg, g, g)
	return pg
}

// hasPoints reports whether some ring of poly has a point: whether
// prepare returns a polygon for it.
func hasPoints(poly orb.Polygon) bool {
	for _, r := range poly {
		if len(r) > 0 {
			return true
		}
	}
	return false
}

// preparedFrom reports whether pg holds exactly the rings of poly.
func (pg *polygon) preparedFrom(poly orb.Polygon) bool {
	k := 0
	for _, r := range poly {
		if len(r) == 0 {
			continue
		}
		if k+1 >= len(pg.rings) {
			return false
		}
		got := pg.pts[pg.rings[k]:pg.rings[k+1]]
		if r[0] != r[len(r)-1] || len(r) == 1 { // closed by prepare
			if len(got) != len(r)+1 {
				return false
			}
			got = got[:len(r)]
		}
		if !slices.Equal(got, r) {
			return false
		}
		k++
	}
	return k == len(pg.rings)-1
}

// edgeCount is the number of edges of all rings.
func (pg *polygon) edgeCount() int { return len(pg.pts) - (len(pg.rings) - 1) }

// buildBands builds the edge index with nb bands: a counting sort of the
// edges into every band their y range meets.
func (s *scratch) buildBands(pg *polygon, nb int) {
	pg.by = newAxis(pg.bound.Min[1], pg.bound.Max[1], nb)
	nb = pg.by.n()
	band := resize(&s.band, len(pg.pts))
	for i, p := range pg.pts {
		band[i] = int32(pg.by.slice(p[1]))
	}
	start := make([]int32, nb+2) // one spare slot for the fill cursor
	count := start[2:]
	for r := 0; r+1 < len(pg.rings); r++ {
		b := band[pg.rings[r]:pg.rings[r+1]]
		for i := 1; i < len(b); i++ {
			lo, hi := minmax(b[i-1], b[i])
			for k := lo; k <= hi; k++ {
				count[k]++
			}
		}
	}
	for k := 2; k < len(start); k++ {
		start[k] += start[k-1]
	}
	edges := make([]int32, start[nb+1])
	next := start[1:] // next[k]: where band k's next edge goes
	for r := 0; r+1 < len(pg.rings); r++ {
		first := pg.rings[r]
		b := band[first:pg.rings[r+1]]
		for i := 1; i < len(b); i++ {
			lo, hi := minmax(b[i-1], b[i])
			for k := lo; k <= hi; k++ {
				edges[next[k]] = first + int32(i-1)
				next[k]++
			}
		}
	}
	pg.edges, pg.start = edges, start[:nb+1]
}

// resize returns *buf resliced, or reallocated, to length n.
func resize(buf *[]int32, n int) []int32 {
	if cap(*buf) < n {
		*buf = make([]int32, n)
	}
	return (*buf)[:n]
}

func minmax(a, b int32) (int32, int32) {
	if a > b {
		return b, a
	}
	return a, b
}

// contains reports whether (x, y) is inside pg or on its boundary, with
// holes excluded (their boundaries included). The raster answers for most
// points; the others go to edgeContains.
func (pg *polygon) contains(x, y float64) bool {
	if pg.cells != nil {
		switch pg.cells[pg.cy.slice(y)*(pg.cx.last+1)+pg.cx.slice(x)] {
		case cellIn:
			return true
		case cellOut:
			return false
		}
	}
	return pg.edgeContains(x, y)
}

// edgeContains is contains decided by the edges: it casts a ray towards +x
// and counts crossings with the half-open rule, reading only the edges of
// the point's band. The edges whose bounding box holds the point decide
// exactly with orient, which also detects a point on an edge.
func (pg *polygon) edgeContains(x, y float64) bool {
	k := pg.by.slice(y)
	inside := false
	for _, e := range pg.edges[pg.start[k]:pg.start[k+1]] {
		a, b := &pg.pts[e], &pg.pts[e+1]
		ay, by := a[1], b[1]
		if (y < ay && y < by) || (y > ay && y > by) {
			continue
		}
		ax, bx := a[0], b[0]
		if x > ax && x > bx {
			continue
		}
		straddles := (ay > y) != (by > y)
		if x < ax && x < bx {
			if straddles {
				inside = !inside
			}
			continue
		}
		o := orient(ax, ay, bx, by, x, y)
		if o == 0 {
			return true // collinear and inside the edge's box: on the edge
		}
		if straddles && (by > ay) == (o > 0) {
			inside = !inside
		}
	}
	return inside
}

// boundaryDist2 returns the squared distance from (x, y) to the nearest
// edge of pg, after scaling longitude differences by kx and latitude
// differences by ky.
func (pg *polygon) boundaryDist2(x, y, kx, ky float64) float64 {
	best := math.Inf(1)
	for r := 0; r+1 < len(pg.rings); r++ {
		pts := pg.pts[pg.rings[r]:pg.rings[r+1]]
		ux, uy := (pts[0][0]-x)*kx, (pts[0][1]-y)*ky
		for _, q := range pts[1:] {
			vx, vy := (q[0]-x)*kx, (q[1]-y)*ky
			if d := segmentDist2(ux, uy, vx, vy); d < best {
				best = d
			}
			ux, uy = vx, vy
		}
	}
	return best
}

// segmentDist2 returns the squared distance from the origin to the segment
// u–v. The result does not depend on the direction of the segment, so an
// edge two polygons share measures the same from both.
func segmentDist2(ux, uy, vx, vy float64) float64 {
	if vx < ux || vx == ux && vy < uy {
		ux, uy, vx, vy = vx, vy, ux, uy
	}
	dx, dy := vx-ux, vy-uy
	l2 := dx*dx + dy*dy
	t := -(ux*dx + uy*dy)
	if t <= 0 || l2 == 0 {
		return ux*ux + uy*uy
	}
	if t >= l2 {
		return vx*vx + vy*vy // an end point is measured the same from both its edges
	}
	t /= l2
	px, py := ux+t*dx, uy+t*dy
	return px*px + py*py
}
