package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"testing"

	"gridmap/geo"
	"gridmap/geo/coverage"
	"gridmap/geo/store"
)

// coverageFixture is a county near 30°N whose right answers are known. One degree of
// longitude there is about 96,486 m, one degree of latitude about 110,852 m.
//
//	999001001001 缺口村  grids 001 (west half) and 002 (east, reaching 0.001° into 001 and
//	                     stopping 0.002° short of the north edge): a gap of 0.005°×0.002°
//	                     (≈106,950 m²), an overlap of 0.001°×0.008° (≈85,560 m²), household
//	                     A3 inside both grids, A6 in the gap (no grid) and unlinked
//	999001001002 飞地村  grid 001 in two parts (a gap between them), grid 002 reaching
//	                     0.001°×0.010° (≈106,950 m²) east of the village; no branch, no team
//	999001001003 整洁村  a clean village: 300 households, 30 members × 10 households,
//	                     3 cadres × 10 members, 3 central households × 10 members, a secretary
//	                     guiding 3, a branch with a group, a full team
//	999001001004 跨度村  member 401 linked to 16 households, one of them 800 m from home;
//	                     5 unlinked households; cadre 402 with 3 members; central household
//	                     (of member 403) with 7 members; secretary 403 guiding 1; no worker;
//	                     a branch without party groups
var coverageFixture = []string{
	`CREATE FUNCTION pg_temp.env(x0 float8, y0 float8, x1 float8, y1 float8) RETURNS geometry
	 LANGUAGE sql AS $$ SELECT ST_Multi(ST_MakeEnvelope(x0, y0, x1, y1, 4326)) $$`,
	`CREATE FUNCTION pg_temp.pt(x float8, y float8) RETURNS geometry
	 LANGUAGE sql AS $$ SELECT ST_SetSRID(ST_MakePoint(x, y), 4326) $$`,
	`INSERT INTO units (code, name, level, parent_code, boundary) VALUES
	 ('999001', '测试县', 'county', NULL, pg_temp.env(114.000, 30.000, 114.020, 30.020)),
	 ('999001001', '测试镇', 'township', '999001', pg_temp.env(114.000, 30.000, 114.020, 30.020)),
	 ('999001001001', '缺口村', 'village', '999001001', pg_temp.env(114.000, 30.000, 114.010, 30.010)),
	 ('999001001002', '飞地村', 'village', '999001001', pg_temp.env(114.010, 30.000, 114.020, 30.010)),
	 ('999001001003', '整洁村', 'village', '999001001', pg_temp.env(114.000, 30.010, 114.010, 30.020)),
	 ('999001001004', '跨度村', 'village', '999001001', pg_temp.env(114.010, 30.010, 114.020, 30.020))`,
	`INSERT INTO grids (code, unit_code, name, kind, boundary) VALUES
	 ('999001001001001', '999001001001', '缺口村第1网格', 'village', pg_temp.env(114.000, 30.000, 114.005, 30.010)),
	 ('999001001001002', '999001001001', '缺口村第2网格', 'village', pg_temp.env(114.004, 30.000, 114.010, 30.008)),
	 ('999001001002001', '999001001002', '飞地村第1网格', 'village',
	  ST_Multi(ST_Union(ST_MakeEnvelope(114.010, 30.000, 114.015, 30.004, 4326), ST_MakeEnvelope(114.010, 30.006, 114.015, 30.010, 4326)))),
	 ('999001001002002', '999001001002', '飞地村第2网格', 'village', pg_temp.env(114.015, 30.000, 114.021, 30.010)),
	 ('999001001003001', '999001001003', '整洁村网格', 'village', pg_temp.env(114.000, 30.010, 114.010, 30.020)),
	 ('999001001004001', '999001001004', '跨度村网格', 'village', pg_temp.env(114.010, 30.010, 114.020, 30.020))`,

	// 缺口村
	`INSERT INTO households (id, unit_code, external_id, location, residents) OVERRIDING SYSTEM VALUE VALUES
	 (101, '999001001001', 'A1', pg_temp.pt(114.001, 30.001), 3),
	 (102, '999001001001', 'A2', pg_temp.pt(114.002, 30.005), 3),
	 (103, '999001001001', 'A3', pg_temp.pt(114.0045, 30.004), 3),
	 (104, '999001001001', 'A4', pg_temp.pt(114.008, 30.002), 3),
	 (105, '999001001001', 'A5', pg_temp.pt(114.009, 30.006), 3),
	 (106, '999001001001', 'A6', pg_temp.pt(114.007, 30.009), 3)`,
	`INSERT INTO people (id, unit_code, name, party_member, household_id) OVERRIDING SYSTEM VALUE VALUES
	 (201, '999001001001', '甲', true, 101)`,
	`INSERT INTO member_household_links (member_id, household_id) SELECT 201, id FROM households WHERE id BETWEEN 101 AND 105`,

	// 整洁村: 300 households in a 100 m patch, members 301–330 living in 3001–3030.
	`INSERT INTO households (id, unit_code, external_id, location, residents) OVERRIDING SYSTEM VALUE
	 SELECT 3000 + i, '999001001003', 'C' || i, pg_temp.pt(114.0045 + (i % 20) * 0.00005, 30.0145 + (i / 20) * 0.00005), 3
	 FROM generate_series(1, 300) i`,
	`INSERT INTO people (id, unit_code, name, party_member, household_id) OVERRIDING SYSTEM VALUE
	 SELECT 300 + k, '999001001003', '党员' || k, true, 3000 + k FROM generate_series(1, 30) k`,
	`INSERT INTO people (id, unit_code, name, cadre) OVERRIDING SYSTEM VALUE
	 SELECT 340 + k, '999001001003', '干部' || k, true FROM generate_series(1, 3) k`,
	`INSERT INTO people (id, unit_code, name) OVERRIDING SYSTEM VALUE VALUES (350, '999001001003', '网格员')`,
	`INSERT INTO member_household_links (member_id, household_id)
	 SELECT 300 + (i - 1) / 10 + 1, 3000 + i FROM generate_series(1, 300) i`,
	`INSERT INTO cadre_member_links (cadre_id, member_id) SELECT 340 + (k - 1) / 10 + 1, 300 + k FROM generate_series(1, 30) k`,
	`INSERT INTO branches (id, grid_id, name, secretary_id) OVERRIDING SYSTEM VALUE
	 SELECT 3, id, '整洁村党支部', 301 FROM grids WHERE code = '999001001003001'`,
	`INSERT INTO party_groups (branch_id, name, leader_id) VALUES (3, '第一党小组', 302)`,
	`INSERT INTO grid_team (grid_id, person_id, role)
	 SELECT g.id, t.p, t.r FROM grids g, (VALUES (301, 'leader'), (350, 'worker'), (350, 'assistant'), (302, 'instructor')) t(p, r)
	 WHERE g.code = '999001001003001'`,
	`INSERT INTO central_households (id, household_id, person_id, branch_id) OVERRIDING SYSTEM VALUE
	 SELECT c, 3000 + (c - 1) * 10 + 1, 300 + (c - 1) * 10 + 1, 3 FROM generate_series(1, 3) c`,
	`INSERT INTO central_member_links (central_household_id, member_id) SELECT (k - 1) / 10 + 1, 300 + k FROM generate_series(1, 30) k`,

	// 跨度村: member 401 at (114.011, 30.015); household 4021 800 m east of there.
	`INSERT INTO households (id, unit_code, external_id, location, residents) OVERRIDING SYSTEM VALUE
	 SELECT 4000 + i, '999001001004', 'D' || i, pg_temp.pt(114.011 + (i - 1) * 0.00001, 30.015), 2
	 FROM generate_series(1, 20) i`,
	`INSERT INTO households (id, unit_code, external_id, location, residents) OVERRIDING SYSTEM VALUE VALUES
	 (4021, '999001001004', 'D21', ST_Project(pg_temp.pt(114.011, 30.015)::geography, 800, radians(90))::geometry, 2)`,
	`INSERT INTO people (id, unit_code, name, party_member, cadre, household_id) OVERRIDING SYSTEM VALUE VALUES
	 (401, '999001001004', '乙', true, false, 4001),
	 (402, '999001001004', '丙', false, true, NULL),
	 (403, '999001001004', '丁', true, false, 4002)`,
	`INSERT INTO people (id, unit_code, name, party_member) OVERRIDING SYSTEM VALUE
	 SELECT 403 + k, '999001001004', '成员' || k, true FROM generate_series(1, 7) k`,
	`INSERT INTO member_household_links (member_id, household_id)
	 SELECT 401, id FROM households WHERE id BETWEEN 4001 AND 4015 OR id = 4021`,
	`INSERT INTO cadre_member_links (cadre_id, member_id) VALUES (402, 403), (402, 404), (402, 405)`,
	`INSERT INTO branches (id, grid_id, name, secretary_id) OVERRIDING SYSTEM VALUE
	 SELECT 4, id, '跨度村党支部', 403 FROM grids WHERE code = '999001001004001'`,
	`INSERT INTO grid_team (grid_id, person_id, role) SELECT id, 403, 'leader' FROM grids WHERE code = '999001001004001'`,
	`INSERT INTO central_households (id, household_id, person_id, branch_id) OVERRIDING SYSTEM VALUE VALUES (4, 4002, 403, 4)`,
	`INSERT INTO central_member_links (central_household_id, member_id) SELECT 4, 403 + k FROM generate_series(1, 7) k`,
}

func loadCoverageFixture(t *testing.T, st *store.Store) {
	t.Helper()
	ctx := context.Background()
	conn, err := st.Pool().Acquire(ctx) // pg_temp functions live in one session
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	for _, sql := range coverageFixture {
		if _, err := conn.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	if _, err := conn.Exec(ctx, `DISCARD TEMP`); err != nil {
		t.Fatal(err)
	}
}

func coverageReport(t *testing.T, st *store.Store, unit string, kinds ...coverage.Kind) *coverage.Report {
	t.Helper()
	r, err := st.Coverage(context.Background(), unit, store.CoverageOptions{Kinds: kinds, Geometry: true})
	if err != nil {
		t.Fatalf("coverage %s: %v", unit, err)
	}
	return r
}

// problems returns the problems of kind in unit (every unit for "").
func problems(r *coverage.Report, kind coverage.Kind, unit string) []*coverage.Problem {
	var out []*coverage.Problem
	for _, p := range r.Problems {
		if p.Kind() == kind && (unit == "" || p.Props.Unit == unit) {
			out = append(out, p)
		}
	}
	return out
}

func one(t *testing.T, r *coverage.Report, kind coverage.Kind, unit string) *coverage.Problem {
	t.Helper()
	ps := problems(r, kind, unit)
	if len(ps) != 1 {
		for _, p := range r.Problems {
			t.Logf("%s %s: %s", p.Kind(), p.Props.Unit, p.Props.MessageEN)
		}
		t.Fatalf("%d %s problems in %s, want 1", len(ps), kind, unit)
	}
	p := ps[0]
	if p.Props.MessageZH == "" || p.Props.MessageEN == "" || p.Props.Severity != kind.Severity() {
		t.Fatalf("problem %+v lacks messages or severity", p.Props)
	}
	return p
}

func near(t *testing.T, what string, got, want, rel float64) {
	t.Helper()
	if math.Abs(got-want) > rel*want {
		t.Fatalf("%s = %.1f, want %.1f ± %.0f%%", what, got, want, rel*100)
	}
}

func node(t *testing.T, n *coverage.Node, code string) *coverage.Node {
	t.Helper()
	if n.Code == code {
		return n
	}
	for _, c := range n.Children {
		if len(code) >= len(c.Code) && code[:len(c.Code)] == c.Code {
			return node(t, c, code)
		}
	}
	t.Fatalf("no node %s under %s", code, n.Code)
	return nil
}

func pctIs(t *testing.T, what string, p *float64, want float64) {
	t.Helper()
	if p == nil || math.Abs(*p-want) > 0.005 {
		t.Fatalf("%s = %v, want %.2f", what, p, want)
	}
}

func TestCoverageFindsEachProblem(t *testing.T) {
	st := pg.Store(t)
	loadCoverageFixture(t, st)
	r := coverageReport(t, st, "999001")
	const v1, v2, v3, v4 = "999001001001", "999001001002", "999001001003", "999001001004"

	// 缺口村: the gap, the overlap, the household in no grid and the one in two.
	gap := one(t, r, coverage.Gap, v1)
	near(t, "gap area", *gap.Props.AreaM2, 0.005*96486*0.002*110852, 0.01)
	ov := one(t, r, coverage.Overlap, v1)
	near(t, "overlap area", *ov.Props.AreaM2, 0.001*96486*0.008*110852, 0.01)
	if g := ov.Props.Grids; len(g) != 2 || g[0] != v1+"001" || g[1] != v1+"002" {
		t.Fatalf("overlap grids %v", g)
	}
	if ov.Geometry == nil || gap.Geometry == nil {
		t.Fatal("gap or overlap without geometry")
	}
	ng := one(t, r, coverage.HouseholdNoGrid, v1)
	if hh := ng.Props.Households; len(hh) != 1 || hh[0].ID != 106 || hh[0].ExternalID != "A6" || *ng.Props.Count != 1 {
		t.Fatalf("households in no grid: %+v", ng.Props)
	}
	mg := one(t, r, coverage.HouseholdMultiGrid, v1)
	if hh := mg.Props.Households; len(hh) != 1 || hh[0].ExternalID != "A3" || len(mg.Props.Grids) != 2 {
		t.Fatalf("households in two grids: %+v", mg.Props)
	}
	if nm := one(t, r, coverage.HouseholdNoMember, v1); nm.Props.Households[0].ExternalID != "A6" {
		t.Fatalf("unlinked: %+v", nm.Props)
	}
	if ms := one(t, r, coverage.MemberSpan, v1); *ms.Props.Count != 5 || *ms.Props.Band != [2]int{10, 15} {
		t.Fatalf("member span: %+v", ms.Props)
	}

	// 飞地村: a grid in two parts, a grid outside the village, no branches or teams.
	mp := one(t, r, coverage.GridMultipart, v2)
	if *mp.Props.Count != 2 || mp.Props.Grids[0] != v2+"001" {
		t.Fatalf("multipart: %+v", mp.Props)
	}
	out := one(t, r, coverage.GridOutsideUnit, v2)
	near(t, "area outside", *out.Props.AreaM2, 0.001*96486*0.010*110852, 0.01)
	if out.Props.Grids[0] != v2+"002" {
		t.Fatalf("outside: %+v", out.Props)
	}
	for _, k := range []coverage.Kind{coverage.GridNoBranch, coverage.GridNoWorker, coverage.GridNoLeader, coverage.GridHouseholdsBand} {
		if n := len(problems(r, k, v2)); n != 2 {
			t.Fatalf("%d %s problems in %s, want 2", n, k, v2)
		}
	}

	// 整洁村: nothing.
	for _, p := range r.Problems {
		if p.Props.Unit == v3 {
			t.Fatalf("clean village has %s: %s", p.Kind(), p.Props.MessageEN)
		}
	}

	// 跨度村: the spans.
	ms := one(t, r, coverage.MemberSpan, v4)
	if *ms.Props.Count != 16 || ms.Props.People[0] != 401 || ms.Props.Grids[0] != v4+"001" {
		t.Fatalf("member span: %+v", ms.Props)
	}
	ll := one(t, r, coverage.LongLink, v4)
	if len(ll.Props.Links) != 1 || ll.Props.Links[0].ExternalID != "D21" || ll.Props.People[0] != 401 || *ll.Props.LimitM != 500 {
		t.Fatalf("long link: %+v", ll.Props)
	}
	near(t, "link length", *ll.Props.DistanceM, 800, 0.01)
	if nm := one(t, r, coverage.HouseholdNoMember, v4); *nm.Props.Count != 5 || nm.Props.Grids[0] != v4+"001" {
		t.Fatalf("unlinked: %+v", nm.Props)
	}
	if cs := one(t, r, coverage.CadreSpan, v4); *cs.Props.Count != 3 || cs.Props.People[0] != 402 || *cs.Props.Band != [2]int{5, 10} {
		t.Fatalf("cadre span: %+v", cs.Props)
	}
	if cs := one(t, r, coverage.CentralSpan, v4); *cs.Props.Count != 7 || cs.Props.People[0] != 403 || cs.Props.Households[0].ExternalID != "D2" {
		t.Fatalf("central span: %+v", cs.Props)
	}
	if ss := one(t, r, coverage.SecretarySpan, v4); *ss.Props.Count != 1 || ss.Props.People[0] != 403 || *ss.Props.Band != [2]int{3, 5} {
		t.Fatalf("secretary span: %+v", ss.Props)
	}
	one(t, r, coverage.GridNoWorker, v4)
	one(t, r, coverage.BranchNoGroups, v4)
	if n := len(problems(r, coverage.GridNoLeader, v4)) + len(problems(r, coverage.GridNoBranch, v4)); n != 0 {
		t.Fatalf("跨度村 has a leader and a branch, got %d problems", n)
	}

	// Each feature renders as GeoJSON with the promised properties.
	b, err := json.Marshal(ll)
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Type       string
		Geometry   struct{ Type string }
		Properties map[string]any
	}
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	if f.Type != "Feature" || f.Geometry.Type != "MultiLineString" || f.Properties["kind"] != "long_link" ||
		f.Properties["severity"] != "warning" || f.Properties["message_zh"] == "" || f.Properties["message_en"] == "" {
		t.Fatalf("feature %s", b)
	}
}

func TestCoverageSummary(t *testing.T) {
	st := pg.Store(t)
	loadCoverageFixture(t, st)
	r, err := st.Coverage(context.Background(), "999001", store.CoverageOptions{})
	if err != nil {
		t.Fatal(err)
	}
	root := r.Summary()
	if root.Code != "999001" || len(root.Children) != 1 || len(node(t, root.Node, "999001001").Children) != 4 {
		t.Fatalf("tree: %+v", root.Node)
	}
	// 缺口村: 6 households, 5 covered, 5 linked; 2 grids, none in the village band (100–800).
	v1 := node(t, root.Node, "999001001001")
	if c := v1.Counts; c.Households != 6 || c.CoveredHouseholds != 5 || c.LinkedHouseholds != 5 || c.MultiGridHouseholds != 1 ||
		c.Grids != 2 || c.GridsInBand != 0 || c.Residents != 18 {
		t.Fatalf("缺口村 counts %+v", c)
	}
	pctIs(t, "covered", v1.Percent.Covered, 83.33)
	pctIs(t, "linked", v1.Percent.Linked, 83.33)
	pctIs(t, "in band", v1.Percent.GridsInBand, 0)
	if len(v1.Grids) != 2 || v1.Grids[0].Households != 3 || v1.Grids[0].MultiGridHouseholds != 1 || v1.Grids[0].Problems[coverage.Overlap] != 1 {
		t.Fatalf("缺口村 grids %+v", v1.Grids[0])
	}
	if v1.Problems[coverage.Gap] != 1 || v1.Errors == 0 {
		t.Fatalf("缺口村 problems %v", v1.Problems)
	}
	// 整洁村: everything at 100%.
	v3 := node(t, root.Node, "999001001003")
	if c := v3.Counts; c.Households != 300 || c.PartyMembers != 30 || c.LinkingMembers != 30 || c.Cadres != 3 || c.Centrals != 3 || c.Secretaries != 1 {
		t.Fatalf("整洁村 counts %+v", c)
	}
	for name, p := range map[string]*float64{"covered": v3.Percent.Covered, "linked": v3.Percent.Linked, "in band": v3.Percent.GridsInBand,
		"resident band": v3.Percent.GridsInResidentBand, "branch": v3.Percent.GridsWithBranch, "worker": v3.Percent.GridsWithWorker,
		"leader": v3.Percent.GridsWithLeader, "groups": v3.Percent.BranchesWithGroups, "members": v3.Percent.MembersWithinSpan,
		"cadres": v3.Percent.CadresWithinSpan, "centrals": v3.Percent.CentralsWithinSpan, "secretaries": v3.Percent.SecretariesInSpan} {
		pctIs(t, "整洁村 "+name, p, 100)
	}
	if v3.Errors+v3.Warnings != 0 {
		t.Fatalf("整洁村 problems %v", v3.Problems)
	}
	// The county adds up its villages.
	if c := root.Counts; c.Households != 6+300+21 || c.CoveredHouseholds != 5+300+21 || c.Grids != 6 {
		t.Fatalf("county counts %+v", c)
	}
	pctIs(t, "county covered", root.Percent.Covered, 100*326.0/327)
	if root.Problems[coverage.Gap] != 2 || root.Problems[coverage.LongLink] != 2 {
		t.Fatalf("county problems %v", root.Problems)
	}

	// A clean village's own report has no problems at all.
	clean := coverageReport(t, st, "999001001003")
	if len(clean.Problems) != 0 || clean.Root.Errors+clean.Root.Warnings != 0 || len(clean.Root.Grids) != 1 {
		t.Fatalf("clean village: %d problems", len(clean.Problems))
	}
}

// Edits reach the next report: the caches are refreshed in the transaction of the edit.
func TestCoverageFollowsEdits(t *testing.T) {
	st := pg.Store(t)
	loadCoverageFixture(t, st)
	pool := st.Pool()
	const v1, v4 = "999001001001", "999001001004"
	r := coverageReport(t, st, "999001")
	if len(problems(r, coverage.Gap, v1)) != 1 {
		t.Fatal("no gap to fix")
	}
	// Grid 002 reshaped to the east half: gap, overlap and both household problems go.
	mustExec(t, pool, `UPDATE grids SET boundary = ST_Multi(ST_MakeEnvelope(114.005, 30.000, 114.010, 30.010, 4326)), version = version + 1 WHERE code = '999001001001002'`)
	r = coverageReport(t, st, "999001")
	for _, k := range []coverage.Kind{coverage.Gap, coverage.Overlap, coverage.HouseholdNoGrid, coverage.HouseholdMultiGrid} {
		if n := len(problems(r, k, v1)); n != 0 {
			t.Fatalf("after the edit: %d %s problems", n, k)
		}
	}
	v1n := node(t, r.Root, v1)
	pctIs(t, "covered after the edit", v1n.Percent.Covered, 100)
	if c := v1n.Counts; c.Households != 6 || c.CoveredHouseholds != 6 || c.LinkedHouseholds != 5 {
		t.Fatalf("after the edit: %+v", c)
	}
	if v1n.Grids[1].Households != 3 {
		t.Fatalf("grid 002 holds %d households, want 3", v1n.Grids[1].Households)
	}

	// Linking A6 reaches every household of 缺口村.
	mustExec(t, pool, `INSERT INTO member_household_links (member_id, household_id) VALUES (201, 106)`)
	r = coverageReport(t, st, v1)
	pctIs(t, "linked after the link", r.Root.Percent.Linked, 100)
	if n := len(problems(r, coverage.HouseholdNoMember, "")); n != 0 {
		t.Fatalf("%d unlinked problems after the link", n)
	}
	if ms := one(t, r, coverage.MemberSpan, v1); *ms.Props.Count != 6 {
		t.Fatalf("member 201 has %d households, want 6", *ms.Props.Count)
	}

	// The far household moves next door: no long link; then the member moves away: long
	// links from the new home.
	mustExec(t, pool, `UPDATE households SET location = ST_SetSRID(ST_MakePoint(114.0112, 30.015), 4326) WHERE id = 4021`)
	r = coverageReport(t, st, v4, coverage.LongLink)
	if n := len(r.Problems); n != 0 {
		t.Fatalf("%d long links after the household moved", n)
	}
	mustExec(t, pool, `UPDATE households SET location = ST_SetSRID(ST_MakePoint(114.019, 30.019), 4326) WHERE id = 4001`)
	r = coverageReport(t, st, v4, coverage.LongLink)
	if ll := one(t, r, coverage.LongLink, v4); len(ll.Props.Links) != 15 {
		t.Fatalf("after the home moved: %d long links, want 15 (all but the home itself)", len(ll.Props.Links))
	}

	// A wider policy distance for the village clears them.
	mustExec(t, pool, `INSERT INTO span_policies (unit_code, link_distance_m) VALUES ('999001001004', 5000)`)
	r = coverageReport(t, st, v4, coverage.LongLink)
	if n := len(r.Problems); n != 0 {
		t.Fatalf("%d long links under a 5 km policy", n)
	}

	// Retiring grid 001 of 缺口村 leaves its households without a grid.
	if err := st.RetireGrid(context.Background(), "999001001001001", -1, "test"); err != nil {
		t.Fatal(err)
	}
	r = coverageReport(t, st, v1)
	ng := one(t, r, coverage.HouseholdNoGrid, v1)
	if *ng.Props.Count != 3 {
		t.Fatalf("%d households without a grid after retiring 001, want 3", *ng.Props.Count)
	}
	if g := one(t, r, coverage.Gap, v1); math.Abs(*g.Props.AreaM2-0.005*96486*0.010*110852) > 0.01*0.005*96486*0.010*110852 {
		t.Fatalf("gap after retiring: %.0f m²", *g.Props.AreaM2)
	}
	if r.Root.Counts.LinkedHouseholds != 6 {
		t.Fatalf("linked households %d, want 6 (3 of them live)", r.Root.Counts.LinkedHouseholds)
	}
}

func TestCoverageKindsAndErrors(t *testing.T) {
	st := pg.Store(t)
	loadCoverageFixture(t, st)
	r := coverageReport(t, st, "999001", coverage.Gap, coverage.Overlap)
	if len(r.Problems) != 3 {
		t.Fatalf("%d gap/overlap problems, want 3", len(r.Problems))
	}
	for _, p := range r.Problems {
		if p.Kind() != coverage.Gap && p.Kind() != coverage.Overlap {
			t.Fatalf("kind filter let %s through", p.Kind())
		}
	}
	fc := r.Features([]coverage.Kind{coverage.Overlap})
	if fc.Type != "FeatureCollection" || len(fc.Features) != 1 || fc.Counts[coverage.Overlap] != 1 {
		t.Fatalf("features: %+v", fc)
	}

	_, err := st.Coverage(context.Background(), "99900", store.CoverageOptions{})
	var in *geo.InputError
	if !errors.As(err, &in) || in.Field != "unit" {
		t.Fatalf("bad code: %v", err)
	}
	if _, err := st.Coverage(context.Background(), "999002", store.CoverageOptions{}); !errors.Is(err, geo.ErrNotFound) {
		t.Fatalf("unknown unit: %v", err)
	}
	if _, err := coverage.ParseKinds("kind", "gap,nonsense"); !errors.As(err, &in) || in.Field != "kind" {
		t.Fatalf("unknown kind: %v", err)
	}
}
