package assign

import (
	"testing"

	"github.com/paulmach/orb"
)

func TestProblemSpan(t *testing.T) {
	cases := []struct {
		name        string
		p           Problem
		lo, hi, max int
		wantErr     bool
	}{
		{"defaults", Problem{Clients: make([]orb.Point, 40)}, HouseholdMin, HouseholdMax, HouseholdMax, false},
		{"cadres", Problem{Clients: make([]orb.Point, 40), Min: CadreMin, Max: CadreMax}, 5, 10, 10, false},
		{"1+10+15", Problem{Clients: norths(1, 2, 3), Min: CentralMin, Max: NoMax}, 15, 3, NoMax, false},
		{"no minimum", Problem{Clients: norths(1, 2, 3, 4, 5), Min: 0, Max: 4}, 0, 4, 4, false},
		{"max above clients", Problem{Clients: norths(1, 2), Min: 1, Max: 1 << 40}, 1, 2, 1 << 40, false},
		{"negative min", Problem{Min: -1, Max: 4}, 0, 0, 0, true},
		{"max below min", Problem{Min: 5, Max: 4}, 0, 0, 0, true},
		{"max -2", Problem{Min: 0, Max: -2}, 0, 0, 0, true},
		{"negative k", Problem{Min: 1, Max: 2, K: -1}, 0, 0, 0, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			lo, hi, max, err := tc.p.span()
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v", err)
			}
			if err == nil && (lo != tc.lo || hi != tc.hi || max != tc.max) {
				t.Errorf("span = %d, %d, %d; want %d, %d, %d", lo, hi, max, tc.lo, tc.hi, tc.max)
			}
		})
	}
}

func TestResultInSpan(t *testing.T) {
	cases := []struct {
		r    Result
		want int
	}{
		{Result{Loads: []int{9, 10, 15, 16}, Min: 10, Max: 15}, 2},
		{Result{Loads: []int{14, 15, 400}, Min: 15, Max: NoMax}, 2},
		{Result{Loads: nil, Min: 1, Max: 2}, 0},
	}
	for _, tc := range cases {
		if got := tc.r.InSpan(); got != tc.want {
			t.Errorf("InSpan(%v in [%d,%d]) = %d, want %d", tc.r.Loads, tc.r.Min, tc.r.Max, got, tc.want)
		}
	}
}
