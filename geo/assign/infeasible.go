package assign

import (
	"errors"
	"fmt"
)

// ErrInfeasible matches every *InfeasibleError with errors.Is.
var ErrInfeasible = errors.New("assign: infeasible")

// InfeasibleError reports that no assignment respects the span: too few
// servers for the clients (NeedAtLeast > Servers) or too many for the
// minimum (AtMost < Servers).
type InfeasibleError struct {
	Clients, Servers int
	Min, Max         int // Max is NoMax when unbounded
	// NeedAtLeast is ⌈Clients/Max⌉, the fewest servers that can take all
	// clients (with Max NoMax: 1 if there are clients, else 0).
	NeedAtLeast int
	// AtMost is ⌊Clients/Min⌋, the most servers that can all reach Min
	// (-1 when Min is 0).
	AtMost int
}

// Error describes the shortfall with the numbers, e.g.
// "assign: infeasible: 100 clients, 5 servers with max 15 take at most 75; need at least 7 servers".
func (e *InfeasibleError) Error() string {
	if e.NeedAtLeast > e.Servers && e.Max == NoMax {
		return fmt.Sprintf("assign: infeasible: %d clients and no servers", e.Clients)
	}
	if e.NeedAtLeast > e.Servers {
		return fmt.Sprintf("assign: infeasible: %d clients, %d servers with max %d take at most %d; need at least %d servers",
			e.Clients, e.Servers, e.Max, e.Servers*e.Max, e.NeedAtLeast)
	}
	return fmt.Sprintf("assign: infeasible: %d clients, %d servers with min %d need at least %d; at most %d servers",
		e.Clients, e.Servers, e.Min, e.Servers*e.Min, e.AtMost)
}

// Is reports whether target is ErrInfeasible.
func (e *InfeasibleError) Is(target error) bool { return target == ErrInfeasible }

// feasible checks the counts: with every client allowed to reach every
// server, an assignment exists exactly when servers·min ≤ clients ≤
// servers·max.
func feasible(clients, servers, lo, hi int) error {
	e := &InfeasibleError{Clients: clients, Servers: servers, Min: lo, Max: hi, AtMost: -1}
	switch {
	case hi != NoMax:
		e.NeedAtLeast = (clients + hi - 1) / hi
	case clients > 0:
		e.NeedAtLeast = 1
	}
	if lo > 0 {
		e.AtMost = clients / lo
	}
	if e.NeedAtLeast > servers || (lo > 0 && e.AtMost < servers) {
		return e
	}
	return nil
}
