package api_test

import (
	"context"
	"math"
	"strings"
	"testing"
)

// A village with a gap of 0.005°×0.002° at 30°N (≈106,950 m²) and a household in it.
var coverageSQL = []string{
	`INSERT INTO units (code, name, level, parent_code, boundary) VALUES
	 ('999001', '测试县', 'county', NULL, ST_Multi(ST_MakeEnvelope(114.000, 30.000, 114.010, 30.010, 4326))),
	 ('999001001', '测试镇', 'township', '999001', ST_Multi(ST_MakeEnvelope(114.000, 30.000, 114.010, 30.010, 4326))),
	 ('999001001001', '缺口村', 'village', '999001001', ST_Multi(ST_MakeEnvelope(114.000, 30.000, 114.010, 30.010, 4326)))`,
	`INSERT INTO grids (code, unit_code, name, kind, boundary) VALUES
	 ('999001001001001', '999001001001', '第1网格', 'village', ST_Multi(ST_MakeEnvelope(114.000, 30.000, 114.005, 30.010, 4326))),
	 ('999001001001002', '999001001001', '第2网格', 'village', ST_Multi(ST_MakeEnvelope(114.005, 30.000, 114.010, 30.008, 4326)))`,
	`INSERT INTO households (unit_code, external_id, location) VALUES
	 ('999001001001', 'A1', ST_SetSRID(ST_MakePoint(114.001, 30.001), 4326)),
	 ('999001001001', 'A2', ST_SetSRID(ST_MakePoint(114.007, 30.009), 4326))`,
}

type coverageBody struct {
	Code     string
	Counts   map[string]float64
	Percent  map[string]*float64
	Problems map[string]int
	Errors   int
	Children []struct {
		Code     string
		Children []struct {
			Code  string
			Grids []struct {
				Code       string
				Households int
				Problems   map[string]int
			}
		}
	}
}

type problemsBody struct {
	Type     string
	Counts   map[string]int
	Features []struct {
		Type       string
		ID         string
		Geometry   *struct{ Type string }
		Properties struct {
			Kind, Severity, Unit string
			MessageZH            string   `json:"message_zh"`
			MessageEN            string   `json:"message_en"`
			AreaM2               *float64 `json:"area_m2"`
			Grids                []string
			Households           []struct {
				ID         int64
				ExternalID string `json:"external_id"`
			}
		}
	}
}

func TestCoverageEndpoints(t *testing.T) {
	ts, st, _ := newServer(t, 0)
	for _, sql := range coverageSQL {
		if _, err := st.Pool().Exec(context.Background(), sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	r := do(t, "GET", ts.URL+"/api/v1/coverage?unit=999001", nil)
	if r.status != 200 || r.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("%d %s", r.status, r.body)
	}
	sum := decode[coverageBody](t, r)
	if sum.Code != "999001" || sum.Counts["households"] != 2 || sum.Counts["covered_households"] != 1 ||
		sum.Percent["covered"] == nil || *sum.Percent["covered"] != 50 || sum.Problems["gap"] != 1 || sum.Errors == 0 {
		t.Fatalf("summary %s", r.body)
	}
	if len(sum.Children) != 1 || len(sum.Children[0].Children) != 1 || len(sum.Children[0].Children[0].Grids) != 2 ||
		sum.Children[0].Children[0].Grids[0].Households != 1 {
		t.Fatalf("tree %s", r.body)
	}

	r = do(t, "GET", ts.URL+"/api/v1/coverage/problems?unit=999001001001", nil)
	if r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "application/geo+json") {
		t.Fatalf("%d %s %s", r.status, r.header.Get("Content-Type"), r.body)
	}
	fc := decode[problemsBody](t, r)
	if fc.Type != "FeatureCollection" || fc.Counts["gap"] != 1 || fc.Counts["household_no_grid"] != 1 {
		t.Fatalf("problems %s", r.body)
	}
	kinds := map[string]bool{}
	for _, f := range fc.Features {
		p := f.Properties
		if f.Type != "Feature" || f.ID == "" || p.MessageZH == "" || p.MessageEN == "" || (p.Severity != "error" && p.Severity != "warning") {
			t.Fatalf("feature %+v", f)
		}
		kinds[p.Kind] = true
		switch p.Kind {
		case "gap":
			want := 0.005 * 96486 * 0.002 * 110852
			if p.AreaM2 == nil || math.Abs(*p.AreaM2-want) > 0.01*want || f.Geometry == nil || f.Geometry.Type != "Polygon" || p.Unit != "999001001001" {
				t.Fatalf("gap %+v", f)
			}
		case "household_no_grid":
			if len(p.Households) != 1 || p.Households[0].ExternalID != "A2" || f.Geometry == nil {
				t.Fatalf("household in no grid %+v", f)
			}
		}
	}
	for _, k := range []string{"gap", "household_no_grid", "household_no_member", "grid_no_branch", "grid_no_worker", "grid_no_leader"} {
		if !kinds[k] {
			t.Fatalf("no %s problem in %s", k, r.body)
		}
	}

	// Only the kinds asked for.
	r = do(t, "GET", ts.URL+"/api/v1/coverage/problems?unit=999001&kind=gap,household_no_grid", nil)
	fc = decode[problemsBody](t, r)
	if r.status != 200 || len(fc.Features) != 2 {
		t.Fatalf("kind filter: %d %s", r.status, r.body)
	}

	// The grid reshaped over the gap: the next answer has neither the gap nor the household.
	if _, err := st.Pool().Exec(context.Background(), `UPDATE grids SET boundary = ST_Multi(ST_MakeEnvelope(114.005, 30.000, 114.010, 30.010, 4326)),
		version = version + 1 WHERE code = '999001001001002'`); err != nil {
		t.Fatal(err)
	}
	fc = decode[problemsBody](t, do(t, "GET", ts.URL+"/api/v1/coverage/problems?unit=999001&kind=gap,household_no_grid", nil))
	if len(fc.Features) != 0 {
		t.Fatalf("after the edit: %+v", fc.Features)
	}
	sum = decode[coverageBody](t, do(t, "GET", ts.URL+"/api/v1/coverage?unit=999001", nil))
	if *sum.Percent["covered"] != 100 {
		t.Fatalf("covered after the edit: %v", *sum.Percent["covered"])
	}
}

func TestCoverageBadRequests(t *testing.T) {
	ts, _, _ := newServer(t, 0)
	for _, tc := range []struct {
		path, code, field string
		status            int
	}{
		{"/api/v1/coverage?unit=12ab", "invalid_parameter", "unit", 400},
		{"/api/v1/coverage?unit=1234567", "invalid_parameter", "unit", 400},
		{"/api/v1/coverage", "invalid_parameter", "unit", 400},
		{"/api/v1/coverage?unit=999001&unti=1", "unknown_parameter", "unti", 400},
		{"/api/v1/coverage?unit=999001&kind=gap", "unknown_parameter", "kind", 400},
		{"/api/v1/coverage/problems?unit=999001&kind=holes", "invalid_parameter", "kind", 400},
		{"/api/v1/coverage/problems?unit=999001&bbox=1,2,3,4", "unknown_parameter", "bbox", 400},
		{"/api/v1/coverage/problems?unit=abc", "invalid_parameter", "unit", 400},
		{"/api/v1/coverage?unit=999999", "not_found", "", 404},
		{"/api/v1/coverage/problems?unit=999999001001", "not_found", "", 404},
	} {
		wantError(t, do(t, "GET", ts.URL+tc.path, nil), tc.status, tc.code, tc.field)
	}
}

// The demo county: every household covered and linked; the report adds up.
func TestCoverageDemo(t *testing.T) {
	ts, _, _ := newServer(t, 4000)
	sum := decode[coverageBody](t, do(t, "GET", ts.URL+"/api/v1/coverage?unit=999001", nil))
	if sum.Counts["households"] != 4000 || *sum.Percent["covered"] != 100 || *sum.Percent["linked"] != 100 {
		t.Fatalf("demo summary: %+v %+v", sum.Counts, sum.Percent)
	}
	var grids int
	for _, town := range sum.Children {
		for _, v := range town.Children {
			grids += len(v.Grids)
		}
	}
	if float64(grids) != sum.Counts["grids"] || grids == 0 {
		t.Fatalf("%d grids in the tree, %v counted", grids, sum.Counts["grids"])
	}
	r := do(t, "GET", ts.URL+"/api/v1/coverage/problems?unit=999001&kind=gap,overlap,household_no_grid,household_multi_grid", nil)
	if fc := decode[problemsBody](t, r); r.status != 200 || len(fc.Features) != 0 {
		t.Fatalf("the demo's grids tile its villages: %s", r.body)
	}
}
