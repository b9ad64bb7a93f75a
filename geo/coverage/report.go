package coverage

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"time"

	"gridmap/geo"
)

// Policy is the span policy in force for a unit (effective_span_policy in the schema).
type Policy struct {
	GridHouseholds    [2]int  `json:"grid_households"`
	GridResidents     [2]int  `json:"grid_residents"`
	MemberHouseholds  [2]int  `json:"member_households"`
	CadreMembers      [2]int  `json:"cadre_members"`
	CentralMembersMin int     `json:"central_members_min"`
	SecretaryCentrals [2]int  `json:"secretary_centrals"`
	LinkDistanceM     float64 `json:"link_distance_m"`
	CentralRule       bool    `json:"central_rule"` // 1+10+15
}

// within reports lo <= n <= hi.
func within(n int, band [2]int) bool { return n >= band[0] && n <= band[1] }

// Counts are a unit's (or grid's) numbers. In a tree they are rolled up: a township's counts
// include its villages'.
type Counts struct {
	Households          int     `json:"households"`
	Residents           int     `json:"residents"`
	CoveredHouseholds   int     `json:"covered_households"`
	MultiGridHouseholds int     `json:"multi_grid_households"`
	LinkedHouseholds    int     `json:"linked_households"`
	Grids               int     `json:"grids"`
	GridsInBand         int     `json:"grids_in_household_band"`
	GridsInResidentBand int     `json:"grids_in_resident_band"`
	GridsWithBranch     int     `json:"grids_with_branch"`
	GridsWithWorker     int     `json:"grids_with_worker"`
	GridsWithLeader     int     `json:"grids_with_leader"`
	Branches            int     `json:"branches"`
	BranchesWithGroups  int     `json:"branches_with_groups"`
	PartyMembers        int     `json:"party_members"`
	LinkingMembers      int     `json:"linking_members"` // members linked to at least one household
	MembersWithinSpan   int     `json:"members_within_span"`
	LongLinks           int     `json:"long_links"`
	Cadres              int     `json:"cadres"`
	CadresWithinSpan    int     `json:"cadres_within_span"`
	Centrals            int     `json:"central_households"`
	CentralsWithinSpan  int     `json:"central_households_within_span"`
	Secretaries         int     `json:"secretaries"`
	SecretariesInSpan   int     `json:"secretaries_within_span"`
	GapAreaM2           float64 `json:"gap_area_m2"`
	OverlapAreaM2       float64 `json:"overlap_area_m2"`
}

func (c *Counts) add(o *Counts) {
	c.Households += o.Households
	c.Residents += o.Residents
	c.CoveredHouseholds += o.CoveredHouseholds
	c.MultiGridHouseholds += o.MultiGridHouseholds
	c.LinkedHouseholds += o.LinkedHouseholds
	c.Grids += o.Grids
	c.GridsInBand += o.GridsInBand
	c.GridsInResidentBand += o.GridsInResidentBand
	c.GridsWithBranch += o.GridsWithBranch
	c.GridsWithWorker += o.GridsWithWorker
	c.GridsWithLeader += o.GridsWithLeader
	c.Branches += o.Branches
	c.BranchesWithGroups += o.BranchesWithGroups
	c.PartyMembers += o.PartyMembers
	c.LinkingMembers += o.LinkingMembers
	c.MembersWithinSpan += o.MembersWithinSpan
	c.LongLinks += o.LongLinks
	c.Cadres += o.Cadres
	c.CadresWithinSpan += o.CadresWithinSpan
	c.Centrals += o.Centrals
	c.CentralsWithinSpan += o.CentralsWithinSpan
	c.Secretaries += o.Secretaries
	c.SecretariesInSpan += o.SecretariesInSpan
	c.GapAreaM2 += o.GapAreaM2
	c.OverlapAreaM2 += o.OverlapAreaM2
}

// Percent are the rates of a unit, in percent with two decimals; null where the
// denominator is zero.
type Percent struct {
	Covered             *float64 `json:"covered"`                 // of households
	MultiGrid           *float64 `json:"multi_grid"`              // of households
	Linked              *float64 `json:"linked"`                  // of households
	GridsInBand         *float64 `json:"grids_in_household_band"` // of grids
	GridsInResidentBand *float64 `json:"grids_in_resident_band"`  // of grids
	GridsWithBranch     *float64 `json:"grids_with_branch"`
	GridsWithWorker     *float64 `json:"grids_with_worker"`
	GridsWithLeader     *float64 `json:"grids_with_leader"`
	BranchesWithGroups  *float64 `json:"branches_with_groups"` // of branches
	MembersWithinSpan   *float64 `json:"members_within_span"`  // of linking members
	CadresWithinSpan    *float64 `json:"cadres_within_span"`   // of cadres
	CentralsWithinSpan  *float64 `json:"central_households_within_span"`
	SecretariesInSpan   *float64 `json:"secretaries_within_span"` // of branches with a secretary
}

// Pct is 100·n/d rounded to two decimals, nil when d is 0.
func Pct(n, d int) *float64 {
	if d == 0 {
		return nil
	}
	v := math.Round(10000*float64(n)/float64(d)) / 100
	return &v
}

func percentOf(c *Counts) Percent {
	return Percent{
		Covered:             Pct(c.CoveredHouseholds, c.Households),
		MultiGrid:           Pct(c.MultiGridHouseholds, c.Households),
		Linked:              Pct(c.LinkedHouseholds, c.Households),
		GridsInBand:         Pct(c.GridsInBand, c.Grids),
		GridsInResidentBand: Pct(c.GridsInResidentBand, c.Grids),
		GridsWithBranch:     Pct(c.GridsWithBranch, c.Grids),
		GridsWithWorker:     Pct(c.GridsWithWorker, c.Grids),
		GridsWithLeader:     Pct(c.GridsWithLeader, c.Grids),
		BranchesWithGroups:  Pct(c.BranchesWithGroups, c.Branches),
		MembersWithinSpan:   Pct(c.MembersWithinSpan, c.LinkingMembers),
		CadresWithinSpan:    Pct(c.CadresWithinSpan, c.Cadres),
		CentralsWithinSpan:  Pct(c.CentralsWithinSpan, c.Centrals),
		SecretariesInSpan:   Pct(c.SecretariesInSpan, c.Secretaries),
	}
}

// Unit is an administrative unit of the report with its policy.
type Unit struct {
	geo.Unit
	Policy Policy
}

// Node is one unit of the report: its counts rolled up from everything below it, its rates,
// its problems by kind, and its child units (or, for a village/community, its grids).
type Node struct {
	Code     string        `json:"code"`
	Name     string        `json:"name"`
	Level    geo.Level     `json:"level"`
	Parent   string        `json:"parent,omitempty"`
	Policy   Policy        `json:"policy"`
	Counts   Counts        `json:"counts"`
	Percent  Percent       `json:"percent"`
	Problems map[Kind]int  `json:"problems"`
	Errors   int           `json:"errors"`
	Warnings int           `json:"warnings"`
	Children []*Node       `json:"children,omitempty"`
	Grids    []*GridReport `json:"grids,omitempty"`

	direct Counts
}

// GridReport is one active grid of the report with its own numbers.
type GridReport struct {
	ID                  int64        `json:"-"`
	Code                string       `json:"code"`
	Name                string       `json:"name"`
	Kind                geo.GridKind `json:"kind"`
	Unit                string       `json:"unit"`
	Households          int          `json:"households"`
	Residents           int          `json:"residents"`
	PartyMembers        int          `json:"party_members"`
	LinkedHouseholds    int          `json:"linked_households"`
	MultiGridHouseholds int          `json:"multi_grid_households"`
	HouseholdBand       [2]int       `json:"household_band"`
	ResidentBand        [2]int       `json:"resident_band"`
	InHouseholdBand     bool         `json:"in_household_band"`
	InResidentBand      bool         `json:"in_resident_band"`
	Branch              bool         `json:"branch"`
	PartyGroups         int          `json:"party_groups"`
	Worker              bool         `json:"worker"`
	Leader              bool         `json:"leader"`
	Parts               int          `json:"parts"`
	Linked              *float64     `json:"linked_percent"`
	Problems            map[Kind]int `json:"problems"`

	BranchID   int64           `json:"-"`
	BranchName string          `json:"-"`
	Geometry   json.RawMessage `json:"-"`
}

// Summary is the coverage summary of one unit: the unit's node (with its children and grids)
// and when it was computed.
type Summary struct {
	*Node
	GeneratedAt time.Time `json:"generated_at"`
}

// Report is the whole computation: the unit tree and every problem found.
type Report struct {
	Root        *Node
	Problems    []*Problem
	GeneratedAt time.Time
}

// Summary returns the unit tree.
func (r *Report) Summary() Summary { return Summary{Node: r.Root, GeneratedAt: r.GeneratedAt} }

// FeatureCollection is the problems as GeoJSON.
type FeatureCollection struct {
	Type        string       `json:"type"`
	Unit        string       `json:"unit"`
	GeneratedAt time.Time    `json:"generated_at"`
	Counts      map[Kind]int `json:"counts"`
	Features    []*Problem   `json:"features"`
}

// Features returns the problems of the kinds selected (every kind for none) as a
// FeatureCollection, in report order (by kind, then as found).
func (r *Report) Features(kinds []Kind) FeatureCollection {
	sel := Select(kinds)
	fc := FeatureCollection{Type: "FeatureCollection", Unit: r.Root.Code, GeneratedAt: r.GeneratedAt,
		Counts: map[Kind]int{}, Features: []*Problem{}}
	for _, p := range r.Problems {
		if sel.Has(p.Kind()) {
			fc.Features = append(fc.Features, p)
			fc.Counts[p.Kind()]++
		}
	}
	return fc
}

// Builder assembles a report: units first, then grids, counts and problems as the store
// finds them; Build rolls everything up.
type Builder struct {
	root     *Node
	nodes    map[string]*Node
	grids    map[string]*GridReport
	byID     map[int64]*GridReport
	problems []*Problem
	other    Counts // counts of units outside the tree, dropped
}

// NewBuilder starts a report for the first unit of units (the scope); the others must be
// its descendants, parents before children.
func NewBuilder(units []Unit) (*Builder, error) {
	if len(units) == 0 {
		return nil, fmt.Errorf("coverage: no unit")
	}
	b := &Builder{nodes: map[string]*Node{}, grids: map[string]*GridReport{}, byID: map[int64]*GridReport{}}
	for i, u := range units {
		n := &Node{Code: u.Code, Name: u.Name, Level: u.Level, Parent: u.Parent, Policy: u.Policy, Problems: map[Kind]int{}}
		b.nodes[u.Code] = n
		if i == 0 {
			b.root = n
			continue
		}
		parent := b.nodes[u.Parent]
		if parent == nil {
			return nil, fmt.Errorf("coverage: unit %s comes before its parent %s or outside %s", u.Code, u.Parent, units[0].Code)
		}
		parent.Children = append(parent.Children, n)
	}
	return b, nil
}

// Policy returns the policy of unit code, or of its nearest ancestor in the tree (the root's
// for anything unknown).
func (b *Builder) Policy(code string) Policy {
	if n := b.node(code); n != nil {
		return n.Policy
	}
	return b.root.Policy
}

// node returns the unit's node, else its nearest ancestor's in the tree, else nil.
func (b *Builder) node(code string) *Node {
	for _, l := range []int{12, 9, 6} {
		if len(code) >= l {
			if n := b.nodes[code[:l]]; n != nil {
				return n
			}
		}
	}
	return nil
}

// Unit returns the unit's name ("" when unknown).
func (b *Builder) Unit(code string) (name string, ok bool) {
	if n := b.nodes[code]; n != nil {
		return n.Name, true
	}
	return "", false
}

// Direct returns the counts a unit holds itself (rolled up by Build). Counts of units
// outside the tree go nowhere.
func (b *Builder) Direct(code string) *Counts {
	if n := b.node(code); n != nil {
		return &n.direct
	}
	b.other = Counts{}
	return &b.other
}

// AddGrid adds an active grid of a unit of the tree; its band flags come from the policy
// and it counts towards its unit.
func (b *Builder) AddGrid(g *GridReport) {
	pol := b.Policy(g.Unit)
	g.HouseholdBand, g.ResidentBand = pol.GridHouseholds, pol.GridResidents
	g.InHouseholdBand = within(g.Households, g.HouseholdBand)
	g.InResidentBand = within(g.Residents, g.ResidentBand)
	g.Linked = Pct(g.LinkedHouseholds, g.Households)
	g.Problems = map[Kind]int{}
	b.grids[g.Code] = g
	b.byID[g.ID] = g
	c := b.Direct(g.Unit)
	c.Grids++
	c.GridsInBand += btoi(g.InHouseholdBand)
	c.GridsInResidentBand += btoi(g.InResidentBand)
	c.GridsWithBranch += btoi(g.Branch)
	c.GridsWithWorker += btoi(g.Worker)
	c.GridsWithLeader += btoi(g.Leader)
	if g.Branch {
		c.Branches++
		c.BranchesWithGroups += btoi(g.PartyGroups > 0)
	}
	if n := b.nodes[g.Unit]; n != nil {
		n.Grids = append(n.Grids, g)
	}
}

// Grid returns a grid of the report by code (nil when not in the tree).
func (b *Builder) Grid(code string) *GridReport { return b.grids[code] }

// GridByID returns a grid of the report by id (nil when not in the tree).
func (b *Builder) GridByID(id int64) *GridReport { return b.byID[id] }

// Grids returns the grids in code order.
func (b *Builder) Grids() []*GridReport {
	out := make([]*GridReport, 0, len(b.grids))
	for _, g := range b.grids {
		out = append(out, g)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Code < out[j].Code })
	return out
}

// Add records a problem.
func (b *Builder) Add(p *Problem) { b.problems = append(b.problems, p) }

// Build rolls the counts and problems up the tree and returns the report. Problems are
// ordered by kind (report order), keeping the order they were added within a kind.
func (b *Builder) Build(at time.Time) *Report {
	order := map[Kind]int{}
	for i, k := range Kinds() {
		order[k] = i
	}
	sort.SliceStable(b.problems, func(i, j int) bool {
		return order[b.problems[i].Kind()] < order[b.problems[j].Kind()]
	})
	for _, p := range b.problems {
		k := p.Kind()
		for _, g := range p.Props.Grids {
			if gr := b.grids[g]; gr != nil {
				gr.Problems[k]++
			}
		}
		n := b.node(p.Props.Unit)
		if n == nil {
			n = b.root
		}
		n.Problems[k]++
		if k.Severity() == SeverityError {
			n.Errors++
		} else {
			n.Warnings++
		}
	}
	rollup(b.root)
	return &Report{Root: b.root, Problems: b.problems, GeneratedAt: at}
}

// rollup sums the children into n (depth first) and sets the rates.
func rollup(n *Node) {
	n.Counts = n.direct
	for _, c := range n.Children {
		rollup(c)
		n.Counts.add(&c.Counts)
		for k, v := range c.Problems {
			n.Problems[k] += v
		}
		n.Errors += c.Errors
		n.Warnings += c.Warnings
	}
	n.Counts.GapAreaM2 = math.Round(n.Counts.GapAreaM2*10) / 10
	n.Counts.OverlapAreaM2 = math.Round(n.Counts.OverlapAreaM2*10) / 10
	n.Percent = percentOf(&n.Counts)
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
