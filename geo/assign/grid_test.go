package assign

import (
	"math/rand/v2"
	"slices"
	"testing"
)

func bruteNearest(pts []xy, p xy, k int) []cand {
	all := make([]cand, len(pts))
	for i, q := range pts {
		all[i] = cand{int32(i), p.dist(q)}
	}
	slices.SortFunc(all, func(a, b cand) int {
		if a.less(b) {
			return -1
		}
		if b.less(a) {
			return 1
		}
		return 0
	})
	return all[:min(k, len(all))]
}

func TestGridNearest(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	layouts := map[string]func(i int) xy{
		"uniform":   func(int) xy { return xy{rng.Float64() * 1000, rng.Float64() * 1000} },
		"clustered": func(i int) xy { return xy{float64(i%3)*5000 + rng.NormFloat64()*50, rng.NormFloat64() * 50} },
		"line":      func(int) xy { return xy{0, rng.Float64() * 2000} },
		"one spot":  func(int) xy { return xy{7, 7} },
		"duplicates": func(i int) xy {
			return xy{float64(i % 4), float64(i % 4)}
		},
	}
	for name, gen := range layouts {
		for _, n := range []int{1, 2, 5, 40, 300} {
			pts := make([]xy, n)
			for i := range pts {
				pts[i] = gen(i)
			}
			g := newGrid(pts)
			var buf []cand
			for q := 0; q < 200; q++ {
				// queries inside and well outside the points' box
				p := xy{rng.Float64()*16000 - 5000, rng.Float64()*6000 - 2000}
				for _, k := range []int{1, 3, 20, n + 5} {
					buf = g.nearest(p, k, buf)
					want := bruteNearest(pts, p, k)
					if !slices.Equal(buf, want) {
						t.Fatalf("%s n=%d k=%d p=%v: got %v, want %v", name, n, k, p, buf, want)
					}
				}
			}
		}
	}
}

func TestGridEmpty(t *testing.T) {
	g := newGrid(nil)
	if got := g.nearest(xy{1, 2}, 5, nil); len(got) != 0 {
		t.Errorf("nearest on empty grid = %v", got)
	}
}

func BenchmarkGridNearest(b *testing.B) {
	rng := rand.New(rand.NewPCG(3, 4))
	pts := make([]xy, 8000)
	for i := range pts {
		pts[i] = xy{rng.Float64() * 30000, rng.Float64() * 30000}
	}
	g := newGrid(pts)
	qs := make([]xy, 1024)
	for i := range qs {
		qs[i] = xy{rng.Float64() * 30000, rng.Float64() * 30000}
	}
	b.ReportAllocs()
	buf := make([]cand, 0, DefaultK)
	i := 0
	for b.Loop() {
		buf = g.nearest(qs[i%len(qs)], DefaultK, buf)
		i++
	}
}
