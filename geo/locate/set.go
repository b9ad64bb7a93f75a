package locate

import (
	"slices"
	"sync"
	"sync/atomic"

	"github.com/paulmach/orb"
)

// Set is an updatable index for fresh answers: it holds the current Index
// behind an atomic pointer. Readers load the pointer and query an immutable
// snapshot without locking; writers build a new Index copy-on-write and
// swap it in. Writers are serialised among themselves. The zero Set is
// empty and ready to use.
type Set struct {
	mu  sync.Mutex // serialises writers
	cur atomic.Pointer[Index]
}

// NewSet returns a Set holding an index of entries.
func NewSet(entries []Entry) (*Set, error) {
	s := new(Set)
	if err := s.Replace(entries); err != nil {
		return nil, err
	}
	return s, nil
}

// Index returns the current snapshot (nil, an empty index, before the first
// write). A caller that needs several answers from one consistent state
// queries the snapshot.
func (s *Set) Index() *Index { return s.cur.Load() }

// Replace swaps in an index built from entries, discarding every previous
// entry. Entries whose ID and geometry the current index already holds
// keep their prepared polygons, so reloading mostly unchanged grids costs a
// comparison of coordinates rather than a rebuild. On error the current
// index is unchanged.
func (s *Set) Replace(entries []Entry) error {
	ix, err := newIndex(entries, s.cur.Load())
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.cur.Store(ix)
	s.mu.Unlock()
	return nil
}

// Upsert adds e, or replaces the entry with e's ID. Only e's polygons are
// prepared again; those of the other entries are shared with the previous
// index. On error the current index is unchanged.
func (s *Set) Upsert(e Entry) error {
	if err := e.validate(); err != nil {
		return err
	}
	var sc scratch
	fresh := sc.prepareEntry(nil, e)
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.cur.Load()
	polys := make([]*polygon, 0, old.polyCount()+len(fresh))
	polys = old.appendPolygonsExcept(polys, e.ID)
	polys = append(polys, fresh...)
	var ids []int64
	if old != nil {
		ids = old.ids
	}
	if i, found := slices.BinarySearch(ids, e.ID); !found {
		ids = slices.Insert(slices.Clip(ids), i, e.ID)
	}
	s.cur.Store(build(polys, ids))
	return nil
}

// Remove drops the entry with this ID and reports whether it was present.
func (s *Set) Remove(id int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.cur.Load()
	i, found := slices.BinarySearch(old.idList(), id)
	if !found {
		return false
	}
	polys := old.appendPolygonsExcept(make([]*polygon, 0, len(old.polys)), id)
	ids := slices.Delete(slices.Clone(old.ids), i, i+1)
	s.cur.Store(build(polys, ids))
	return true
}

// Lookup queries the current index; see Index.Lookup.
func (s *Set) Lookup(p orb.Point, dst []int64) []int64 { return s.cur.Load().Lookup(p, dst) }

// Primary queries the current index; see Index.Primary.
func (s *Set) Primary(p orb.Point) (id int64, ok bool) { return s.cur.Load().Primary(p) }

// Nearest queries the current index; see Index.Nearest.
func (s *Set) Nearest(p orb.Point) (id int64, distanceMetres float64, ok bool) {
	return s.cur.Load().Nearest(p)
}

// Len returns the number of entries in the current index.
func (s *Set) Len() int { return s.cur.Load().Len() }

func (ix *Index) polyCount() int {
	if ix == nil {
		return 0
	}
	return len(ix.polys)
}

func (ix *Index) idList() []int64 {
	if ix == nil {
		return nil
	}
	return ix.ids
}

// appendPolygonsExcept appends the prepared polygons of every entry but id.
func (ix *Index) appendPolygonsExcept(dst []*polygon, id int64) []*polygon {
	if ix == nil {
		return dst
	}
	for _, pg := range ix.polys {
		if pg.id != id {
			dst = append(dst, pg)
		}
	}
	return dst
}
