package locate

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/paulmach/orb"
)

func TestOrient(t *testing.T) {
	tests := []struct {
		name    string
		a, b, c orb.Point
		want    int
	}{
		{"left", orb.Point{0, 0}, orb.Point{1, 0}, orb.Point{0.5, 1}, 1},
		{"right", orb.Point{0, 0}, orb.Point{1, 0}, orb.Point{0.5, -1}, -1},
		{"collinear inside", orb.Point{0, 0}, orb.Point{2, 2}, orb.Point{1, 1}, 0},
		{"collinear beyond", orb.Point{0, 0}, orb.Point{2, 2}, orb.Point{3, 3}, 0},
		{"degenerate edge", orb.Point{1, 1}, orb.Point{1, 1}, orb.Point{3, 7}, 0},
		{"one ulp left", orb.Point{0, 0}, orb.Point{1, 1}, orb.Point{0.5, math.Nextafter(0.5, 1)}, 1},
		{"one ulp right", orb.Point{0, 0}, orb.Point{1, 1}, orb.Point{0.5, math.Nextafter(0.5, 0)}, -1},
		// Shewchuk's classic failure of the naive determinant.
		{"near collinear", orb.Point{12, 12}, orb.Point{24, 24}, orb.Point{0.5 + 1.0/(1<<52), 0.5}, -1},
		{"geographic collinear", orb.Point{114.25, 30.5}, orb.Point{114.75, 30.75}, orb.Point{114.5, 30.625}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := orient(tt.a[0], tt.a[1], tt.b[0], tt.b[1], tt.c[0], tt.c[1])
			if got != tt.want {
				t.Errorf("orient = %d, want %d", got, tt.want)
			}
			if ref := refOrient(tt.a, tt.b, tt.c); ref != tt.want {
				t.Errorf("refOrient = %d, want %d", ref, tt.want)
			}
		})
	}
}

// TestOrientNearlyCollinear compares orient with exact rationals on a grid
// of points a few ulps around a line, where the float determinant is
// unreliable.
func TestOrientNearlyCollinear(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	exact := 0
	for k := 0; k < 2000; k++ {
		a := orb.Point{114 + rng.Float64(), 30 + rng.Float64()}
		b := orb.Point{114 + rng.Float64(), 30 + rng.Float64()}
		tt := float64(rng.IntN(9)) / 8 // often exactly representable: some points are exactly on the line
		c := orb.Point{a[0] + tt*(b[0]-a[0]), a[1] + tt*(b[1]-a[1])}
		for dx := -2; dx <= 2; dx++ {
			for dy := -2; dy <= 2; dy++ {
				p := orb.Point{ulps(c[0], dx), ulps(c[1], dy)}
				got, want := orient(a[0], a[1], b[0], b[1], p[0], p[1]), refOrient(a, b, p)
				if got != want {
					t.Fatalf("orient(%v, %v, %v) = %d, want %d", a, b, p, got, want)
				}
				if ex := orientExact(a[0], a[1], b[0], b[1], p[0], p[1]); ex != want {
					t.Fatalf("orientExact(%v, %v, %v) = %d, want %d", a, b, p, ex, want)
				}
				if want == 0 {
					exact++
				}
			}
		}
	}
	t.Logf("%d exactly collinear cases", exact)
}

func ulps(f float64, n int) float64 {
	for ; n > 0; n-- {
		f = math.Nextafter(f, math.Inf(1))
	}
	for ; n < 0; n++ {
		f = math.Nextafter(f, math.Inf(-1))
	}
	return f
}

func BenchmarkOrient(b *testing.B) {
	b.ReportAllocs()
	s := 0
	for i := 0; b.Loop(); i++ {
		s += orient(114.1, 30.2, 114.3, 30.4, 114.2+float64(i&7)*1e-9, 30.3)
	}
	_ = s
}

func BenchmarkOrientExact(b *testing.B) {
	b.ReportAllocs()
	s := 0
	for b.Loop() {
		s += orientExact(114.25, 30.5, 114.75, 30.75, 114.5, 30.625)
	}
	_ = s
}
