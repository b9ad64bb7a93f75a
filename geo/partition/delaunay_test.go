package partition

import (
	"math/rand/v2"
	"slices"
	"testing"
)

func TestTriangulate(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	cases := []struct {
		name string
		pts  []xy
	}{
		{"square", []xy{{0, 0}, {1, 0}, {1, 1}, {0, 1}}},
		{"lattice", func() []xy {
			var p []xy
			for i := 0; i < 20; i++ {
				for j := 0; j < 20; j++ {
					p = append(p, xy{float64(i), float64(j)})
				}
			}
			return p
		}()},
		{"random", func() []xy {
			p := make([]xy, 5000)
			for i := range p {
				p[i] = xy{r.Float64() * 1000, r.Float64() * 1000}
			}
			return p
		}()},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tr, err := triangulate(tc.pts)
			if err != nil {
				t.Fatal(err)
			}
			seen := make([]bool, len(tc.pts))
			for e := range tr.tri {
				seen[tr.tri[e]] = true
				if h := tr.half[e]; h >= 0 {
					if tr.half[h] != int32(e) {
						t.Fatalf("half-edge %d: twin %d points back to %d", e, h, tr.half[h])
					}
					if tr.tri[h] != tr.tri[nextHalf(int32(e))] || tr.tri[nextHalf(h)] != tr.tri[e] {
						t.Fatalf("half-edge %d: twin endpoints differ", e)
					}
					// local Delaunay: the opposite point is not inside
					a, b, c := tr.pts[tr.tri[e]], tr.pts[tr.tri[nextHalf(int32(e))]], tr.pts[tr.tri[prevHalf(int32(e))]]
					if inCircle(a, b, c, tr.pts[tr.tri[prevHalf(h)]]) {
						if orient(a, b, c) > 1e-9 {
							t.Fatalf("half-edge %d is not locally Delaunay", e)
						}
					}
				}
			}
			for ti := 0; ti < len(tr.tri); ti += 3 {
				if orient(tr.pts[tr.tri[ti]], tr.pts[tr.tri[ti+1]], tr.pts[tr.tri[ti+2]]) < 0 {
					t.Fatalf("triangle %d is clockwise", ti/3)
				}
			}
			for i, s := range seen {
				if !s {
					t.Fatalf("point %d not triangulated", i)
				}
			}
		})
	}
}

func BenchmarkTriangulate100k(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	p := make([]xy, 100000)
	for i := range p {
		p[i] = xy{r.Float64() * 10000, r.Float64() * 10000}
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := triangulate(p); err != nil {
			b.Fatal(err)
		}
	}
}

func TestRadixSortHigh(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{1, 2, 600, 5000} {
		keys := make([]uint64, n)
		for i := range keys {
			keys[i] = uint64(r.Uint32()%97)<<32 | uint64(i)
		}
		want := append([]uint64(nil), keys...)
		slices.Sort(want)
		radixSortHigh(keys, make([]uint64, n))
		if !slices.Equal(keys, want) {
			t.Fatalf("n=%d: radix order differs from sort", n)
		}
	}
}
