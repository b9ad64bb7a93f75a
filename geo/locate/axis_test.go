package locate

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestAxisSlice(t *testing.T) {
	a := newAxis(10, 20, 5)
	tests := []struct {
		name string
		v    float64
		want int
	}{
		{"min", 10, 0},
		{"below", 3, 0},
		{"NaN", math.NaN(), 0},
		{"minus infinity", math.Inf(-1), 0},
		{"inside", 15.5, 2},
		{"slice border", 14, 2},
		{"max", 20, 4},
		{"above", 1e300, 4},
		{"plus infinity", math.Inf(1), 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := a.slice(tt.v); got != tt.want {
				t.Errorf("slice(%v) = %d, want %d", tt.v, got, tt.want)
			}
		})
	}
	if got := newAxis(3, 3, 8); got.n() != 1 || got.slice(3) != 0 || got.centre(0) != 3 {
		t.Errorf("degenerate axis = %+v", got)
	}
}

func TestAxisMonotonic(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	for k := 0; k < 200; k++ {
		lo := 100 + rng.Float64()
		a := newAxis(lo, lo+rng.Float64()*0.01, 1+rng.IntN(200))
		prev, v := -1, lo-1e-3
		for i := 0; i < 2000; i++ {
			v += rng.Float64() * 1e-5
			if i%10 == 0 {
				v = math.Nextafter(v, math.Inf(1))
			}
			s := a.slice(v)
			if s < prev {
				t.Fatalf("slice(%v) = %d after %d", v, s, prev)
			}
			prev = s
		}
		for i := 0; i < a.n(); i++ {
			if s := a.slice(a.centre(i)); s != i {
				t.Fatalf("slice(centre(%d)) = %d", i, s)
			}
		}
	}
}
