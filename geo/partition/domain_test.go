package partition

import (
	"math"
	"testing"

	"github.com/paulmach/orb"
)

func TestProjectionRoundTrip(t *testing.T) {
	pr := newProjection(orb.Bound{Min: orb.Point{120, 30}, Max: orb.Point{120.2, 30.2}})
	cases := []struct {
		name string
		p    orb.Point
		want xy // approximate metres from the centre
	}{
		{"centre", orb.Point{120.1, 30.1}, xy{0, 0}},
		{"north-east", orb.Point{120.2, 30.2}, xy{9620, 11119.5}},
		{"south-west", orb.Point{120, 30}, xy{-9620, -11119.5}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			q := pr.fwd(tc.p)
			if math.Abs(q.X-tc.want.X) > 5 || math.Abs(q.Y-tc.want.Y) > 5 {
				t.Fatalf("fwd = %v, want about %v", q, tc.want)
			}
			back := pr.inv(q)
			if math.Abs(back[0]-tc.p[0]) > 1e-12 || math.Abs(back[1]-tc.p[1]) > 1e-12 {
				t.Fatalf("inv(fwd(p)) = %v, want %v", back, tc.p)
			}
		})
	}
}

func TestDomainContains(t *testing.T) {
	// a 100 m square with a 40 m hole, given clockwise (newDomain fixes it)
	outer := orb.Ring{genPoint(0, 0), genPoint(0, 100), genPoint(100, 100), genPoint(100, 0), genPoint(0, 0)}
	hole := orb.Ring{genPoint(30, 30), genPoint(70, 30), genPoint(70, 70), genPoint(30, 70), genPoint(30, 30)}
	mp := orb.MultiPolygon{{outer, hole}, {{genPoint(200, 0), genPoint(220, 0), genPoint(220, 20), genPoint(200, 20), genPoint(200, 0)}}}
	pr := newProjection(mp.Bound())
	d, err := newDomain(mp, pr)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := d.area, 100*100-40*40+20*20.0; math.Abs(got-want) > 1 {
		t.Fatalf("area %.1f m², want %.1f", got, want)
	}
	for i, r := range d.rings {
		if a := ringArea(r.pts); (a > 0) == (i == 1) {
			t.Fatalf("ring %d has signed area %.1f: wrong orientation", i, a)
		}
	}
	cases := []struct {
		name string
		p    orb.Point
		in   bool
	}{
		{"inside", genPoint(10, 10), true},
		{"in-hole", genPoint(50, 50), false},
		{"second-part", genPoint(210, 10), true},
		{"between-parts", genPoint(150, 10), false},
		{"far", genPoint(-50, 10), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := d.contains(pr.fwd(tc.p)); got != tc.in {
				t.Fatalf("contains = %v, want %v", got, tc.in)
			}
		})
	}
}

func TestBarrierCrosses(t *testing.T) {
	pr := newProjection(orb.Bound{Min: genPoint(0, 0), Max: genPoint(100, 100)})
	bi := newBarrierIndex([]orb.LineString{{genPoint(50, 0), genPoint(50, 100)}, {genPoint(0, 80), genPoint(40, 80)}}, pr)
	cases := []struct {
		name string
		a, b orb.Point
		want bool
	}{
		{"across-river", genPoint(40, 50), genPoint(60, 50), true},
		{"same-bank", genPoint(10, 50), genPoint(40, 50), false},
		{"across-road", genPoint(20, 70), genPoint(20, 90), true},
		{"past-road-end", genPoint(45, 70), genPoint(45, 90), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := bi.crosses(pr.fwd(tc.a), pr.fwd(tc.b)); got != tc.want {
				t.Fatalf("crosses = %v, want %v", got, tc.want)
			}
		})
	}
	if newBarrierIndex(nil, pr) != nil {
		t.Fatal("no barriers should give a nil index")
	}
}
