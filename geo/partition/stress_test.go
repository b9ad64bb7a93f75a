package partition

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/paulmach/orb"
)

// TestDrawRandomShapes draws small instances on random star-shaped
// boundaries with clustered, duplicated and boundary-hugging points, and
// checks the tiling of each.
func TestDrawRandomShapes(t *testing.T) {
	n := 90
	if testing.Short() {
		n = 15
	}
	for seed := uint64(0); seed < uint64(n); seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			r := rand.New(rand.NewPCG(seed, 99))
			nv := 5 + r.IntN(60)
			var ring orb.Ring
			for i := 0; i < nv; i++ {
				a := 2 * math.Pi * float64(i) / float64(nv)
				rr := 100 + 300*r.Float64()
				ring = append(ring, genPoint(rr*math.Cos(a), rr*math.Sin(a)))
			}
			ring = append(ring, ring[0])
			poly := orb.Polygon{ring}
			var pts []Point
			np := 20 + r.IntN(400)
			for len(pts) < np {
				var p orb.Point
				switch k := r.IntN(10); {
				case k < 1 && len(pts) > 0: // same address again
					p = pts[r.IntN(len(pts))].Loc
				case k < 4: // near a boundary vertex
					v := ring[r.IntN(nv)]
					p = orb.Point{v[0] * (1 - 1e-7*r.Float64()), v[1] * (1 - 1e-7*r.Float64())}
					if !polyContains(poly, p) {
						continue
					}
				default:
					p = samplePoint(poly, r)
				}
				pts = append(pts, Point{Loc: p, Households: 1 + r.IntN(4), Residents: 2})
			}
			in := Input{Boundary: orb.MultiPolygon{poly}, Points: pts, Min: 15, Max: 30, Seed: seed}
			switch seed % 3 {
			case 1: // a lattice on an aligned square with an aligned hole: degenerate on purpose
				step := 5 + float64(r.IntN(20))
				sq := square(0, 0, 30*step, 20*step)
				sq = append(sq, orb.Ring{genPoint(10*step, 5*step), genPoint(10*step, 10*step), genPoint(15*step, 10*step), genPoint(15*step, 5*step), genPoint(10*step, 5*step)})
				in.Boundary = orb.MultiPolygon{sq}
				in.Points = nil
				for _, p := range lattice(30*step, 20*step, step) {
					if polyContains(sq, p.Loc) {
						in.Points = append(in.Points, p)
					}
				}
				in.Min, in.Max = 8, 12
			case 2: // random barriers
				for k := 0; k < 1+r.IntN(4); k++ {
					a, b := samplePoint(poly, r), samplePoint(poly, r)
					in.Barriers = append(in.Barriers, orb.LineString{a, b})
				}
			}
			res, err := Draw(context.Background(), in)
			if errors.Is(err, ErrInfeasible) {
				t.Skip(err)
			}
			if err != nil {
				t.Fatal(err)
			}
			checkTiling(t, in, res)
			checkGrids(t, in, res)
		})
	}
}
