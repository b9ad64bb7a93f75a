package assign

import (
	"math"

	"github.com/paulmach/orb"
)

// north returns the point d metres north of 116°E 30°N. Points on one
// meridian project to exactly d in the local frame, so hand-computed
// distances are exact.
func north(d float64) orb.Point {
	return orb.Point{116, 30 + d/(earthRadius*math.Pi/180)}
}

func norths(ds ...float64) []orb.Point {
	ps := make([]orb.Point, len(ds))
	for i, d := range ds {
		ps[i] = north(d)
	}
	return ps
}

// bruteForce returns the least total distance over all assignments that
// respect [lo, hi] (hi < 0: unbounded), or +Inf if there is none.
func bruteForce(p Problem, lo, hi int) float64 {
	f := newFrame(p.Clients, p.Servers)
	cs, ss := f.projectAll(p.Clients), f.projectAll(p.Servers)
	n, m := len(cs), len(ss)
	best := math.Inf(1)
	of := make([]int, n)
	loads := make([]int, m)
	var rec func(c int, total float64)
	rec = func(c int, total float64) {
		if total >= best {
			return
		}
		if c == n {
			for _, l := range loads {
				if l < lo || (hi >= 0 && l > hi) {
					return
				}
			}
			best = total
			return
		}
		for j := range m {
			of[c] = j
			loads[j]++
			rec(c+1, total+cs[c].dist(ss[j]))
			loads[j]--
		}
	}
	rec(0, 0)
	return best
}
