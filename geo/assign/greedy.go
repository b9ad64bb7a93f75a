package assign

// Greedy is the baseline: each client in input order goes to the nearest
// server (among its K nearest, then among all) that has not reached Max.
// It ignores Min, so some servers may end below it. It fails with the
// same *InfeasibleError as Solve when the counts are impossible.
func Greedy(p Problem) (Result, error) {
	lo, hi, spanMax, k, err := p.validate()
	if err != nil {
		return Result{}, err
	}
	n, m := len(p.Clients), len(p.Servers)
	res := Result{ServerOf: make([]int, n), Dist: make([]float64, n), Loads: make([]int, m), Min: lo, Max: spanMax, K: k}
	if n == 0 {
		return res, nil
	}
	f := newFrame(p.Clients, p.Servers)
	servers := f.projectAll(p.Servers)
	index := newGrid(servers)
	var buf []cand
	for c, q := range p.Clients {
		cp := f.project(q)
		best := cand{-1, 0}
		buf = index.nearest(cp, k, buf)
		for _, cd := range buf {
			if res.Loads[cd.i] < hi {
				best = cd
				break
			}
		}
		if best.i < 0 { // all K nearest are full: look at every server
			for j, sp := range servers {
				cd := cand{int32(j), cp.dist(sp)}
				if res.Loads[j] < hi && (best.i < 0 || cd.less(best)) {
					best = cd
				}
			}
		}
		res.ServerOf[c] = int(best.i)
		res.Dist[c] = best.d
		res.Loads[best.i]++
		res.Total += best.d
	}
	return res, nil
}
