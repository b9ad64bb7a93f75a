package assign

import "math"

// cand is a candidate server for a client: its index and distance.
type cand struct {
	i int32
	d float64
}

// less orders candidates by distance, then index, so results are
// deterministic under ties.
func (a cand) less(b cand) bool { return a.d < b.d || (a.d == b.d && a.i < b.i) }

// grid is a uniform bucket grid over a fixed point set, sized for about
// one point per cell, answering k-nearest queries by searching rings of
// cells outward from the query's cell.
type grid struct {
	pts        []xy
	minX, minY float64
	cell       float64
	nx, ny     int
	start      []int32 // cell c holds items[start[c]:start[c+1]]
	items      []int32
}

func newGrid(pts []xy) *grid {
	g := &grid{pts: pts, nx: 1, ny: 1, cell: 1}
	if len(pts) == 0 {
		g.start = []int32{0, 0}
		return g
	}
	minX, minY, maxX, maxY := pts[0].x, pts[0].y, pts[0].x, pts[0].y
	for _, p := range pts[1:] {
		minX, maxX = math.Min(minX, p.x), math.Max(maxX, p.x)
		minY, maxY = math.Min(minY, p.y), math.Max(maxY, p.y)
	}
	g.minX, g.minY = minX, minY
	w, h, n := maxX-minX, maxY-minY, float64(len(pts))
	// About one point per cell; for points on a line, n cells along it.
	g.cell = math.Max(math.Sqrt(w*h/n), math.Max(w, h)/n)
	if g.cell <= 0 {
		g.cell = 1
	}
	g.nx = min(int(w/g.cell)+1, len(pts)+1)
	g.ny = min(int(h/g.cell)+1, len(pts)+1)

	g.start = make([]int32, g.nx*g.ny+1)
	cellOf := make([]int32, len(pts))
	for i, p := range pts {
		cx, cy := g.cellXY(p)
		c := int32(cy*g.nx + cx)
		cellOf[i] = c
		g.start[c+1]++
	}
	for c := 1; c < len(g.start); c++ {
		g.start[c] += g.start[c-1]
	}
	g.items = make([]int32, len(pts))
	fill := append([]int32(nil), g.start[:len(g.start)-1]...)
	for i, c := range cellOf {
		g.items[fill[c]] = int32(i)
		fill[c]++
	}
	return g
}

// cellXY returns the cell holding p, clamped to the grid.
func (g *grid) cellXY(p xy) (int, int) {
	cx := int(math.Floor((p.x - g.minX) / g.cell))
	cy := int(math.Floor((p.y - g.minY) / g.cell))
	return min(max(cx, 0), g.nx-1), min(max(cy, 0), g.ny-1)
}

// nearest appends to out[:0] the k points nearest to p, sorted by
// distance (ties by index), and returns it.
func (g *grid) nearest(p xy, k int, out []cand) []cand {
	out = out[:0]
	k = min(k, len(g.pts))
	if k <= 0 {
		return out
	}
	cx, cy := g.cellXY(p)
	for r := 0; ; r++ {
		x0, x1, y0, y1 := cx-r, cx+r, cy-r, cy+r
		for y := max(y0, 0); y <= min(y1, g.ny-1); y++ {
			if y == y0 || y == y1 {
				for x := max(x0, 0); x <= min(x1, g.nx-1); x++ {
					out = g.scan(p, y*g.nx+x, k, out)
				}
				continue
			}
			if x0 >= 0 {
				out = g.scan(p, y*g.nx+x0, k, out)
			}
			if x1 < g.nx && r > 0 {
				out = g.scan(p, y*g.nx+x1, k, out)
			}
		}
		// Lower bound on the distance to any cell not yet visited: the
		// distance to the nearest side of the visited block that is not
		// the edge of the grid.
		bound, open := math.Inf(1), false
		if x0 > 0 {
			bound, open = math.Min(bound, p.x-(g.minX+float64(x0)*g.cell)), true
		}
		if x1 < g.nx-1 {
			bound, open = math.Min(bound, g.minX+float64(x1+1)*g.cell-p.x), true
		}
		if y0 > 0 {
			bound, open = math.Min(bound, p.y-(g.minY+float64(y0)*g.cell)), true
		}
		if y1 < g.ny-1 {
			bound, open = math.Min(bound, g.minY+float64(y1+1)*g.cell-p.y), true
		}
		if !open || (len(out) == k && out[k-1].d <= bound) {
			return out
		}
	}
}

// scan offers the points of cell c to the sorted top-k list out.
func (g *grid) scan(p xy, c, k int, out []cand) []cand {
	for _, i := range g.items[g.start[c]:g.start[c+1]] {
		cd := cand{i, p.dist(g.pts[i])}
		if len(out) == k {
			if !cd.less(out[k-1]) {
				continue
			}
			out = out[:k-1]
		}
		// insertion into the sorted list
		j := len(out)
		out = append(out, cd)
		for j > 0 && cd.less(out[j-1]) {
			out[j] = out[j-1]
			j--
		}
		out[j] = cd
	}
	return out
}
