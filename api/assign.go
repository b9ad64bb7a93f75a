package api

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/paulmach/orb"

	"gridmap/geo"
	"gridmap/geo/assign"
	"gridmap/geo/store"
)

// assignBody is the request of POST /api/v1/assign.
type assignBody struct {
	Unit string `json:"unit"`
	Kind string `json:"kind"` // households (default) or cadres
	Mode string `json:"mode"` // preview (default) or apply
	// Min and Max override the span policy (member_households_* or cadre_members_*).
	Min *int `json:"min"`
	Max *int `json:"max"`
}

// assignLink is one server with its clients.
type assignLink struct {
	ID        int64          `json:"id"`
	Name      string         `json:"name"`
	Load      int            `json:"load"`
	Distance  float64        `json:"distance_m"`
	InSpan    bool           `json:"in_span"`
	Clients   []assignClient `json:"households,omitempty"`
	Members   []assignClient `json:"members,omitempty"`
	clientsOf []assignClient
}

type assignClient struct {
	ID       int64   `json:"id"`
	Label    string  `json:"label"` // external id of a household, name of a member
	Distance float64 `json:"distance_m"`
}

type assignSummary struct {
	TotalDistance float64 `json:"total_distance_m"`
	MeanDistance  float64 `json:"mean_distance_m"`
	MaxDistance   float64 `json:"max_distance_m"`
	InSpan        int     `json:"servers_in_span"`
	PctInSpan     float64 `json:"pct_within_capacity"`
}

// assignView is the JSON answer of POST /api/v1/assign.
type assignView struct {
	Unit     string        `json:"unit"`
	Kind     string        `json:"kind"`
	Mode     string        `json:"mode"`
	Applied  bool          `json:"applied"`
	Min      int           `json:"min"`
	Max      int           `json:"max"`
	Clients  int           `json:"clients"`
	Servers  int           `json:"servers"`
	Homeless int           `json:"servers_without_home"`
	Optimal  assignSummary `json:"optimal"`
	Greedy   assignSummary `json:"greedy"`
	// Ratio is the greedy total over the optimal total (≥ 1).
	Ratio      float64      `json:"greedy_ratio"`
	Seconds    float64      `json:"seconds"`
	Assignment []assignLink `json:"assignment"`
}

// postAssign: POST /api/v1/assign {unit, kind: households|cadres, mode: preview|apply}.
// households: every household of the village/community to a party member (span
// member_households_min–max of the unit's policy); cadres: every party member who is not a
// cadre to a cadre (cadre_members_min–max). The assignment minimises the total distance
// exactly (geo/assign); the greedy nearest-member baseline is reported beside it. apply
// replaces the unit's links of that kind in one transaction. Too few or too many servers
// for the span: 422 "infeasible" with the numbers.
func (s *Server) postAssign(c echo.Context) error {
	var b assignBody
	if err := decodeStrictJSON(c.Request().Body, &b); err != nil {
		return err
	}
	b.Unit = strings.TrimSpace(b.Unit)
	if b.Unit == "" {
		return geo.Invalid("unit", "unit is required: a village or community (12 digits)")
	}
	if depth, err := geo.LevelOfCode("unit", b.Unit); err != nil {
		return err
	} else if depth != 12 {
		return geo.Invalid("unit", fmt.Sprintf("assignments are made in a village or community (12 digits), not %s", b.Unit))
	}
	kind := store.AssignHouseholds
	switch b.Kind {
	case "", "households":
	case "cadres":
		kind = store.AssignCadres
	default:
		return geo.Invalid("kind", fmt.Sprintf("kind %q: want households or cadres", b.Kind))
	}
	switch b.Mode {
	case "":
		b.Mode = "preview"
	case "preview", "apply":
	default:
		return geo.Invalid("mode", fmt.Sprintf("mode %q: want preview or apply", b.Mode))
	}
	if b.Min != nil && *b.Min < 0 {
		return geo.Invalid("min", fmt.Sprintf("min %d must not be negative", *b.Min))
	}
	if b.Max != nil && *b.Max < 1 {
		return geo.Invalid("max", fmt.Sprintf("max %d must be positive", *b.Max))
	}
	if b.Min != nil && b.Max != nil && *b.Max < *b.Min {
		return geo.Invalid("max", fmt.Sprintf("max %d is below min %d", *b.Max, *b.Min))
	}
	ctx := c.Request().Context()
	t0 := time.Now()
	var view *assignView
	solve := func(d *store.AssignData) ([]int, error) {
		v, serverOf, err := assignSolve(ctx, d, b)
		view = v
		return serverOf, err
	}
	if b.Mode == "apply" {
		if _, _, err := s.store.ApplyAssign(ctx, b.Unit, kind, solve); err != nil {
			return assignError(err)
		}
		view.Applied = true
	} else {
		d, err := s.store.AssignData(ctx, b.Unit, kind)
		if err != nil {
			return err
		}
		if _, err := solve(d); err != nil {
			return assignError(err)
		}
	}
	view.Mode = b.Mode
	view.Seconds = math.Round(time.Since(t0).Seconds()*1000) / 1000
	return c.JSON(http.StatusOK, view)
}

// assignSolve solves the assignment exactly and greedily and describes both.
func assignSolve(ctx context.Context, d *store.AssignData, b assignBody) (*assignView, []int, error) {
	lo, hi := d.Min, d.Max
	if b.Min != nil {
		lo = *b.Min
	}
	if b.Max != nil {
		hi = *b.Max
	}
	if hi < lo {
		return nil, nil, geo.Invalid("max", fmt.Sprintf("max %d is below min %d", hi, lo))
	}
	p := assign.Problem{Clients: make([]orb.Point, len(d.Clients)), Servers: make([]orb.Point, len(d.Servers)), Min: lo, Max: hi}
	if lo == 0 && hi == 0 {
		p.Max = assign.NoMax
	}
	for i, x := range d.Clients {
		p.Clients[i] = x.Loc
	}
	for i, x := range d.Servers {
		p.Servers[i] = x.Loc
	}
	best, err := assign.Solve(ctx, p)
	if err != nil {
		return nil, nil, err
	}
	greedy, err := assign.Greedy(p)
	if err != nil {
		return nil, nil, err
	}
	v := &assignView{Unit: d.Unit, Kind: string(d.Kind), Min: lo, Max: hi, Clients: len(d.Clients), Servers: len(d.Servers),
		Homeless: d.Homeless, Optimal: assignSummarise(best), Greedy: assignSummarise(greedy)}
	if best.Total > 0 {
		v.Ratio = math.Round(greedy.Total/best.Total*10000) / 10000
	} else if greedy.Total == 0 {
		v.Ratio = 1
	}
	links := make([]assignLink, len(d.Servers))
	for j, sv := range d.Servers {
		links[j] = assignLink{ID: sv.ID, Name: sv.Label, Load: best.Loads[j], clientsOf: []assignClient{}}
		links[j].InSpan = best.Loads[j] >= lo && (p.Max == assign.NoMax || best.Loads[j] <= hi)
	}
	for i, j := range best.ServerOf {
		links[j].clientsOf = append(links[j].clientsOf, assignClient{ID: d.Clients[i].ID, Label: d.Clients[i].Label, Distance: round1(best.Dist[i])})
		links[j].Distance += best.Dist[i]
	}
	for j := range links {
		links[j].Distance = round1(links[j].Distance)
		if d.Kind == store.AssignCadres {
			links[j].Members = links[j].clientsOf
		} else {
			links[j].Clients = links[j].clientsOf
		}
	}
	v.Assignment = links
	return v, best.ServerOf, nil
}

func assignSummarise(r assign.Result) assignSummary {
	s := assignSummary{TotalDistance: round1(r.Total), InSpan: r.InSpan()}
	if n := len(r.Dist); n > 0 {
		s.MeanDistance = round1(r.Total / float64(n))
		for _, d := range r.Dist {
			s.MaxDistance = math.Max(s.MaxDistance, d)
		}
		s.MaxDistance = round1(s.MaxDistance)
	}
	if n := len(r.Loads); n > 0 {
		s.PctInSpan = math.Round(10000*float64(s.InSpan)/float64(n)) / 100
	}
	return s
}

func round1(v float64) float64 { return math.Round(v*10) / 10 }

// assignError turns assign's errors into API errors: infeasible counts are 422 with the
// numbers, a malformed problem is 400.
func assignError(err error) error {
	var inf *assign.InfeasibleError
	if errors.As(err, &inf) {
		return &statusError{http.StatusUnprocessableEntity, ErrorDetail{
			Code: "infeasible", Message: strings.TrimPrefix(inf.Error(), "assign: "), Field: "unit",
			Details: map[string]any{"clients": inf.Clients, "servers": inf.Servers, "min": inf.Min, "max": inf.Max,
				"need_at_least": inf.NeedAtLeast, "at_most": inf.AtMost},
		}}
	}
	if errors.Is(err, assign.ErrInvalid) {
		return geo.Invalid("unit", strings.TrimPrefix(err.Error(), "assign: "))
	}
	return err
}
