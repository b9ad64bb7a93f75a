package coverage

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// HouseholdRef names a household by id and external id (户号).
type HouseholdRef struct {
	ID         int64  `json:"id"`
	ExternalID string `json:"external_id"`
}

// LinkRef is one member–household link with its length on the spheroid.
type LinkRef struct {
	Household  int64   `json:"household"`
	ExternalID string  `json:"external_id"`
	DistanceM  float64 `json:"distance_m"`
}

// Problem is one problem found in a unit, rendered as a GeoJSON Feature. Build problems with
// the New… functions, which write the sentences from the numbers.
type Problem struct {
	ID       string          // stable within a report, e.g. "overlap:999001001001001:999001001001002"
	Geometry json.RawMessage // GeoJSON; nil renders as null
	Props    Properties
}

// Properties are a problem's feature properties.
type Properties struct {
	Kind       Kind           `json:"kind"`
	Severity   Severity       `json:"severity"`
	MessageZH  string         `json:"message_zh"`
	MessageEN  string         `json:"message_en"`
	Unit       string         `json:"unit"` // the lowest unit the problem belongs to
	Grids      []string       `json:"grids,omitempty"`
	Households []HouseholdRef `json:"households,omitempty"`
	People     []int64        `json:"people,omitempty"`
	Count      *int           `json:"count,omitempty"`
	Band       *[2]int        `json:"band,omitempty"`
	AreaM2     *float64       `json:"area_m2,omitempty"`
	DistanceM  *float64       `json:"distance_m,omitempty"` // the longest link
	LimitM     *float64       `json:"limit_m,omitempty"`
	Links      []LinkRef      `json:"links,omitempty"`
}

// MarshalJSON renders the problem as a GeoJSON Feature.
func (p *Problem) MarshalJSON() ([]byte, error) {
	geom := p.Geometry
	if len(geom) == 0 {
		geom = json.RawMessage("null")
	}
	return json.Marshal(struct {
		Type       string          `json:"type"`
		ID         string          `json:"id"`
		Geometry   json.RawMessage `json:"geometry"`
		Properties *Properties     `json:"properties"`
	}{"Feature", p.ID, geom, &p.Props})
}

// Kind of the problem.
func (p *Problem) Kind() Kind { return p.Props.Kind }

func newProblem(kind Kind, id, unit string, geom []byte) *Problem {
	return &Problem{ID: string(kind) + ":" + id, Geometry: geom,
		Props: Properties{Kind: kind, Severity: kind.Severity(), Unit: unit}}
}

func (p *Problem) say(zh, en string) *Problem {
	p.Props.MessageZH, p.Props.MessageEN = zh, en
	return p
}

func intp(n int) *int           { return &n }
func floatp(f float64) *float64 { return &f }
func bandp(lo, hi int) *[2]int  { return &[2]int{lo, hi} }
func area(m2 float64) string    { return strconv.FormatFloat(m2, 'f', 1, 64) }
func metres(m float64) string   { return strconv.FormatFloat(m, 'f', 0, 64) }
func unitName(name, code string) string {
	if name == "" {
		return code
	}
	return name + " (" + code + ")"
}

func unitNameZH(name, code string) string {
	if name == "" {
		return code
	}
	return name + "（" + code + "）"
}

// plural returns "1 household" / "2 households".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// NewHouseholdNoGrid: households of a unit that lie in no active grid.
func NewHouseholdNoGrid(unit, name string, hh []HouseholdRef, geom []byte) *Problem {
	p := newProblem(HouseholdNoGrid, unit, unit, geom)
	p.Props.Households, p.Props.Count = hh, intp(len(hh))
	return p.say(
		fmt.Sprintf("%s有 %d 户不在任何现行网格内", unitNameZH(name, unit), len(hh)),
		fmt.Sprintf("%s of %s %s in no active grid", plural(len(hh), "household", "households"), unitName(name, unit), isAre(len(hh))))
}

// NewHouseholdMultiGrid: households inside two overlapping grids a and b.
func NewHouseholdMultiGrid(unit, a, b string, hh []HouseholdRef, geom []byte) *Problem {
	p := newProblem(HouseholdMultiGrid, a+":"+b, unit, geom)
	p.Props.Grids, p.Props.Households, p.Props.Count = []string{a, b}, hh, intp(len(hh))
	return p.say(
		fmt.Sprintf("%d 户同时位于网格 %s 和网格 %s 内", len(hh), a, b),
		fmt.Sprintf("%s %s in both grid %s and grid %s", plural(len(hh), "household", "households"), isAre(len(hh)), a, b))
}

// NewGap: part seq of a village/community that none of its grids covers.
func NewGap(unit, name string, seq int, m2 float64, geom []byte) *Problem {
	p := newProblem(Gap, unit+":"+strconv.Itoa(seq), unit, geom)
	p.Props.AreaM2 = floatp(m2)
	return p.say(
		fmt.Sprintf("%s有 %s 平方米未被本单位任何网格覆盖", unitNameZH(name, unit), area(m2)),
		fmt.Sprintf("%s m² of %s is covered by none of its grids", area(m2), unitName(name, unit)))
}

// NewOverlap: sibling grids a and b overlap.
func NewOverlap(unit, a, b string, m2 float64, geom []byte) *Problem {
	p := newProblem(Overlap, a+":"+b, unit, geom)
	p.Props.Grids, p.Props.AreaM2 = []string{a, b}, floatp(m2)
	return p.say(
		fmt.Sprintf("网格 %s 与网格 %s 重叠 %s 平方米", a, b, area(m2)),
		fmt.Sprintf("grids %s and %s overlap by %s m²", a, b, area(m2)))
}

// NewGridOutsideUnit: the part of a grid outside its unit's boundary.
func NewGridOutsideUnit(unit, name, grid string, m2 float64, geom []byte) *Problem {
	p := newProblem(GridOutsideUnit, grid, unit, geom)
	p.Props.Grids, p.Props.AreaM2 = []string{grid}, floatp(m2)
	return p.say(
		fmt.Sprintf("网格 %s 有 %s 平方米超出所属单位%s的边界", grid, area(m2), unitNameZH(name, unit)),
		fmt.Sprintf("grid %s reaches %s m² outside its unit %s", grid, area(m2), unitName(name, unit)))
}

// NewGridMultipart: a grid made of parts separate pieces.
func NewGridMultipart(unit, grid string, parts int, geom []byte) *Problem {
	p := newProblem(GridMultipart, grid, unit, geom)
	p.Props.Grids, p.Props.Count = []string{grid}, intp(parts)
	return p.say(
		fmt.Sprintf("网格 %s 由 %d 个互不相连的部分组成", grid, parts),
		fmt.Sprintf("grid %s has %d separate parts", grid, parts))
}

// NewGridHouseholdsBand: a grid whose households are outside [lo, hi].
func NewGridHouseholdsBand(unit, grid string, n, lo, hi int, geom []byte) *Problem {
	p := newProblem(GridHouseholdsBand, grid, unit, geom)
	p.Props.Grids, p.Props.Count, p.Props.Band = []string{grid}, intp(n), bandp(lo, hi)
	return p.say(
		fmt.Sprintf("网格 %s 有 %d 户，%s %d–%d 户的范围", grid, n, belowAboveZH(n, lo), lo, hi),
		fmt.Sprintf("grid %s has %s, %s the band of %d–%d", grid, plural(n, "household", "households"), belowAboveEN(n, lo), lo, hi))
}

// NewGridResidentsBand: a grid whose residents are outside [lo, hi].
func NewGridResidentsBand(unit, grid string, n, lo, hi int, geom []byte) *Problem {
	p := newProblem(GridResidentsBand, grid, unit, geom)
	p.Props.Grids, p.Props.Count, p.Props.Band = []string{grid}, intp(n), bandp(lo, hi)
	return p.say(
		fmt.Sprintf("网格 %s 有 %d 名居民，%s %d–%d 人的范围", grid, n, belowAboveZH(n, lo), lo, hi),
		fmt.Sprintf("grid %s has %s, %s the band of %d–%d", grid, plural(n, "resident", "residents"), belowAboveEN(n, lo), lo, hi))
}

// NewHouseholdNoMember: households with no linked party member, in grid (or, with grid "",
// in no grid of unit).
func NewHouseholdNoMember(unit, name, grid string, hh []HouseholdRef, geom []byte) *Problem {
	key := grid
	if key == "" {
		key = unit
	}
	p := newProblem(HouseholdNoMember, key, unit, geom)
	p.Props.Households, p.Props.Count = hh, intp(len(hh))
	n := len(hh)
	if grid == "" {
		return p.say(
			fmt.Sprintf("%s有 %d 户（不在网格内）没有联系党员", unitNameZH(name, unit), n),
			fmt.Sprintf("%s of %s outside any grid %s no linked party member", plural(n, "household", "households"), unitName(name, unit), hasHave(n)))
	}
	p.Props.Grids = []string{grid}
	return p.say(
		fmt.Sprintf("网格 %s 有 %d 户没有联系党员", grid, n),
		fmt.Sprintf("%s in grid %s %s no linked party member", plural(n, "household", "households"), grid, hasHave(n)))
}

// NewMemberSpan: a party member linked to n households, outside [lo, hi].
func NewMemberSpan(unit string, member int64, grids []string, n, lo, hi int, geom []byte) *Problem {
	p := newProblem(MemberSpan, strconv.FormatInt(member, 10), unit, geom)
	p.Props.People, p.Props.Grids, p.Props.Count, p.Props.Band = []int64{member}, grids, intp(n), bandp(lo, hi)
	return p.say(
		fmt.Sprintf("党员 %d 联系 %d 户，%s %d–%d 户的范围", member, n, belowAboveZH(n, lo), lo, hi),
		fmt.Sprintf("party member %d is linked to %s, %s the span of %d–%d", member, plural(n, "household", "households"), belowAboveEN(n, lo), lo, hi))
}

// NewLongLink: a party member who lives farther than limit from the linked households links.
func NewLongLink(unit string, member int64, grids []string, links []LinkRef, limit float64, geom []byte) *Problem {
	p := newProblem(LongLink, strconv.FormatInt(member, 10), unit, geom)
	far := 0.0
	hh := make([]HouseholdRef, len(links))
	for i, l := range links {
		far = max(far, l.DistanceM)
		hh[i] = HouseholdRef{l.Household, l.ExternalID}
	}
	p.Props.People, p.Props.Grids, p.Props.Households, p.Props.Links = []int64{member}, grids, hh, links
	p.Props.Count, p.Props.DistanceM, p.Props.LimitM = intp(len(links)), floatp(far), floatp(limit)
	return p.say(
		fmt.Sprintf("党员 %d 住处距其联系的 %d 户超过 %s 米（最远 %s 米）", member, len(links), metres(limit), metres(far)),
		fmt.Sprintf("party member %d lives more than %s m from %s (farthest %s m)", member, metres(limit),
			plural(len(links), "linked household", "linked households"), metres(far)))
}

// NewCadreSpan: a cadre linked to n party members, outside [lo, hi].
func NewCadreSpan(unit string, cadre int64, n, lo, hi int, geom []byte) *Problem {
	p := newProblem(CadreSpan, strconv.FormatInt(cadre, 10), unit, geom)
	p.Props.People, p.Props.Count, p.Props.Band = []int64{cadre}, intp(n), bandp(lo, hi)
	return p.say(
		fmt.Sprintf("村干部 %d 联系 %d 名党员，%s %d–%d 名的范围", cadre, n, belowAboveZH(n, lo), lo, hi),
		fmt.Sprintf("cadre %d is linked to %s, %s the span of %d–%d", cadre, plural(n, "party member", "party members"), belowAboveEN(n, lo), lo, hi))
}

// NewCentralSpan: a central household linked to n < lo party members.
func NewCentralSpan(unit string, central int64, hh HouseholdRef, keeper int64, grids []string, n, lo int, geom []byte) *Problem {
	p := newProblem(CentralSpan, strconv.FormatInt(central, 10), unit, geom)
	p.Props.People, p.Props.Households, p.Props.Grids = []int64{keeper}, []HouseholdRef{hh}, grids
	p.Props.Count, p.Props.Band = intp(n), bandp(lo, 0)
	return p.say(
		fmt.Sprintf("党员中心户 %s（党员 %d）联系 %d 名党员，少于 %d 名", hh.ExternalID, keeper, n, lo),
		fmt.Sprintf("central household %s (party member %d) is linked to %s, fewer than %d", hh.ExternalID, keeper,
			plural(n, "party member", "party members"), lo))
}

// NewSecretarySpan: the secretary of branch (of grid) guides n central households, outside [lo, hi].
func NewSecretarySpan(unit, grid string, branch, secretary int64, n, lo, hi int, geom []byte) *Problem {
	p := newProblem(SecretarySpan, strconv.FormatInt(branch, 10), unit, geom)
	p.Props.People, p.Props.Grids, p.Props.Count, p.Props.Band = []int64{secretary}, []string{grid}, intp(n), bandp(lo, hi)
	return p.say(
		fmt.Sprintf("网格 %s 党支部书记 %d 指导 %d 个党员中心户，%s %d–%d 个的范围", grid, secretary, n, belowAboveZH(n, lo), lo, hi),
		fmt.Sprintf("the branch secretary (%d) of grid %s guides %s, %s the span of %d–%d", secretary, grid,
			plural(n, "central household", "central households"), belowAboveEN(n, lo), lo, hi))
}

// NewGridNoBranch: a grid with no active party branch.
func NewGridNoBranch(unit, grid string, geom []byte) *Problem {
	p := newProblem(GridNoBranch, grid, unit, geom)
	p.Props.Grids = []string{grid}
	return p.say(fmt.Sprintf("网格 %s 没有党支部", grid), fmt.Sprintf("grid %s has no party branch", grid))
}

// NewGridNoWorker: a grid with no grid worker (网格员).
func NewGridNoWorker(unit, grid string, geom []byte) *Problem {
	p := newProblem(GridNoWorker, grid, unit, geom)
	p.Props.Grids = []string{grid}
	return p.say(fmt.Sprintf("网格 %s 没有网格员", grid), fmt.Sprintf("grid %s has no grid worker", grid))
}

// NewGridNoLeader: a grid with no grid leader (网格长).
func NewGridNoLeader(unit, grid string, geom []byte) *Problem {
	p := newProblem(GridNoLeader, grid, unit, geom)
	p.Props.Grids = []string{grid}
	return p.say(fmt.Sprintf("网格 %s 没有网格长", grid), fmt.Sprintf("grid %s has no grid leader", grid))
}

// NewBranchNoGroups: the branch of grid has no party groups.
func NewBranchNoGroups(unit, grid string, branch int64, name string, geom []byte) *Problem {
	p := newProblem(BranchNoGroups, strconv.FormatInt(branch, 10), unit, geom)
	p.Props.Grids, p.Props.Count = []string{grid}, intp(0)
	label := strings.TrimSpace(name)
	if label == "" {
		label = strconv.FormatInt(branch, 10)
	}
	return p.say(
		fmt.Sprintf("网格 %s 的党支部“%s”没有党小组", grid, label),
		fmt.Sprintf("the party branch %q of grid %s has no party groups", label, grid))
}

func isAre(n int) string {
	if n == 1 {
		return "is"
	}
	return "are"
}

func hasHave(n int) string {
	if n == 1 {
		return "has"
	}
	return "have"
}

func belowAboveZH(n, lo int) string {
	if n < lo {
		return "低于"
	}
	return "超出"
}

func belowAboveEN(n, lo int) string {
	if n < lo {
		return "below"
	}
	return "above"
}
