package locate

import (
	"math"

	"github.com/paulmach/orb"
)

// earthRadius is the mean Earth radius in metres (IUGG).
const earthRadius = 6371008.8

// Nearest returns the entry whose geometry is nearest to p and the distance
// in metres from p to it: 0 when p is inside or on the boundary of some
// polygon, otherwise the distance to the nearest polygon boundary. Ties are
// broken by the lowest ID. ok is false for an empty index.
//
// Distances use the equirectangular approximation at p's latitude: a
// longitude difference counts cos(lat)·R·π/180 metres per degree, a latitude
// difference R·π/180, with R = 6,371,008.8 m. The search is best-first
// through the R-tree, so only the polygons whose boxes are nearer than the
// answer are measured.
func (ix *Index) Nearest(p orb.Point) (id int64, distanceMetres float64, ok bool) {
	if ix == nil || len(ix.polys) == 0 {
		return 0, 0, false
	}
	ky := earthRadius * math.Pi / 180
	kx := ky * math.Cos(p[1]*math.Pi/180)
	t := &ix.tree
	top := len(t.levels) - 2

	q := make(nearQueue, 0, 64) // the one allocation
	q.push(nearItem{d2: boxDist2(t.boxes[t.levels[top]], p, kx, ky), level: int32(top)})
	best := math.Inf(1)
	for len(q) > 0 && q[0].d2 <= best {
		it := q.pop()
		switch {
		case it.level < 0: // a measured polygon
			if pg := ix.polys[it.node]; it.d2 < best || !ok || pg.id < id {
				best, id, ok = it.d2, pg.id, true
			}
		case it.level == 0: // a polygon known only by its box: measure it
			pg := ix.polys[it.node]
			d2 := 0.0
			if !pg.contains(p[0], p[1]) {
				d2 = pg.boundaryDist2(p[0], p[1], kx, ky)
			}
			q.push(nearItem{d2: d2, node: it.node, level: -1})
		default:
			l := it.level
			lo := t.levels[l-1] + it.node*nodeSize
			hi := min(lo+nodeSize, t.levels[l])
			for c := lo; c < hi; c++ {
				q.push(nearItem{d2: boxDist2(t.boxes[c], p, kx, ky), node: c - t.levels[l-1], level: l - 1})
			}
		}
	}
	return id, math.Sqrt(best), ok
}

// boxDist2 is the squared scaled distance from p to b (0 inside).
func boxDist2(b orb.Bound, p orb.Point, kx, ky float64) float64 {
	dx := math.Max(0, math.Max(b.Min[0]-p[0], p[0]-b.Max[0])) * kx
	dy := math.Max(0, math.Max(b.Min[1]-p[1], p[1]-b.Max[1])) * ky
	return dx*dx + dy*dy
}

// nearItem is a tree node (level ≥ 1), a polygon's box (level 0) or a
// measured polygon (level −1), keyed by squared distance; node is the
// index within its level.
type nearItem struct {
	d2    float64
	node  int32
	level int32
}

// nearQueue is a binary min-heap on d2; at equal distance measured
// polygons come first, so ties resolve as soon as possible.
type nearQueue []nearItem

func (q nearQueue) less(i, j int) bool {
	if q[i].d2 != q[j].d2 {
		return q[i].d2 < q[j].d2
	}
	return q[i].level < q[j].level
}

func (q *nearQueue) push(it nearItem) {
	*q = append(*q, it)
	h := *q
	for i := len(h) - 1; i > 0; {
		parent := (i - 1) / 2
		if !h.less(i, parent) {
			break
		}
		h[i], h[parent] = h[parent], h[i]
		i = parent
	}
}

func (q *nearQueue) pop() nearItem {
	h := *q
	top := h[0]
	n := len(h) - 1
	h[0] = h[n]
	h = h[:n]
	for i := 0; ; {
		l, r, m := 2*i+1, 2*i+2, i
		if l < n && h.less(l, m) {
			m = l
		}
		if r < n && h.less(r, m) {
			m = r
		}
		if m == i {
			break
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
	*q = h
	return top
}
