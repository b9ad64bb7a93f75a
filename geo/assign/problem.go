package assign

import (
	"errors"
	"fmt"
	"math"

	"github.com/paulmach/orb"
)

// Spans from the seed documents, and search defaults.
const (
	// HouseholdMin and HouseholdMax are the default span of a party member:
	// about 10 households each (rural practice), at most 15.
	HouseholdMin, HouseholdMax = 10, 15
	// CentralMin is the span under the "1+10+15" rule: each party member
	// covers at least 15 households (use with Max NoMax or a chosen cap).
	CentralMin = 15
	// CadreMin and CadreMax are the span of a village cadre: 5–10 members.
	CadreMin, CadreMax = 5, 10
	// NoMax as Problem.Max means no upper limit.
	NoMax = -1
	// DefaultK is the number of nearest candidate servers per client.
	DefaultK = 20
)

// ErrInvalid is wrapped by the errors Solve and Greedy return for a
// malformed Problem (negative bounds, Max below Min, bad coordinates).
var ErrInvalid = errors.New("assign: invalid problem")

// Problem is one assignment: Clients (households, or party members when
// assigning to cadres) each go to one of the Servers (party members'
// homes, or cadres), every server taking between Min and Max clients.
// Points are lon/lat (WGS84); each client counts 1.
type Problem struct {
	Clients []orb.Point
	Servers []orb.Point
	// Min and Max bound the clients per server. Both zero means
	// HouseholdMin–HouseholdMax; Max NoMax means unbounded.
	Min, Max int
	// K is the number of nearest servers each client may go to; 0 means
	// DefaultK. The solver widens it when the restriction is infeasible.
	K int
}

// Result is an assignment.
type Result struct {
	ServerOf []int     // server index for each client
	Dist     []float64 // walking distance of each client to its server, metres
	Loads    []int     // clients per server
	Total    float64   // sum of Dist, metres
	Min, Max int       // the span used (Max NoMax if unbounded)
	K        int       // candidates per client actually used
}

// InSpan returns how many servers have a load within [Min, Max].
func (r Result) InSpan() int {
	n := 0
	for _, l := range r.Loads {
		if l >= r.Min && (r.Max == NoMax || l <= r.Max) {
			n++
		}
	}
	return n
}

// span returns the effective bounds: lo, the upper bound as a capacity
// (at most the number of clients; all of them when unbounded), and the Max
// to report.
func (p Problem) span() (lo, hi, spanMax int, err error) {
	lo, spanMax = p.Min, p.Max
	if lo == 0 && spanMax == 0 {
		lo, spanMax = HouseholdMin, HouseholdMax
	}
	switch {
	case lo < 0:
		return 0, 0, 0, fmt.Errorf("%w: min %d is negative", ErrInvalid, lo)
	case spanMax != NoMax && spanMax < 1:
		return 0, 0, 0, fmt.Errorf("%w: max %d must be positive (or NoMax)", ErrInvalid, spanMax)
	case spanMax != NoMax && spanMax < lo:
		return 0, 0, 0, fmt.Errorf("%w: max %d is below min %d", ErrInvalid, spanMax, lo)
	case p.K < 0:
		return 0, 0, 0, fmt.Errorf("%w: k %d is negative", ErrInvalid, p.K)
	}
	hi = spanMax
	if spanMax == NoMax || spanMax > len(p.Clients) {
		hi = len(p.Clients) // no server can take more than every client
	}
	return lo, hi, spanMax, nil
}

// validate checks the problem and returns the effective span and K, or an
// error wrapping ErrInvalid or an *InfeasibleError.
func (p Problem) validate() (lo, hi, spanMax, k int, err error) {
	lo, hi, spanMax, err = p.span()
	if err != nil {
		return 0, 0, 0, 0, err
	}
	if err := checkPoints("client", p.Clients); err != nil {
		return 0, 0, 0, 0, err
	}
	if err := checkPoints("server", p.Servers); err != nil {
		return 0, 0, 0, 0, err
	}
	if err := feasible(len(p.Clients), len(p.Servers), lo, spanMax); err != nil {
		return 0, 0, 0, 0, err
	}
	k = p.K
	if k == 0 {
		k = DefaultK
	}
	return lo, hi, spanMax, min(k, len(p.Servers)), nil
}

func checkPoints(what string, ps []orb.Point) error {
	for i, q := range ps {
		if math.IsNaN(q[0]) || math.IsNaN(q[1]) || math.IsInf(q[0], 0) || math.IsInf(q[1], 0) ||
			q[0] < -180 || q[0] > 180 || q[1] < -90 || q[1] > 90 {
			return fmt.Errorf("%w: %s %d has invalid coordinates %v", ErrInvalid, what, i, q)
		}
	}
	return nil
}
