package partition

import (
	"context"
	"slices"
)

// repair re-draws neighbourhoods of grids outside the band. For each such
// grid a, the grids within 1, 2, … 4 adjacency steps of a are merged and
// drawn again by bisection (without forcing); the first neighbourhood that
// draws cleanly replaces the old grids. It reports whether every grid of
// comp ends inside the band.
func (s *splitter) repair(ctx context.Context, comp []int32) bool {
	g := s.g
	members := map[int32][]int32{}
	for _, v := range comp {
		members[s.grid[v]] = append(members[s.grid[v]], v)
	}
	weight := func(id int32) int64 { return g.sumWeight(members[id]) }
	bad := func(id int32) bool {
		w := weight(id)
		return len(members[id]) > 0 && (w < s.L || w > s.U)
	}
	neighbours := func(ids []int32) []int32 {
		var out []int32
		for _, id := range ids {
			for _, v := range members[id] {
				for e := g.adjStart[v]; e < g.adjStart[v+1]; e++ {
					if b := s.grid[g.adj[e]]; g.ok[e] && b != id && !slices.Contains(ids, b) && !slices.Contains(out, b) {
						out = append(out, b)
					}
				}
			}
		}
		slices.Sort(out)
		return out
	}
	for round := 0; round < 4; round++ {
		var badIDs []int32
		for id := range members {
			if bad(id) {
				badIDs = append(badIDs, id)
			}
		}
		if len(badIDs) == 0 {
			return true
		}
		slices.Sort(badIDs)
		for _, a := range badIDs {
			if ctx.Err() != nil {
				return false
			}
			if !bad(a) {
				continue
			}
			region := []int32{a}
			for radius := 1; radius <= 4; radius++ {
				region = append(region, neighbours(region)...)
				var nodes []int32
				for _, id := range region {
					nodes = append(nodes, members[id]...)
				}
				if _, ok := s.chooseK(g.sumWeight(nodes)); !ok {
					continue
				}
				g0 := s.ngrids
				if err := s.splitOnce(ctx, slices.Clone(nodes), false); err != nil {
					for _, id := range region {
						for _, v := range members[id] {
							s.grid[v] = id
						}
					}
					s.ngrids = g0
					continue
				}
				s.repaired++
				for _, id := range region {
					delete(members, id)
				}
				for _, v := range nodes {
					members[s.grid[v]] = append(members[s.grid[v]], v)
				}
				break
			}
		}
	}
	ids := make([]int32, 0, len(members))
	for id := range members {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		if bad(id) {
			s.failNode = members[id][0]
			return false
		}
	}
	return true
}

// compact renumbers the grid ids in use to 0..n-1, in order of first use.
func (s *splitter) compact() {
	re := make(map[int32]int32)
	for v, id := range s.grid {
		if id < 0 {
			continue
		}
		n, ok := re[id]
		if !ok {
			n = int32(len(re))
			re[id] = n
		}
		s.grid[v] = n
	}
	s.ngrids = int32(len(re))
}
