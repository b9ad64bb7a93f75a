// Package drawjob draws the grids of units stored in the database: it reads each village or
// community (its boundary without the grids kept fixed, its households, the band in force),
// runs partition.Draw, and turns the result into a proposal — grids with the codes they
// would get, metrics, and the households whose grid would change — that can be applied in
// one transaction. Run does one drawing synchronously (the CLI); a Registry runs drawings
// as background jobs with progress (the HTTP API).
package drawjob

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
	"github.com/paulmach/orb/planar"

	"gridmap/geo"
	"gridmap/geo/partition"
	"gridmap/geo/store"
)

// Store is what drawing needs of the database; *store.Store implements it.
type Store interface {
	DrawScope(ctx context.Context, unit string, keep []string) ([]string, error)
	LoadDrawUnit(ctx context.Context, code string, keep []string) (*store.DrawUnit, error)
	ApplyDraw(ctx context.Context, plans []store.DrawApply, by string) (*store.AppliedDraw, error)
}

var _ Store = (*store.Store)(nil)

// Request is one drawing: a village/community, or a township/street whose villages and
// communities are each drawn.
type Request struct {
	Unit string
	// Min and Max bound each grid's weight; 0 takes the unit's span policy.
	Min, Max int
	Weight   partition.WeightKind
	Barriers []orb.LineString
	// StrictBarriers reports parts too small for a grid of their own instead of letting a
	// grid cross the barrier (see partition.Input).
	StrictBarriers bool
	Keep           []string // grid codes kept as they are
	Seed           uint64
	TimeBudget     time.Duration // per unit; 0: partition's default
}

// State is a job's state.
type State string

// The states of a drawing.
const (
	Running    State = "running"
	Done       State = "done"
	Failed     State = "failed"
	Infeasible State = "infeasible"
)

// Result is a finished drawing.
type Result struct {
	Request Request
	Units   []*UnitProposal
	Elapsed time.Duration
}

// UnitProposal is the drawing of one village or community.
type UnitProposal struct {
	Unit, Name  string
	Min, Max    int
	Fingerprint string   // of the unit's grids when read; apply refuses a different one
	Keep        []string // kept grids of this unit
	// Skipped says why the unit was not drawn (no households outside the kept grids);
	// its grids stay as they are.
	Skipped    string
	Grids      []Grid
	Summary    partition.Summary
	Households int // households drawn
	Changes    []Change
	// Infeasible is partition's report when the band cannot be met.
	Infeasible *partition.InfeasibleError
	heavy      map[int]int64 // household id of each heavy point of the report
}

// Grid is one proposed grid.
type Grid struct {
	Code       string // the code it gets when applied
	Seq        int    // 1… within the unit, west→east, north→south
	Area       orb.MultiPolygon
	Households int
	Residents  int
	Points     int
	Weight     int
	AreaM2     float64
	PP         float64 // Polsby-Popper
	InBand     bool
}

// Change is a household whose grid would change: From is its grid now ("" for none), To
// the proposed grid ("" when it lies outside the unit's boundary and no grid takes it).
// New grids get new codes (codes are never reused), so each proposed grid is matched with
// the current grid most of its households come from; households that stay with that
// majority are not listed.
type Change struct {
	ID         int64  `json:"id"`
	ExternalID string `json:"external_id"`
	From       string `json:"from"`
	To         string `json:"to"`
}

// Metrics sum up a drawing.
type Metrics struct {
	Units      int     `json:"units"`
	Grids      int     `json:"grids"`
	InBand     int     `json:"in_band"`
	PctInBand  float64 `json:"pct_in_band"`
	MinPP      float64 `json:"pp_min"`
	MeanPP     float64 `json:"pp_mean"`
	Households int     `json:"households"`
	Changed    int     `json:"households_changed"`
	Outside    int     `json:"households_outside"`
	Seconds    float64 `json:"seconds"`
}

// Progress receives a job's progress (0–1) and what it is doing.
type Progress func(fraction float64, stage string)

// Run draws req over units (from Store.DrawScope). Units whose band cannot be met get
// their partition report (Result.State is then Infeasible); other failures are errors.
func Run(ctx context.Context, st Store, req Request, units []string, progress Progress) (*Result, error) {
	t0 := time.Now()
	if progress == nil {
		progress = func(float64, string) {}
	}
	res := &Result{Request: req}
	n := float64(len(units))
	for i, code := range units {
		at := func(f float64) float64 { return (float64(i) + f) / n }
		progress(at(0), "reading "+code)
		u, err := st.LoadDrawUnit(ctx, code, req.Keep)
		if err != nil {
			return nil, fmt.Errorf("drawjob: %w", err)
		}
		progress(at(0.1), "drawing "+code)
		p, err := drawUnit(ctx, req, u)
		if err != nil {
			return nil, err
		}
		res.Units = append(res.Units, p)
		progress(at(1), "drawn "+code)
	}
	res.Elapsed = time.Since(t0)
	return res, nil
}

func drawUnit(ctx context.Context, req Request, u *store.DrawUnit) (*UnitProposal, error) {
	p := &UnitProposal{Unit: u.Code, Name: u.Name, Fingerprint: u.Fingerprint, Keep: u.Keep, Min: req.Min, Max: req.Max,
		Households: len(u.Households), Changes: []Change{}}
	lo, hi := u.HouseholdsMin, u.HouseholdsMax
	if req.Weight == partition.Residents {
		lo, hi = u.ResidentsMin, u.ResidentsMax
	}
	if p.Min == 0 {
		p.Min = lo
	}
	if p.Max == 0 {
		p.Max = hi
	}
	if p.Max < p.Min {
		return nil, geo.Invalid("max", fmt.Sprintf("max %d is below min %d for unit %s (its policy gives %d–%d)", p.Max, p.Min, u.Code, lo, hi))
	}
	if len(u.Households) == 0 {
		p.Skipped = "no households outside the kept grids"
		return p, nil
	}
	in := partition.Input{Boundary: u.Boundary, Min: p.Min, Max: p.Max, Weight: req.Weight, Barriers: req.Barriers,
		StrictBarriers: req.StrictBarriers, Seed: req.Seed, TimeBudget: req.TimeBudget, Points: make([]partition.Point, len(u.Households))}
	for i, h := range u.Households {
		in.Points[i] = partition.Point{Loc: h.Loc, Households: 1, Residents: h.Residents}
	}
	out, err := partition.Draw(ctx, in)
	var inf *partition.InfeasibleError
	if errors.As(err, &inf) {
		p.Infeasible = inf
		p.heavy = map[int]int64{}
		for _, it := range inf.Items {
			if it.Point >= 0 && it.Point < len(u.Households) {
				p.heavy[it.Point] = u.Households[it.Point].ID
			}
		}
		return p, nil
	}
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("drawjob: unit %s: %w", u.Code, ctx.Err())
		}
		return nil, fmt.Errorf("drawjob: unit %s: %w", u.Code, err)
	}
	p.Summary = out.Summary
	for gi, g := range out.Grids {
		code, err := geo.GridCode(u.Code, u.NextSeq+gi)
		if err != nil {
			return nil, err
		}
		p.Grids = append(p.Grids, Grid{Code: code, Seq: gi + 1, Area: orb.MultiPolygon{g.Polygon}, Households: g.Households,
			Residents: g.Residents, Points: len(g.Points), Weight: g.Weight, AreaM2: g.Area, PP: g.PolsbyPopper, InBand: g.InBand})
	}
	// Parts without households (islands) join the nearest grid, so the proposal still
	// covers the whole boundary.
	for _, e := range out.Empty {
		if len(p.Grids) == 0 {
			break
		}
		c, _ := planar.CentroidArea(e)
		best, bestD := 0, math.Inf(1)
		for gi, g := range p.Grids {
			if d := planar.DistanceFrom(g.Area, c); d < bestD {
				best, bestD = gi, d
			}
		}
		p.Grids[best].Area = append(p.Grids[best].Area, e)
	}
	p.Changes = changes(u, out)
	return p, nil
}

// changes lists the households whose grid would change (see Change).
func changes(u *store.DrawUnit, out *partition.Result) []Change {
	to := make([]int, len(u.Households))
	for i := range to {
		to[i] = -1
	}
	pred := make([]string, len(out.Grids))
	for gi, g := range out.Grids {
		count := map[string]int{}
		for _, pi := range g.Points {
			to[pi] = gi
			if old := u.Households[pi].Grid; old != "" {
				count[old]++
			}
		}
		for code, n := range count {
			if n > count[pred[gi]] || n == count[pred[gi]] && code < pred[gi] {
				pred[gi] = code
			}
		}
	}
	cs := []Change{}
	for i, h := range u.Households {
		c := Change{ID: h.ID, ExternalID: h.ExternalID, From: h.Grid}
		if to[i] >= 0 {
			if pred[to[i]] != "" && pred[to[i]] == h.Grid {
				continue
			}
			c.To = codeOf(u, to[i])
		}
		cs = append(cs, c)
	}
	return cs
}

func codeOf(u *store.DrawUnit, gi int) string {
	code, _ := geo.GridCode(u.Code, u.NextSeq+gi)
	return code
}

// State is Infeasible when some unit's band cannot be met, else Done.
func (r *Result) State() State {
	for _, u := range r.Units {
		if u.Infeasible != nil {
			return Infeasible
		}
	}
	return Done
}

// Metrics sums up the drawing over its units.
func (r *Result) Metrics() Metrics {
	m := Metrics{Units: len(r.Units), Seconds: math.Round(r.Elapsed.Seconds()*1000) / 1000}
	sumPP := 0.0
	m.MinPP = math.Inf(1)
	for _, u := range r.Units {
		m.Households += u.Households
		m.Changed += len(u.Changes)
		m.Outside += u.Summary.Outside
		for _, g := range u.Grids {
			m.Grids++
			if g.InBand {
				m.InBand++
			}
			sumPP += g.PP
			m.MinPP = math.Min(m.MinPP, g.PP)
		}
	}
	if m.Grids > 0 {
		m.PctInBand = round(100*float64(m.InBand)/float64(m.Grids), 2)
		m.MeanPP = round(sumPP/float64(m.Grids), 4)
		m.MinPP = round(m.MinPP, 4)
	} else {
		m.MinPP = 0
	}
	return m
}

func round(v float64, digits int) float64 {
	k := math.Pow(10, float64(digits))
	return math.Round(v*k) / k
}

// FeatureCollection is the proposal as GeoJSON: one feature per grid with properties
// code, unit, grid (sequence in the unit), households, residents, points, polsby_popper,
// area_m2 and in_band.
func (r *Result) FeatureCollection() *geojson.FeatureCollection {
	fc := geojson.NewFeatureCollection()
	for _, u := range r.Units {
		for _, g := range u.Grids {
			var geom orb.Geometry = g.Area
			if len(g.Area) == 1 {
				geom = g.Area[0]
			}
			f := geojson.NewFeature(geom)
			f.ID = g.Code
			f.Properties = geojson.Properties{
				"code": g.Code, "unit": u.Unit, "grid": g.Seq, "households": g.Households, "residents": g.Residents,
				"points": g.Points, "polsby_popper": round(g.PP, 4), "area_m2": math.Round(g.AreaM2), "in_band": g.InBand,
			}
			fc.Append(f)
		}
	}
	return fc
}

// Changes lists the households whose grid would change, over all units.
func (r *Result) Changes() []Change {
	cs := []Change{}
	for _, u := range r.Units {
		cs = append(cs, u.Changes...)
	}
	return cs
}

// InfeasibleReport is partition's report of the units whose band cannot be met.
type InfeasibleReport struct {
	Units []InfeasibleUnit `json:"units"`
}

// InfeasibleUnit is one unit's report.
type InfeasibleUnit struct {
	Unit    string             `json:"unit"`
	Min     int                `json:"min"`
	Max     int                `json:"max"`
	Weight  string             `json:"weight"`
	Message string             `json:"message"`
	Items   []InfeasibleDetail `json:"items"`
}

// InfeasibleDetail is one part of a unit that no grid in the band can hold.
type InfeasibleDetail struct {
	Reason    string     `json:"reason"`
	Component int        `json:"component"`
	Points    int        `json:"points"`
	Weight    int        `json:"weight"`
	KMin      int        `json:"k_min"` // ⌈weight/max⌉
	KMax      int        `json:"k_max"` // ⌊weight/min⌋
	Location  [2]float64 `json:"location"`
	Household int64      `json:"household,omitempty"` // the heavy point's household
	Message   string     `json:"message"`
}

// Report returns the infeasibility report, or nil when every unit was drawn.
func (r *Result) Report() *InfeasibleReport {
	var rep *InfeasibleReport
	for _, u := range r.Units {
		if u.Infeasible == nil {
			continue
		}
		if rep == nil {
			rep = &InfeasibleReport{}
		}
		e := u.Infeasible
		iu := InfeasibleUnit{Unit: u.Unit, Min: e.Min, Max: e.Max, Weight: e.Weight.String(), Message: e.Error()}
		for _, it := range e.Items {
			iu.Items = append(iu.Items, InfeasibleDetail{Reason: string(it.Reason), Component: it.Component, Points: it.Points,
				Weight: it.Weight, KMin: it.KMin, KMax: it.KMax, Location: [2]float64{it.Location[0], it.Location[1]},
				Household: u.heavy[it.Point], Message: it.String()})
		}
		rep.Units = append(rep.Units, iu)
	}
	return rep
}

// Plans turns a result into what Store.ApplyDraw writes; skipped units are left alone.
func (r *Result) Plans() []store.DrawApply {
	var plans []store.DrawApply
	for _, u := range r.Units {
		if u.Skipped != "" || u.Infeasible != nil {
			continue
		}
		p := store.DrawApply{Unit: u.Unit, Fingerprint: u.Fingerprint, Keep: u.Keep}
		if p.Keep == nil {
			p.Keep = []string{}
		}
		for _, g := range u.Grids {
			p.Grids = append(p.Grids, g.Area)
		}
		plans = append(plans, p)
	}
	slices.SortFunc(plans, func(a, b store.DrawApply) int { return cmp.Compare(a.Unit, b.Unit) })
	return plans
}

// Apply writes a done drawing: one transaction over all its units.
func Apply(ctx context.Context, st Store, r *Result, by string) (*store.AppliedDraw, error) {
	if s := r.State(); s != Done {
		return nil, fmt.Errorf("the drawing is %s; there is nothing to apply: %w", s, geo.ErrConflict)
	}
	plans := r.Plans()
	if len(plans) == 0 {
		return nil, fmt.Errorf("the drawing has no grids to apply: %w", geo.ErrConflict)
	}
	return st.ApplyDraw(ctx, plans, by)
}
