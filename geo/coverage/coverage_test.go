package coverage_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"gridmap/geo"
	"gridmap/geo/coverage"
)

func TestParseKinds(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []coverage.Kind
		bad  bool
	}{
		{"", nil, false},
		{"gap", []coverage.Kind{coverage.Gap}, false},
		{" gap , overlap,gap", []coverage.Kind{coverage.Gap, coverage.Overlap}, false},
		{"gap,holes", nil, true},
		{",", nil, true},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := coverage.ParseKinds("kind", tc.in)
			var in *geo.InputError
			if tc.bad {
				if !errors.As(err, &in) || in.Field != "kind" || !strings.Contains(in.Reason, "gap") {
					t.Fatalf("ParseKinds(%q) error %v, want an input error listing the kinds", tc.in, err)
				}
				return
			}
			if err != nil || len(got) != len(tc.want) {
				t.Fatalf("ParseKinds(%q) = %v, %v", tc.in, got, err)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Fatalf("ParseKinds(%q) = %v", tc.in, got)
				}
			}
		})
	}
}

func TestSeverities(t *testing.T) {
	errs := 0
	for _, k := range coverage.Kinds() {
		if !k.Valid() {
			t.Fatalf("%s invalid", k)
		}
		if k.Severity() == coverage.SeverityError {
			errs++
		}
	}
	if coverage.Gap.Severity() != coverage.SeverityError || coverage.MemberSpan.Severity() != coverage.SeverityWarning || errs != 8 {
		t.Fatalf("severities: %d errors", errs)
	}
}

func TestPct(t *testing.T) {
	if coverage.Pct(1, 0) != nil {
		t.Fatal("no denominator, no rate")
	}
	if p := coverage.Pct(2, 3); *p != 66.67 {
		t.Fatalf("2/3 = %v", *p)
	}
	if p := coverage.Pct(997, 1000); *p != 99.7 {
		t.Fatalf("997/1000 = %v", *p)
	}
}

func TestMessagesCarryTheNumbers(t *testing.T) {
	for _, tc := range []struct {
		p      *coverage.Problem
		zh, en []string
	}{
		{coverage.NewGap("999001001001", "柳河村", 1, 1234.56, nil), []string{"柳河村", "1234.6 平方米"}, []string{"1234.6 m²", "柳河村 (999001001001)"}},
		{coverage.NewOverlap("999001001001", "A", "B", 12, nil), []string{"A", "B", "12.0"}, []string{"grids A and B overlap by 12.0 m²"}},
		{coverage.NewMemberSpan("999001001001", 7, nil, 16, 10, 15, nil), []string{"16 户", "超出 10–15"}, []string{"16 households", "above the span of 10–15"}},
		{coverage.NewCadreSpan("999001001001", 8, 3, 5, 10, nil), []string{"3 名党员", "低于 5–10"}, []string{"3 party members", "below"}},
		{coverage.NewLongLink("999001001001", 9, nil, []coverage.LinkRef{{Household: 1, ExternalID: "H1", DistanceM: 812.4}, {Household: 2, ExternalID: "H2", DistanceM: 600}}, 500, nil),
			[]string{"500 米", "812 米", "2 户"}, []string{"more than 500 m from 2 linked households (farthest 812 m)"}},
		{coverage.NewHouseholdNoGrid("999001001001", "柳河村", []coverage.HouseholdRef{{ID: 1, ExternalID: "H1"}}, nil), []string{"1 户"}, []string{"1 household of 柳河村 (999001001001) is in no active grid"}},
		{coverage.NewGridHouseholdsBand("999001001001", "999001001001001", 250, 300, 500, nil), []string{"250 户"}, []string{"250 households, below the band of 300–500"}},
	} {
		for _, s := range tc.zh {
			if !strings.Contains(tc.p.Props.MessageZH, s) {
				t.Errorf("%s: %q lacks %q", tc.p.Kind(), tc.p.Props.MessageZH, s)
			}
		}
		for _, s := range tc.en {
			if !strings.Contains(tc.p.Props.MessageEN, s) {
				t.Errorf("%s: %q lacks %q", tc.p.Kind(), tc.p.Props.MessageEN, s)
			}
		}
	}
}

func TestFeatureJSON(t *testing.T) {
	p := coverage.NewGap("999001001001", "柳河村", 2, 10, []byte(`{"type":"Polygon","coordinates":[]}`))
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	var f map[string]any
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	props := f["properties"].(map[string]any)
	if f["type"] != "Feature" || f["id"] != "gap:999001001001:2" || props["kind"] != "gap" || props["severity"] != "error" ||
		props["area_m2"] != 10.0 || props["unit"] != "999001001001" {
		t.Fatalf("%s", b)
	}
	if b, _ := json.Marshal(coverage.NewGridNoBranch("999001001001", "999001001001001", nil)); !strings.Contains(string(b), `"geometry":null`) {
		t.Fatalf("no geometry: %s", b)
	}
}

func TestBuilderRollsUp(t *testing.T) {
	pol := coverage.Policy{GridHouseholds: [2]int{300, 500}, GridResidents: [2]int{1000, 2000}}
	units := []coverage.Unit{
		{Unit: geo.Unit{Code: "999001", Level: geo.LevelCounty}, Policy: pol},
		{Unit: geo.Unit{Code: "999001001", Level: geo.LevelStreet, Parent: "999001"}, Policy: pol},
		{Unit: geo.Unit{Code: "999001001001", Level: geo.LevelCommunity, Parent: "999001001"}, Policy: pol},
		{Unit: geo.Unit{Code: "999001001002", Level: geo.LevelCommunity, Parent: "999001001"}, Policy: pol},
	}
	b, err := coverage.NewBuilder(units)
	if err != nil {
		t.Fatal(err)
	}
	b.AddGrid(&coverage.GridReport{ID: 1, Code: "999001001001001", Unit: "999001001001", Households: 400, Residents: 1200, LinkedHouseholds: 400, Branch: true, PartyGroups: 2, Worker: true, Leader: true})
	b.AddGrid(&coverage.GridReport{ID: 2, Code: "999001001002001", Unit: "999001001002", Households: 200, Residents: 500, LinkedHouseholds: 100})
	for _, u := range []struct {
		code         string
		n, cov, link int
	}{{"999001001001", 410, 400, 400}, {"999001001002", 200, 200, 100}} {
		c := b.Direct(u.code)
		c.Households, c.CoveredHouseholds, c.LinkedHouseholds = u.n, u.cov, u.link
	}
	b.Add(coverage.NewGridHouseholdsBand("999001001002", "999001001002001", 200, 300, 500, nil))
	b.Add(coverage.NewGridNoBranch("999001001002", "999001001002001", nil))
	b.Add(coverage.NewGap("999001001001", "", 1, 5, nil))
	b.Direct("888001").Households = 99 // outside the tree: dropped
	r := b.Build(time.Now())
	root := r.Root
	if c := root.Counts; c.Households != 610 || c.CoveredHouseholds != 600 || c.Grids != 2 || c.GridsInBand != 1 || c.GridsWithBranch != 1 {
		t.Fatalf("county counts %+v", c)
	}
	if *root.Percent.Covered != 98.36 || *root.Percent.Linked != 81.97 || *root.Percent.GridsInBand != 50 {
		t.Fatalf("county rates %+v", root.Percent)
	}
	if root.Errors != 2 || root.Warnings != 1 || root.Problems[coverage.Gap] != 1 {
		t.Fatalf("county problems %v, %d errors, %d warnings", root.Problems, root.Errors, root.Warnings)
	}
	street := root.Children[0]
	if len(street.Children) != 2 || street.Counts.Households != 610 || len(street.Children[1].Grids) != 1 {
		t.Fatalf("street %+v", street)
	}
	g := street.Children[1].Grids[0]
	if g.InHouseholdBand || g.Problems[coverage.GridNoBranch] != 1 || *g.Linked != 50 {
		t.Fatalf("grid %+v", g)
	}
	// Problems come out in report order (by kind).
	if r.Problems[0].Kind() != coverage.Gap || r.Features([]coverage.Kind{coverage.GridNoBranch}).Counts[coverage.GridNoBranch] != 1 {
		t.Fatalf("order %v", r.Problems[0].Kind())
	}
	if _, err := coverage.NewBuilder([]coverage.Unit{units[0], units[2]}); err == nil {
		t.Fatal("a village before its township is an error")
	}
}
