package locate_test

import (
	"fmt"

	"github.com/paulmach/orb"

	"gridmap/geo/locate"
)

func square(x, y float64) orb.MultiPolygon {
	return orb.MultiPolygon{{{{x, y}, {x + 0.01, y}, {x + 0.01, y + 0.01}, {x, y + 0.01}, {x, y}}}}
}

func Example() {
	ix, err := locate.New([]locate.Entry{
		{ID: 2, Geometry: square(114.40, 30.50)},
		{ID: 1, Geometry: square(114.41, 30.50)},
	})
	if err != nil {
		panic(err)
	}
	dst := make([]int64, 0, 4) // reused: Lookup then never allocates

	fmt.Println(ix.Lookup(orb.Point{114.405, 30.505}, dst[:0]))
	fmt.Println(ix.Lookup(orb.Point{114.41, 30.505}, dst[:0])) // on the shared edge
	fmt.Println(ix.Primary(orb.Point{114.41, 30.505}))

	id, m, _ := ix.Nearest(orb.Point{114.415, 30.52})
	fmt.Printf("nearest %d, %.0f m away\n", id, m)
	// Output:
	// [2]
	// [1 2]
	// 1 true
	// nearest 1, 1112 m away
}

func ExampleSet() {
	var s locate.Set // the zero Set is empty and ready
	if err := s.Replace([]locate.Entry{{ID: 7, Geometry: square(114.40, 30.50)}}); err != nil {
		panic(err)
	}
	p := orb.Point{114.405, 30.505}
	fmt.Println(s.Primary(p))

	// A grid edit: readers see the old or the new index, never a mix.
	if err := s.Upsert(locate.Entry{ID: 7, Geometry: square(114.50, 30.50)}); err != nil {
		panic(err)
	}
	fmt.Println(s.Primary(p))
	// Output:
	// 7 true
	// 0 false
}
