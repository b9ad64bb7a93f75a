package locate

import (
	"cmp"
	"math"
	"slices"

	"github.com/paulmach/orb"
)

// nodeSize is the fan-out of the packed R-tree.
const nodeSize = 16

// rtree is a static packed R-tree over boxes given in Hilbert order. All
// levels live in one flat slice, leaves first: level l occupies
// boxes[levels[l]:levels[l+1]], and the children of node i of level l > 0
// are nodes nodeSize·i … nodeSize·i+nodeSize−1 of level l−1. Leaf i is item
// i of the caller's slice.
type rtree struct {
	boxes  []orb.Bound
	levels []int32
}

// buildTree packs leaves (already sorted) into a tree. A non-empty tree
// always has at least one level above the leaves.
func buildTree(leaves []orb.Bound) rtree {
	if len(leaves) == 0 {
		return rtree{}
	}
	total, count := len(leaves), len(leaves)
	for {
		count = (count + nodeSize - 1) / nodeSize
		total += count
		if count == 1 {
			break
		}
	}
	t := rtree{boxes: make([]orb.Bound, total)}
	copy(t.boxes, leaves)
	t.levels = append(t.levels, 0, int32(len(leaves)))
	for lo, hi := 0, len(leaves); hi-lo > 1 || len(t.levels) == 2; {
		next := hi
		for i := lo; i < hi; i += nodeSize {
			b := t.boxes[i]
			for _, c := range t.boxes[i+1 : min(i+nodeSize, hi)] {
				b = union(b, c)
			}
			t.boxes[next] = b
			next++
		}
		lo, hi = hi, next
		t.levels = append(t.levels, int32(hi))
	}
	return t
}

func union(a, b orb.Bound) orb.Bound {
	return orb.Bound{
		Min: orb.Point{math.Min(a.Min[0], b.Min[0]), math.Min(a.Min[1], b.Min[1])},
		Max: orb.Point{math.Max(a.Max[0], b.Max[0]), math.Max(a.Max[1], b.Max[1])},
	}
}

// search calls visit with every leaf whose box contains (x, y), in tree
// order. visit must not retain anything; search itself never allocates.
func (t *rtree) search(x, y float64, visit func(leaf int)) {
	top := len(t.levels) - 2
	if top < 1 || !boxContains(&t.boxes[len(t.boxes)-1], x, y) {
		return
	}
	// A stack of nodes known to contain the point, as level<<32 | index
	// within the level; a full path needs at most nodeSize per level.
	var buf [nodeSize * 8]uint64
	stack := append(buf[:0], uint64(top)<<32)
	for len(stack) > 0 {
		v := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		l, i := int(v>>32), int(uint32(v))
		base := int(t.levels[l-1])
		lo := base + i*nodeSize
		hi := min(lo+nodeSize, int(t.levels[l]))
		if l == 1 {
			for c := lo; c < hi; c++ {
				if boxContains(&t.boxes[c], x, y) {
					visit(c)
				}
			}
			continue
		}
		for c := hi - 1; c >= lo; c-- { // pushed in reverse: popped in order
			if boxContains(&t.boxes[c], x, y) {
				stack = append(stack, uint64(l-1)<<32|uint64(c-base))
			}
		}
	}
}

// boxContains reports whether (x, y) is in b, borders included.
func boxContains(b *orb.Bound, x, y float64) bool {
	return x >= b.Min[0] && x <= b.Max[0] && y >= b.Min[1] && y <= b.Max[1]
}

// hilbertOrder sorts items by the Hilbert value of their box centres over
// the extent of all boxes (ties by key, for a deterministic layout).
func hilbertOrder[T any](items []T, box func(T) orb.Bound, key func(T) int64) {
	if len(items) < 2 {
		return
	}
	ext := box(items[0])
	for _, it := range items[1:] {
		ext = union(ext, box(it))
	}
	const side = 1<<16 - 1
	w, h := ext.Max[0]-ext.Min[0], ext.Max[1]-ext.Min[1]
	type keyed struct {
		h   uint32
		key int64
		it  T
	}
	ks := make([]keyed, len(items))
	for i, it := range items {
		b := box(it)
		var hx, hy uint32
		if w > 0 {
			hx = uint32(side * ((b.Min[0]+b.Max[0])/2 - ext.Min[0]) / w)
		}
		if h > 0 {
			hy = uint32(side * ((b.Min[1]+b.Max[1])/2 - ext.Min[1]) / h)
		}
		ks[i] = keyed{hilbert(hx, hy), key(it), it}
	}
	slices.SortFunc(ks, func(a, b keyed) int {
		if c := cmp.Compare(a.h, b.h); c != 0 {
			return c
		}
		return cmp.Compare(a.key, b.key)
	})
	for i := range ks {
		items[i] = ks[i].it
	}
}

// hilbert returns the index of (x, y) on a Hilbert curve over a 2^16 × 2^16
// grid (the branch-free method of "Fast Hilbert curve generation", Rawrunprotected).
func hilbert(x, y uint32) uint32 {
	a := x ^ y
	b := 0xFFFF ^ a
	c := 0xFFFF ^ (x | y)
	d := x & (y ^ 0xFFFF)

	A := a | (b >> 1)
	B := (a >> 1) ^ a
	C := ((c >> 1) ^ (b & (d >> 1))) ^ c
	D := ((a & (c >> 1)) ^ (d >> 1)) ^ d

	a, b, c, d = A, B, C, D
	A = (a & (a >> 2)) ^ (b & (b >> 2))
	B = (a & (b >> 2)) ^ (b & ((a ^ b) >> 2))
	C ^= (a & (c >> 2)) ^ (b & (d >> 2))
	D ^= (b & (c >> 2)) ^ ((a ^ b) & (d >> 2))

	a, b, c, d = A, B, C, D
	A = (a & (a >> 4)) ^ (b & (b >> 4))
	B = (a & (b >> 4)) ^ (b & ((a ^ b) >> 4))
	C ^= (a & (c >> 4)) ^ (b & (d >> 4))
	D ^= (b & (c >> 4)) ^ ((a ^ b) & (d >> 4))

	a, b, c, d = A, B, C, D
	C ^= (a & (c >> 8)) ^ (b & (d >> 8))
	D ^= (b & (c >> 8)) ^ ((a ^ b) & (d >> 8))

	a = C ^ (C >> 1)
	b = D ^ (D >> 1)

	i0 := x ^ y
	i1 := b | (0xFFFF ^ (i0 | a))

	i0 = (i0 | (i0 << 8)) & 0x00FF00FF
	i0 = (i0 | (i0 << 4)) & 0x0F0F0F0F
	i0 = (i0 | (i0 << 2)) & 0x33333333
	i0 = (i0 | (i0 << 1)) & 0x55555555

	i1 = (i1 | (i1 << 8)) & 0x00FF00FF
	i1 = (i1 | (i1 << 4)) & 0x0F0F0F0F
	i1 = (i1 | (i1 << 2)) & 0x33333333
	i1 = (i1 | (i1 << 1)) & 0x55555555

	return (i1 << 1) | i0
}
