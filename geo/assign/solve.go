package assign

import (
	"context"
	"fmt"
	"math"
)

// Solve assigns every client to a server, each server taking between Min
// and Max clients, with the least total distance. The optimum is exact
// over each client's K nearest servers (costs rounded to 1 µm, see the
// package doc); K is widened, up to all servers, when that restriction
// leaves no feasible assignment. It returns an *InfeasibleError (matching ErrInfeasible) when
// the counts make any assignment impossible, an error wrapping ErrInvalid
// for a malformed problem, and ctx.Err() if ctx ends first.
func Solve(ctx context.Context, p Problem) (Result, error) {
	lo, hi, spanMax, k, err := p.validate()
	if err != nil {
		return Result{}, err
	}
	n, m := len(p.Clients), len(p.Servers)
	if n == 0 {
		return Result{ServerOf: []int{}, Dist: []float64{}, Loads: make([]int, m), Min: lo, Max: spanMax, K: k}, nil
	}
	f := newFrame(p.Clients, p.Servers)
	s := &solver{
		clients: f.projectAll(p.Clients),
		servers: f.projectAll(p.Servers),
		lo:      lo,
		hi:      hi,
	}
	s.index = newGrid(s.servers)
	for {
		res, ok, err := s.solve(ctx, k)
		if err != nil {
			return Result{}, err
		}
		if ok {
			res.Min, res.Max = lo, spanMax
			return res, nil
		}
		if k >= m {
			// Cannot happen once the counts pass: with every arc present
			// the transportation problem is feasible.
			return Result{}, fmt.Errorf("assign: no assignment found with all %d servers", m)
		}
		k = min(2*k, m)
	}
}

// solver holds one problem projected to metres.
type solver struct {
	clients, servers []xy
	index            *grid // over servers
	clientIndex      *grid // over clients, built when first needed
	lo, hi           int
}

// solve builds the flow network over the candidate pairs and routes every
// client; ok is false if some client cannot be routed or some server
// cannot reach its minimum.
//
// Candidates: each client's k nearest servers, plus each server's r
// nearest clients (r = min(max, max(min, k))), so that no server is cut
// off from the clients it needs to reach its minimum.
//
// Nodes: clients 0..n-1, servers n..n+m-1, the sink n+m. Arcs:
// client→server (cap 1, cost = distance), and from each server two arcs to
// the sink: its first min units at cost -B, the other max-min at cost 0.
// B exceeds any possible total distance, so a min-cost flow fills every
// minimum whenever that is possible and, among such flows, has the least
// distance: the lower-bound transformation without a shared slack node,
// which would connect every server to every other and make each search
// global. Arcs into the sink come first in each server's list, so a search
// that can finish at once does.
func (s *solver) solve(ctx context.Context, k int) (Result, bool, error) {
	n, m := len(s.clients), len(s.servers)
	sink := int32(n + m)

	cands := make([]cand, 0, n*k)
	var buf []cand
	maxD := 0.0
	for _, c := range s.clients {
		buf = s.index.nearest(c, k, buf)
		cands = append(cands, buf...)
		maxD = math.Max(maxD, buf[len(buf)-1].d)
	}
	extra := make([][]cand, n)
	if r := min(s.hi, max(s.lo, k)); k < m && r > 0 {
		if s.clientIndex == nil {
			s.clientIndex = newGrid(s.clients)
		}
		for j, sp := range s.servers {
			buf = s.clientIndex.nearest(sp, r, buf)
		next:
			for _, cd := range buf {
				for _, have := range cands[int(cd.i)*k : int(cd.i+1)*k] {
					if int(have.i) == j {
						continue next
					}
				}
				extra[cd.i] = append(extra[cd.i], cand{int32(j), cd.d})
				maxD = math.Max(maxD, cd.d)
			}
		}
	}

	// The cost scale: 1 µm unless the potentials could overflow int64.
	// Each augmentation lowers a potential by at most one path's cost plus
	// B, so n of them stay below (n+1)·(2n+m+2)·maxD, and the search adds
	// at most a few such terms; only very large single problems (10⁵
	// clients) drop to ~1 mm.
	scale := 1e6
	for scale > 1e-3 && maxD*scale*float64(n+1)*float64(2*n+m+2) > 1<<59 {
		scale /= 10
	}
	bigM := int64(math.Ceil(maxD*scale))*int64(n) + 1

	arcs := make([]arc, 0, len(cands)+2*m)
	for j := range m {
		if s.lo > 0 {
			arcs = append(arcs, arc{int32(n + j), sink, int32(s.lo), -bigM})
		}
		if s.hi > s.lo {
			arcs = append(arcs, arc{int32(n + j), sink, int32(s.hi - s.lo), 0})
		}
	}
	for c := range n {
		for _, cd := range cands[c*k : (c+1)*k] {
			arcs = append(arcs, arc{int32(c), int32(n) + cd.i, 1, int64(math.Round(cd.d * scale))})
		}
		for _, cd := range extra[c] {
			arcs = append(arcs, arc{int32(c), int32(n) + cd.i, 1, int64(math.Round(cd.d * scale))})
		}
	}
	g := newNetwork(n+m+1, arcs)
	// Reduced costs: 0 on the minimum arcs, B on the others.
	g.pot[sink] = -bigM

	for c := range n {
		if c&255 == 0 {
			if err := ctx.Err(); err != nil {
				return Result{}, false, err
			}
		}
		if !g.augment(int32(c), sink) {
			return Result{}, false, nil
		}
	}
	for j := range m {
		if s.lo > 0 && g.cap[g.start[n+j]] > 0 { // a minimum arc not filled
			return Result{}, false, nil
		}
	}

	res := Result{ServerOf: make([]int, n), Dist: make([]float64, n), Loads: make([]int, m), K: k}
	for c := range n {
		for a := g.start[c]; a < g.start[c+1]; a++ {
			if g.cap[a] == 0 { // the one arc carrying the client's unit
				j := int(g.to[a]) - n
				res.ServerOf[c] = j
				res.Dist[c] = s.clients[c].dist(s.servers[j])
				res.Loads[j]++
				res.Total += res.Dist[c]
				break
			}
		}
	}
	return res, true, nil
}
