package geo_test

import (
	"errors"
	"testing"

	"gridmap/geo"
)

func TestLevelOfCode(t *testing.T) {
	cases := []struct {
		code  string
		depth int
		ok    bool
	}{
		{"999001", 6, true}, {"999001001", 9, true}, {"999001001001", 12, true},
		{"", 0, false}, {"99900", 0, false}, {"9990011", 0, false}, {"99900a", 0, false},
		{"999001001001001", 0, false}, {"９９９００１", 0, false},
	}
	for _, tc := range cases {
		d, err := geo.LevelOfCode("unit", tc.code)
		if tc.ok != (err == nil) || d != tc.depth {
			t.Errorf("%q: depth %d err %v", tc.code, d, err)
		}
		var in *geo.InputError
		if err != nil && (!errors.As(err, &in) || in.Field != "unit") {
			t.Errorf("%q: error %v does not name the field", tc.code, err)
		}
	}
}

func TestGridCode(t *testing.T) {
	if c, err := geo.GridCode("999001001001", 7); err != nil || c != "999001001001007" {
		t.Fatalf("%q %v", c, err)
	}
	for _, bad := range []struct {
		unit string
		seq  int
	}{{"999001001", 1}, {"999001001001", 0}, {"999001001001", 1000}, {"x", 1}} {
		if _, err := geo.GridCode(bad.unit, bad.seq); err == nil {
			t.Errorf("GridCode(%q, %d) accepted", bad.unit, bad.seq)
		}
	}
}
