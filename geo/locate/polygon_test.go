package locate

import (
	"math/rand/v2"
	"testing"

	"github.com/paulmach/orb"
)

var (
	square  = orb.Ring{{0, 0}, {4, 0}, {4, 4}, {0, 4}, {0, 0}}
	hole    = orb.Ring{{1, 1}, {1, 3}, {3, 3}, {3, 1}, {1, 1}}
	concave = orb.Ring{{0, 0}, {6, 0}, {6, 6}, {4, 6}, {4, 2}, {2, 2}, {2, 6}, {0, 6}} // a U, open ring
	spiky   = orb.Ring{{0, 0}, {2, 1}, {4, 0}, {3, 2}, {4, 4}, {2, 3}, {0, 4}, {1, 2}, {0, 0}}
)

func TestPolygonContains(t *testing.T) {
	tests := []struct {
		name string
		poly orb.Polygon
		p    orb.Point
		want bool
	}{
		{"square inside", orb.Polygon{square}, orb.Point{2, 2}, true},
		{"square outside", orb.Polygon{square}, orb.Point{5, 2}, false},
		{"square outside left", orb.Polygon{square}, orb.Point{-1, 2}, false},
		{"square on edge", orb.Polygon{square}, orb.Point{4, 2}, true},
		{"square on bottom edge", orb.Polygon{square}, orb.Point{2, 0}, true},
		{"square on top edge", orb.Polygon{square}, orb.Point{2, 4}, true},
		{"square on vertex", orb.Polygon{square}, orb.Point{4, 4}, true},
		{"square on first vertex", orb.Polygon{square}, orb.Point{0, 0}, true},
		{"square beyond edge line", orb.Polygon{square}, orb.Point{5, 4}, false},
		{"square at vertex height outside", orb.Polygon{square}, orb.Point{-1, 0}, false},
		{"hole inside hole", orb.Polygon{square, hole}, orb.Point{2, 2}, false},
		{"hole in ring", orb.Polygon{square, hole}, orb.Point{0.5, 2}, true},
		{"hole on hole edge", orb.Polygon{square, hole}, orb.Point{1, 2}, true},
		{"hole on hole vertex", orb.Polygon{square, hole}, orb.Point{3, 3}, true},
		{"hole ray through hole vertices", orb.Polygon{square, hole}, orb.Point{0.5, 3}, true},
		{"hole at hole vertex height inside hole", orb.Polygon{square, hole}, orb.Point{2, 3}, true}, // on the hole's top edge
		{"concave notch", orb.Polygon{concave}, orb.Point{3, 4}, false},
		{"concave arm", orb.Polygon{concave}, orb.Point{1, 4}, true},
		{"concave notch floor", orb.Polygon{concave}, orb.Point{3, 2}, true},
		{"concave notch wall", orb.Polygon{concave}, orb.Point{4, 5}, true},
		{"concave notch corner", orb.Polygon{concave}, orb.Point{2, 2}, true},
		{"concave closing edge", orb.Polygon{concave}, orb.Point{0, 3}, true},
		{"concave ray through two vertices", orb.Polygon{concave}, orb.Point{1, 6}, true},
		{"concave above", orb.Polygon{concave}, orb.Point{3, 6}, false},
		{"spiky inside", orb.Polygon{spiky}, orb.Point{2, 2}, true},
		{"spiky in notch", orb.Polygon{spiky}, orb.Point{2, 0.25}, false},
		{"spiky on slanted edge", orb.Polygon{spiky}, orb.Point{1, 0.5}, true},
		{"spiky ray through vertex", orb.Polygon{spiky}, orb.Point{0.5, 2}, false},
		{"spiky ray through vertex inside", orb.Polygon{spiky}, orb.Point{1.5, 2}, true},
		{"spiky on reflex vertex", orb.Polygon{spiky}, orb.Point{3, 2}, true},
		{"degenerate point ring", orb.Polygon{{{1, 1}}}, orb.Point{1, 1}, true},
		{"degenerate point ring miss", orb.Polygon{{{1, 1}}}, orb.Point{1, 2}, false},
		{"degenerate segment ring", orb.Polygon{{{0, 0}, {2, 2}}}, orb.Point{1, 1}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if ref := refContains(tt.poly, tt.p); ref != tt.want {
				t.Fatalf("reference says %v, want %v", ref, tt.want)
			}
			// Every band count and raster size gives the same answer.
			for _, nb := range []int{1, 2, 3, 7, 50} {
				for _, g := range []int{0, 1, 2, 5, 16, 64} {
					var s scratch
					pg := s.prepare(1, tt.poly)
					s.buildBands(pg, nb)
					pg.cells = nil
					if g > 0 {
						s.buildRaster(pg, g, g)
					}
					if got := pg.contains(tt.p[0], tt.p[1]); got != tt.want {
						t.Errorf("%d bands, %d×%d raster: contains(%v) = %v, want %v", nb, g, g, tt.p, got, tt.want)
					}
				}
			}
		})
	}
}

func TestPreparePolygon(t *testing.T) {
	tests := []struct {
		name      string
		poly      orb.Polygon
		nilResult bool
		points    int
		edges     int
		bands     int
	}{
		{"empty", orb.Polygon{}, true, 0, 0, 0},
		{"empty rings", orb.Polygon{{}, {}}, true, 0, 0, 0},
		{"closed square", orb.Polygon{square}, false, 5, 4, 1},
		{"open ring gets closed", orb.Polygon{concave}, false, 9, 8, 1},
		{"with hole", orb.Polygon{square, hole}, false, 10, 8, 1},
		{"many vertices", orb.Polygon{star(rand.New(rand.NewPCG(1, 1)), orb.Point{}, 100, 1, 2)}, false, 101, 100, 100 / edgesPerBand},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pg := preparePolygon(7, tt.poly)
			if (pg == nil) != tt.nilResult {
				t.Fatalf("preparePolygon = %v, want nil %v", pg, tt.nilResult)
			}
			if pg == nil {
				return
			}
			if len(pg.pts) != tt.points || pg.edgeCount() != tt.edges || len(pg.start)-1 != tt.bands {
				t.Errorf("points, edges, bands = %d, %d, %d; want %d, %d, %d",
					len(pg.pts), pg.edgeCount(), len(pg.start)-1, tt.points, tt.edges, tt.bands)
			}
			if want := tt.poly.Bound(); pg.bound != want {
				t.Errorf("bound = %v, want %v", pg.bound, want)
			}
		})
	}
}

func TestSegmentDist2(t *testing.T) {
	tests := []struct {
		name           string
		ux, uy, vx, vy float64
		want           float64
	}{
		{"perpendicular foot", -1, 2, 1, 2, 4},
		{"before start", 1, 1, 2, 1, 2},
		{"after end", -2, 1, -1, 1, 2},
		{"degenerate", 3, 4, 3, 4, 25},
		{"through origin", -1, -1, 1, 1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := segmentDist2(tt.ux, tt.uy, tt.vx, tt.vy); got != tt.want {
				t.Errorf("segmentDist2 = %v, want %v", got, tt.want)
			}
			if got := segmentDist2(tt.vx, tt.vy, tt.ux, tt.uy); got != tt.want {
				t.Errorf("reversed: segmentDist2 = %v, want %v", got, tt.want)
			}
		})
	}
	// Direction never changes the result, to the last bit.
	rng := rand.New(rand.NewPCG(4, 4))
	for k := 0; k < 10000; k++ {
		ux, uy, vx, vy := rng.NormFloat64(), rng.NormFloat64(), rng.NormFloat64(), rng.NormFloat64()
		if a, b := segmentDist2(ux, uy, vx, vy), segmentDist2(vx, vy, ux, uy); a != b {
			t.Fatalf("segmentDist2(%v, %v, %v, %v) = %v one way, %v the other", ux, uy, vx, vy, a, b)
		}
	}
}

func BenchmarkPolygonContains(b *testing.B) {
	es := benchTessellation().entries()
	pg := preparePolygon(1, es[len(es)/2].Geometry[0])
	rng := rand.New(rand.NewPCG(1, 2))
	pts := make([]orb.Point, 1024)
	for i := range pts {
		pts[i] = orb.Point{pg.bound.Min[0] + rng.Float64()*(pg.bound.Max[0]-pg.bound.Min[0]),
			pg.bound.Min[1] + rng.Float64()*(pg.bound.Max[1]-pg.bound.Min[1])}
	}
	b.Logf("%d edges, %d bands, %d band entries", pg.edgeCount(), len(pg.start)-1, len(pg.edges))
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		p := pts[i&1023]
		pg.contains(p[0], p[1])
	}
}

func TestPreparedFrom(t *testing.T) {
	open := orb.Ring{{0, 0}, {4, 0}, {4, 4}}
	tests := []struct {
		name     string
		prepared orb.Polygon
		other    orb.Polygon
		want     bool
	}{
		{"same", orb.Polygon{square, hole}, orb.Polygon{square, hole}, true},
		{"same open ring", orb.Polygon{open}, orb.Polygon{open}, true},
		{"open and closed: the same polygon", orb.Polygon{open}, orb.Polygon{append(open[:3:3], open[0])}, true},
		{"closed and open: the same polygon", orb.Polygon{append(open[:3:3], open[0])}, orb.Polygon{open}, true},
		{"open ring, other closing point", orb.Polygon{open}, orb.Polygon{append(open[:3:3], orb.Point{0, 1})}, false},
		{"moved vertex", orb.Polygon{square}, orb.Polygon{{{0, 0}, {4, 0}, {4, 4.5}, {0, 4}, {0, 0}}}, false},
		{"hole dropped", orb.Polygon{square, hole}, orb.Polygon{square}, false},
		{"hole added", orb.Polygon{square}, orb.Polygon{square, hole}, false},
		{"empty rings ignored", orb.Polygon{square, {}, hole}, orb.Polygon{{}, square, hole}, true},
		{"single point", orb.Polygon{{{1, 1}}}, orb.Polygon{{{1, 1}}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := preparePolygon(1, tt.prepared).preparedFrom(tt.other); got != tt.want {
				t.Errorf("preparedFrom = %v, want %v", got, tt.want)
			}
		})
	}
}
