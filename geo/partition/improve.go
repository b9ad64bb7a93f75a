package partition

import (
	"context"
	"math"
	"time"
)

// maxPasses bounds the local search; the bound, not the clock, keeps the
// search deterministic.
const maxPasses = 30

// improve raises compactness by moving boundary cells between grids. A
// move of cell v from grid a to grid b is made when it increases
// PP(a)+PP(b), keeps both weights inside [L, U], v touches b through an
// allowed adjacency and a stays connected without v. It returns the number
// of moves made.
func improve(ctx context.Context, g *graph, grid []int32, ng int, L, U int64, deadline time.Time) int {
	gw := make([]int64, ng)
	ga := make([]float64, ng)
	gp := make([]float64, ng)
	gn := make([]int32, ng)
	for v := 0; v < g.n; v++ {
		a := grid[v]
		if a < 0 {
			continue
		}
		gw[a] += g.w[v]
		ga[a] += g.area[v]
		gn[a]++
		gp[a] += g.ext[v]
		for e := g.adjStart[v]; e < g.adjStart[v+1]; e++ {
			if grid[g.adj[e]] != a {
				gp[a] += g.adjLen[e]
			}
		}
	}
	mark := make([]int32, g.n)
	stamp := int32(0)
	var queue []int32
	// connectedWithout reports whether grid a stays connected without v.
	connectedWithout := func(v int32, a int32) bool {
		stamp++
		mark[v] = stamp
		start := int32(-1)
		for e := g.adjStart[v]; e < g.adjStart[v+1]; e++ {
			if g.ok[e] && grid[g.adj[e]] == a {
				start = g.adj[e]
				break
			}
		}
		if start < 0 {
			return false
		}
		queue = append(queue[:0], start)
		mark[start] = stamp
		for q := 0; q < len(queue); q++ {
			u := queue[q]
			for e := g.adjStart[u]; e < g.adjStart[u+1]; e++ {
				x := g.adj[e]
				if g.ok[e] && grid[x] == a && mark[x] != stamp {
					mark[x] = stamp
					queue = append(queue, x)
				}
			}
		}
		return int32(len(queue)) == gn[a]-1
	}
	type cand struct {
		b  int32
		l  float64
		ok bool
	}
	var cands []cand
	moves := 0
	for pass := 0; pass < maxPasses; pass++ {
		improved := 0
		for v := int32(0); v < int32(g.n); v++ {
			if v&255 == 0 && (time.Now().After(deadline) || ctx.Err() != nil) {
				return moves
			}
			a := grid[v]
			if a < 0 || gn[a] <= 1 || gw[a]-g.w[v] < L {
				continue
			}
			cands = cands[:0]
			var la, lt float64
			for e := g.adjStart[v]; e < g.adjStart[v+1]; e++ {
				b := grid[g.adj[e]]
				lt += g.adjLen[e]
				if b == a {
					la += g.adjLen[e]
					continue
				}
				if b < 0 {
					continue
				}
				found := false
				for i := range cands {
					if cands[i].b == b {
						cands[i].l += g.adjLen[e]
						cands[i].ok = cands[i].ok || g.ok[e]
						found = true
					}
				}
				if !found {
					cands = append(cands, cand{b, g.adjLen[e], g.ok[e]})
				}
			}
			if len(cands) == 0 {
				continue
			}
			ext := g.ext[v]
			pa := gp[a] + 2*la - lt - ext
			aa := ga[a] - g.area[v]
			base := pp(ga[a], gp[a])
			newA := pp(aa, pa)
			bestB, bestGain, bestPB := int32(-1), 1e-9, 0.0
			for _, c := range cands {
				if !c.ok || gw[c.b]+g.w[v] > U {
					continue
				}
				pb := gp[c.b] + ext + lt - 2*c.l
				gain := newA + pp(ga[c.b]+g.area[v], pb) - base - pp(ga[c.b], gp[c.b])
				if gain > bestGain {
					bestB, bestGain, bestPB = c.b, gain, pb
				}
			}
			if bestB < 0 || !connectedWithout(v, a) {
				continue
			}
			b := bestB
			grid[v] = b
			gw[a] -= g.w[v]
			gw[b] += g.w[v]
			ga[a], ga[b] = aa, ga[b]+g.area[v]
			gp[a], gp[b] = math.Max(pa, 0), bestPB
			gn[a]--
			gn[b]++
			moves++
			improved++
		}
		if improved == 0 {
			break
		}
	}
	return moves
}
