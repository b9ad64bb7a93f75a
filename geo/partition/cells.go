package partition

import (
	"fmt"
	"math"
	"slices"
)

// cells is the Voronoi diagram of the sites clipped to the domain, kept as a
// planar subdivision: every clipped cell is one or more faces; every face is
// bounded by loops of pieces. A piece is either a portion of a Voronoi edge
// inside the domain (it has a twin piece, the same portion seen from the
// neighbouring cell, with the same vertex ids in reverse order) or a stretch
// of a boundary ring inside one cell.
//
// Vertex ids: 0..nTri-1 are circumcentres (Voronoi vertices), nTri+k is the
// k-th crossing of a boundary ring with a Voronoi edge. Neighbouring pieces
// refer to the same ids, so their coordinates are identical by construction.
type cells struct {
	dom    *domain
	sites  []xy // the m real sites, then 4 far-away ghosts
	m      int
	tr     *triangulation
	inedge []int32
	cc     []xy
	cross  []crossing
	pieces []piece
	faces  []face
	// cellPieces[cellStart[i]:cellStart[i+1]] are the pieces of cell i.
	cellStart  []int32
	cellPieces []int32
	siteFace   []int32 // the face holding each site
}

type crossing struct {
	pt        xy
	ring, seg int32
	from, to  int32 // the ring passes from cell `from` into cell `to`
	edge      int32 // canonical Delaunay half-edge of the Voronoi edge crossed
}

type piece struct {
	cell         int32
	a, b         int32 // vertex ids; -1 for a whole ring inside one cell
	twin         int32 // twin Voronoi piece, -1 for boundary pieces
	nb           int32 // neighbouring cell, -1 for boundary pieces
	ring         int32 // boundary pieces: ring, first interior vertex, count
	first, count int32
	length       float64
	face         int32
}

type face struct {
	cell  int32
	loops [][]int32 // piece indices; loops[0] is the outer loop
	area  float64
	ext   float64 // length on the domain boundary
}

func (c *cells) nTri() int32 { return int32(len(c.cc)) }

func (c *cells) vertex(id int32) xy {
	if id < c.nTri() {
		return c.cc[id]
	}
	return c.cross[id-c.nTri()].pt
}

// appendPiece appends the coordinates of p without its end vertex.
func (c *cells) appendPiece(dst []xy, p *piece) []xy {
	if p.a >= 0 {
		dst = append(dst, c.vertex(p.a))
	}
	if p.ring >= 0 {
		r := c.dom.rings[p.ring].pts
		n := int32(len(r))
		for k := int32(0); k < p.count; k++ {
			dst = append(dst, r[(p.first+k)%n])
		}
	}
	return dst
}

func (c *cells) loopCoords(dst []xy, loop []int32) []xy {
	for _, pi := range loop {
		dst = c.appendPiece(dst, &c.pieces[pi])
	}
	return dst
}

// buildCells computes the clipped Voronoi cells of sites inside dom.
// anchors[i] is a point inside the domain that belongs to site i (its first
// household's exact position): when the boundary cuts a cell into several
// faces, the face holding the anchor is the site's own.
func buildCells(dom *domain, sites, anchors []xy) (*cells, error) {
	m := len(sites)
	c := &cells{dom: dom, m: m}
	// four ghosts far outside: their cells never reach the domain, every
	// real cell is bounded and the point set is never collinear.
	ext := dom.max.sub(dom.min)
	diam := math.Hypot(ext.X, ext.Y) + 1
	mid := midpoint(dom.min, dom.max)
	all := make([]xy, m, m+4)
	copy(all, sites)
	r := 4 * diam
	all = append(all, xy{mid.X - r, mid.Y - r*0.93}, xy{mid.X + r*1.07, mid.Y - r}, xy{mid.X + r, mid.Y + r*1.03}, xy{mid.X - r*0.97, mid.Y + r})
	c.sites = all
	tr, err := triangulate(all)
	if err != nil {
		return nil, err
	}
	c.tr = tr
	c.inedge = make([]int32, len(all))
	for i := range c.inedge {
		c.inedge[i] = -1
	}
	for e := range tr.tri {
		c.inedge[tr.tri[nextHalf(int32(e))]] = int32(e)
	}
	for i := 0; i < m; i++ {
		if c.inedge[i] < 0 {
			return nil, fmt.Errorf("%w: site %d was not triangulated", errTopology, i)
		}
	}
	nt := len(tr.tri) / 3
	c.cc = make([]xy, nt)
	for t := 0; t < nt; t++ {
		a, b, d := all[tr.tri[3*t]], all[tr.tri[3*t+1]], all[tr.tri[3*t+2]]
		p := circumcenter(a, b, d)
		if !finite(p) {
			p = xy{(a.X + b.X + d.X) / 3, (a.Y + b.Y + d.Y) / 3}
		}
		c.cc[t] = p
	}
	if err := c.walkRings(); err != nil {
		return nil, err
	}
	c.pieces = make([]piece, 0, 6*m+2*len(c.cross)+len(dom.rings))
	if err := c.buildPieces(); err != nil {
		return nil, err
	}
	if err := c.buildFaces(anchors); err != nil {
		return nil, err
	}
	return c, nil
}

// nearest finds the site nearest to p by a greedy walk on the Delaunay graph.
func (c *cells) nearest(p xy, start int32) int32 {
	i := start
	tri, half := c.tr.tri, c.tr.half
	for {
		best, bd := i, p.dist2(c.sites[i])
		e0 := c.inedge[i]
		e := e0
		for {
			j := tri[e]
			if d := p.dist2(c.sites[j]); d < bd {
				best, bd = j, d
			}
			e = half[nextHalf(e)]
			if e < 0 || e == e0 {
				break
			}
		}
		if best == i {
			return i
		}
		i = best
	}
}

// walkRings follows every boundary ring through the Voronoi cells and
// records where it crosses a Voronoi edge.
func (c *cells) walkRings() error {
	tri, half := c.tr.tri, c.tr.half
	cell := int32(0)
	limit := len(c.sites) + 64
	for ri, rg := range c.dom.rings {
		n := len(rg.pts)
		cell = c.nearest(rg.pts[0], cell)
		for k := 0; k < n; k++ {
			a, b := rg.pts[k], rg.pts[(k+1)%n]
			d := b.sub(a)
			t := 0.0
			prev := int32(-1)
			for steps := 0; ; steps++ {
				if steps > limit {
					return fmt.Errorf("%w: boundary walk did not converge", errTopology)
				}
				bestT, bestJ, bestE := 1.0, int32(-1), int32(-1)
				si := c.sites[cell]
				e0 := c.inedge[cell]
				e := e0
				for {
					j := tri[e]
					if j != prev {
						v := c.sites[j].sub(si)
						if B := d.dot(v); B > 0 {
							tt := -a.sub(midpoint(si, c.sites[j])).dot(v) / B
							if tt < t {
								tt = t
							}
							if tt < bestT {
								bestT, bestJ, bestE = tt, j, half[e]
							}
						}
					}
					e = half[nextHalf(e)]
					if e < 0 || e == e0 {
						break
					}
				}
				if bestJ < 0 {
					break
				}
				if int(bestJ) >= c.m {
					return fmt.Errorf("%w: boundary reached a ghost cell", errTopology)
				}
				edge := bestE
				if h := half[bestE]; h >= 0 && h < edge {
					edge = h
				}
				c.cross = append(c.cross, crossing{
					pt: a.add(d.scale(bestT)), ring: int32(ri), seg: int32(k),
					from: cell, to: bestJ, edge: edge,
				})
				prev, cell, t = cell, bestJ, bestT
			}
		}
	}
	return nil
}

// buildPieces cuts Voronoi edges and boundary rings into pieces.
func (c *cells) buildPieces() error {
	tri, half := c.tr.tri, c.tr.half
	nt := c.nTri()
	m := int32(c.m)
	// crossings grouped by canonical half-edge
	start := make([]int32, len(tri)+1)
	for _, x := range c.cross {
		start[x.edge+1]++
	}
	for i := 1; i < len(start); i++ {
		start[i] += start[i-1]
	}
	byEdge := make([]int32, len(c.cross))
	fill := slices.Clone(start[:len(tri)])
	for k, x := range c.cross {
		byEdge[fill[x.edge]] = int32(k)
		fill[x.edge]++
	}
	canon := func(e int32) int32 {
		if h := half[e]; h >= 0 && h < e {
			return h
		}
		return e
	}
	// inside/outside of every Voronoi vertex, by parity of crossings from a
	// vertex known to be outside (any triangle with a ghost corner).
	inside := make([]int8, nt)
	for i := range inside {
		inside[i] = -1
	}
	root := int32(-1)
	for e, p := range tri {
		if p >= m {
			root = int32(e) / 3
			break
		}
	}
	inside[root] = 0
	queue := []int32{root}
	for len(queue) > 0 {
		t := queue[0]
		queue = queue[1:]
		for k := int32(0); k < 3; k++ {
			e := 3*t + k
			h := half[e]
			if h < 0 {
				continue
			}
			ce := canon(e)
			par := int8((start[ce+1] - start[ce]) & 1)
			if u := h / 3; inside[u] < 0 {
				inside[u] = inside[t] ^ par
				queue = append(queue, u)
			}
		}
	}

	bad := 0
	var xs []int32
	for h := int32(0); h < int32(len(tri)); h++ {
		tw := half[h]
		if tw < 0 || h > tw {
			continue
		}
		i, j := tri[h], tri[nextHalf(h)]
		if i >= m || j >= m {
			continue
		}
		di := c.sites[j].sub(c.sites[i]).perp()
		xs = append(xs[:0], byEdge[start[h]:start[h+1]]...)
		if len(xs) > 1 {
			slices.SortFunc(xs, func(p, q int32) int {
				a, b := c.cross[p].pt.dot(di), c.cross[q].pt.dot(di)
				if a < b {
					return -1
				}
				if a > b {
					return 1
				}
				return int(p - q)
			})
		}
		state := inside[tw/3] == 1
		cur := tw / 3
		for _, x := range xs {
			xid := nt + x
			if c.cross[x].from == i {
				if state {
					bad++
				}
				state, cur = true, xid
			} else {
				if !state {
					bad++
				} else {
					c.addPortion(i, j, cur, xid)
				}
				state = false
			}
		}
		if state {
			c.addPortion(i, j, cur, h/3)
		}
		if state != (inside[h/3] == 1) {
			bad++
		}
	}
	if bad > 0 {
		return fmt.Errorf("%w: %d Voronoi edges disagree with the boundary", errTopology, bad)
	}

	// boundary pieces
	x0 := 0
	for ri, rg := range c.dom.rings {
		n := int32(len(rg.pts))
		x1 := x0
		for x1 < len(c.cross) && c.cross[x1].ring == int32(ri) {
			x1++
		}
		cnt := x1 - x0
		if cnt == 0 {
			cell := c.nearest(rg.pts[0], 0)
			c.pieces = append(c.pieces, piece{cell: cell, a: -1, b: -1, twin: -1, nb: -1, ring: int32(ri), first: 0, count: n, length: ringLength(rg.pts), face: -1})
		}
		for k := 0; k < cnt; k++ {
			X, Y := &c.cross[x0+k], &c.cross[x0+(k+1)%cnt]
			if X.to != Y.from {
				bad++
			}
			num := (Y.seg - X.seg + n) % n
			if num == 0 && k == cnt-1 {
				num = n
			}
			p := piece{cell: X.to, a: nt + int32(x0+k), b: nt + int32(x0+(k+1)%cnt), twin: -1, nb: -1, ring: int32(ri), first: (X.seg + 1) % n, count: num, face: -1}
			prevPt := X.pt
			for q := int32(0); q < num; q++ {
				v := rg.pts[(p.first+q)%n]
				p.length += prevPt.dist(v)
				prevPt = v
			}
			p.length += prevPt.dist(Y.pt)
			c.pieces = append(c.pieces, p)
		}
		x0 = x1
	}
	if bad > 0 {
		return fmt.Errorf("%w: %d boundary pieces change cell", errTopology, bad)
	}

	// group pieces by cell
	c.cellStart = make([]int32, c.m+1)
	for _, p := range c.pieces {
		c.cellStart[p.cell+1]++
	}
	for i := 1; i <= c.m; i++ {
		c.cellStart[i] += c.cellStart[i-1]
	}
	c.cellPieces = make([]int32, len(c.pieces))
	fill = slices.Clone(c.cellStart[:c.m])
	for k, p := range c.pieces {
		c.cellPieces[fill[p.cell]] = int32(k)
		fill[p.cell]++
	}
	return nil
}

func ringLength(p []xy) float64 {
	var s float64
	for i := range p {
		s += p[i].dist(p[(i+1)%len(p)])
	}
	return s
}

func (c *cells) addPortion(i, j, u, w int32) {
	k := int32(len(c.pieces))
	l := c.vertex(u).dist(c.vertex(w))
	c.pieces = append(c.pieces,
		piece{cell: i, a: u, b: w, twin: k + 1, nb: j, ring: -1, length: l, face: -1},
		piece{cell: j, a: w, b: u, twin: k, nb: i, ring: -1, length: l, face: -1})
}

// buildFaces links the pieces of every cell into loops and loops into faces.
func (c *cells) buildFaces(anchors []xy) error {
	c.siteFace = make([]int32, c.m)
	var buf []xy
	used := make([]bool, len(c.pieces))
	for i := 0; i < c.m; i++ {
		ps := c.cellPieces[c.cellStart[i]:c.cellStart[i+1]]
		var outers, holes [][]int32
		var outerA, holeA []float64
		for _, p0 := range ps {
			if used[p0] {
				continue
			}
			used[p0] = true
			loop := []int32{p0}
			if c.pieces[p0].a >= 0 {
				first := c.pieces[p0].a
				cur := p0
				for c.pieces[cur].b != first {
					nxt := int32(-1)
					for _, q := range ps {
						if !used[q] && c.pieces[q].a == c.pieces[cur].b {
							nxt = q
							break
						}
					}
					if nxt < 0 {
						return fmt.Errorf("%w: open loop in cell %d", errTopology, i)
					}
					used[nxt] = true
					loop = append(loop, nxt)
					cur = nxt
				}
			}
			buf = c.loopCoords(buf[:0], loop)
			a := ringArea(buf)
			if a >= 0 {
				outers, outerA = append(outers, loop), append(outerA, a)
			} else {
				holes, holeA = append(holes, loop), append(holeA, a)
			}
		}
		if len(outers) == 0 {
			return fmt.Errorf("%w: cell %d has no area", errTopology, i)
		}
		base := int32(len(c.faces))
		var rings [][]xy
		if len(outers) > 1 {
			for _, o := range outers {
				rings = append(rings, c.loopCoords(nil, o))
			}
		}
		for k, o := range outers {
			c.faces = append(c.faces, face{cell: int32(i), loops: [][]int32{o}, area: outerA[k]})
		}
		for k, h := range holes {
			f := base
			if len(outers) > 1 {
				p := c.appendPiece(nil, &c.pieces[h[0]])[0]
				for q := range rings {
					if pointInRing(p, rings[q]) {
						f = base + int32(q)
						break
					}
				}
			}
			c.faces[f].loops = append(c.faces[f].loops, h)
			c.faces[f].area += holeA[k]
		}
		c.siteFace[i] = base
		if len(outers) > 1 {
			// the face holding the anchor, else the one nearest to it
			best := math.Inf(1)
			for q := range rings {
				if pointInRing(anchors[i], rings[q]) {
					c.siteFace[i] = base + int32(q)
					break
				}
				if d := distToRing(anchors[i], rings[q]); d < best {
					best = d
					c.siteFace[i] = base + int32(q)
				}
			}
		}
		for f := base; f < int32(len(c.faces)); f++ {
			for _, l := range c.faces[f].loops {
				for _, pi := range l {
					c.pieces[pi].face = f
					if c.pieces[pi].twin < 0 {
						c.faces[f].ext += c.pieces[pi].length
					}
				}
			}
		}
	}
	return nil
}

func distToRing(p xy, r []xy) float64 {
	best := math.Inf(1)
	for i := range r {
		a, b := r[i], r[(i+1)%len(r)]
		d := b.sub(a)
		t := 0.0
		if l := d.dot(d); l > 0 {
			t = math.Max(0, math.Min(1, p.sub(a).dot(d)/l))
		}
		best = math.Min(best, p.dist(a.add(d.scale(t))))
	}
	return best
}
