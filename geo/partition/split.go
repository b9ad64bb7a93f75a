package partition

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
)

var errNoSplit = errors.New("partition: no legal split")

// splitter divides connected components by recursive spanning-tree
// bisection with band windows. A set of weight W that must become k grids
// is cut along one edge of a spanning tree into sides of weight W1 and W2
// with k1*L <= W1 <= k1*U and k2*L <= W2 <= k2*U (k1+k2 = k). The trees are
// minimum spanning trees under weights that measure how far an edge runs
// along the set's long axis, so tree cuts are near-straight lines across
// it; among legal cuts the one whose sides are most compact and closest to
// the middle of the band wins.
type splitter struct {
	g      *graph
	L, U   int64
	mid    float64
	half   float64
	rng    *rand.Rand
	grid   []int32
	ngrids int32
	local  []int32
	sc     scratch
	// final scores cuts by the compactness of the two sides alone: used
	// when both sides are finished grids (merge-split).
	final bool
	// failNode is a node of a grid left outside the band by a failed
	// repair, or -1.
	failNode int32
	repaired int // neighbourhoods re-drawn by repair
}

type scratch struct {
	edges    []lEdge
	order    []int32
	ufp      []int32
	tAdj     []int32
	tStart   []int32
	qStart   []int32
	qAdj     []int32
	qLen     []float64
	out      []float64
	deg      []float64
	parent   []int32
	pre      []int32
	size     []int32
	sw       []int64
	sa, so   []float64
	sd, sl   []float64
	anc      []int32
	done     []bool
	iter     []int32
	stack    []int32
	best     []int32
	mark     []bool
	dfsIter  []int32
	dfsStack []int32
	tmp      []int32
	keys     []uint64
	radix    []uint64
	rank     []uint8
}

type lEdge struct{ a, b int32 }

func newSplitter(g *graph, L, U int64, seed uint64) *splitter {
	s := &splitter{g: g, L: L, U: U, mid: float64(L+U) / 2, half: math.Max(float64(U-L)/2, 0.5),
		rng: rand.New(rand.NewPCG(seed, 0x6772_6964_6d61_70)), failNode: -1}
	s.grid = make([]int32, g.n)
	s.local = make([]int32, g.n)
	for i := range s.grid {
		s.grid[i] = -1
		s.local[i] = -1
	}
	return s
}

type task struct {
	nodes []int32
	k     int64
}

// chooseK returns the grid count for weight W that puts the mean grid
// nearest the middle of the band, and whether any count fits.
func (s *splitter) chooseK(W int64) (int64, bool) {
	kmin, kmax := ceilDiv(W, s.U), W/s.L
	if kmin > kmax {
		return 0, false
	}
	k := int64(math.Round(float64(W) / s.mid))
	return min(max(k, kmin), kmax), true
}

// splitComponent assigns the nodes of a connected component to grids. A
// failed attempt (a set with no legal cut in any tree tried) is undone and
// retried with fresh random trees.
func (s *splitter) splitComponent(ctx context.Context, comp []int32) error {
	for try := 0; try < 2; try++ {
		g0 := s.ngrids
		err := s.splitOnce(ctx, comp, false)
		if err == nil || ctx.Err() != nil {
			return err
		}
		for _, v := range comp {
			s.grid[v] = -1
		}
		s.ngrids = g0
	}
	// no tree gave legal cuts all the way down: cut where the band is
	// missed least, then re-draw neighbourhoods of the grids outside it
	if err := s.splitOnce(ctx, comp, true); err != nil {
		return err
	}
	if s.repair(ctx, comp) {
		return nil
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return errNoSplit
}

// splitOnce splits a connected set into grids by recursive bisection. With
// force, a set without a legal cut is cut where the band is missed least
// (the caller repairs the result); without, it fails.
func (s *splitter) splitOnce(ctx context.Context, comp []int32, force bool) error {
	W := s.g.sumWeight(comp)
	k, ok := s.chooseK(W)
	if !ok {
		return errNoSplit
	}
	stack := []task{{slices.Clone(comp), k}}
	for steps := 0; len(stack) > 0; steps++ {
		if steps&63 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		t := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if t.k == 1 {
			for _, v := range t.nodes {
				s.grid[v] = s.ngrids
			}
			s.ngrids++
			continue
		}
		n1, k1, ok := s.bisect(t.nodes, t.k, false)
		if !ok {
			n1, k1, ok = s.bisect(t.nodes, t.k, true)
		}
		if !ok {
			// a few other grid counts for this set
			w := s.g.sumWeight(t.nodes)
			kmin, kmax := ceilDiv(w, s.U), w/s.L
			for d := int64(1); !ok && d <= 2 && (t.k-d >= kmin || t.k+d <= kmax); d++ {
				for _, kk := range []int64{t.k - d, t.k + d} {
					if kk < kmin || kk > kmax || ok {
						continue
					}
					if kk == 1 {
						t.k, n1, k1, ok = 1, len(t.nodes), 1, true
						break
					}
					if n1, k1, ok = s.bisect(t.nodes, kk, true); ok {
						t.k = kk
					}
				}
			}
			if ok && t.k == 1 {
				stack = append(stack, t)
				continue
			}
		}
		if !ok && force {
			n1, k1, ok = s.forcedCut(t.nodes, t.k)
		}
		if !ok {
			return errNoSplit
		}
		stack = append(stack, task{t.nodes[n1:], t.k - k1}, task{t.nodes[:n1], k1})
	}
	return nil
}

// forcedCut cuts nodes along the tree edge whose sides miss their band
// windows by the least weight.
func (s *splitter) forcedCut(nodes []int32, k int64) (int, int64, bool) {
	g, sc := s.g, &s.sc
	n := len(nodes)
	if n < 2 {
		return 0, 0, false
	}
	for i, v := range nodes {
		s.local[v] = int32(i)
	}
	defer func() {
		for _, v := range nodes {
			s.local[v] = -1
		}
	}()
	if !s.prepare(nodes) {
		return 0, 0, false
	}
	W := g.sumWeight(nodes)
	miss := func(w, k int64) int64 { return max(0, k*s.L-w, w-k*s.U) }
	bestU, bestK, bestMiss := int32(-1), int64(0), int64(math.MaxInt64)
	for a := 0; a < 8; a++ {
		if !s.tree(nodes, s.rng.Float64()*math.Pi, a%2 == 1, a) {
			return 0, 0, false
		}
		for u := int32(1); u < int32(n); u++ {
			w1 := sc.sw[u]
			for k1 := int64(1); k1 < k; k1++ {
				if m := miss(w1, k1) + miss(W-w1, k-k1); m < bestMiss {
					bestU, bestK, bestMiss = u, k1, m
					root := sc.pre[u]
					sc.best = append(sc.best[:0], sc.order[root:root+sc.size[u]]...)
				}
			}
		}
	}
	if bestU < 0 {
		return 0, 0, false
	}
	return s.reorder(nodes), bestK, true
}

// bisect cuts nodes (a connected set that must become k grids) in two.
// On success nodes is reordered so that nodes[:n1] is one side, which
// becomes k1 grids.
func (s *splitter) bisect(nodes []int32, k int64, wide bool) (n1 int, k1 int64, ok bool) {
	g := s.g
	n := len(nodes)
	for i, v := range nodes {
		s.local[v] = int32(i)
	}
	defer func() {
		for _, v := range nodes {
			s.local[v] = -1
		}
	}()
	sc := &s.sc
	if !s.prepare(nodes) {
		return 0, 0, false
	}
	var W int64
	var A, cx, cy float64
	for _, v := range nodes {
		W += g.w[v]
		A += g.area[v]
		cx += g.pos[v].X
		cy += g.pos[v].Y
	}
	cx /= float64(n)
	cy /= float64(n)
	var cxx, cyy, cxy float64
	for _, v := range nodes {
		dx, dy := g.pos[v].X-cx, g.pos[v].Y-cy
		cxx += dx * dx
		cyy += dy * dy
		cxy += dx * dy
	}
	theta := 0.5 * math.Atan2(2*cxy, cxx-cyy)

	attempts := 1
	switch {
	case n <= 300:
		attempts = 6
	case n <= 3000:
		attempts = 3
	}
	if s.final {
		attempts = finalAttempts
	}
	maxAttempts := 40
	if wide {
		maxAttempts = 120
	}
	if n > 3000 {
		maxAttempts = 8
	}
	bestScore := math.Inf(-1)
	var bestK1 int64
	for a := 0; a < maxAttempts; a++ {
		found := !math.IsInf(bestScore, -1)
		if found && (a >= attempts && bestScore > -5 || a >= attempts+10) {
			break
		}
		th := theta
		random := false
		if a > 0 {
			th += (s.rng.Float64() - 0.5) * math.Pi * math.Min(1, float64(a)/6)
		}
		if a >= 12 && a%2 == 0 || s.final && a >= 4 && a%3 == 0 {
			random = true
		}
		if !s.tree(nodes, th, random, a) {
			return 0, 0, false
		}
		k1lo, k1hi := k/2, (k+1)/2
		if k >= 8 {
			k1lo, k1hi = int64(math.Round(0.4*float64(k))), int64(math.Round(0.6*float64(k)))
		}
		if wide || a >= 10 {
			k1lo, k1hi = 1, k-1
		}
		bu, bk, bs := s.bestCut(n, W, A, k, k1lo, k1hi)
		if bu >= 0 && bs > bestScore {
			bestScore, bestK1 = bs, bk
			root := sc.pre[bu]
			sc.best = append(sc.best[:0], sc.order[root:root+sc.size[bu]]...)
		}
	}
	if math.IsInf(bestScore, -1) {
		return 0, 0, false
	}
	return s.reorder(nodes), bestK1, true
}

// reorder moves the nodes of sc.best (local indices) to the front of nodes
// and returns their number.
func (s *splitter) reorder(nodes []int32) int {
	sc := &s.sc
	n := len(nodes)
	mark := resize(sc.mark, n)
	sc.mark = mark
	for i := range mark {
		mark[i] = false
	}
	for _, u := range sc.best {
		mark[u] = true
	}
	tmp := resize(sc.tmp, n)[:0]
	for i, v := range nodes {
		if mark[i] {
			tmp = append(tmp, v)
		}
	}
	n1 := len(tmp)
	for i, v := range nodes {
		if !mark[i] {
			tmp = append(tmp, v)
		}
	}
	copy(nodes, tmp)
	sc.tmp = tmp
	return n1
}

// prepare collects, for the set nodes (s.local set), the allowed internal
// edges, every internal adjacency (for cut lengths) and each node's outer
// perimeter. It reports false when the set cannot be spanned.
func (s *splitter) prepare(nodes []int32) bool {
	g, sc := s.g, &s.sc
	n := len(nodes)
	sc.out = resize(sc.out, n)
	sc.deg = resize(sc.deg, n)
	sc.qStart = resize(sc.qStart, n+1)
	sc.edges = sc.edges[:0]
	sc.qAdj, sc.qLen = sc.qAdj[:0], sc.qLen[:0]
	for i, v := range nodes {
		o, d := g.ext[v], 0.0
		sc.qStart[i] = int32(len(sc.qAdj))
		for e := g.adjStart[v]; e < g.adjStart[v+1]; e++ {
			u := s.local[g.adj[e]]
			if u < 0 {
				o += g.adjLen[e]
				continue
			}
			d += g.adjLen[e]
			sc.qAdj = append(sc.qAdj, u)
			sc.qLen = append(sc.qLen, g.adjLen[e])
			if g.ok[e] && int32(i) < u {
				sc.edges = append(sc.edges, lEdge{int32(i), u})
			}
		}
		sc.out[i], sc.deg[i] = o, d
	}
	sc.qStart[n] = int32(len(sc.qAdj))
	return len(sc.edges) >= n-1
}

func resize[T any](b []T, n int) []T {
	if cap(b) < n {
		return make([]T, n)
	}
	return b[:n]
}

// tree builds a minimum spanning tree of the set under axis weights and
// computes, for every subtree, its weight, area, outer perimeter and the
// length of its cut.
func (s *splitter) tree(nodes []int32, theta float64, random bool, attempt int) bool {
	g, sc := s.g, &s.sc
	n := len(nodes)
	ux, uy := math.Cos(theta), math.Sin(theta)
	// sort keys: the float32 bits of a non-negative weight order like the
	// weight; the low half holds the edge index (ties are deterministic).
	keys := resize(sc.keys, len(sc.edges))
	noise := 0.15 + 0.05*float64(attempt)
	for i, e := range sc.edges {
		var w float64
		if random {
			w = s.rng.Float64()
		} else {
			p, q := g.pos[nodes[e.a]], g.pos[nodes[e.b]]
			w = math.Abs((p.X-q.X)*ux+(p.Y-q.Y)*uy) * (1 + noise*s.rng.Float64())
		}
		keys[i] = uint64(math.Float32bits(float32(w)))<<32 | uint64(i)
	}
	if len(keys) > 512 {
		sc.radix = radixSortHigh(keys, resize(sc.radix, len(keys)))
	} else {
		slices.Sort(keys)
	}
	sc.keys = keys
	sc.ufp = resize(sc.ufp, n)
	sc.rank = resize(sc.rank, n)
	for i := range sc.ufp[:n] {
		sc.ufp[i] = int32(i)
		sc.rank[i] = 0
	}
	find := func(x int32) int32 {
		for sc.ufp[x] != x {
			sc.ufp[x] = sc.ufp[sc.ufp[x]]
			x = sc.ufp[x]
		}
		return x
	}
	// tree adjacency in CSR form
	sc.tStart = resize(sc.tStart, n+1)
	for i := range sc.tStart {
		sc.tStart[i] = 0
	}
	chosen := sc.stack[:0]
	for _, key := range keys {
		ei := int32(key & 0xffffffff)
		e := sc.edges[ei]
		ra, rb := find(e.a), find(e.b)
		if ra == rb {
			continue
		}
		switch {
		case sc.rank[ra] < sc.rank[rb]:
			sc.ufp[ra] = rb
		case sc.rank[ra] > sc.rank[rb]:
			sc.ufp[rb] = ra
		default:
			sc.ufp[rb] = ra
			sc.rank[ra]++
		}
		chosen = append(chosen, ei)
		sc.tStart[e.a+1]++
		sc.tStart[e.b+1]++
		if len(chosen) == n-1 {
			break
		}
	}
	sc.stack = chosen
	if len(chosen) != n-1 {
		return false
	}
	for i := 1; i <= n; i++ {
		sc.tStart[i] += sc.tStart[i-1]
	}
	sc.tAdj = resize(sc.tAdj, 2*(n-1))
	fill := resize(sc.pre, n)
	copy(fill, sc.tStart[:n])
	for _, ei := range chosen {
		e := sc.edges[ei]
		sc.tAdj[fill[e.a]] = e.b
		fill[e.a]++
		sc.tAdj[fill[e.b]] = e.a
		fill[e.b]++
	}
	// iterative DFS from node 0 with Tarjan's offline LCA for every
	// internal adjacency: sl[u] sums the lengths of adjacencies whose LCA
	// is u, so cut(subtree u) = Σ deg - 2 Σ sl over the subtree.
	sc.parent = resize(sc.parent, n)
	sc.pre = resize(sc.pre, n)
	sc.size = resize(sc.size, n)
	sc.order = resize(sc.order, n)[:0]
	sc.sw = resize(sc.sw, n)
	sc.sa = resize(sc.sa, n)
	sc.so = resize(sc.so, n)
	sc.sd = resize(sc.sd, n)
	sc.sl = resize(sc.sl, n)
	sc.anc = resize(sc.anc, n)
	sc.done = resize(sc.done, n)
	iter := resize(sc.dfsIter, n)
	sc.dfsIter = iter
	for i := 0; i < n; i++ {
		sc.ufp[i] = int32(i)
		sc.anc[i] = int32(i)
		sc.done[i] = false
		sc.sl[i] = 0
		iter[i] = sc.tStart[i]
	}
	stack := append(sc.dfsStack[:0], 0)
	defer func() { sc.dfsStack = stack[:0] }()
	sc.parent[0] = -1
	sc.pre[0] = 0
	sc.order = append(sc.order, 0)
	for len(stack) > 0 {
		u := stack[len(stack)-1]
		if iter[u] < sc.tStart[u+1] {
			v := sc.tAdj[iter[u]]
			iter[u]++
			if v == sc.parent[u] {
				continue
			}
			sc.parent[v] = u
			sc.pre[v] = int32(len(sc.order))
			sc.order = append(sc.order, v)
			stack = append(stack, v)
			continue
		}
		// finish u
		stack = stack[:len(stack)-1]
		v := nodes[u]
		sc.sw[u] = g.w[v]
		sc.sa[u] = g.area[v]
		sc.so[u] = sc.out[u]
		sc.sd[u] = sc.deg[u]
		sc.size[u] = 1
		for q := sc.qStart[u]; q < sc.qStart[u+1]; q++ {
			w := sc.qAdj[q]
			if sc.done[w] {
				sc.sl[sc.anc[find(w)]] += sc.qLen[q]
			}
		}
		sc.done[u] = true
		if p := sc.parent[u]; p >= 0 {
			ru, rp := find(u), find(p)
			sc.ufp[ru] = rp
			sc.anc[rp] = p
		}
	}
	// subtree sums in reverse preorder
	for i := n - 1; i > 0; i-- {
		u := sc.order[i]
		p := sc.parent[u]
		sc.sw[p] += sc.sw[u]
		sc.sa[p] += sc.sa[u]
		sc.so[p] += sc.so[u]
		sc.sd[p] += sc.sd[u]
		sc.sl[p] += sc.sl[u]
		sc.size[p] += sc.size[u]
	}
	return true
}

func pp(a, p float64) float64 {
	if p <= 0 {
		return 0
	}
	return 4 * math.Pi * a / (p * p)
}

// finalAttempts is the number of spanning trees tried when a pair of
// grids is re-drawn.
const finalAttempts = 8

// safeDev is how far (in half-bands) the mean grid weight of a side that
// will be split again may stray from the middle of the band. Sides near an
// edge of the band leave no room for later cuts.
const safeDev = 0.5

// bestCut scores every legal tree edge (u, parent(u)) and returns the best
// u, its k1 and score. Cuts whose multi-grid sides stay within safeDev of
// the middle of the band win over all others.
func (s *splitter) bestCut(n int, W int64, A float64, k, k1lo, k1hi int64) (int32, int64, float64) {
	sc := &s.sc
	O := sc.so[0]
	best, bestK, bestS := int32(-1), int64(0), math.Inf(-1)
	safe := false
	for u := int32(1); u < int32(n); u++ {
		w1 := sc.sw[u]
		w2 := W - w1
		lo := max(ceilDiv(w1, s.U), k-w2/s.L, k1lo, 1)
		hi := min(w1/s.L, k-ceilDiv(w2, s.U), k1hi, k-1)
		if lo > hi {
			continue
		}
		k1 := min(max(int64(math.Round(float64(k)*float64(w1)/float64(W))), lo), hi)
		k2 := k - k1
		d1 := (float64(w1)/float64(k1) - s.mid) / s.half
		d2 := (float64(w2)/float64(k2) - s.mid) / s.half
		isSafe := (k1 == 1 || math.Abs(d1) <= safeDev) && (k2 == 1 || math.Abs(d2) <= safeDev)
		if safe && !isSafe {
			continue
		}
		cut := sc.sd[u] - 2*sc.sl[u]
		a1 := sc.sa[u]
		p1 := sc.so[u] + cut
		p2 := O - sc.so[u] + cut
		score := (pp(a1, p1) + pp(A-a1, p2)) / 2
		if !s.final {
			score -= 0.25 * (d1*d1 + d2*d2)
		}
		if score > bestS || (isSafe && !safe) {
			best, bestK, bestS = u, k1, score
			safe = safe || isSafe
		}
	}
	if !safe && best >= 0 {
		bestS -= 10 // any safe cut of another tree beats this one
	}
	return best, bestK, bestS
}

// radixSortHigh sorts keys by their high 32 bits with a stable LSD radix
// sort (keys whose high halves tie keep their order, here the order of
// their low halves, which are ascending on entry). buf must be as long as
// keys; it is returned for reuse.
func radixSortHigh(keys, buf []uint64) []uint64 {
	src, dst := keys, buf
	for shift := uint(32); shift < 64; shift += 8 {
		var count [257]int
		for _, k := range src {
			count[(k>>shift)&0xff+1]++
		}
		if count[1] == len(src) || count[256] == len(src) {
			continue // every key has the same digit
		}
		for i := 1; i < 257; i++ {
			count[i] += count[i-1]
		}
		for _, k := range src {
			d := (k >> shift) & 0xff
			dst[count[d]] = k
			count[d]++
		}
		src, dst = dst, src
	}
	if &src[0] != &keys[0] {
		copy(keys, src)
		return src
	}
	return dst
}
