package assign

import (
	"math"
	"testing"
)

func TestGreedyHand(t *testing.T) {
	for _, tc := range handCases {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Greedy(tc.p)
			if err != nil {
				t.Fatal(err)
			}
			checkResult(t, tc.p, r, 0, tc.p.Max) // greedy ignores Min
			if math.Abs(r.Total-tc.greedy) > 1e-6 {
				t.Errorf("Total = %v, want %v", r.Total, tc.greedy)
			}
		})
	}
}

// TestGreedyIgnoresMin shows the baseline's flaw that Solve fixes: the
// far member gets nobody.
func TestGreedyIgnoresMin(t *testing.T) {
	p := Problem{Clients: norths(0, 1, 2, 3, 4), Servers: norths(0, 1000), Min: 2, Max: 5}
	r, err := Greedy(p)
	if err != nil {
		t.Fatal(err)
	}
	if r.Loads[1] != 0 || r.InSpan() != 1 {
		t.Errorf("loads %v, in span %d; want [5 0], 1", r.Loads, r.InSpan())
	}
}
