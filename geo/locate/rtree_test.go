package locate

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/paulmach/orb"
)

func TestHilbert(t *testing.T) {
	// The first 4^k values of the curve fill the 2^k × 2^k corner, and
	// consecutive values are neighbouring cells.
	const side = 64
	cells := make([]orb.Point, side*side)
	seen := make([]bool, side*side)
	for x := uint32(0); x < side; x++ {
		for y := uint32(0); y < side; y++ {
			h := hilbert(x, y)
			if h >= side*side || seen[h] {
				t.Fatalf("hilbert(%d, %d) = %d: outside the corner or repeated", x, y, h)
			}
			seen[h] = true
			cells[h] = orb.Point{float64(x), float64(y)}
		}
	}
	for i := 1; i < len(cells); i++ {
		a, b := cells[i-1], cells[i]
		if d := abs(a[0]-b[0]) + abs(a[1]-b[1]); d != 1 {
			t.Fatalf("cells %d and %d (%v, %v) are not neighbours", i-1, i, a, b)
		}
	}
}

func abs(f float64) float64 {
	if f < 0 {
		return -f
	}
	return f
}

func TestBuildTree(t *testing.T) {
	tests := []struct {
		name   string
		n      int
		levels int // including the leaves
	}{
		{"empty", 0, 0},
		{"one", 1, 2},
		{"one node", nodeSize, 2},
		{"two nodes", nodeSize + 1, 3},
		{"full two levels", nodeSize * nodeSize, 3},
		{"benchmark size", 2500, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			leaves := randomBoxes(rand.New(rand.NewPCG(uint64(tt.n), 1)), tt.n)
			tr := buildTree(leaves)
			if got := max(len(tr.levels)-1, 0); got != tt.levels {
				t.Fatalf("levels = %d, want %d", got, tt.levels)
			}
			if tt.n == 0 {
				return
			}
			if top := tr.levels[len(tr.levels)-2]; int(top) != len(tr.boxes)-1 {
				t.Errorf("top level starts at %d, want the last box %d", top, len(tr.boxes)-1)
			}
			// Every node bounds its children exactly.
			for l := 1; l+1 < len(tr.levels); l++ {
				for i := tr.levels[l]; i < tr.levels[l+1]; i++ {
					lo := tr.levels[l-1] + (i-tr.levels[l])*nodeSize
					hi := min(lo+nodeSize, tr.levels[l])
					b := tr.boxes[lo]
					for _, c := range tr.boxes[lo+1 : hi] {
						b = union(b, c)
					}
					if b != tr.boxes[i] {
						t.Fatalf("node %d of level %d: box %v, want %v", i, l, tr.boxes[i], b)
					}
				}
			}
		})
	}
}

func TestTreeSearch(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	for _, n := range []int{1, 15, 16, 17, 300, 5000} {
		leaves := randomBoxes(rng, n)
		tr := buildTree(leaves)
		for k := 0; k < 500; k++ {
			p := orb.Point{rng.Float64()*12 - 1, rng.Float64()*12 - 1}
			if k%5 == 0 { // exactly on a box corner
				p = leaves[rng.IntN(n)].Max
			}
			var got, want []int
			tr.search(p[0], p[1], func(leaf int) { got = append(got, leaf) })
			for i, b := range leaves {
				if b.Contains(p) {
					want = append(want, i)
				}
			}
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Fatalf("n=%d: search(%v) = %v, want %v", n, p, got, want)
			}
		}
	}
}

func randomBoxes(rng *rand.Rand, n int) []orb.Bound {
	bs := make([]orb.Bound, n)
	for i := range bs {
		x, y := rng.Float64()*10, rng.Float64()*10
		bs[i] = orb.Bound{Min: orb.Point{x, y}, Max: orb.Point{x + rng.Float64(), y + rng.Float64()}}
	}
	return bs
}
