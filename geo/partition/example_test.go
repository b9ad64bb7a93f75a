package partition_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/paulmach/orb"

	"gridmap/geo/partition"
)

// A 300 m × 200 m block with one household every 20 m, drawn into grids of
// 10–15 households.
func ExampleDraw() {
	const dLon, dLat = 1.0 / 96000, 1.0 / 111000 // about a metre at 30°N
	at := func(x, y float64) orb.Point { return orb.Point{120.15 + x*dLon, 30.28 + y*dLat} }
	block := orb.Polygon{{at(0, 0), at(300, 0), at(300, 200), at(0, 200), at(0, 0)}}
	var pts []partition.Point
	for y := 10.0; y < 200; y += 20 {
		for x := 10.0; x < 300; x += 20 {
			pts = append(pts, partition.Point{Loc: at(x, y), Households: 1, Residents: 3})
		}
	}
	res, err := partition.Draw(context.Background(), partition.Input{
		Boundary: orb.MultiPolygon{block}, Points: pts, Min: 10, Max: 15, Seed: 1,
	})
	if err != nil {
		panic(err)
	}
	fmt.Printf("%d grids, %.0f%% in band\n", res.Summary.Grids, res.Summary.PctInBand)

	// A 700-household building cannot fit a grid of at most 500.
	_, err = partition.Draw(context.Background(), partition.Input{
		Boundary: orb.MultiPolygon{block},
		Points:   []partition.Point{{Loc: at(150, 100), Households: 700}},
		Min:      300, Max: 500,
	})
	var ie *partition.InfeasibleError
	if errors.As(err, &ie) {
		fmt.Println(errors.Is(err, partition.ErrInfeasible), ie.Items[0].Reason, ie.Items[0].Weight)
	}
	// Output:
	// 12 grids, 100% in band
	// true point heavier than max 700
}
