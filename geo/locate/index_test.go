package locate

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/paulmach/orb"
)

// fixture: a 2×2 block of unit squares (IDs 10, 11, 20, 21), a framed
// square with a hole (30) whose hole holds another square (31), and a
// multipolygon of two triangles (40).
func fixture() []Entry {
	sq := func(x, y, s float64) orb.Ring {
		return orb.Ring{{x, y}, {x + s, y}, {x + s, y + s}, {x, y + s}, {x, y}}
	}
	return []Entry{
		{ID: 21, Geometry: orb.MultiPolygon{{sq(1, 1, 1)}}},
		{ID: 10, Geometry: orb.MultiPolygon{{sq(0, 0, 1)}}},
		{ID: 11, Geometry: orb.MultiPolygon{{sq(1, 0, 1)}}},
		{ID: 20, Geometry: orb.MultiPolygon{{sq(0, 1, 1)}}},
		{ID: 30, Geometry: orb.MultiPolygon{{sq(10, 0, 4), sq(11, 1, 2)}}},
		{ID: 31, Geometry: orb.MultiPolygon{{sq(11, 1, 2)}}},
		{ID: 40, Geometry: orb.MultiPolygon{
			{{{20, 0}, {22, 0}, {21, 2}, {20, 0}}},
			{{{22, 0}, {24, 0}, {23, 2}, {22, 0}}}, // touches the first at (22, 0)
		}},
		{ID: 50}, // no geometry
	}
}

func TestLookup(t *testing.T) {
	ix, err := New(fixture())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		p    orb.Point
		want []int64
	}{
		{"inside one square", orb.Point{0.5, 0.5}, []int64{10}},
		{"inside another", orb.Point{1.5, 1.5}, []int64{21}},
		{"shared edge", orb.Point{1, 0.5}, []int64{10, 11}},
		{"shared edge top", orb.Point{1.5, 1}, []int64{11, 21}},
		{"shared corner of four", orb.Point{1, 1}, []int64{10, 11, 20, 21}},
		{"outer edge", orb.Point{0, 0.5}, []int64{10}},
		{"outer corner", orb.Point{2, 2}, []int64{21}},
		{"outside the block", orb.Point{2.5, 0.5}, nil},
		{"just outside an edge", orb.Point{math.Nextafter(2, 3), 0.5}, nil},
		{"just inside an edge", orb.Point{math.Nextafter(2, 1), 0.5}, []int64{11}},
		{"in the frame", orb.Point{10.5, 2}, []int64{30}},
		{"in the hole, inside the island", orb.Point{12, 2}, []int64{31}},
		{"on the hole boundary = island boundary", orb.Point{11, 2}, []int64{30, 31}},
		{"on the hole corner", orb.Point{13, 3}, []int64{30, 31}},
		{"first triangle", orb.Point{21, 1}, []int64{40}},
		{"second triangle", orb.Point{23, 1}, []int64{40}},
		{"between the triangles", orb.Point{22, 1}, nil},
		{"where the triangles touch", orb.Point{22, 0}, []int64{40}},
		{"NaN", orb.Point{math.NaN(), 0.5}, nil},
		{"infinity", orb.Point{math.Inf(1), 0.5}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ix.Lookup(tt.p, nil)
			if !slices.Equal(got, tt.want) {
				t.Errorf("Lookup(%v) = %v, want %v", tt.p, got, tt.want)
			}
			if finite(tt.p[0]) {
				if ref := refLookup(fixture(), tt.p); !slices.Equal(ref, tt.want) {
					t.Errorf("reference Lookup(%v) = %v, want %v", tt.p, ref, tt.want)
				}
			}
			// Appending keeps what dst held.
			if got := ix.Lookup(tt.p, []int64{-1}); !slices.Equal(got, append([]int64{-1}, tt.want...)) {
				t.Errorf("Lookup(%v, [-1]) = %v", tt.p, got)
			}
			id, ok := ix.Primary(tt.p)
			if ok != (len(tt.want) > 0) || ok && id != tt.want[0] {
				t.Errorf("Primary(%v) = %d, %v; want the lowest of %v", tt.p, id, ok, tt.want)
			}
		})
	}
}

func TestNewErrors(t *testing.T) {
	tests := []struct {
		name    string
		entries []Entry
		want    string
	}{
		{"duplicate id", []Entry{{ID: 1}, {ID: 2}, {ID: 1}}, "locate: duplicate entry id 1"},
		{"NaN", []Entry{{ID: 3, Geometry: orb.MultiPolygon{{{{0, 0}, {1, math.NaN()}, {1, 1}}}}}}, "locate: entry 3: polygon 0 ring 0 point 1: non-finite coordinate"},
		{"infinity", []Entry{{ID: 4, Geometry: orb.MultiPolygon{{{{0, 0}, {1, 0}, {1, 1}}, {{math.Inf(-1), 0}}}}}}, "locate: entry 4: polygon 0 ring 1 point 0: non-finite coordinate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ix, err := New(tt.entries)
			if err == nil || err.Error() != tt.want || ix != nil {
				t.Errorf("New = %v, %v; want error %q", ix, err, tt.want)
			}
		})
	}
}

func TestIndexAccessors(t *testing.T) {
	var empty *Index
	if empty.Len() != 0 || empty.Has(1) || empty.Bound() != (orb.Bound{}) || empty.Lookup(orb.Point{}, nil) != nil {
		t.Error("nil index is not empty")
	}
	if _, ok := empty.Primary(orb.Point{}); ok {
		t.Error("nil index has a primary")
	}
	ix, err := New(fixture())
	if err != nil {
		t.Fatal(err)
	}
	if ix.Len() != 8 || !ix.Has(50) || ix.Has(51) {
		t.Errorf("Len, Has(50), Has(51) = %d, %v, %v", ix.Len(), ix.Has(50), ix.Has(51))
	}
	if want := (orb.Bound{Min: orb.Point{0, 0}, Max: orb.Point{24, 4}}); ix.Bound() != want {
		t.Errorf("Bound = %v, want %v", ix.Bound(), want)
	}
}

// TestNewCopies checks the index does not depend on the caller's slices.
func TestNewCopies(t *testing.T) {
	es := fixture()
	ix, err := New(es)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range es {
		for _, poly := range e.Geometry {
			for _, ring := range poly {
				for i := range ring {
					ring[i] = orb.Point{-100, -100}
				}
			}
		}
	}
	if got := ix.Lookup(orb.Point{0.5, 0.5}, nil); !slices.Equal(got, []int64{10}) {
		t.Errorf("after modifying the entries, Lookup = %v", got)
	}
}

// TestLookupRandom compares Lookup with the brute-force reference on random
// overlapping stars with holes and on two tessellations whose cells share
// wiggly edges, with points drawn uniformly, on vertices and near edges.
func TestLookupRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 13))
	fine := tessellation{n: 14, x0: 114.4, y0: 30.5, w: 0.05, h: 0.04, seed: 2, minV: 3, maxV: 40}
	lattice := tessellation{n: 12, x0: 0, y0: 0, w: 1200, h: 1200, seed: 3, integer: true}
	tests := []struct {
		name    string
		entries []Entry
		points  int
		covered orb.Bound // the entries tile this area: every point in it has a match
	}{
		{"stars", randomEntries(rng, 150, 1), 3000, orb.Bound{}},
		{"wiggly tessellation", fine.entries(), 3000, fine.interior()},
		{"integer tessellation", lattice.entries(), 3000, lattice.interior()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ix, err := New(tt.entries)
			if err != nil {
				t.Fatal(err)
			}
			ref := newReference(tt.entries)
			ext := ix.Bound()
			var verts []orb.Point
			for _, e := range tt.entries {
				for _, poly := range e.Geometry {
					for _, ring := range poly {
						verts = append(verts, ring...)
					}
				}
			}
			multi, dst := 0, make([]int64, 0, 8)
			for k := 0; k < tt.points; k++ {
				var p orb.Point
				switch k % 4 {
				case 0, 1: // uniform
					p = orb.Point{ext.Min[0] + rng.Float64()*(ext.Max[0]-ext.Min[0]), ext.Min[1] + rng.Float64()*(ext.Max[1]-ext.Min[1])}
				case 2: // a vertex
					p = verts[rng.IntN(len(verts))]
				case 3: // on or next to an edge
					i := rng.IntN(len(verts) - 1)
					a, b := verts[i], verts[i+1]
					f := float64(rng.IntN(5)) / 4
					p = orb.Point{a[0] + f*(b[0]-a[0]), a[1] + f*(b[1]-a[1])}
				}
				if tt.name == "integer tessellation" {
					p = orb.Point{math.Round(p[0]), math.Round(p[1])}
				}
				want := ref.lookup(p)
				dst = ix.Lookup(p, dst[:0])
				if !slices.Equal(dst, want) {
					t.Fatalf("Lookup(%v) = %v, want %v", p, dst, want)
				}
				if len(want) > 1 {
					multi++
				}
				if tt.covered.Contains(p) && len(want) == 0 {
					t.Fatalf("Lookup(%v) found no cell in a tessellation", p)
				}
			}
			t.Logf("%d of %d points matched more than one entry", multi, tt.points)
		})
	}
}

// TestTessellationNoGaps checks on the benchmark data that every point of
// the square is in exactly one cell, or several when on a shared edge.
func TestTessellationNoGaps(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the 2,500-cell benchmark county")
	}
	es := benchTessellation().entries()
	ix, err := New(es)
	if err != nil {
		t.Fatal(err)
	}
	ref := newReference(es)
	rng := rand.New(rand.NewPCG(1, 1))
	ext := benchTessellation().interior()
	dst := make([]int64, 0, 8)
	for k := 0; k < 20000; k++ {
		p := orb.Point{ext.Min[0] + rng.Float64()*(ext.Max[0]-ext.Min[0]), ext.Min[1] + rng.Float64()*(ext.Max[1]-ext.Min[1])}
		dst = ix.Lookup(p, dst[:0])
		if len(dst) != 1 {
			t.Fatalf("Lookup(%v) = %v, want exactly one cell", p, dst)
		}
		if k%10 == 0 {
			if want := ref.lookup(p); !slices.Equal(dst, want) {
				t.Fatalf("Lookup(%v) = %v, reference %v", p, dst, want)
			}
		}
	}
}

func TestLookupAllocs(t *testing.T) {
	ix, err := New(fixture())
	if err != nil {
		t.Fatal(err)
	}
	dst := make([]int64, 0, 8)
	allocs := testing.AllocsPerRun(100, func() {
		dst = ix.Lookup(orb.Point{1, 1}, dst[:0])
		ix.Primary(orb.Point{1, 1})
	})
	if allocs != 0 {
		t.Errorf("Lookup and Primary allocate %v times", allocs)
	}
}

// benchPoints returns n uniform points over the benchmark county.
func benchPoints(ext orb.Bound, n int) []orb.Point {
	rng := rand.New(rand.NewPCG(42, 42))
	pts := make([]orb.Point, n)
	for i := range pts {
		pts[i] = orb.Point{ext.Min[0] + rng.Float64()*(ext.Max[0]-ext.Min[0]), ext.Min[1] + rng.Float64()*(ext.Max[1]-ext.Min[1])}
	}
	return pts
}

func BenchmarkNew(b *testing.B) {
	es := benchTessellation().entries()
	vertices := 0
	for _, e := range es {
		vertices += len(e.Geometry[0][0])
	}
	b.Logf("%d polygons, %d vertices", len(es), vertices)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := New(es); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/build")
}

func BenchmarkLookup(b *testing.B) {
	ix, err := New(benchTessellation().entries())
	if err != nil {
		b.Fatal(err)
	}
	for _, kind := range []string{"Uniform", "Clustered"} {
		b.Run(kind, func(b *testing.B) {
			pts := benchPoints(ix.Bound(), 1<<16)
			if kind == "Clustered" { // households cluster: a 1 km square
				ext := ix.Bound()
				ext.Max = orb.Point{ext.Min[0] + (ext.Max[0]-ext.Min[0])/20, ext.Min[1] + (ext.Max[1]-ext.Min[1])/20}
				pts = benchPoints(ext, 1<<16)
			}
			dst := make([]int64, 0, 8)
			b.ReportAllocs()
			n := 0
			for b.Loop() {
				dst = ix.Lookup(pts[n&(1<<16-1)], dst[:0])
				n++
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "lookups/s")
		})
	}
}

func BenchmarkPrimary(b *testing.B) {
	ix, err := New(benchTessellation().entries())
	if err != nil {
		b.Fatal(err)
	}
	pts := benchPoints(ix.Bound(), 1<<16)
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		ix.Primary(pts[n&(1<<16-1)])
		n++
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "lookups/s")
}

// BenchmarkLookupParallel reports the throughput of all cores together.
func BenchmarkLookupParallel(b *testing.B) {
	ix, err := New(benchTessellation().entries())
	if err != nil {
		b.Fatal(err)
	}
	pts := benchPoints(ix.Bound(), 1<<16)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		dst := make([]int64, 0, 8)
		n := int(rand.Uint32())
		for pb.Next() {
			dst = ix.Lookup(pts[n&(1<<16-1)], dst[:0])
			n++
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lookups/s")
}
