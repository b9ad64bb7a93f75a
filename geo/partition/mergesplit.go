package partition

import (
	"context"
	"slices"
	"time"
)

// mergeSplitBelow is the compactness under which a grid is re-drawn
// together with each of its neighbours.
const mergeSplitBelow = 0.62

// mergeSplit re-draws pairs of adjacent grids: the union of grid a and a
// neighbour b is bisected again along several spanning trees, and the pair
// is replaced when the new halves are more compact (sum of Polsby-Popper)
// while both stay in the band. Grids are visited from the least compact
// up. It returns the number of pairs replaced.
func mergeSplit(ctx context.Context, g *graph, sp *splitter, grid []int32, ng int, deadline time.Time) int {
	members := make([][]int32, ng)
	for v := int32(0); v < int32(g.n); v++ {
		if a := grid[v]; a >= 0 {
			members[a] = append(members[a], v)
		}
	}
	score := make([]float64, ng)
	measure := func(a int32) {
		var area, per float64
		for _, v := range members[a] {
			area += g.area[v]
			per += g.ext[v]
			for e := g.adjStart[v]; e < g.adjStart[v+1]; e++ {
				if grid[g.adj[e]] != a {
					per += g.adjLen[e]
				}
			}
		}
		score[a] = pp(area, per)
	}
	for a := range members {
		measure(int32(a))
	}
	order := make([]int32, ng)
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortStableFunc(order, func(a, b int32) int {
		switch {
		case score[a] < score[b]:
			return -1
		case score[a] > score[b]:
			return 1
		}
		return 0
	})
	sp.final = true
	defer func() { sp.final = false }()
	replaced := 0
	var union, bestNodes []int32
	side := make([]int8, g.n)
	for _, a := range order {
		if score[a] >= mergeSplitBelow {
			break
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			break
		}
		var nbs []int32
		for _, v := range members[a] {
			for e := g.adjStart[v]; e < g.adjStart[v+1]; e++ {
				if b := grid[g.adj[e]]; g.ok[e] && b >= 0 && b != a && !slices.Contains(nbs, b) {
					nbs = append(nbs, b)
				}
			}
		}
		slices.Sort(nbs)
		bestB, bestGain, bestN1 := int32(-1), 1e-6, 0
		for _, b := range nbs {
			union = append(append(union[:0], members[a]...), members[b]...)
			n1, _, ok := sp.bisect(union, 2, false)
			if !ok {
				continue
			}
			// score the new halves exactly as measure would
			var a1, p1, a2, p2 float64
			for i, v := range union {
				side[v] = 2
				if i < n1 {
					side[v] = 1
				}
			}
			sideOf := func(v int32, first bool) {
				want := int8(2)
				if first {
					want = 1
				}
				for e := g.adjStart[v]; e < g.adjStart[v+1]; e++ {
					if side[g.adj[e]] != want {
						if first {
							p1 += g.adjLen[e]
						} else {
							p2 += g.adjLen[e]
						}
					}
				}
			}
			for i, v := range union {
				if i < n1 {
					a1 += g.area[v]
					p1 += g.ext[v]
					sideOf(v, true)
				} else {
					a2 += g.area[v]
					p2 += g.ext[v]
					sideOf(v, false)
				}
			}
			for _, v := range union {
				side[v] = 0
			}
			if gain := pp(a1, p1) + pp(a2, p2) - score[a] - score[b]; gain > bestGain {
				bestB, bestGain, bestN1 = b, gain, n1
				bestNodes = append(bestNodes[:0], union...)
			}
		}
		if bestB < 0 {
			continue
		}
		members[a] = append(members[a][:0], bestNodes[:bestN1]...)
		members[bestB] = append(members[bestB][:0], bestNodes[bestN1:]...)
		for _, v := range members[a] {
			grid[v] = a
		}
		for _, v := range members[bestB] {
			grid[v] = bestB
		}
		measure(a)
		measure(bestB)
		replaced++
	}
	return replaced
}
