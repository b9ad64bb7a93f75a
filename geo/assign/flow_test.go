package assign

import (
	"math/rand/v2"
	"slices"
	"testing"
)

func TestMinHeap(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	var h minHeap
	var want []int64
	for i := range 1000 {
		d := rng.Int64N(100)
		h.push(item{d, int32(i)})
		want = append(want, d)
		if i%7 == 0 { // interleave pops
			slices.Sort(want)
			if got := h.pop(); got.d != want[0] {
				t.Fatalf("pop = %d, want %d", got.d, want[0])
			}
			want = want[1:]
		}
	}
	slices.Sort(want)
	for _, w := range want {
		if got := h.pop(); got.d != w {
			t.Fatalf("pop = %d, want %d", got.d, w)
		}
	}
	if len(h) != 0 {
		t.Fatalf("%d items left", len(h))
	}
}

// checkReduced asserts the invariant the Dijkstra search relies on: every
// residual arc leaving a node that has been routed (or a server, slack or
// sink node) has a non-negative reduced cost.
func checkReduced(t *testing.T, g *network, routed func(u int32) bool) {
	t.Helper()
	for u := int32(0); u < int32(len(g.pot)); u++ {
		if !routed(u) {
			continue
		}
		for a := g.start[u]; a < g.start[u+1]; a++ {
			if g.cap[a] > 0 {
				if rc := g.cost[a] + g.pot[u] - g.pot[g.to[a]]; rc < 0 {
					t.Fatalf("arc %d→%d has reduced cost %d", u, g.to[a], rc)
				}
			}
		}
	}
}

// TestNetworkTransport routes a 4×2 transportation problem with a
// minimum, unit by unit, checking the reduced-cost invariant after each
// step and the optimum at the end.
func TestNetworkTransport(t *testing.T) {
	// clients 0..3, servers 4, 5, slack 6, sink 7; server 5 needs ≥ 2,
	// both take ≤ 3.
	cost := [4][2]int64{{1, 9}, {2, 8}, {3, 4}, {1, 2}}
	var arcs []arc
	for c := range 4 {
		for j := range 2 {
			arcs = append(arcs, arc{int32(c), int32(4 + j), 1, cost[c][j]})
		}
	}
	arcs = append(arcs,
		arc{4, 7, 0, 0}, arc{4, 6, 3, 0}, // server 4: min 0, max 3
		arc{5, 7, 2, 0}, arc{5, 6, 1, 0}, // server 5: min 2, max 3
		arc{6, 7, 2, 0}, // slack: 4 clients - 2 minimum
	)
	g := newNetwork(8, arcs)
	for c := int32(0); c < 4; c++ {
		if !g.augment(c, 7) {
			t.Fatalf("client %d not routed", c)
		}
		checkReduced(t, g, func(u int32) bool { return u <= c || u >= 4 })
	}
	var total int64
	var of []int
	for c := range 4 {
		for a := g.start[c]; a < g.start[c+1]; a++ {
			if g.cap[a] == 0 {
				total += g.cost[a]
				of = append(of, int(g.to[a])-4)
			}
		}
	}
	// Server 5 must take two: the cheapest extra pair is clients 2 and 3
	// (4-3 + 2-1 = 2 more than their server-4 costs).
	if total != 1+2+4+2 || !slices.Equal(of, []int{0, 0, 1, 1}) {
		t.Errorf("total %d, assignment %v; want 9, [0 0 1 1]", total, of)
	}
}

func TestNetworkNoPath(t *testing.T) {
	// One server of capacity 1, two clients: the second cannot be routed.
	g := newNetwork(4, []arc{{0, 2, 1, 5}, {1, 2, 1, 5}, {2, 3, 1, 0}})
	if !g.augment(0, 3) {
		t.Fatal("first client not routed")
	}
	if g.augment(1, 3) {
		t.Fatal("second client routed past a full server")
	}
	// A failed search leaves the scratch state clean.
	for v, d := range g.dist {
		if d != inf || g.done[v] {
			t.Fatalf("node %d left with dist %d done %v", v, d, g.done[v])
		}
	}
}

// TestNetworkPenalty is the same problem in the form Solve builds: the
// minimum arc of each server costs -B, the sink's potential starts at -B.
func TestNetworkPenalty(t *testing.T) {
	cost := [4][2]int64{{1, 9}, {2, 8}, {3, 4}, {1, 2}}
	const bigM = 100
	arcs := []arc{
		{4, 6, 3, 0},                   // server 4: min 0, max 3
		{5, 6, 2, -bigM}, {5, 6, 1, 0}, // server 5: min 2, max 3
	}
	for c := range 4 {
		for j := range 2 {
			arcs = append(arcs, arc{int32(c), int32(4 + j), 1, cost[c][j]})
		}
	}
	g := newNetwork(7, arcs)
	g.pot[6] = -bigM
	for c := int32(0); c < 4; c++ {
		if !g.augment(c, 6) {
			t.Fatalf("client %d not routed", c)
		}
		checkReduced(t, g, func(u int32) bool { return u <= c || u >= 4 })
	}
	var total int64
	for c := range 4 {
		for a := g.start[c]; a < g.start[c+1]; a++ {
			if g.cap[a] == 0 {
				total += g.cost[a]
			}
		}
	}
	if total != 9 || g.cap[g.start[5]] != 0 {
		t.Errorf("total %d, minimum arc left %d; want 9, 0", total, g.cap[g.start[5]])
	}
}
