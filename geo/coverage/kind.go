// Package coverage is the coverage report of issue 5: for a county, township or village, is
// every household reached (覆盖全村、遍及每户) and is every span manageable — and exactly where
// not. It holds the report's shapes (a unit tree of counts and percentages rolled up county →
// township → village → grid, and problems as GeoJSON features with a kind, a severity and a
// sentence in Chinese and English) and the roll-up; geo/store fills it from PostGIS.
package coverage

import (
	"fmt"
	"strings"

	"gridmap/geo"
)

// Kind names one kind of problem.
type Kind string

// The problem kinds, in the order reports list them.
const (
	HouseholdNoGrid    Kind = "household_no_grid"    // households in no active grid
	HouseholdMultiGrid Kind = "household_multi_grid" // households in more than one grid
	Gap                Kind = "gap"                  // part of a village/community covered by none of its grids
	Overlap            Kind = "overlap"              // two sibling grids overlap
	GridOutsideUnit    Kind = "grid_outside_unit"    // a grid reaches outside its unit
	GridMultipart      Kind = "grid_multipart"       // a grid is not contiguous
	GridHouseholdsBand Kind = "grid_households_band" // a grid's households outside the policy band
	GridResidentsBand  Kind = "grid_residents_band"  // a grid's residents outside the policy band
	HouseholdNoMember  Kind = "household_no_member"  // households with no linked party member
	MemberSpan         Kind = "member_span"          // a member linked to more/fewer households than the policy
	LongLink           Kind = "long_link"            // a member lives too far from linked households
	CadreSpan          Kind = "cadre_span"           // a cadre linked to fewer/more members than the policy
	CentralSpan        Kind = "central_span"         // a central household linked to too few members
	SecretarySpan      Kind = "secretary_span"       // a branch secretary guiding too few/many central households
	GridNoBranch       Kind = "grid_no_branch"       // 一格一支部 broken
	GridNoWorker       Kind = "grid_no_worker"       // 一格一员 broken
	GridNoLeader       Kind = "grid_no_leader"       // 一长三员: no grid leader
	BranchNoGroups     Kind = "branch_no_groups"     // 1 branch + N party groups with N = 0
)

// Kinds lists every kind in report order.
func Kinds() []Kind {
	return []Kind{HouseholdNoGrid, HouseholdMultiGrid, Gap, Overlap, GridOutsideUnit, GridMultipart,
		GridHouseholdsBand, GridResidentsBand, HouseholdNoMember, MemberSpan, LongLink, CadreSpan,
		CentralSpan, SecretarySpan, GridNoBranch, GridNoWorker, GridNoLeader, BranchNoGroups}
}

// Severity is error (the network does not cover or does not reach) or warning (a span or a
// shape is outside the policy).
type Severity string

// The severities.
const (
	SeverityError   Severity = "error"
	SeverityWarning Severity = "warning"
)

// Severity of the kind.
func (k Kind) Severity() Severity {
	switch k {
	case HouseholdNoGrid, HouseholdMultiGrid, Gap, Overlap, GridOutsideUnit, HouseholdNoMember,
		GridNoBranch, GridNoWorker:
		return SeverityError
	}
	return SeverityWarning
}

// Valid reports whether k is a known kind.
func (k Kind) Valid() bool {
	for _, x := range Kinds() {
		if x == k {
			return true
		}
	}
	return false
}

// ParseKinds reads a comma-separated list of kinds (the kind query parameter). Empty means
// every kind (nil). An unknown kind is a *geo.InputError on field.
func ParseKinds(field, s string) ([]Kind, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var out []Kind
	seen := map[Kind]bool{}
	for _, part := range strings.Split(s, ",") {
		k := Kind(strings.TrimSpace(part))
		if !k.Valid() {
			names := make([]string, 0, len(Kinds()))
			for _, x := range Kinds() {
				names = append(names, string(x))
			}
			return nil, geo.Invalid(field, fmt.Sprintf("unknown problem kind %q; kinds are %s", k, strings.Join(names, ", ")))
		}
		if !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	return out, nil
}

// Selection says which kinds a computation needs; the zero value selects every kind.
type Selection map[Kind]bool

// Select returns the selection of kinds (every kind for none).
func Select(kinds []Kind) Selection {
	if len(kinds) == 0 {
		return nil
	}
	s := Selection{}
	for _, k := range kinds {
		s[k] = true
	}
	return s
}

// Has reports whether any of kinds is selected.
func (s Selection) Has(kinds ...Kind) bool {
	if s == nil {
		return true
	}
	for _, k := range kinds {
		if s[k] {
			return true
		}
	}
	return false
}
