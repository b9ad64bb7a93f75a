package assign

import "math"

// arc describes one arc of a flow network before it is built.
type arc struct {
	from, to int32
	cap      int32
	cost     int64
}

// network is a residual flow network in compressed-row form: the arcs
// leaving node u are start[u]..start[u+1]-1, and rev[a] is the paired
// reverse arc of a. It supports successive-shortest-path min-cost flow,
// one unit from one source at a time, with Dijkstra on reduced costs
// cost(a) + pot[from] - pot[to], which stay non-negative throughout.
type network struct {
	start []int32
	to    []int32
	rev   []int32
	cap   []int32
	cost  []int64
	pot   []int64

	// Dijkstra scratch, reset after each search through touched.
	dist    []int64
	prev    []int32
	done    []bool
	touched []int32
	settled []int32
	heap    minHeap
}

const inf = math.MaxInt64

// newNetwork builds the network on nodes 0..nodes-1 from arcs (each gets a
// reverse arc of capacity 0 and negated cost). The potentials start at
// zero; the caller sets pot so that every arc with capacity has a
// non-negative reduced cost (with non-negative costs, zero will do).
func newNetwork(nodes int, arcs []arc) *network {
	g := &network{
		start: make([]int32, nodes+1),
		pot:   make([]int64, nodes),
		dist:  make([]int64, nodes),
		prev:  make([]int32, nodes),
		done:  make([]bool, nodes),
	}
	for _, a := range arcs {
		g.start[a.from+1]++
		g.start[a.to+1]++
	}
	for u := 1; u <= nodes; u++ {
		g.start[u] += g.start[u-1]
	}
	m := 2 * len(arcs)
	g.to = make([]int32, m)
	g.rev = make([]int32, m)
	g.cap = make([]int32, m)
	g.cost = make([]int64, m)
	fill := append([]int32(nil), g.start[:nodes]...)
	for _, a := range arcs {
		f, r := fill[a.from], fill[a.to]
		fill[a.from]++
		fill[a.to]++
		g.to[f], g.rev[f], g.cap[f], g.cost[f] = a.to, r, a.cap, a.cost
		g.to[r], g.rev[r], g.cap[r], g.cost[r] = a.from, f, 0, -a.cost
	}
	for i := range g.dist {
		g.dist[i] = inf
	}
	return g
}

// augment sends one unit from s to t along a shortest residual path and
// reports whether one exists. s must have no residual arcs entering it
// (a client that has not been routed yet): its potential is raised so that
// its own arcs have non-negative reduced cost.
func (g *network) augment(s, t int32) bool {
	ps := int64(math.MinInt64)
	for a := g.start[s]; a < g.start[s+1]; a++ {
		if g.cap[a] > 0 {
			ps = max(ps, g.pot[g.to[a]]-g.cost[a])
		}
	}
	if ps == math.MinInt64 {
		return false
	}
	g.pot[s] = ps

	found := g.dijkstra(s, t)
	if found {
		dt := g.dist[t]
		// Potentials of the nodes settled before t move by dist-dt (≤ 0);
		// the rest by 0. This keeps every residual reduced cost
		// non-negative and makes the path's arcs exactly zero.
		for _, v := range g.settled {
			g.pot[v] += g.dist[v] - dt
		}
		for v := t; v != s; {
			a := g.prev[v]
			g.cap[a]--
			g.cap[g.rev[a]]++
			v = g.to[g.rev[a]]
		}
	}
	for _, v := range g.touched {
		g.dist[v], g.done[v] = inf, false
	}
	g.touched, g.settled = g.touched[:0], g.settled[:0]
	return found
}

// dijkstra computes reduced distances from s until t is settled.
func (g *network) dijkstra(s, t int32) bool {
	g.dist[s] = 0
	g.touched = append(g.touched, s)
	g.heap = g.heap[:0]
	g.heap.push(item{0, s})
	for len(g.heap) > 0 {
		it := g.heap.pop()
		u := it.v
		if g.done[u] || it.d > g.dist[u] {
			continue
		}
		g.done[u] = true
		g.settled = append(g.settled, u)
		if u == t {
			return true
		}
		pu := g.pot[u] + it.d
		for a := g.start[u]; a < g.start[u+1]; a++ {
			if g.cap[a] <= 0 {
				continue
			}
			v := g.to[a]
			nd := pu + g.cost[a] - g.pot[v]
			if nd < g.dist[v] {
				if g.dist[v] == inf {
					g.touched = append(g.touched, v)
				}
				g.dist[v] = nd
				g.prev[v] = a
				if v == t && nd == it.d {
					// Nothing left in the heap is closer than it.d, so t
					// is final: stop before scanning u's other arcs.
					g.done[t] = true
					g.settled = append(g.settled, t)
					return true
				}
				g.heap.push(item{nd, v})
			}
		}
	}
	return false
}

// item is a heap entry: a tentative distance for node v.
type item struct {
	d int64
	v int32
}

// minHeap is a binary heap of items by d (lazy deletion: stale entries are
// skipped when popped).
type minHeap []item

func (h *minHeap) push(x item) {
	s := append(*h, x)
	i := len(s) - 1
	for i > 0 {
		p := (i - 1) / 2
		if s[p].d <= x.d {
			break
		}
		s[i] = s[p]
		i = p
	}
	s[i] = x
	*h = s
}

func (h *minHeap) pop() item {
	s := *h
	top := s[0]
	n := len(s) - 1
	x := s[n]
	s = s[:n]
	i := 0
	for {
		c := 2*i + 1
		if c >= n {
			break
		}
		if c+1 < n && s[c+1].d < s[c].d {
			c++
		}
		if x.d <= s[c].d {
			break
		}
		s[i] = s[c]
		i = c
	}
	if n > 0 {
		s[i] = x
	}
	*h = s
	return top
}
