package assign

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/paulmach/orb"
)

// checkResult verifies the invariants of any result: every client
// assigned, loads consistent and within the span, distances and total
// consistent.
func checkResult(t *testing.T, p Problem, r Result, lo, hi int) {
	t.Helper()
	if len(r.ServerOf) != len(p.Clients) || len(r.Dist) != len(p.Clients) || len(r.Loads) != len(p.Servers) {
		t.Fatalf("result sizes %d/%d/%d for %d clients, %d servers",
			len(r.ServerOf), len(r.Dist), len(r.Loads), len(p.Clients), len(p.Servers))
	}
	loads := make([]int, len(p.Servers))
	total := 0.0
	for c, j := range r.ServerOf {
		if j < 0 || j >= len(p.Servers) {
			t.Fatalf("client %d assigned to %d", c, j)
		}
		loads[j]++
		total += r.Dist[c]
	}
	if !slices.Equal(loads, r.Loads) {
		t.Fatalf("Loads %v, counted %v", r.Loads, loads)
	}
	if math.Abs(total-r.Total) > 1e-6*(1+total) {
		t.Fatalf("Total %v, sum of Dist %v", r.Total, total)
	}
	for j, l := range loads {
		if l < lo || (hi >= 0 && l > hi) {
			t.Fatalf("server %d has %d clients, span [%d, %d]", j, l, lo, hi)
		}
	}
}

// handCases have optima worked out by hand, on one meridian (metres).
var handCases = []struct {
	name    string
	p       Problem
	total   float64 // optimum
	serveOf []int
	greedy  float64 // Greedy's total in input order
}{
	{
		// Nearest-first would give server 0 four clients (max 3): the
		// cheapest to move is the one at 40 (60 instead of 40, +20).
		name:    "capacity forces a move",
		p:       Problem{Clients: norths(40, 10, 20, 30, 60), Servers: norths(0, 100), Min: 2, Max: 3},
		total:   10 + 20 + 30 + 60 + 40,
		serveOf: []int{1, 0, 0, 0, 1},
		// greedy: 40,10,20 fill server 0; 30 walks 70, 60 walks 40
		greedy: 40 + 10 + 20 + 70 + 40,
	},
	{
		// All five live next to server 0, but server 1 needs two: the two
		// farthest from server 0 (at 3 and 4) go, 997 + 996.
		name:    "minimum honoured",
		p:       Problem{Clients: norths(0, 1, 2, 3, 4), Servers: norths(0, 1000), Min: 2, Max: 5},
		total:   0 + 1 + 2 + 997 + 996,
		serveOf: []int{0, 0, 0, 1, 1},
		greedy:  0 + 1 + 2 + 3 + 4,
	},
	{
		// Capacity 1 each at 0, 10, 20: the client at 9 must give up
		// server 10 to the client at 11 (a two-step reroute).
		name:    "chain of moves",
		p:       Problem{Clients: norths(9, 11, 12), Servers: norths(0, 10, 20), Min: 0, Max: 1},
		total:   9 + 1 + 8,
		serveOf: []int{0, 1, 2},
		greedy:  1 + 9 + 12,
	},
	{
		name:    "no upper bound",
		p:       Problem{Clients: norths(1, 2, 3, 98, 99), Servers: norths(0, 100), Min: 1, Max: NoMax},
		total:   1 + 2 + 3 + 2 + 1,
		serveOf: []int{0, 0, 0, 1, 1},
		greedy:  1 + 2 + 3 + 2 + 1,
	},
	{
		name:    "shared home",
		p:       Problem{Clients: norths(5, 5, 5, 5), Servers: norths(5, 5), Min: 2, Max: 2},
		total:   0,
		serveOf: nil, // any split 2/2
		greedy:  0,
	},
}

func TestSolveHand(t *testing.T) {
	for _, tc := range handCases {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Solve(context.Background(), tc.p)
			if err != nil {
				t.Fatal(err)
			}
			checkResult(t, tc.p, r, tc.p.Min, tc.p.Max)
			if math.Abs(r.Total-tc.total) > 1e-6 {
				t.Errorf("Total = %.9f, want %v", r.Total, tc.total)
			}
			if tc.serveOf != nil && !slices.Equal(r.ServerOf, tc.serveOf) {
				t.Errorf("ServerOf = %v, want %v", r.ServerOf, tc.serveOf)
			}
			if r.InSpan() != len(tc.p.Servers) {
				t.Errorf("InSpan = %d, want all %d", r.InSpan(), len(tc.p.Servers))
			}
		})
	}
}

// TestSolveBruteForce compares Solve with exhaustive search on small
// random instances, with all servers as candidates and with K = 1 (where
// the solver must widen K whenever the restriction is infeasible).
func TestSolveBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	ctx := context.Background()
	runs := 0
	for runs < 400 {
		n, m := 1+rng.IntN(7), 1+rng.IntN(3)
		lo := rng.IntN(n/m + 1)
		hi := lo + rng.IntN(3)
		if hi == 0 {
			hi = 1
		}
		if m*lo > n || m*hi < n {
			continue
		}
		runs++
		p := Problem{Min: lo, Max: hi}
		for range n {
			p.Clients = append(p.Clients, orb.Point{116 + rng.Float64()*0.01, 30 + rng.Float64()*0.01})
		}
		for range m {
			p.Servers = append(p.Servers, orb.Point{116 + rng.Float64()*0.01, 30 + rng.Float64()*0.01})
		}
		if lo == 0 && hi == 0 {
			continue
		}
		want := bruteForce(p, lo, hi)
		r, err := Solve(ctx, p)
		if err != nil {
			t.Fatalf("%+v: %v", p, err)
		}
		checkResult(t, p, r, lo, hi)
		// costs are rounded to 1 µm per arc
		if math.Abs(r.Total-want) > 1e-6*float64(n) {
			t.Fatalf("n=%d m=%d [%d,%d]: Solve %.9f, brute force %.9f", n, m, lo, hi, r.Total, want)
		}
		p.K = 1
		r1, err := Solve(ctx, p)
		if err != nil {
			t.Fatalf("K=1 %+v: %v", p, err)
		}
		checkResult(t, p, r1, lo, hi)
		if r1.Total < want-1e-6*float64(n) {
			t.Fatalf("K=1 total %.9f below the optimum %.9f", r1.Total, want)
		}
	}
}

func TestSolveWidensK(t *testing.T) {
	// Six clients, all nearest to server 0, max 3: with K = 1 nobody may
	// use server 1, so the solver must widen to K = 2.
	p := Problem{Clients: norths(1, 2, 3, 4, 5, 6), Servers: norths(0, 100), Min: 0, Max: 3, K: 1}
	r, err := Solve(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	checkResult(t, p, r, 0, 3)
	if r.K != 2 {
		t.Errorf("K used = %d, want 2", r.K)
	}
	if want := 1.0 + 2 + 3 + 96 + 95 + 94; math.Abs(r.Total-want) > 1e-6 {
		t.Errorf("Total = %v, want %v", r.Total, want)
	}
}

func TestSolveInfeasible(t *testing.T) {
	cases := []struct {
		name             string
		clients, servers int
		min, max         int
		need, atMost     int
		msg              string
	}{
		{"too few members", 100, 5, 0, 15, 7, -1, "100 clients, 5 servers with max 15 take at most 75; need at least 7 servers"},
		{"too many members", 100, 12, 10, 15, 7, 10, "100 clients, 12 servers with min 10 need at least 120; at most 10 servers"},
		{"too few cadres", 40, 3, CadreMin, CadreMax, 4, 8, "need at least 4 servers"},
		{"no servers", 3, 0, 0, NoMax, 1, -1, "3 clients and no servers"},
		{"no servers, max", 3, 0, 1, 2, 2, 3, "need at least 2 servers"},
		{"servers without clients", 0, 2, 1, 2, 0, 0, "at most 0 servers"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := Problem{Min: tc.min, Max: tc.max}
			for i := range tc.clients {
				p.Clients = append(p.Clients, north(float64(i)))
			}
			for i := range tc.servers {
				p.Servers = append(p.Servers, north(float64(10*i)))
			}
			for name, run := range map[string]func() error{
				"Solve":  func() error { _, err := Solve(context.Background(), p); return err },
				"Greedy": func() error { _, err := Greedy(p); return err },
			} {
				err := run()
				var ie *InfeasibleError
				if !errors.As(err, &ie) || !errors.Is(err, ErrInfeasible) {
					t.Fatalf("%s: err = %v, want *InfeasibleError", name, err)
				}
				if ie.NeedAtLeast != tc.need || ie.AtMost != tc.atMost || ie.Clients != tc.clients || ie.Servers != tc.servers {
					t.Errorf("%s: %+v, want need %d, at most %d", name, *ie, tc.need, tc.atMost)
				}
				if !strings.HasPrefix(err.Error(), "assign: infeasible: ") || !strings.Contains(err.Error(), tc.msg) {
					t.Errorf("%s: message %q does not contain %q", name, err, tc.msg)
				}
			}
		})
	}
}

func TestSolveInvalid(t *testing.T) {
	ok := norths(1, 2)
	cases := map[string]Problem{
		"negative min":  {Clients: ok, Servers: ok, Min: -1, Max: 3},
		"max below min": {Clients: ok, Servers: ok, Min: 3, Max: 2},
		"zero max":      {Clients: ok, Servers: ok, Min: 1, Max: 0},
		"negative k":    {Clients: ok, Servers: ok, Min: 1, Max: 1, K: -2},
		"NaN client":    {Clients: []orb.Point{{math.NaN(), 30}}, Servers: ok, Min: 0, Max: 1},
		"Inf server":    {Clients: ok, Servers: []orb.Point{{116, math.Inf(1)}}, Min: 0, Max: 2},
		"lat > 90":      {Clients: []orb.Point{{116, 91}}, Servers: ok, Min: 0, Max: 1},
	}
	for name, p := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := Solve(context.Background(), p); !errors.Is(err, ErrInvalid) || !strings.HasPrefix(err.Error(), "assign: ") {
				t.Errorf("Solve: err = %v, want ErrInvalid", err)
			}
			if _, err := Greedy(p); !errors.Is(err, ErrInvalid) {
				t.Errorf("Greedy: err = %v, want ErrInvalid", err)
			}
		})
	}
}

func TestSolveDefaults(t *testing.T) {
	// 25 households, 2 members, default span 10–15.
	var hh []orb.Point
	for i := range 25 {
		hh = append(hh, north(float64(i)))
	}
	r, err := Solve(context.Background(), Problem{Clients: hh, Servers: norths(0, 24)})
	if err != nil {
		t.Fatal(err)
	}
	if r.Min != HouseholdMin || r.Max != HouseholdMax || r.K != 2 {
		t.Errorf("span %d–%d, K %d; want %d–%d, K 2", r.Min, r.Max, r.K, HouseholdMin, HouseholdMax)
	}
	checkResult(t, Problem{Clients: hh, Servers: norths(0, 24)}, r, HouseholdMin, HouseholdMax)

	// No clients, no minimum: an empty assignment.
	r, err = Solve(context.Background(), Problem{Servers: norths(0), Min: 0, Max: 5})
	if err != nil || len(r.ServerOf) != 0 || len(r.Loads) != 1 {
		t.Errorf("empty problem: %+v, %v", r, err)
	}
}

func TestSolveCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Solve(ctx, handCases[0].p)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

// TestSolveCadres runs the second level: party members to cadres, 5–10
// each, with the same function.
func TestSolveCadres(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	v := genVillage(rng, 400, 0.08)
	cadres := v.members[:5]
	p := Problem{Clients: v.members, Servers: cadres, Min: CadreMin, Max: CadreMax}
	r, err := Solve(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	checkResult(t, p, r, CadreMin, CadreMax)
	if r.InSpan() != len(cadres) {
		t.Errorf("%d of %d cadres in span", r.InSpan(), len(cadres))
	}
	// Greedy ignores the minimum: compare with the optimum under max only.
	g, err := Greedy(p)
	if err != nil {
		t.Fatal(err)
	}
	p.Min = 0
	r0, err := Solve(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	if r0.Total > g.Total+1e-6 {
		t.Errorf("optimal %.1f m worse than greedy %.1f m", r0.Total, g.Total)
	}
}

func TestSolveDeterministic(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	v := genVillage(rng, 400, 0.08)
	p := Problem{Clients: v.households, Servers: v.members}
	a, err := Solve(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Solve(context.Background(), p)
	if !slices.Equal(a.ServerOf, b.ServerOf) || a.Total != b.Total {
		t.Error("two runs differ")
	}
}
