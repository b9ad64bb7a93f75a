package coord

import (
	"fmt"

	"github.com/paulmach/orb"
)

// ToWGS84 converts p from the coordinate system from to WGS84.
// It panics if from is not a valid CRS (values come from Parse).
func ToWGS84(p orb.Point, from CRS) orb.Point {
	switch from {
	case WGS84:
		return p
	case GCJ02:
		return GCJ02ToWGS84(p)
	case BD09:
		return BD09ToWGS84(p)
	}
	panic(fmt.Sprintf("coord: unknown crs %d", uint8(from)))
}

// FromWGS84 converts the WGS84 point p to the coordinate system to.
// It panics if to is not a valid CRS (values come from Parse).
func FromWGS84(p orb.Point, to CRS) orb.Point {
	switch to {
	case WGS84:
		return p
	case GCJ02:
		return WGS84ToGCJ02(p)
	case BD09:
		return WGS84ToBD09(p)
	}
	panic(fmt.Sprintf("coord: unknown crs %d", uint8(to)))
}

// Convert converts p from one coordinate system to another. GCJ-02 and
// BD-09 convert directly, without a detour through WGS84.
func Convert(p orb.Point, from, to CRS) orb.Point {
	switch {
	case from == to && from.Valid():
		return p
	case from == GCJ02 && to == BD09:
		return GCJ02ToBD09(p)
	case from == BD09 && to == GCJ02:
		return BD09ToGCJ02(p)
	}
	return FromWGS84(ToWGS84(p, from), to)
}

// Projection returns the conversion from one system to another as an
// orb.Projection, for use with orb/project.Geometry on whole geometries.
// It panics if either CRS is invalid.
func Projection(from, to CRS) orb.Projection {
	if !from.Valid() || !to.Valid() {
		panic(fmt.Sprintf("coord: unknown crs %d → %d", uint8(from), uint8(to)))
	}
	return func(p orb.Point) orb.Point { return Convert(p, from, to) }
}
