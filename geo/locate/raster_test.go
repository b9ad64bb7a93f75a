package locate

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/paulmach/orb"
)

// TestRaster checks every classified cell against the reference at random
// points of the cell, at its corners and one ulp beyond them.
func TestRaster(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 37))
	tests := []struct {
		name string
		poly orb.Polygon
		g    int
	}{
		{"square with hole, 8×8", orb.Polygon{square, hole}, 8},
		{"square with hole, 9×9", orb.Polygon{square, hole}, 9},
		{"U, 16×16", orb.Polygon{concave}, 16},
		{"star, 8×8", orb.Polygon{star(rng, orb.Point{114.4, 30.5}, 60, 0.002, 0.004)}, 8},
		{"star with hole, 40×40", orb.Polygon{
			star(rng, orb.Point{114.4, 30.5}, 200, 0.002, 0.004),
			reversed(star(rng, orb.Point{114.4, 30.5}, 50, 0.0002, 0.0012)),
		}, 40},
		{"tessellation cell, 30×30", benchTessellation().entries()[1234].Geometry[0], 30},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s scratch
			pg := s.prepare(1, tt.poly)
			s.buildRaster(pg, tt.g, tt.g)
			counts := map[uint8]int{}
			nx := pg.cx.n()
			for c, state := range pg.cells {
				counts[state]++
				if state != cellIn && state != cellOut {
					continue
				}
				i, j := c%nx, c/nx
				for k := 12; k < 20; k++ {
					p := orb.Point{pg.cx.min + (float64(i)+rng.Float64())/pg.cx.scale, pg.cy.min + (float64(j)+rng.Float64())/pg.cy.scale}
					if k >= 16 { // a corner, nudged one ulp either way
						p = orb.Point{pg.cx.min + float64(i+k%2)/pg.cx.scale, pg.cy.min + float64(j+k/2%2)/pg.cy.scale}
						p[0] = math.Nextafter(p[0], []float64{math.Inf(-1), p[0], math.Inf(1)}[rng.IntN(3)])
						p[1] = math.Nextafter(p[1], []float64{math.Inf(-1), p[1], math.Inf(1)}[rng.IntN(3)])
					}
					if pg.cx.slice(p[0]) != i || pg.cy.slice(p[1]) != j {
						continue // rounded into a neighbour
					}
					if want := refContains(tt.poly, p); (state == cellIn) != want {
						t.Fatalf("cell (%d, %d) is %d, but reference says %v at %v", i, j, state, want, p)
					}
				}
			}
			if counts[cellUnknown] != 0 || counts[cellIn] == 0 {
				t.Errorf("cells by state %v: want no unknown and some inside", counts)
			}
			t.Logf("cells by state (edge, in, out): %d, %d, %d", counts[cellEdge], counts[cellIn], counts[cellOut])
		})
	}
}

func reversed(r orb.Ring) orb.Ring {
	out := make(orb.Ring, len(r))
	for i, p := range r {
		out[len(r)-1-i] = p
	}
	return out
}
