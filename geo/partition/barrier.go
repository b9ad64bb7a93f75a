package partition

import (
	"math"

	"github.com/paulmach/orb"
)

// barrierIndex is a uniform grid of barrier segments.
type barrierIndex struct {
	min    xy
	cell   float64
	nx, ny int
	bins   [][]int32
	segs   [][2]xy
}

func newBarrierIndex(ls []orb.LineString, pr projection) *barrierIndex {
	var segs [][2]xy
	mn, mx := xy{math.Inf(1), math.Inf(1)}, xy{math.Inf(-1), math.Inf(-1)}
	for _, l := range ls {
		for i := 0; i+1 < len(l); i++ {
			a, b := pr.fwd(l[i]), pr.fwd(l[i+1])
			if !finite(a) || !finite(b) || a == b {
				continue
			}
			segs = append(segs, [2]xy{a, b})
			for _, p := range []xy{a, b} {
				mn = xy{math.Min(mn.X, p.X), math.Min(mn.Y, p.Y)}
				mx = xy{math.Max(mx.X, p.X), math.Max(mx.Y, p.Y)}
			}
		}
	}
	if len(segs) == 0 {
		return nil
	}
	ext := math.Max(mx.X-mn.X, mx.Y-mn.Y) + 1
	n := int(math.Sqrt(float64(len(segs)))) + 1
	n = min(n, 512)
	bi := &barrierIndex{min: mn, cell: ext / float64(n), nx: n, ny: n, segs: segs}
	bi.bins = make([][]int32, n*n)
	for k, s := range segs {
		x0, y0 := bi.bin(xy{math.Min(s[0].X, s[1].X), math.Min(s[0].Y, s[1].Y)})
		x1, y1 := bi.bin(xy{math.Max(s[0].X, s[1].X), math.Max(s[0].Y, s[1].Y)})
		for x := x0; x <= x1; x++ {
			for y := y0; y <= y1; y++ {
				bi.bins[y*n+x] = append(bi.bins[y*n+x], int32(k))
			}
		}
	}
	return bi
}

func (bi *barrierIndex) bin(p xy) (int, int) {
	x := int((p.X - bi.min.X) / bi.cell)
	y := int((p.Y - bi.min.Y) / bi.cell)
	return min(max(x, 0), bi.nx-1), min(max(y, 0), bi.ny-1)
}

// crosses reports whether segment ab properly crosses a barrier segment.
func (bi *barrierIndex) crosses(a, b xy) bool {
	x0, y0 := bi.bin(xy{math.Min(a.X, b.X), math.Min(a.Y, b.Y)})
	x1, y1 := bi.bin(xy{math.Max(a.X, b.X), math.Max(a.Y, b.Y)})
	for x := x0; x <= x1; x++ {
		for y := y0; y <= y1; y++ {
			for _, k := range bi.bins[y*bi.nx+x] {
				s := bi.segs[k]
				if segmentsCross(a, b, s[0], s[1]) {
					return true
				}
			}
		}
	}
	return false
}

func segmentsCross(a, b, c, d xy) bool {
	o1, o2 := orient(a, b, c), orient(a, b, d)
	o3, o4 := orient(c, d, a), orient(c, d, b)
	return ((o1 > 0) != (o2 > 0)) && ((o3 > 0) != (o4 > 0)) && o1 != 0 && o2 != 0 && o3 != 0 && o4 != 0
}
