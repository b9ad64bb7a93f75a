// Package demo generates gridmap's synthetic demo county and loads it with COPY. The county
// is made by our own deterministic generator: townships and streets side by side, villages
// whose households cluster around a centre and along two roads, urban communities whose
// apartment buildings hold dozens to a hundred households at one point, about 8% party-member
// households, cadres, grids drawn by simple weighted bisection, one branch per grid with party
// groups, the grid team 一长三员, central households and the links between them all.
// The same options always give the same county.
package demo

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"

	"github.com/paulmach/orb"

	"gridmap/geo"
)

// Options size the county.
type Options struct {
	Households int    // total households; default 20,000
	Seed       uint64 // default 1
	Code       string // 6-digit county code; default 999001 (no real county uses 99)
	Name       string // default 示范县
	Origin     orb.Point
}

// DefaultOptions is a county that loads in seconds.
func DefaultOptions() Options {
	return Options{Households: 20000, Seed: 1, Code: "999001", Name: "示范县", Origin: orb.Point{114.20, 30.30}}
}

func (o *Options) fill() {
	d := DefaultOptions()
	if o.Households <= 0 {
		o.Households = d.Households
	}
	if o.Seed == 0 {
		o.Seed = d.Seed
	}
	if o.Code == "" {
		o.Code = d.Code
	}
	if o.Name == "" {
		o.Name = d.Name
	}
	if o.Origin == (orb.Point{}) {
		o.Origin = d.Origin
	}
}

// County is the generated data. Cross references are indexes into the slices.
type County struct {
	Units      []Unit
	Grids      []Grid
	Households []Household
	People     []Person
	Branches   []Branch
	Groups     []Group
	Team       []TeamRole
	Centrals   []Central
	CadreLinks [][2]int // cadre person, member person
	// CentralLinks pair a central household with a member person.
	CentralLinks [][2]int
	// MemberLinks pair a member person with a household.
	MemberLinks [][2]int
}

// Unit is an administrative unit with a rectangular boundary.
type Unit struct {
	Code, Name, Parent string
	Level              geo.Level
	Box                orb.Bound
}

// Grid is a grid drawn inside a village or community.
type Grid struct {
	Code, Unit, Name string
	Kind             geo.GridKind
	Box              orb.Bound
}

// Household is one household; several may share a building's point.
type Household struct {
	Unit       string
	ExternalID string
	Loc        orb.Point
	Address    string
	HeadName   string
	HeadPhone  string
	Residents  int
	Party      bool
	Grid       int
}

// Person is a party member, cadre or grid staff member.
type Person struct {
	Unit      string
	Name      string
	Phone     string
	Party     bool
	Cadre     bool
	Household int // home, -1 if not a household of the county
	Branch    int // -1 if none
	Group     int // -1 if none
}

// Branch is a grid's party branch.
type Branch struct {
	Grid      int
	Name      string
	Secretary int
}

// Group is a party group of a branch.
type Group struct {
	Branch int
	Name   string
	Leader int
}

// TeamRole places a person in a grid's team.
type TeamRole struct {
	Grid, Person int
	Role         string // leader, worker, assistant, instructor
}

// Central is a central household (党员中心户) kept by a party member.
type Central struct {
	Household, Person, Branch int
}

// Sizes of the synthetic places, in degrees (about 0.8 km and 1.4 km at 30°N).
const (
	communitySide      = 0.008
	villageSide        = 0.015
	householdsPerComm  = 3000
	householdsPerVill  = 450
	urbanShare         = 0.6
	partyShare         = 0.08
	gridTarget         = 400
	gridMin, gridMax   = 300, 500
	villageGridMax     = 800
	membersPerCadre    = 8
	membersPerCentral  = 12
	membersPerGroup    = 10
	householdsPerBuild = 120
)

// Generate builds a county. It is deterministic in opts.
func Generate(opts Options) (*County, error) {
	opts.fill()
	if d, err := geo.LevelOfCode("code", opts.Code); err != nil {
		return nil, err
	} else if d != 6 {
		return nil, geo.Invalid("code", "the demo county needs a 6-digit county code")
	}
	if opts.Households < 100 {
		return nil, geo.Invalid("households", "the demo county needs at least 100 households")
	}
	g := &generator{
		rng: rand.New(rand.NewPCG(opts.Seed, 0x9e3779b97f4a7c15)), c: &County{}, used: map[string]bool{},
		surnames: []rune(surnameChars), given: []rune(givenChars), places: []rune(placeChars),
	}
	g.county(opts)
	return g.c, nil
}

type generator struct {
	rng  *rand.Rand
	c    *County
	used map[string]bool // unit names already given

	surnames, given, places []rune
}

// township is the plan of one township or street before its units are made.
type township struct {
	urban      bool
	households int
	rows, cols int
	width      float64
}

func (g *generator) county(o Options) {
	n := o.Households
	towns := clamp(int(math.Round(float64(n)/40000)), 3, 40)
	streets := max(1, int(math.Round(float64(towns)/3)))
	urbanHH := int(float64(n) * urbanShare)
	plans := make([]township, towns)
	for i := range plans {
		plans[i].urban = i < streets
	}
	share(urbanHH, plans[:streets], g.rng)
	share(n-urbanHH, plans[streets:], g.rng)

	// Every township is a full-height strip of equal rows × cols cells.
	area := float64(urbanHH)/householdsPerComm*communitySide*communitySide +
		float64(n-urbanHH)/householdsPerVill*villageSide*villageSide
	height := math.Sqrt(area)
	for i := range plans {
		p := &plans[i]
		side, per := villageSide, float64(householdsPerVill)
		if p.urban {
			side, per = communitySide, householdsPerComm
		}
		p.rows = max(1, int(math.Round(height/side)))
		units := float64(p.households) / per
		p.cols = max(1, int(math.Round(units/float64(p.rows))))
		for p.urban && p.households/(p.rows*p.cols) < 2*gridMin && p.rows > 1 {
			p.rows-- // keep communities big enough for at least two in-band grids
		}
		for !p.urban && p.households/(p.rows*p.cols) < 200 && p.rows > 1 {
			p.rows--
		}
		p.width = float64(p.cols) * side
	}

	x := o.Origin.X()
	y0 := o.Origin.Y()
	var total float64
	for _, p := range plans {
		total += p.width
	}
	g.c.Units = append(g.c.Units, Unit{Code: o.Code, Name: o.Name, Level: geo.LevelCounty,
		Box: orb.Bound{Min: orb.Point{x, y0}, Max: orb.Point{x + total, y0 + height}}})
	for i, p := range plans {
		code := fmt.Sprintf("%s%03d", o.Code, i+1)
		level, suffix := geo.LevelTownship, "镇"
		if p.urban {
			level, suffix = geo.LevelStreet, "街道"
		}
		box := orb.Bound{Min: orb.Point{x, y0}, Max: orb.Point{x + p.width, y0 + height}}
		g.c.Units = append(g.c.Units, Unit{Code: code, Name: g.placeName(suffix), Level: level, Parent: o.Code, Box: box})
		g.township(code, p, box)
		x += p.width
	}
}

// share splits total households over the plans with ±25% variation, exactly.
func share(total int, plans []township, rng *rand.Rand) {
	w := make([]float64, len(plans))
	for i := range w {
		w[i] = 0.75 + 0.5*rng.Float64()
	}
	for i, n := range split(total, w) {
		plans[i].households = n
	}
}

// split divides total into integer parts proportional to w that sum to total.
func split(total int, w []float64) []int {
	var sum float64
	for _, v := range w {
		sum += v
	}
	out := make([]int, len(w))
	given, acc := 0, 0.0
	for i, v := range w {
		acc += v
		next := int(math.Round(float64(total) * acc / sum))
		out[i] = next - given
		given = next
	}
	return out
}

func (g *generator) township(code string, p township, box orb.Bound) {
	cells := p.rows * p.cols
	w := make([]float64, cells)
	for i := range w {
		w[i] = 0.7 + 0.6*g.rng.Float64()
	}
	counts := split(p.households, w)
	cw := (box.Max.X() - box.Min.X()) / float64(p.cols)
	ch := (box.Max.Y() - box.Min.Y()) / float64(p.rows)
	k := 0
	for col := 0; col < p.cols; col++ {
		for row := 0; row < p.rows; row++ {
			cell := orb.Bound{
				Min: orb.Point{box.Min.X() + float64(col)*cw, box.Max.Y() - float64(row+1)*ch},
				Max: orb.Point{box.Min.X() + float64(col+1)*cw, box.Max.Y() - float64(row)*ch},
			}
			if col == p.cols-1 {
				cell.Max[0] = box.Max.X()
			}
			if row == p.rows-1 {
				cell.Min[1] = box.Min.Y()
			}
			ucode := fmt.Sprintf("%s%03d", code, k+1)
			if p.urban {
				g.c.Units = append(g.c.Units, Unit{Code: ucode, Name: g.placeName("社区"), Level: geo.LevelCommunity, Parent: code, Box: cell})
				g.community(ucode, cell, counts[k])
			} else {
				g.c.Units = append(g.c.Units, Unit{Code: ucode, Name: g.placeName("村"), Level: geo.LevelVillage, Parent: code, Box: cell})
				g.village(ucode, cell, counts[k])
			}
			k++
		}
	}
}

// site is a point holding one or more households.
type site struct {
	loc orb.Point
	n   int
}

func (g *generator) community(code string, box orb.Bound, n int) {
	// Apartment buildings of 20–120 households around a few compounds, and low-rise houses
	// of 1–3 households in between; counted in households, buildings dominate.
	compounds := 2 + g.rng.IntN(4)
	centres := make([]orb.Point, compounds)
	for i := range centres {
		centres[i] = g.inside(box, 0.2)
	}
	var sites []site
	left := n
	for left > 0 {
		var k int
		if g.rng.Float64() < 0.3 {
			k = 20 + g.rng.IntN(householdsPerBuild-20+1)
		} else {
			k = 1 + g.rng.IntN(3)
		}
		k = min(k, left)
		c := centres[g.rng.IntN(compounds)]
		sd := (box.Max.X() - box.Min.X()) / 6
		loc := g.clampInside(box, orb.Point{c.X() + g.rng.NormFloat64()*sd, c.Y() + g.rng.NormFloat64()*sd})
		sites = append(sites, site{loc, k})
		left -= k
	}
	name := g.c.Units[len(g.c.Units)-1].Name
	grids := clamp(int(math.Round(float64(n)/gridTarget)), ceilDiv(n, gridMax), max(1, n/gridMin))
	g.place(code, name, geo.KindCommunity, box, sites, grids, true)
}

func (g *generator) village(code string, box orb.Bound, n int) {
	centre := g.inside(box, 0.3)
	type road struct{ dx, dy float64 }
	roads := []road{}
	for range 2 {
		a := g.rng.Float64() * math.Pi
		roads = append(roads, road{math.Cos(a), math.Sin(a)})
	}
	side := box.Max.X() - box.Min.X()
	sites := make([]site, 0, n)
	for range n {
		var p orb.Point
		if g.rng.Float64() < 0.4 {
			p = orb.Point{centre.X() + g.rng.NormFloat64()*side/10, centre.Y() + g.rng.NormFloat64()*side/10}
		} else {
			r := roads[g.rng.IntN(len(roads))]
			t := (g.rng.Float64() - 0.5) * side
			off := g.rng.NormFloat64() * side / 40
			p = orb.Point{centre.X() + t*r.dx - off*r.dy, centre.Y() + t*r.dy + off*r.dx}
		}
		sites = append(sites, site{g.clampInside(box, p), 1})
	}
	name := g.c.Units[len(g.c.Units)-1].Name
	g.place(code, name, geo.KindVillage, box, sites, ceilDiv(n, villageGridMax), false)
}

// inside returns a random point of box away from its edges by margin (a fraction).
func (g *generator) inside(b orb.Bound, margin float64) orb.Point {
	w, h := b.Max.X()-b.Min.X(), b.Max.Y()-b.Min.Y()
	return orb.Point{
		b.Min.X() + w*(margin+(1-2*margin)*g.rng.Float64()),
		b.Min.Y() + h*(margin+(1-2*margin)*g.rng.Float64()),
	}
}

// clampInside pulls p strictly inside b (2% margin), with a little jitter so clamped points
// do not pile up on one line.
func (g *generator) clampInside(b orb.Bound, p orb.Point) orb.Point {
	w, h := b.Max.X()-b.Min.X(), b.Max.Y()-b.Min.Y()
	lo := func(v, min, size float64) float64 {
		if v < min+0.02*size {
			return min + size*(0.02+0.03*g.rng.Float64())
		}
		if v > min+0.98*size {
			return min + size*(0.95+0.03*g.rng.Float64())
		}
		return v
	}
	return orb.Point{lo(p.X(), b.Min.X(), w), lo(p.Y(), b.Min.Y(), h)}
}

// place draws the unit's grids by weighted bisection of its box, then creates its
// households, party members, branch, groups, team, central households and links.
func (g *generator) place(code, unitName string, kind geo.GridKind, box orb.Bound, sites []site, grids int, urban bool) {
	parts := bisect(box, sites, grids)
	// Number grids north→south, then west→east.
	sort.SliceStable(parts, func(i, j int) bool {
		a, b := parts[i].box, parts[j].box
		if a.Max.Y() != b.Max.Y() {
			return a.Max.Y() > b.Max.Y()
		}
		return a.Min.X() < b.Min.X()
	})
	hh := 0
	for gi, part := range parts {
		gridIdx := len(g.c.Grids)
		gname := fmt.Sprintf("%s第%d网格", unitName, gi+1)
		if len(parts) == 1 {
			gname = unitName + "网格"
		}
		g.c.Grids = append(g.c.Grids, Grid{Code: fmt.Sprintf("%s%03d", code, gi+1), Unit: code, Name: gname, Kind: kind, Box: part.box})
		first := len(g.c.Households)
		for si, s := range part.sites {
			for k := 0; k < s.n; k++ {
				hh++
				var addr string
				if urban {
					addr = fmt.Sprintf("%s%d栋%d单元%d室", unitName, gi*100+si+1, k/24+1, (k%24)/4*100+k%4+101)
				} else {
					addr = fmt.Sprintf("%s%d组%d号", unitName, gi+1, si+1)
				}
				g.c.Households = append(g.c.Households, Household{
					Unit: code, ExternalID: fmt.Sprintf("H%s%05d", code[6:], hh), Loc: s.loc, Address: addr,
					HeadName: g.personName(), HeadPhone: g.phone(), Residents: g.residents(),
					Party: g.rng.Float64() < partyShare, Grid: gridIdx,
				})
			}
		}
		g.organise(code, gridIdx, first, len(g.c.Households))
	}
}

// organise creates the party organisation of one grid whose households are [first, end).
func (g *generator) organise(unit string, grid, first, end int) {
	c := g.c
	var members []int
	for h := first; h < end; h++ {
		if c.Households[h].Party {
			members = append(members, len(c.People))
			c.People = append(c.People, Person{Unit: unit, Name: c.Households[h].HeadName, Phone: c.Households[h].HeadPhone,
				Party: true, Household: h, Branch: -1, Group: -1})
		}
	}
	if len(members) == 0 && end > first { // every grid has at least one party member
		h := first + g.rng.IntN(end-first)
		c.Households[h].Party = true
		members = append(members, len(c.People))
		c.People = append(c.People, Person{Unit: unit, Name: c.Households[h].HeadName, Phone: c.Households[h].HeadPhone,
			Party: true, Household: h, Branch: -1, Group: -1})
	}
	staff := func(party bool) int {
		c.People = append(c.People, Person{Unit: unit, Name: g.personName(), Phone: g.phone(), Party: party, Household: -1, Branch: -1, Group: -1})
		return len(c.People) - 1
	}
	gridName := c.Grids[grid].Name
	if len(members) == 0 {
		return
	}
	// Branch, secretary (also the grid leader), groups of about ten members.
	branch := len(c.Branches)
	secretary := members[0]
	c.Branches = append(c.Branches, Branch{Grid: grid, Name: gridName + "党支部", Secretary: secretary})
	groups := max(1, ceilDiv(len(members), membersPerGroup))
	for k := range groups {
		c.Groups = append(c.Groups, Group{Branch: branch, Name: fmt.Sprintf("第%d党小组", k+1), Leader: members[k*len(members)/groups]})
	}
	firstGroup := len(c.Groups) - groups
	for i, m := range members {
		c.People[m].Branch = branch
		c.People[m].Group = firstGroup + i*groups/len(members)
	}
	c.Team = append(c.Team,
		TeamRole{grid, secretary, "leader"},
		TeamRole{grid, staff(false), "worker"},
		TeamRole{grid, staff(false), "assistant"},
		TeamRole{grid, staff(true), "instructor"})

	// Cadres: one per ~8 members, each linked to the members that follow it.
	cadres := max(1, ceilDiv(len(members), membersPerCadre+1))
	for k := range cadres {
		lo, hi := k*len(members)/cadres, (k+1)*len(members)/cadres
		cadre := members[lo]
		c.People[cadre].Cadre = true
		for _, m := range members[lo+1 : hi] {
			c.CadreLinks = append(c.CadreLinks, [2]int{cadre, m})
		}
	}
	// Central households: one per ~12 members, guiding the members after it.
	centrals := max(1, ceilDiv(len(members), membersPerCentral+1))
	for k := range centrals {
		lo, hi := k*len(members)/centrals, (k+1)*len(members)/centrals
		keeper := members[hi-1]
		ci := len(c.Centrals)
		c.Centrals = append(c.Centrals, Central{Household: c.People[keeper].Household, Person: keeper, Branch: branch})
		for _, m := range members[lo : hi-1] {
			c.CentralLinks = append(c.CentralLinks, [2]int{ci, m})
		}
	}
	// Households to members: walk the grid's households in space-filling order and give
	// each member an equal run, so a member serves the households around one place.
	hs := make([]int, 0, end-first)
	for h := first; h < end; h++ {
		hs = append(hs, h)
	}
	box := c.Grids[grid].Box
	sort.SliceStable(hs, func(i, j int) bool {
		return morton(box, c.Households[hs[i]].Loc) < morton(box, c.Households[hs[j]].Loc)
	})
	ms := append([]int(nil), members...)
	sort.SliceStable(ms, func(i, j int) bool {
		return morton(box, c.Households[c.People[ms[i]].Household].Loc) < morton(box, c.Households[c.People[ms[j]].Household].Loc)
	})
	for i, h := range hs {
		c.MemberLinks = append(c.MemberLinks, [2]int{ms[i*len(ms)/len(hs)], h})
	}
}

// morton interleaves the bits of p's position in box (16 bits per axis).
func morton(b orb.Bound, p orb.Point) uint32 {
	x := uint32((p.X() - b.Min.X()) / (b.Max.X() - b.Min.X()) * 65535)
	y := uint32((p.Y() - b.Min.Y()) / (b.Max.Y() - b.Min.Y()) * 65535)
	var z uint32
	for i := range 16 {
		z |= (x>>i&1)<<(2*i) | (y>>i&1)<<(2*i+1)
	}
	return z
}

type part struct {
	box   orb.Bound
	sites []site
}

// bisect splits box into k parts of about equal households, cutting across the longer side
// between two distinct site coordinates so no site lies on a cut.
func bisect(box orb.Bound, sites []site, k int) []part {
	if k <= 1 || len(sites) < 2 {
		return []part{{box, sites}}
	}
	k1 := k / 2
	axis := 0
	midLat := (box.Min.Y() + box.Max.Y()) / 2
	if (box.Max.Y() - box.Min.Y()) > (box.Max.X()-box.Min.X())*math.Cos(midLat*math.Pi/180) {
		axis = 1
	}
	s := append([]site(nil), sites...)
	sort.SliceStable(s, func(i, j int) bool { return s[i].loc[axis] < s[j].loc[axis] })
	total := 0
	for _, v := range s {
		total += v.n
	}
	target := float64(total) * float64(k1) / float64(k)
	best, bestDiff, acc := -1, math.Inf(1), 0
	for i := 1; i < len(s); i++ {
		acc += s[i-1].n
		if s[i-1].loc[axis] == s[i].loc[axis] {
			continue
		}
		if d := math.Abs(float64(acc) - target); d < bestDiff {
			best, bestDiff = i, d
		}
	}
	if best < 0 {
		return []part{{box, sites}}
	}
	cut := (s[best-1].loc[axis] + s[best].loc[axis]) / 2
	lo, hi := box, box
	lo.Max[axis], hi.Min[axis] = cut, cut
	return append(bisect(lo, s[:best], k1), bisect(hi, s[best:], k-k1)...)
}

// Characters that names are drawn from.
const (
	surnameChars = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾肖田董潘袁蔡蒋余于杜叶程魏苏吕丁任卢姚沈钟姜崔谭陆范汪廖石金韦贾夏付方邹熊白孟秦邱侯江尹薛闫段雷龙黎史陶贺毛郝顾龚邵万覃武钱戴严莫孔向常汤"
	givenChars   = "伟芳娜秀敏静丽强磊军洋勇艳杰娟涛明超霞平刚桂英华玉兰红梅鹏辉林建国志军海燕文斌俊峰波宇浩凯晨欣怡子涵梓轩雨桐思远佳琪"
	placeChars   = "青石柳河桥东西南北新安和平兴丰福龙凤山水云花桃李金银长乐永宁红星光明朝阳太白马家塘湾岭坪田园"
)

func (g *generator) placeName(suffix string) string {
	for {
		name := string([]rune{g.places[g.rng.IntN(len(g.places))], g.places[g.rng.IntN(len(g.places))]}) + suffix
		if !g.used[name] {
			g.used[name] = true
			return name
		}
		if len(g.used) > 200000 {
			name = fmt.Sprintf("%s%d%s", name[:len(name)-len(suffix)], len(g.used), suffix)
			g.used[name] = true
			return name
		}
	}
}

func (g *generator) personName() string {
	n := []rune{g.surnames[g.rng.IntN(len(g.surnames))], g.given[g.rng.IntN(len(g.given))]}
	if g.rng.IntN(3) > 0 {
		n = append(n, g.given[g.rng.IntN(len(g.given))])
	}
	return string(n)
}

func (g *generator) phone() string {
	prefixes := [...]string{"138", "139", "137", "136", "135", "150", "151", "158", "186", "187", "189", "177"}
	return fmt.Sprintf("%s%08d", prefixes[g.rng.IntN(len(prefixes))], g.rng.IntN(100000000))
}

// residents of a household: 1–6, mostly 2–4.
func (g *generator) residents() int {
	return clamp(int(math.Round(3+g.rng.NormFloat64()*1.1)), 1, 6)
}

func clamp(v, lo, hi int) int {
	if hi < lo {
		hi = lo
	}
	return max(lo, min(hi, v))
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }
