package locate

import (
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paulmach/orb"
)

func TestSet(t *testing.T) {
	sq := func(x, y float64) orb.MultiPolygon {
		return orb.MultiPolygon{{{{x, y}, {x + 1, y}, {x + 1, y + 1}, {x, y + 1}, {x, y}}}}
	}
	type step struct {
		name string
		do   func(s *Set) error
		at   orb.Point
		want []int64
		len  int
	}
	steps := []step{
		{"zero set is empty", func(*Set) error { return nil }, orb.Point{0.5, 0.5}, nil, 0},
		{"upsert into the zero set", func(s *Set) error { return s.Upsert(Entry{ID: 1, Geometry: sq(0, 0)}) }, orb.Point{0.5, 0.5}, []int64{1}, 1},
		{"upsert a neighbour", func(s *Set) error { return s.Upsert(Entry{ID: 2, Geometry: sq(1, 0)}) }, orb.Point{1, 0.5}, []int64{1, 2}, 2},
		{"move entry 1", func(s *Set) error { return s.Upsert(Entry{ID: 1, Geometry: sq(5, 5)}) }, orb.Point{0.5, 0.5}, nil, 2},
		{"entry 1 moved", func(*Set) error { return nil }, orb.Point{5.5, 5.5}, []int64{1}, 2},
		{"bad upsert changes nothing", func(s *Set) error {
			if err := s.Upsert(Entry{ID: 3, Geometry: orb.MultiPolygon{{{{math.NaN(), 0}}}}}); err == nil {
				t.Error("Upsert accepted a NaN")
			}
			return nil
		}, orb.Point{1.5, 0.5}, []int64{2}, 2},
		{"remove", func(s *Set) error {
			if !s.Remove(2) || s.Remove(2) {
				t.Error("Remove(2) twice did not report true, false")
			}
			return nil
		}, orb.Point{1.5, 0.5}, nil, 1},
		{"upsert without geometry", func(s *Set) error { return s.Upsert(Entry{ID: 9}) }, orb.Point{5.5, 5.5}, []int64{1}, 2},
		{"replace", func(s *Set) error {
			return s.Replace([]Entry{{ID: 7, Geometry: sq(0, 0)}, {ID: 8, Geometry: sq(0, 0)}})
		}, orb.Point{0.5, 0.5}, []int64{7, 8}, 2},
		{"bad replace changes nothing", func(s *Set) error {
			if err := s.Replace([]Entry{{ID: 1}, {ID: 1}}); err == nil {
				t.Error("Replace accepted duplicate IDs")
			}
			return nil
		}, orb.Point{0.5, 0.5}, []int64{7, 8}, 2},
	}
	var s Set
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			if err := st.do(&s); err != nil {
				t.Fatal(err)
			}
			if got := s.Lookup(st.at, nil); !slices.Equal(got, st.want) {
				t.Errorf("Lookup(%v) = %v, want %v", st.at, got, st.want)
			}
			id, ok := s.Primary(st.at)
			if ok != (len(st.want) > 0) || ok && id != st.want[0] {
				t.Errorf("Primary(%v) = %d, %v; want the first of %v", st.at, id, ok, st.want)
			}
			if s.Len() != st.len {
				t.Errorf("Len = %d, want %d", s.Len(), st.len)
			}
		})
	}
	if id, _, ok := s.Nearest(orb.Point{3, 3}); !ok || id != 7 {
		t.Errorf("Nearest = %d, %v; want 7", id, ok)
	}
}

// TestSetConcurrent reads while writers replace and edit the index; run it
// with -race. Every answer must come from one consistent snapshot: the
// cells of a tessellation carry IDs 1…n² in one version and 1e6+1… in the
// other, so a point inside the area matches cells of one version only.
func TestSetConcurrent(t *testing.T) {
	ts := tessellation{n: 8, x0: 114.4, y0: 30.5, w: 0.02, h: 0.02, seed: 5, minV: 3, maxV: 20}
	a := ts.entries()
	b := make([]Entry, len(a))
	for i, e := range a {
		b[i] = Entry{ID: e.ID + 1e6, Geometry: e.Geometry}
	}
	s, err := NewSet(a)
	if err != nil {
		t.Fatal(err)
	}
	area := ts.interior()
	var stop atomic.Bool
	var wg sync.WaitGroup
	var reads atomic.Int64
	for r := 0; r < 4; r++ {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(r), 1))
			dst := make([]int64, 0, 8)
			for !stop.Load() {
				p := orb.Point{area.Min[0] + rng.Float64()*(area.Max[0]-area.Min[0]), area.Min[1] + rng.Float64()*(area.Max[1]-area.Min[1])}
				ix := s.Index()
				dst = ix.Lookup(p, dst[:0])
				if len(dst) == 0 || (dst[0] > 1e6) != (dst[len(dst)-1] > 1e6) {
					t.Errorf("Lookup(%v) = %v: not one whole version", p, dst)
					return
				}
				if id, ok := ix.Primary(p); !ok || id != dst[0] {
					t.Errorf("Primary(%v) = %d, %v; Lookup %v", p, id, ok, dst)
					return
				}
				reads.Add(1)
			}
		})
	}
	deadline := time.Now().Add(300 * time.Millisecond)
	writes := 0
	for time.Now().Before(deadline) {
		next := a
		if writes%2 == 0 {
			next = b
		}
		if err := s.Replace(next); err != nil {
			t.Fatal(err)
		}
		// Remove and upsert one cell of the current version: a point of
		// that cell momentarily matches nothing, so only replace the cell
		// with itself.
		e := next[writes%len(next)]
		if err := s.Upsert(e); err != nil {
			t.Fatal(err)
		}
		writes++
	}
	stop.Store(true)
	wg.Wait()
	if s.Len() != len(a) {
		t.Errorf("Len = %d, want %d", s.Len(), len(a))
	}
	t.Logf("%d reads during %d replacements", reads.Load(), writes)
}

func BenchmarkSetUpsert(b *testing.B) {
	es := benchTessellation().entries()
	s, err := NewSet(es)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if err := s.Upsert(es[i%len(es)]); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSetLookup(b *testing.B) {
	s, err := NewSet(benchTessellation().entries())
	if err != nil {
		b.Fatal(err)
	}
	pts := benchPoints(s.Index().Bound(), 1<<16)
	dst := make([]int64, 0, 8)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		dst = s.Lookup(pts[i&(1<<16-1)], dst[:0])
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lookups/s")
}

// TestSetReplaceReuses checks that Replace keeps the prepared polygons of
// unchanged entries and prepares the changed ones afresh.
func TestSetReplaceReuses(t *testing.T) {
	ts := tessellation{n: 4, x0: 114.4, y0: 30.5, w: 0.01, h: 0.01, seed: 6, minV: 10, maxV: 20}
	es := ts.entries()
	es = append(es, Entry{ID: 100, Geometry: orb.MultiPolygon{{}, es[0].Geometry[0], es[5].Geometry[0]}})
	s, err := NewSet(es)
	if err != nil {
		t.Fatal(err)
	}
	before := s.Index().byID()

	next := slices.Clone(es)
	moved := slices.Clone(es[3].Geometry[0][0])
	moved[1][0] += 1e-9 // a nudged vertex is a change
	next[3] = Entry{ID: es[3].ID, Geometry: orb.MultiPolygon{{moved}}}
	next[len(next)-1].Geometry = next[len(next)-1].Geometry[1:] // same polygons, other parts: a change
	if err := s.Replace(next); err != nil {
		t.Fatal(err)
	}
	after := s.Index().byID()
	for _, e := range next {
		changed := e.ID == es[3].ID || e.ID == 100
		for k := range after[e.ID] {
			if reused := after[e.ID][k] == before[e.ID][k]; reused == changed {
				t.Errorf("entry %d polygon %d: reused %v, changed %v", e.ID, k, reused, changed)
			}
		}
	}
	ref := newReference(next)
	for _, p := range benchPoints(ts.interior(), 500) {
		if got, want := s.Lookup(p, nil), ref.lookup(p); !slices.Equal(got, want) {
			t.Fatalf("after Replace, Lookup(%v) = %v, want %v", p, got, want)
		}
	}
}

func BenchmarkSetReplace(b *testing.B) {
	es := benchTessellation().entries()
	for _, tt := range []struct {
		name    string
		changed int
	}{{"Unchanged", 0}, {"TenChanged", 10}, {"AllChanged", len(es)}} {
		b.Run(tt.name, func(b *testing.B) {
			s, err := NewSet(es)
			if err != nil {
				b.Fatal(err)
			}
			// Alternate between two versions that differ in tt.changed
			// entries (a copied geometry compares equal but is a new slice).
			other := slices.Clone(es)
			for i := 0; i < tt.changed; i++ {
				ring := slices.Clone(other[i].Geometry[0][0])
				ring[1][0] += 1e-9
				other[i] = Entry{ID: other[i].ID, Geometry: orb.MultiPolygon{{ring}}}
			}
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				next := es
				if i%2 == 0 {
					next = other
				}
				if err := s.Replace(next); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/replace")
		})
	}
}
