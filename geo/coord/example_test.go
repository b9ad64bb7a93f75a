package coord_test

import (
	"fmt"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/project"

	"gridmap/geo/coord"
)

func ExampleParse() {
	c, err := coord.Parse("GCJ02")
	fmt.Println(c, err)
	_, err = coord.Parse("mars")
	fmt.Println(err)
	// Output:
	// gcj02 <nil>
	// coord: unknown crs "mars": want wgs84, gcj02 or bd09
}

func ExampleToWGS84() {
	// A point reported by a WeChat mini-program (GCJ-02) in Beijing.
	gcj := orb.Point{116.41024449916938, 39.91640428150164}
	w := coord.ToWGS84(gcj, coord.GCJ02)
	fmt.Printf("%.7f %.7f\n", w[0], w[1])
	// Output: 116.4040000 39.9150000
}

func ExampleFromWGS84() {
	w := orb.Point{116.404, 39.915}
	for _, c := range []coord.CRS{coord.WGS84, coord.GCJ02, coord.BD09} {
		p := coord.FromWGS84(w, c)
		fmt.Printf("%-5v %.6f %.6f\n", c, p[0], p[1])
	}
	// Outside China nothing moves.
	fmt.Println(coord.FromWGS84(orb.Point{-0.1276, 51.5072}, coord.GCJ02))
	// Output:
	// wgs84 116.404000 39.915000
	// gcj02 116.410244 39.916404
	// bd09  116.416627 39.922700
	// [-0.1276 51.5072]
}

func ExampleProjection() {
	// A grid polygon drawn on a Baidu map, converted to WGS84 in place.
	poly := orb.Polygon{{{116.41, 39.92}, {116.42, 39.92}, {116.42, 39.93}, {116.41, 39.92}}}
	poly = project.Geometry(poly, coord.Projection(coord.BD09, coord.WGS84)).(orb.Polygon)
	fmt.Printf("%.5f %.5f\n", poly[0][0][0], poly[0][0][1])
	// Output: 116.39739 39.91226
}
