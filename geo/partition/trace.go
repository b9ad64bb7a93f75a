package partition

import (
	"fmt"
	"math"
	"slices"

	"github.com/paulmach/orb"
)

// tracer turns a set of graph nodes into polygons by walking the pieces
// that are not shared inside the set. Pieces refer to vertex ids, so
// neighbouring grids get bit-identical coordinates along shared edges.
type tracer struct {
	c         *cells
	g         *graph
	pr        projection
	fStart    []int32 // faces of node v: faces[fStart[v]:fStart[v+1]]
	faces     []int32
	setMark   []int32
	head      []int32
	headStamp []int32
	nextOut   []int32
	used      []int32
	stamp     int32
}

func newTracer(c *cells, g *graph, pr projection) *tracer {
	t := &tracer{c: c, g: g, pr: pr}
	t.fStart = make([]int32, g.n+1)
	for _, v := range g.faceNode {
		t.fStart[v+1]++
	}
	for i := 1; i <= g.n; i++ {
		t.fStart[i] += t.fStart[i-1]
	}
	t.faces = make([]int32, len(g.faceNode))
	fill := slices.Clone(t.fStart[:g.n])
	for f, v := range g.faceNode {
		t.faces[fill[v]] = int32(f)
		fill[v]++
	}
	t.setMark = make([]int32, g.n)
	nv := len(c.cc) + len(c.cross)
	t.head = make([]int32, nv)
	t.headStamp = make([]int32, nv)
	t.nextOut = make([]int32, len(c.pieces))
	t.used = make([]int32, len(c.pieces))
	return t
}

type tracedRing struct {
	pts  []xy
	ll   orb.Ring
	area float64
	len  float64
}

// rings traces the boundary rings of the union of nodes.
func (t *tracer) rings(nodes []int32) ([]tracedRing, error) {
	c, g := t.c, t.g
	t.stamp++
	st := t.stamp
	for _, v := range nodes {
		t.setMark[v] = st
	}
	var bps []int32
	for _, v := range nodes {
		for _, f := range t.faces[t.fStart[v]:t.fStart[v+1]] {
			for _, l := range c.faces[f].loops {
				for _, pi := range l {
					p := &c.pieces[pi]
					if p.twin >= 0 && t.setMark[g.faceNode[c.pieces[p.twin].face]] == st {
						continue
					}
					bps = append(bps, pi)
					if p.a >= 0 {
						if t.headStamp[p.a] != st {
							t.headStamp[p.a] = st
							t.head[p.a] = -1
						}
						t.nextOut[pi] = t.head[p.a]
						t.head[p.a] = pi
					}
				}
			}
		}
	}
	var out []tracedRing
	for _, start := range bps {
		if t.used[start] == st {
			continue
		}
		var r tracedRing
		cur := start
		for {
			t.used[cur] = st
			p := &c.pieces[cur]
			r.pts = c.appendPiece(r.pts, p)
			r.ll = t.appendLL(r.ll, p)
			if p.a < 0 {
				break
			}
			v := p.b
			if t.headStamp[v] != st {
				return nil, fmt.Errorf("%w: dangling edge while tracing", errTopology)
			}
			next := int32(-1)
			count := 0
			for q := t.head[v]; q >= 0; q = t.nextOut[q] {
				if t.used[q] != st || q == start {
					count++
					next = q
				}
			}
			if count > 1 {
				next = t.turn(cur, v, start, st)
			}
			if next < 0 {
				return nil, fmt.Errorf("%w: open ring while tracing", errTopology)
			}
			if next == start {
				break
			}
			cur = next
		}
		r.area = ringArea(r.pts)
		r.len = ringLength(r.pts)
		out = append(out, r)
	}
	return out, nil
}

// turn chooses the outgoing piece at a vertex where the set touches itself:
// the first one counter-clockwise from the incoming direction, keeping the
// complement on the right. Rings then touch at the vertex without crossing
// or touching themselves (a hole may touch the shell at a point).
func (t *tracer) turn(in int32, v int32, start int32, st int32) int32 {
	c := t.c
	vp := c.vertex(v)
	p := &c.pieces[in]
	var prev xy
	if p.count > 0 {
		r := c.dom.rings[p.ring].pts
		prev = r[(p.first+p.count-1)%int32(len(r))]
	} else {
		prev = c.vertex(p.a)
	}
	back := prev.sub(vp)
	best, bestAng := int32(-1), math.Inf(1)
	for q := t.head[v]; q >= 0; q = t.nextOut[q] {
		if t.used[q] == st && q != start {
			continue
		}
		qp := &c.pieces[q]
		var nxt xy
		if qp.count > 0 {
			nxt = c.dom.rings[qp.ring].pts[qp.first]
		} else {
			nxt = c.vertex(qp.b)
		}
		d := nxt.sub(vp)
		ang := math.Atan2(back.cross(d), back.dot(d))
		if ang <= 0 {
			ang += 2 * math.Pi
		}
		if ang < bestAng {
			best, bestAng = q, ang
		}
	}
	return best
}

func (t *tracer) appendLL(dst orb.Ring, p *piece) orb.Ring {
	c := t.c
	if p.a >= 0 {
		dst = appendDistinct(dst, t.pr.inv(c.vertex(p.a)))
	}
	if p.ring >= 0 {
		r := c.dom.rings[p.ring].orig
		n := int32(len(r))
		for k := int32(0); k < p.count; k++ {
			dst = appendDistinct(dst, r[(p.first+k)%n])
		}
	}
	return dst
}

func appendDistinct(dst orb.Ring, q orb.Point) orb.Ring {
	if n := len(dst); n > 0 && dst[n-1] == q {
		return dst
	}
	return append(dst, q)
}

func closeRing(r orb.Ring) orb.Ring {
	for len(r) > 1 && r[len(r)-1] == r[0] {
		r = r[:len(r)-1]
	}
	return append(r, r[0])
}

// polygons assembles traced rings into polygons: every counter-clockwise
// ring is a shell, every clockwise ring a hole of the shell around it.
func polygons(rs []tracedRing) ([]orb.Polygon, []float64) {
	var shells []int
	for i, r := range rs {
		if r.area > 0 {
			shells = append(shells, i)
		}
	}
	polys := make([]orb.Polygon, len(shells))
	areas := make([]float64, len(shells))
	for k, i := range shells {
		polys[k] = orb.Polygon{closeRing(rs[i].ll)}
		areas[k] = rs[i].area
	}
	for i, r := range rs {
		if r.area > 0 || len(shells) == 0 {
			continue
		}
		k := 0
		if len(shells) > 1 {
			p := midpoint(r.pts[0], r.pts[1%len(r.pts)])
			for q, si := range shells {
				if pointInRing(p, rs[si].pts) {
					k = q
					break
				}
			}
		}
		polys[k] = append(polys[k], closeRing(rs[i].ll))
		areas[k] += r.area
	}
	return polys, areas
}

type gridOut struct {
	Grid
	nodes  []int32
	center xy
}

// traceGrids builds the polygon and compactness of every grid.
func traceGrids(c *cells, g *graph, grid []int32, ng int, pr projection) ([]gridOut, error) {
	t := newTracer(c, g, pr)
	out := make([]gridOut, ng)
	for v := int32(0); v < int32(g.n); v++ {
		if k := grid[v]; k >= 0 {
			out[k].nodes = append(out[k].nodes, v)
		}
	}
	for k := range out {
		o := &out[k]
		rs, err := t.rings(o.nodes)
		if err != nil {
			return nil, err
		}
		polys, _ := polygons(rs)
		if len(polys) != 1 {
			return nil, fmt.Errorf("%w: grid %d traced into %d polygons", errTopology, k, len(polys))
		}
		o.Polygon = polys[0]
		var area, per, sx, sy float64
		for _, r := range rs {
			area += r.area
			per += r.len
		}
		for _, v := range o.nodes {
			sx += g.pos[v].X * g.area[v]
			sy += g.pos[v].Y * g.area[v]
		}
		o.Area, o.Perimeter = area, per
		o.PolsbyPopper = pp(area, per)
		o.center = xy{sx / area, sy / area}
	}
	return out, nil
}

// traceSet returns the polygons covering a set of nodes.
func traceSet(c *cells, g *graph, nodes []int32, pr projection) []orb.Polygon {
	rs, err := newTracer(c, g, pr).rings(nodes)
	if err != nil {
		return nil
	}
	polys, _ := polygons(rs)
	return polys
}

// orderGrids sorts grids north→south in rows about one grid high, and
// west→east within a row.
func orderGrids(gs []gridOut) {
	if len(gs) == 0 {
		return
	}
	var area float64
	top := math.Inf(-1)
	for _, g := range gs {
		area += g.Area
		top = math.Max(top, g.center.Y)
	}
	h := math.Sqrt(area / float64(len(gs)))
	if h <= 0 {
		h = 1
	}
	row := func(g gridOut) int { return int((top - g.center.Y) / h) }
	slices.SortStableFunc(gs, func(a, b gridOut) int {
		if ra, rb := row(a), row(b); ra != rb {
			return ra - rb
		}
		if a.center.X < b.center.X {
			return -1
		}
		if a.center.X > b.center.X {
			return 1
		}
		return 0
	})
}
