package partition

import (
	"math"
)

// sites are the distinct household locations inside the boundary.
type sites struct {
	keys    [][2]int64 // position in centimetres
	pos     []xy
	anchor  []xy // exact position of the first point
	w       []int64
	hh, res []int64
	members [][]int
}

// collectSites projects the points, drops those outside the boundary and
// merges points at the same place (within 1 cm) into one site. Site
// positions get a deterministic sub-millimetre jitter so that lattice-like
// inputs do not produce exactly co-circular sites.
func collectSites(in Input, pr projection, dom *domain, res *Result) *sites {
	st := &sites{}
	index := make(map[[2]int64]int32, len(in.Points))
	for i, p := range in.Points {
		q := pr.fwd(p.Loc)
		if !finite(q) || !dom.contains(q) {
			res.Outside = append(res.Outside, i)
			continue
		}
		key := [2]int64{int64(math.Round(q.X * 100)), int64(math.Round(q.Y * 100))}
		s, ok := index[key]
		if !ok {
			s = int32(len(st.pos))
			index[key] = s
			st.keys = append(st.keys, key)
			st.pos = append(st.pos, jitter(key, 0, 1e-4))
			st.anchor = append(st.anchor, q)
			st.w = append(st.w, 0)
			st.hh = append(st.hh, 0)
			st.res = append(st.res, 0)
			st.members = append(st.members, nil)
		} else {
			res.Summary.Merged++
		}
		st.w[s] += p.weight(in.Weight)
		st.hh[s] += int64(p.Households)
		st.res[s] += int64(p.Residents)
		st.members[s] = append(st.members[s], i)
	}
	res.Summary.Outside = len(res.Outside)
	res.Summary.Sites = len(st.pos)
	return st
}

// jitter returns the site position for a centimetre key, moved by a
// deterministic pseudo-random offset of at most amp metres per axis.
func jitter(key [2]int64, salt uint64, amp float64) xy {
	h := splitmix(uint64(key[0])*0x9e3779b97f4a7c15 ^ uint64(key[1]) ^ salt<<56)
	jx := (float64(h&0xffff)/0xffff - 0.5) * 2 * amp
	jy := (float64(h>>16&0xffff)/0xffff - 0.5) * 2 * amp
	return xy{float64(key[0])/100 + jx, float64(key[1])/100 + jy}
}

func (st *sites) rejitter(salt uint64, amp float64) {
	for i, k := range st.keys {
		st.pos[i] = jitter(k, salt, amp)
	}
}

func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}
