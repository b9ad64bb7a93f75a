package store_test

import (
	"context"
	"testing"

	"github.com/paulmach/orb"

	"gridmap/geo/partition"
	"gridmap/geo/partition/synth"
)

// TestPartitionTilingByPostGIS draws a generated urban instance in file mode (no database)
// and lets PostGIS judge the output: the grids' ST_Union equals the boundary and no two
// grids' ST_Intersection has area.
func TestPartitionTilingByPostGIS(t *testing.T) {
	st := pg.Store(t)
	for _, tc := range []struct {
		name string
		in   partition.Input
	}{
		{"urban-2000", synth.Urban(2000, 11)},
		{"village-1000", synth.Village(1000, 12)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := partition.Draw(context.Background(), tc.in)
			if err != nil {
				t.Fatal(err)
			}
			parts := make([]orb.MultiPolygon, 0, len(res.Grids)+len(res.Empty))
			for _, g := range res.Grids {
				parts = append(parts, orb.MultiPolygon{g.Polygon})
			}
			for _, e := range res.Empty {
				parts = append(parts, orb.MultiPolygon{e})
			}
			rep, err := st.CheckTiling(context.Background(), tc.in.Boundary, parts)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%d grids, %.1f%% in band, PostGIS: %+v", len(res.Grids), res.Summary.PctInBand, *rep)
			if rep.Polygons != len(parts) || rep.Invalid != 0 || rep.MultiPart != 0 {
				t.Fatalf("report %+v", *rep)
			}
			// GEOS's floating-point overlay leaves at most slivers far below 1 cm².
			if rep.GapM2 > 0.01 || rep.OverlapM2 > 0.01 {
				t.Fatalf("gap %g m², overlap %g m² of %g m²", rep.GapM2, rep.OverlapM2, rep.BoundaryM2)
			}
			if res.Summary.PctInBand != 100 {
				t.Fatalf("%.1f%% in band", res.Summary.PctInBand)
			}
		})
	}
	// The check itself sees a gap and an overlap: two halves of a square that miss a strip
	// and overlap in another.
	sq := func(x0, x1 float64) orb.MultiPolygon {
		return orb.MultiPolygon{{{synth.At(x0, 0), synth.At(x1, 0), synth.At(x1, 100), synth.At(x0, 100), synth.At(x0, 0)}}}
	}
	rep, err := st.CheckTiling(context.Background(), sq(0, 100), []orb.MultiPolygon{sq(0, 40), sq(30, 90)})
	if err != nil {
		t.Fatal(err)
	}
	if rep.GapM2 < 990 || rep.GapM2 > 1010 || rep.OverlapM2 < 990 || rep.OverlapM2 > 1010 {
		t.Fatalf("check misses a 1000 m² gap or overlap: %+v", *rep)
	}
}
