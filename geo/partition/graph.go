package partition

import (
	"slices"

	"github.com/paulmach/orb"
)

// graph is the rook-adjacency graph of the clipped cells. Node i < m is the
// cell of site i (with any orphan pieces of other cells merged into it);
// nodes >= m are areas without a site (islands). Every adjacency keeps its
// shared length; ok[k] says whether it may join a grid (long enough and not
// separated by a barrier).
type graph struct {
	n           int
	m           int
	w           []int64
	area        []float64
	ext         []float64 // length on the domain boundary
	pos         []xy
	adjStart    []int32
	adj         []int32
	adjLen      []float64
	ok          []bool
	faceNode    []int32
	barrierCuts int
}

func (g *graph) sumWeight(nodes []int32) int64 {
	var s int64
	for _, v := range nodes {
		s += g.w[v]
	}
	return s
}

func buildGraph(c *cells, st *sites, barriers []orb.LineString, pr projection) *graph {
	m := c.m
	nf := len(c.faces)
	faceNode := make([]int32, nf)
	for i := range faceNode {
		faceNode[i] = -1
	}
	for i, f := range c.siteFace {
		faceNode[f] = int32(i)
	}
	// orphan faces (pieces of a cell cut off from its site by the boundary)
	// join the neighbour they share the longest edge with.
	for changed := true; changed; {
		changed = false
		for f := range c.faces {
			if faceNode[f] >= 0 {
				continue
			}
			best, bestLen := int32(-1), 0.0
			acc := map[int32]float64{}
			for _, l := range c.faces[f].loops {
				for _, pi := range l {
					p := &c.pieces[pi]
					if p.twin < 0 {
						continue
					}
					if u := faceNode[c.pieces[p.twin].face]; u >= 0 {
						acc[u] += p.length
					}
				}
			}
			for u, l := range acc {
				if l > bestLen || (l == bestLen && u < best) {
					best, bestLen = u, l
				}
			}
			if best >= 0 {
				faceNode[f] = best
				changed = true
			}
		}
	}
	// whatever is left has no site anywhere around it: islands
	n := m
	for f := range c.faces {
		if faceNode[f] >= 0 {
			continue
		}
		id := int32(n)
		n++
		stack := []int32{int32(f)}
		faceNode[f] = id
		for len(stack) > 0 {
			x := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			for _, l := range c.faces[x].loops {
				for _, pi := range l {
					if t := c.pieces[pi].twin; t >= 0 {
						if y := c.pieces[t].face; faceNode[y] < 0 {
							faceNode[y] = id
							stack = append(stack, y)
						}
					}
				}
			}
		}
	}
	g := &graph{n: n, m: m, faceNode: faceNode}
	g.w = make([]int64, n)
	copy(g.w, st.w)
	g.area = make([]float64, n)
	g.ext = make([]float64, n)
	g.pos = make([]xy, n)
	copy(g.pos, st.pos)
	for f := range c.faces {
		u := faceNode[f]
		g.area[u] += c.faces[f].area
		g.ext[u] += c.faces[f].ext
		if int(u) >= m && g.pos[u] == (xy{}) {
			g.pos[u] = c.appendPiece(nil, &c.pieces[c.faces[f].loops[0][0]])[0]
		}
	}
	type half struct {
		u, v int32
		l    float64
	}
	hs := make([]half, 0, 6*m)
	for pi := range c.pieces {
		p := &c.pieces[pi]
		if p.twin < int32(pi) {
			continue
		}
		u, v := faceNode[p.face], faceNode[c.pieces[p.twin].face]
		if u == v {
			continue
		}
		hs = append(hs, half{u, v, p.length}, half{v, u, p.length})
	}
	slices.SortFunc(hs, func(a, b half) int {
		if a.u != b.u {
			return int(a.u - b.u)
		}
		return int(a.v - b.v)
	})
	g.adjStart = make([]int32, n+1)
	for k := 0; k < len(hs); {
		j := k
		l := 0.0
		for j < len(hs) && hs[j].u == hs[k].u && hs[j].v == hs[k].v {
			l += hs[j].l
			j++
		}
		g.adj = append(g.adj, hs[k].v)
		g.adjLen = append(g.adjLen, l)
		g.adjStart[hs[k].u+1]++
		k = j
	}
	for i := 1; i <= n; i++ {
		g.adjStart[i] += g.adjStart[i-1]
	}
	g.ok = make([]bool, len(g.adj))
	bi := newBarrierIndex(barriers, pr)
	for u := int32(0); u < int32(n); u++ {
		for k := g.adjStart[u]; k < g.adjStart[u+1]; k++ {
			v := g.adj[k]
			g.ok[k] = g.adjLen[k] > minAdjacency
			if g.ok[k] && bi != nil && bi.crosses(g.pos[u], g.pos[v]) {
				g.ok[k] = false
				if u < v {
					g.barrierCuts++
				}
			}
		}
	}
	return g
}

// components returns the connected components (over allowed adjacencies)
// that hold households, in order of their first node.
//
// A component without weight joins a neighbouring component across a
// barrier if it has one; otherwise it is returned in empty. Unless strict
// is set, a component whose weight no number of grids in [L, U] can hold
// joins its neighbour across the barrier with the longest shared edge,
// repeatedly, until it is feasible or has no neighbour left; the barrier
// adjacencies between joined components are allowed again and counted in
// relaxed.
func (g *graph) components(L, U int64, strict bool) (comps, empty [][]int32, relaxed int) {
	comp := make([]int32, g.n)
	for i := range comp {
		comp[i] = -1
	}
	var all [][]int32
	for s := int32(0); s < int32(g.n); s++ {
		if comp[s] >= 0 {
			continue
		}
		id := int32(len(all))
		list := []int32{s}
		comp[s] = id
		for q := 0; q < len(list); q++ {
			u := list[q]
			for k := g.adjStart[u]; k < g.adjStart[u+1]; k++ {
				if v := g.adj[k]; g.ok[k] && comp[v] < 0 {
					comp[v] = id
					list = append(list, v)
				}
			}
		}
		all = append(all, list)
	}
	parent := make([]int32, len(all))
	weight := make([]int64, len(all))
	for i := range parent {
		parent[i] = int32(i)
		weight[i] = g.sumWeight(all[i])
	}
	find := func(x int32) int32 {
		for parent[x] != x {
			parent[x] = parent[parent[x]]
			x = parent[x]
		}
		return x
	}
	feasible := func(w int64) bool { return w == 0 || ceilDiv(w, U) <= w/L }
	// neighbour returns the root of the component (other than root r)
	// sharing the longest barrier-blocked edge with r's nodes.
	members := make([][]int32, len(all))
	for i := range all {
		members[i] = []int32{int32(i)}
	}
	neighbour := func(r int32) int32 {
		acc := map[int32]float64{}
		for _, ci := range members[r] {
			for _, u := range all[ci] {
				for k := g.adjStart[u]; k < g.adjStart[u+1]; k++ {
					if o := find(comp[g.adj[k]]); o != r && g.adjLen[k] > minAdjacency {
						acc[o] += g.adjLen[k]
					}
				}
			}
		}
		best, bestLen := int32(-1), 0.0
		for o, l := range acc {
			if l > bestLen || (l == bestLen && o < best) {
				best, bestLen = o, l
			}
		}
		return best
	}
	join := func(a, b int32) {
		parent[a] = b
		weight[b] += weight[a]
		members[b] = append(members[b], members[a]...)
		members[a] = nil
	}
	for ci := range all {
		r := find(int32(ci))
		if weight[r] > 0 {
			continue
		}
		if b := neighbour(r); b >= 0 {
			join(r, b)
		}
	}
	if !strict {
		for changed := true; changed; {
			changed = false
			for ci := range all {
				r := find(int32(ci))
				if r != int32(ci) || feasible(weight[r]) {
					continue
				}
				if b := neighbour(r); b >= 0 {
					// allow the barrier adjacencies between the two
					for _, cj := range members[r] {
						for _, u := range all[cj] {
							for k := g.adjStart[u]; k < g.adjStart[u+1]; k++ {
								if !g.ok[k] && g.adjLen[k] > minAdjacency && find(comp[g.adj[k]]) == b {
									g.ok[k] = true
									relaxed++
									v := g.adj[k]
									for k2 := g.adjStart[v]; k2 < g.adjStart[v+1]; k2++ {
										if g.adj[k2] == u {
											g.ok[k2] = true
										}
									}
								}
							}
						}
					}
					join(r, b)
					changed = true
				}
			}
		}
	}
	var order []int32
	for ci := range all {
		if find(int32(ci)) == int32(ci) {
			order = append(order, int32(ci))
		}
	}
	for _, r := range order {
		var list []int32
		for _, ci := range members[r] {
			list = append(list, all[ci]...)
		}
		if weight[r] > 0 {
			comps = append(comps, list)
		} else {
			empty = append(empty, list)
		}
	}
	return comps, empty, relaxed
}
