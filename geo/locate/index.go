package locate

import (
	"cmp"
	"fmt"
	"runtime"
	"slices"
	"sync"

	"github.com/paulmach/orb"
)

// Index is an immutable point-in-polygon index over a set of entries. All
// methods are safe for concurrent use; a nil *Index is an empty index.
type Index struct {
	polys []*polygon // leaf i of tree is polys[i]
	tree  rtree
	ids   []int64 // every entry ID, ascending (entries without polygons too)
}

// New builds an Index from entries. IDs must be unique and coordinates
// finite. The index keeps its own copy of every coordinate: entries may be
// reused or modified once New returns.
func New(entries []Entry) (*Index, error) { return newIndex(entries, nil) }

// newIndex is New, taking over from reuse the prepared polygons of every
// entry whose ID and geometry it holds unchanged.
func newIndex(entries []Entry, reuse *Index) (*Index, error) {
	ids := make([]int64, 0, len(entries))
	n := 0
	for _, e := range entries {
		if err := e.validate(); err != nil {
			return nil, err
		}
		ids = append(ids, e.ID)
		n += len(e.Geometry)
	}
	slices.Sort(ids)
	for i := 1; i < len(ids); i++ {
		if ids[i] == ids[i-1] {
			return nil, fmt.Errorf("locate: duplicate entry id %d", ids[i])
		}
	}
	return build(prepareAll(entries, n, reuse.byID()), ids), nil
}

// byID groups the polygons of ix by entry, each group in entry order.
func (ix *Index) byID() map[int64][]*polygon {
	if ix == nil || len(ix.polys) == 0 {
		return nil
	}
	m := make(map[int64][]*polygon, len(ix.ids))
	for _, pg := range ix.polys {
		m[pg.id] = append(m[pg.id], pg)
	}
	for _, g := range m {
		if len(g) > 1 {
			slices.SortFunc(g, func(a, b *polygon) int { return cmp.Compare(a.part, b.part) })
		}
	}
	return m
}

// prepareAll prepares the n polygons of entries, spread over the CPUs,
// taking an entry's polygons from reuse when its geometry is unchanged.
func prepareAll(entries []Entry, n int, reuse map[int64][]*polygon) []*polygon {
	workers := min(runtime.GOMAXPROCS(0), len(entries)/256+1)
	parts := make([][]*polygon, workers)
	var wg sync.WaitGroup
	for w := range parts {
		lo, hi := w*len(entries)/workers, (w+1)*len(entries)/workers
		wg.Go(func() {
			var s scratch
			part := make([]*polygon, 0, n/workers+1)
			for _, e := range entries[lo:hi] {
				if old, ok := reuse[e.ID]; ok && unchanged(old, e) {
					part = append(part, old...)
					continue
				}
				part = s.prepareEntry(part, e)
			}
			parts[w] = part
		})
	}
	wg.Wait()
	return slices.Concat(parts...)
}

// prepareEntry appends the prepared polygons of e to dst.
func (s *scratch) prepareEntry(dst []*polygon, e Entry) []*polygon {
	for i, poly := range e.Geometry {
		if pg := s.prepare(e.ID, poly); pg != nil {
			pg.part = int32(i)
			dst = append(dst, pg)
		}
	}
	return dst
}

// unchanged reports whether old, the prepared polygons of an entry with
// e's ID in entry order, were prepared from e's geometry.
func unchanged(old []*polygon, e Entry) bool {
	j := 0
	for i, poly := range e.Geometry {
		if !hasPoints(poly) {
			continue
		}
		if j == len(old) || old[j].part != int32(i) || !old[j].preparedFrom(poly) {
			return false
		}
		j++
	}
	return j == len(old)
}

// build sorts polys (which it takes over) into Hilbert order and packs the
// tree over them.
func build(polys []*polygon, ids []int64) *Index {
	hilbertOrder(polys, func(pg *polygon) orb.Bound { return pg.bound }, func(pg *polygon) int64 { return pg.id })
	leaves := make([]orb.Bound, len(polys))
	for i, pg := range polys {
		leaves[i] = pg.bound
	}
	return &Index{polys: polys, tree: buildTree(leaves), ids: ids}
}

// Len returns the number of entries in the index.
func (ix *Index) Len() int {
	if ix == nil {
		return 0
	}
	return len(ix.ids)
}

// Has reports whether the index holds an entry with this ID.
func (ix *Index) Has(id int64) bool {
	if ix == nil {
		return false
	}
	_, ok := slices.BinarySearch(ix.ids, id)
	return ok
}

// Bound returns the bounding box of every indexed polygon (the zero Bound
// for an empty index).
func (ix *Index) Bound() orb.Bound {
	if ix == nil || len(ix.tree.boxes) == 0 {
		return orb.Bound{}
	}
	return ix.tree.boxes[len(ix.tree.boxes)-1]
}

// Lookup appends to dst the IDs of all entries whose geometry intersects p
// (inside or on the boundary), each once and in ascending order, so the
// first appended ID is the Primary one. It does not allocate when dst has
// room for the matches.
func (ix *Index) Lookup(p orb.Point, dst []int64) []int64 {
	if ix == nil {
		return dst
	}
	start := len(dst)
	ix.tree.search(p[0], p[1], func(leaf int) {
		pg := ix.polys[leaf]
		if slices.Contains(dst[start:], pg.id) || !pg.contains(p[0], p[1]) {
			return
		}
		// Insert in ascending order; matches are few.
		dst = append(dst, pg.id)
		for i := len(dst) - 1; i > start && dst[i] < dst[i-1]; i-- {
			dst[i], dst[i-1] = dst[i-1], dst[i]
		}
	})
	return dst
}

// Primary returns the entry p belongs to: the lowest ID among all entries
// whose geometry intersects p, or ok == false when there is none.
func (ix *Index) Primary(p orb.Point) (id int64, ok bool) {
	if ix == nil {
		return 0, false
	}
	ix.tree.search(p[0], p[1], func(leaf int) {
		pg := ix.polys[leaf]
		if (!ok || pg.id < id) && pg.contains(p[0], p[1]) {
			id, ok = pg.id, true
		}
	})
	return id, ok
}
