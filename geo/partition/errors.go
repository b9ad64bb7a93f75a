package partition

import (
	"errors"
	"fmt"
	"strings"

	"github.com/paulmach/orb"
)

// ErrInfeasible is matched (with errors.Is) by every *InfeasibleError.
var ErrInfeasible = errors.New("partition: infeasible band")

var (
	errInvalidBoundary = errors.New("partition: boundary has no area")
	errInvalidBand     = errors.New("partition: band needs 0 < min <= max")
	errNoPoints        = errors.New("partition: no household points inside the boundary")
	errTopology        = errors.New("partition: inconsistent cell topology")
	errNegativeWeight  = errors.New("partition: negative weight")
)

// Reason says why a component cannot be divided into grids in the band.
type Reason string

// The reasons an Infeasibility can carry.
const (
	ReasonHeavyPoint Reason = "point heavier than max"
	ReasonBelowMin   Reason = "component lighter than min"
	ReasonNoCount    Reason = "no number of grids fits the band"
	// ReasonNoSplit: the weight admits a number of grids, but no
	// contiguous drawing in the band was found (Location is in the part
	// that could not be drawn). The band may still be feasible.
	ReasonNoSplit Reason = "no contiguous split found"
)

// Infeasibility describes one part of the input that cannot be drawn into
// grids inside the band.
type Infeasibility struct {
	Reason    Reason
	Component int       // index of the connected component (barriers split components)
	Point     int       // input index of the heavy point (ReasonHeavyPoint), else -1
	Points    int       // household points in the component (or 1 for a heavy point)
	Weight    int       // total weight of the component (or of the point)
	KMin      int       // ceil(Weight/Max): fewest grids the weight needs
	KMax      int       // floor(Weight/Min): most grids the weight allows
	Location  orb.Point // lon/lat: the heavy point, or the component's heaviest point
}

func (f Infeasibility) String() string {
	switch f.Reason {
	case ReasonHeavyPoint:
		return fmt.Sprintf("point %d at %.6f,%.6f weighs %d, above max", f.Point, f.Location[0], f.Location[1], f.Weight)
	case ReasonNoSplit:
		return fmt.Sprintf("component %d near %.6f,%.6f: %d points weighing %d: %s into %d-%d grids",
			f.Component, f.Location[0], f.Location[1], f.Points, f.Weight, f.Reason, f.KMin, f.KMax)
	default:
		return fmt.Sprintf("component %d near %.6f,%.6f: %d points weighing %d: %s (need k with k*min <= %d <= k*max; ceil(W/max)=%d > floor(W/min)=%d)",
			f.Component, f.Location[0], f.Location[1], f.Points, f.Weight, f.Reason, f.Weight, f.KMin, f.KMax)
	}
}

// InfeasibleError lists every infeasible part of an input. It matches
// ErrInfeasible with errors.Is.
type InfeasibleError struct {
	Min, Max int
	Weight   WeightKind
	Items    []Infeasibility
}

func (e *InfeasibleError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "partition: infeasible band %d-%d %s: %d problem(s)", e.Min, e.Max, e.Weight, len(e.Items))
	for _, it := range e.Items {
		b.WriteString("\n  ")
		b.WriteString(it.String())
	}
	return b.String()
}

// Is makes errors.Is(err, ErrInfeasible) true.
func (e *InfeasibleError) Is(target error) bool { return target == ErrInfeasible }
