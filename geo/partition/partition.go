package partition

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/paulmach/orb"
)

// WeightKind selects the weight the band applies to.
type WeightKind int

// The weights a band can apply to.
const (
	Households WeightKind = iota // households at a point (default)
	Residents                    // residents at a point
)

func (k WeightKind) String() string {
	if k == Residents {
		return "residents"
	}
	return "households"
}

// ParseWeightKind parses "households" or "residents".
func ParseWeightKind(s string) (WeightKind, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "households", "household":
		return Households, nil
	case "residents", "resident", "population":
		return Residents, nil
	}
	return 0, fmt.Errorf("partition: unknown weight %q (want households or residents)", s)
}

// Point is one household point: an address that holds one or more
// households (an apartment building can hold hundreds).
type Point struct {
	Loc        orb.Point // lon/lat, WGS84
	Households int
	Residents  int
}

func (p Point) weight(k WeightKind) int64 {
	if k == Residents {
		return int64(p.Residents)
	}
	return int64(p.Households)
}

// Input is a drawing problem.
type Input struct {
	Boundary orb.MultiPolygon // lon/lat, WGS84
	Points   []Point
	Min, Max int        // the band on the chosen weight, inclusive
	Weight   WeightKind // households (default) or residents
	// Barriers are lines (roads, rivers, rail) that grids should not
	// straddle: adjacencies between cells whose sites lie on opposite sides
	// are removed. Where that leaves a part whose weight fits no number of
	// grids, the part joins its neighbour across the barrier (counted in
	// Summary.BarrierRelaxed) unless StrictBarriers is set, in which case
	// Draw reports the part as infeasible.
	Barriers       []orb.LineString
	StrictBarriers bool
	Seed           uint64
	// TimeBudget caps the whole drawing's compactness search, counted from
	// the start of Draw. The search is bounded by a deterministic number of
	// passes; the budget only stops it early on a slow or busy machine, and
	// then the output may depend on timing. Zero means 30 ms + 60 µs per
	// point (0.09 s at 1,000 points, 0.63 s at 10,000, 6 s at 100,000); set
	// a generous budget when the same seed must give the same grids.
	TimeBudget time.Duration
}

// Grid is one drawn grid.
type Grid struct {
	Polygon      orb.Polygon // lon/lat; exterior counter-clockwise, holes clockwise
	Points       []int       // indices into Input.Points
	Households   int
	Residents    int
	Weight       int     // the banded weight (households or residents)
	Area         float64 // square metres
	Perimeter    float64 // metres
	PolsbyPopper float64 // 4πA/P², 1 for a disc
	InBand       bool
}

// Summary holds the metrics of a result.
type Summary struct {
	Grids       int
	InBand      int
	PctInBand   float64
	MinPP       float64
	MeanPP      float64
	Points      int // input points
	Sites       int // distinct locations after merging duplicates
	Merged      int // points merged into a site at the same location
	Outside     int // points outside the boundary, dropped
	Components  int // connected components (after barriers)
	BarrierCuts int // adjacencies removed because a barrier separates them
	// BarrierRelaxed counts barrier adjacencies allowed again because the
	// part they bound could not hold a number of grids on its own.
	BarrierRelaxed int
	Moves          int // local-search moves of single cells
	Redrawn        int // pairs of adjacent grids re-drawn by merge-split
	// Repaired counts neighbourhoods re-drawn because bisection alone could
	// not keep every grid in the band (narrow bands, heavy points).
	Repaired   int
	EmptyAreas int // parts of the boundary without any household
	Elapsed    time.Duration
}

// Result is a drawing: grids that tile the boundary.
type Result struct {
	Grids []Grid // ordered west→east within rows, rows north→south
	// Empty holds parts of the boundary that have no household point and no
	// neighbour to join (for example an island of a multipolygon).
	Empty   []orb.Polygon
	Outside []int // indices of points outside the boundary
	Summary Summary
}

// minAdjacency is the shortest shared edge (metres) that counts as rook
// adjacency.
const minAdjacency = 1e-3

// Draw divides in.Boundary into grids. It returns an *InfeasibleError
// (errors.Is(err, ErrInfeasible)) when some component cannot be drawn in
// the band.
func Draw(ctx context.Context, in Input) (*Result, error) {
	t0 := time.Now()
	if in.Min <= 0 || in.Max < in.Min {
		return nil, errInvalidBand
	}
	if len(in.Boundary) == 0 {
		return nil, errInvalidBoundary
	}
	for i, p := range in.Points {
		if p.Households < 0 || p.Residents < 0 {
			return nil, fmt.Errorf("%w: point %d has %d households, %d residents", errNegativeWeight, i, p.Households, p.Residents)
		}
	}
	pr := newProjection(in.Boundary.Bound())
	dom, err := newDomain(in.Boundary, pr)
	if err != nil {
		return nil, err
	}
	res := &Result{}
	res.Summary.Points = len(in.Points)
	st := collectSites(in, pr, dom, res)
	if len(st.pos) == 0 {
		return nil, errNoPoints
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	cl, err := buildCells(dom, st.pos, st.anchor)
	for try := 1; errors.Is(err, errTopology) && try <= 2; try++ {
		// a degenerate configuration defeated floating point: move the
		// sites by a few millimetres and build the cells again
		st.rejitter(uint64(try), 5e-3*float64(try))
		cl, err = buildCells(dom, st.pos, st.anchor)
	}
	if err != nil {
		return nil, err
	}
	g := buildGraph(cl, st, in.Barriers, pr)
	res.Summary.BarrierCuts = g.barrierCuts
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	comps, empty, relaxed := g.components(int64(in.Min), int64(in.Max), in.StrictBarriers)
	res.Summary.BarrierRelaxed = relaxed
	res.Summary.Components = len(comps)
	if err := checkFeasible(in, g, st, comps, pr); err != nil {
		return nil, err
	}
	sp := newSplitter(g, int64(in.Min), int64(in.Max), in.Seed)
	for ci, comp := range comps {
		if err := sp.splitComponent(ctx, comp); err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			at := comp[0]
			if sp.failNode >= 0 {
				at = sp.failNode
			}
			points := 0
			for _, v := range comp {
				if int(v) < len(st.members) {
					points += len(st.members[v])
				}
			}
			return nil, &InfeasibleError{Min: in.Min, Max: in.Max, Weight: in.Weight, Items: []Infeasibility{{
				Reason: ReasonNoSplit, Component: ci, Point: -1, Points: points, Weight: int(g.sumWeight(comp)),
				KMin: int(ceilDiv(g.sumWeight(comp), int64(in.Max))), KMax: int(g.sumWeight(comp) / int64(in.Min)),
				Location: pr.inv(g.pos[at]),
			}}}
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}
	budget := in.TimeBudget
	if budget <= 0 {
		budget = 30*time.Millisecond + time.Duration(len(st.pos))*60*time.Microsecond
	}
	sp.compact()
	res.Summary.Repaired = sp.repaired
	deadline := t0.Add(budget)
	res.Summary.Moves = improve(ctx, g, sp.grid, int(sp.ngrids), int64(in.Min), int64(in.Max), deadline)
	for round := 0; round < 2; round++ {
		r := mergeSplit(ctx, g, sp, sp.grid, int(sp.ngrids), deadline)
		res.Summary.Redrawn += r
		res.Summary.Moves += improve(ctx, g, sp.grid, int(sp.ngrids), int64(in.Min), int64(in.Max), deadline)
		if r == 0 {
			break
		}
	}

	grids, err := traceGrids(cl, g, sp.grid, int(sp.ngrids), pr)
	if err != nil {
		return nil, err
	}
	for _, e := range empty {
		res.Empty = append(res.Empty, traceSet(cl, g, e, pr)...)
	}
	res.Summary.EmptyAreas = len(res.Empty)
	for gi := range grids {
		gr := &grids[gi]
		for _, v := range gr.nodes {
			if int(v) < len(st.members) {
				gr.Points = append(gr.Points, st.members[v]...)
				gr.Households += int(st.hh[v])
				gr.Residents += int(st.res[v])
			}
		}
		slices.Sort(gr.Points)
		gr.Weight = gr.Households
		if in.Weight == Residents {
			gr.Weight = gr.Residents
		}
		gr.InBand = gr.Weight >= in.Min && gr.Weight <= in.Max
	}
	orderGrids(grids)
	res.Grids = make([]Grid, len(grids))
	s := &res.Summary
	s.MinPP = math.Inf(1)
	for i := range grids {
		res.Grids[i] = grids[i].Grid
		if grids[i].InBand {
			s.InBand++
		}
		s.MeanPP += grids[i].PolsbyPopper
		s.MinPP = math.Min(s.MinPP, grids[i].PolsbyPopper)
	}
	s.Grids = len(grids)
	if s.Grids > 0 {
		s.MeanPP /= float64(s.Grids)
		s.PctInBand = 100 * float64(s.InBand) / float64(s.Grids)
	} else {
		s.MinPP = 0
	}
	s.Elapsed = time.Since(t0)
	return res, nil
}

func ceilDiv(a, b int64) int64 { return (a + b - 1) / b }

// checkFeasible reports every point above the band and every component
// whose weight no number of grids can hold.
func checkFeasible(in Input, g *graph, st *sites, comps [][]int32, pr projection) error {
	L, U := int64(in.Min), int64(in.Max)
	var items []Infeasibility
	for ci, comp := range comps {
		var W int64
		heavy := comp[0]
		points := 0
		for _, v := range comp {
			W += g.w[v]
			if g.w[v] > g.w[heavy] {
				heavy = v
			}
			if int(v) < len(st.members) {
				points += len(st.members[v])
			}
		}
		for _, v := range comp {
			if g.w[v] > U {
				items = append(items, Infeasibility{
					Reason: ReasonHeavyPoint, Component: ci, Point: st.members[v][0], Points: len(st.members[v]),
					Weight: int(g.w[v]), KMin: int(ceilDiv(g.w[v], U)), KMax: int(g.w[v] / L),
					Location: in.Points[st.members[v][0]].Loc,
				})
			}
		}
		kmin, kmax := ceilDiv(W, U), W/L
		if kmin > kmax {
			r := ReasonNoCount
			if W < L {
				r = ReasonBelowMin
			}
			loc := pr.inv(g.pos[heavy])
			if int(heavy) < len(st.members) {
				loc = in.Points[st.members[heavy][0]].Loc
			}
			items = append(items, Infeasibility{
				Reason: r, Component: ci, Point: -1, Points: points, Weight: int(W),
				KMin: int(kmin), KMax: int(kmax), Location: loc,
			})
		}
	}
	if len(items) > 0 {
		return &InfeasibleError{Min: in.Min, Max: in.Max, Weight: in.Weight, Items: items}
	}
	return nil
}
