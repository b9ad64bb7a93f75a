package api_test

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
)

// assignFixture builds a village whose optimum is known by hand. On an east-west line
// (metres): households H3 at 400, H1 at 0, H2 at 10, H4 at 1000, inserted in that order.
// Party members (households kind) or cadres (cadres kind) A lives in H1 and B in H4; for
// the cadres kind, members M1 lives in H2 and M2 in H3.
//
// With 1–2 households per member the optimum is A:{H1,H2}, B:{H3,H4}: 0+10+600+0 = 610 m.
// Greedy takes H3 first and gives it to A (400 m), then H1 to A (0), which fills A, so H2
// goes to B (990 m) and H4 to B (0): 1,390 m. With one member per cadre the optimum is
// M1→A (10 m), M2→B (600 m); greedy sends M2 (inserted first) to A (400 m) and M1 to B
// (990 m).
func assignFixture(t *testing.T, pool *pgxpool.Pool, cadres bool) (ids map[string]int64) {
	t.Helper()
	ctx := context.Background()
	const lon0, lat0 = 114.05, 30.05
	kx := 1 / (6371008.8 * math.Pi / 180 * math.Cos(lat0*math.Pi/180))
	mustExecAPI(t, pool,
		`INSERT INTO units (code, name, level, boundary) VALUES ('999001', '示范县', 'county', ST_Multi(ST_MakeEnvelope(114, 30, 114.1, 30.1, 4326)))`,
		`INSERT INTO units (code, name, level, parent_code, boundary) VALUES ('999001001', '青石镇', 'township', '999001', ST_Multi(ST_MakeEnvelope(114, 30, 114.1, 30.1, 4326)))`,
		`INSERT INTO units (code, name, level, parent_code, boundary) VALUES ('999001001001', '柳河村', 'village', '999001001', ST_Multi(ST_MakeEnvelope(114, 30, 114.1, 30.1, 4326)))`,
	)
	ids = map[string]int64{}
	for _, h := range []struct {
		name string
		x    float64
	}{{"H3", 400}, {"H1", 0}, {"H2", 10}, {"H4", 1000}} {
		var id int64
		if err := pool.QueryRow(ctx, `INSERT INTO households (unit_code, external_id, location)
			VALUES ('999001001001', $1, ST_SetSRID(ST_MakePoint($2, $3), 4326)) RETURNING id`,
			h.name, lon0+h.x*kx, lat0).Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids[h.name] = id
	}
	person := func(name, home string, party, cadre bool) {
		var id int64
		if err := pool.QueryRow(ctx, `INSERT INTO people (unit_code, name, party_member, cadre, household_id)
			VALUES ('999001001001', $1, $2, $3, $4) RETURNING id`, name, party, cadre, ids[home]).Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids[name] = id
	}
	if cadres {
		person("M2", "H3", true, false)
		person("M1", "H2", true, false)
		person("A", "H1", true, true)
		person("B", "H4", true, true)
	} else {
		person("A", "H1", true, false)
		person("B", "H4", true, false)
	}
	return ids
}

func mustExecAPI(t *testing.T, pool *pgxpool.Pool, sqls ...string) {
	t.Helper()
	for _, sql := range sqls {
		if _, err := pool.Exec(context.Background(), sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
}

type assignAnswer struct {
	Unit, Kind, Mode string
	Applied          bool
	Min, Max         int
	Clients, Servers int
	Optimal, Greedy  struct {
		Total     float64 `json:"total_distance_m"`
		PctInSpan float64 `json:"pct_within_capacity"`
	}
	Ratio      float64 `json:"greedy_ratio"`
	Assignment []struct {
		ID         int64
		Name       string
		Load       int
		InSpan     bool `json:"in_span"`
		Households []struct {
			ID    int64
			Label string
		}
		Members []struct {
			ID    int64
			Label string
		}
	}
}

func near(a, b float64) bool { return math.Abs(a-b) < 1 }

func TestAssignHouseholdsByHand(t *testing.T) {
	ts, st, _ := newServer(t, 0)
	pool := st.Pool()
	ids := assignFixture(t, pool, false)
	ctx := context.Background()
	// An old link that the apply must replace: H1 to B.
	mustExecAPI(t, pool, fmt.Sprintf(`INSERT INTO member_household_links (member_id, household_id) VALUES (%d, %d)`, ids["B"], ids["H1"]))

	body := `{"unit":"999001001001","kind":"households","mode":"preview","min":1,"max":2}`
	r := do(t, http.MethodPost, ts.URL+"/api/v1/assign", strings.NewReader(body))
	if r.status != http.StatusOK {
		t.Fatalf("preview: %d %s", r.status, r.body)
	}
	a := decode[assignAnswer](t, r)
	if a.Applied || a.Mode != "preview" || a.Clients != 4 || a.Servers != 2 || a.Min != 1 || a.Max != 2 {
		t.Fatalf("preview %+v", a)
	}
	if !near(a.Optimal.Total, 610) || !near(a.Greedy.Total, 1390) || a.Optimal.PctInSpan != 100 || math.Abs(a.Ratio-1390.0/610) > 0.01 {
		t.Fatalf("optimal %+v greedy %+v ratio %g", a.Optimal, a.Greedy, a.Ratio)
	}
	got := map[string][]string{}
	for _, l := range a.Assignment {
		for _, h := range l.Households {
			got[l.Name] = append(got[l.Name], h.Label)
		}
	}
	if fmt.Sprint(got["A"]) != "[H1 H2]" || fmt.Sprint(got["B"]) != "[H3 H4]" {
		t.Fatalf("assignment %v", got)
	}
	// A preview writes nothing.
	var links int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM member_household_links`).Scan(&links); err != nil || links != 1 {
		t.Fatalf("links after preview: %d %v", links, err)
	}

	// Infeasible (one household per member, four households, two members): 422 with the
	// numbers, and the old link is still there.
	r = do(t, http.MethodPost, ts.URL+"/api/v1/assign", strings.NewReader(`{"unit":"999001001001","mode":"apply","min":1,"max":1}`))
	wantError(t, r, http.StatusUnprocessableEntity, "infeasible", "unit")
	inf := decode[struct {
		Error struct {
			Details struct {
				Clients, Servers int
				NeedAtLeast      int `json:"need_at_least"`
			}
		}
	}](t, r)
	if d := inf.Error.Details; d.Clients != 4 || d.Servers != 2 || d.NeedAtLeast != 4 {
		t.Fatalf("details %+v", d)
	}
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM member_household_links WHERE member_id = $1 AND household_id = $2`, ids["B"], ids["H1"]).Scan(&links); err != nil || links != 1 {
		t.Fatalf("a refused apply changed the links: %d %v", links, err)
	}

	r = do(t, http.MethodPost, ts.URL+"/api/v1/assign", strings.NewReader(strings.Replace(body, "preview", "apply", 1)))
	if r.status != http.StatusOK || !decode[assignAnswer](t, r).Applied {
		t.Fatalf("apply: %d %s", r.status, r.body)
	}
	rows, err := pool.Query(ctx, `SELECT p.name, h.external_id FROM member_household_links l
		JOIN people p ON p.id = l.member_id JOIN households h ON h.id = l.household_id ORDER BY 1, 2`)
	if err != nil {
		t.Fatal(err)
	}
	var pairs []string
	for rows.Next() {
		var m, h string
		if err := rows.Scan(&m, &h); err != nil {
			t.Fatal(err)
		}
		pairs = append(pairs, m+"-"+h)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if strings.Join(pairs, ",") != "A-H1,A-H2,B-H3,B-H4" {
		t.Fatalf("links %v", pairs)
	}
}

func TestAssignCadresByHand(t *testing.T) {
	ts, st, _ := newServer(t, 0)
	pool := st.Pool()
	assignFixture(t, pool, true)
	r := do(t, http.MethodPost, ts.URL+"/api/v1/assign", strings.NewReader(`{"unit":"999001001001","kind":"cadres","mode":"apply","min":1,"max":1}`))
	if r.status != http.StatusOK {
		t.Fatalf("apply: %d %s", r.status, r.body)
	}
	a := decode[assignAnswer](t, r)
	if !a.Applied || a.Kind != "cadres" || a.Clients != 2 || a.Servers != 2 || !near(a.Optimal.Total, 610) || !near(a.Greedy.Total, 1390) {
		t.Fatalf("answer %+v", a)
	}
	var pairs string
	if err := pool.QueryRow(context.Background(), `SELECT string_agg(c.name || '-' || m.name, ',' ORDER BY c.name)
		FROM cadre_member_links l JOIN people c ON c.id = l.cadre_id JOIN people m ON m.id = l.member_id`).Scan(&pairs); err != nil {
		t.Fatal(err)
	}
	if pairs != "A-M1,B-M2" {
		t.Fatalf("cadre links %s", pairs)
	}
}

func TestAssignDemoVillage(t *testing.T) {
	ts, st, _ := newServer(t, 2000)
	// The span policy's default for households (10–15 per member) on a demo village;
	// the exact optimum is never longer than greedy.
	var unit string
	if err := st.Pool().QueryRow(context.Background(), `
		SELECT u.code FROM units u WHERE u.level = 'village' ORDER BY (SELECT count(*) FROM households h WHERE h.unit_code = u.code) DESC LIMIT 1`).Scan(&unit); err != nil {
		t.Fatal(err)
	}
	r := do(t, http.MethodPost, ts.URL+"/api/v1/assign", strings.NewReader(fmt.Sprintf(`{"unit":%q,"min":1,"max":40}`, unit)))
	if r.status != http.StatusOK {
		t.Fatalf("preview: %d %s", r.status, r.body)
	}
	a := decode[assignAnswer](t, r)
	if a.Clients == 0 || a.Servers == 0 || a.Optimal.PctInSpan != 100 || a.Optimal.Total > a.Greedy.Total+1e-6 || a.Ratio < 1 {
		t.Fatalf("answer clients %d servers %d optimal %+v greedy %+v ratio %g", a.Clients, a.Servers, a.Optimal, a.Greedy, a.Ratio)
	}
	n := 0
	for _, l := range a.Assignment {
		n += len(l.Households)
		if l.Load != len(l.Households) || !l.InSpan {
			t.Fatalf("link %+v", l)
		}
	}
	if n != a.Clients {
		t.Fatalf("%d households assigned of %d", n, a.Clients)
	}
}

func TestAssignBadInput(t *testing.T) {
	ts, _, _ := newServer(t, 0)
	cases := []struct {
		name, body  string
		status      int
		code, field string
	}{
		{"no unit", `{}`, 400, "invalid_parameter", "unit"},
		{"township", `{"unit":"999001001"}`, 400, "invalid_parameter", "unit"},
		{"kind", `{"unit":"999001001001","kind":"pets"}`, 400, "invalid_parameter", "kind"},
		{"mode", `{"unit":"999001001001","mode":"now"}`, 400, "invalid_parameter", "mode"},
		{"max below min", `{"unit":"999001001001","min":5,"max":2}`, 400, "invalid_parameter", "max"},
		{"max zero", `{"unit":"999001001001","max":0}`, 400, "invalid_parameter", "max"},
		{"unknown field", `{"unit":"999001001001","span":3}`, 400, "unknown_parameter", "span"},
		{"unknown unit", `{"unit":"999001001001"}`, 404, "not_found", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			wantError(t, do(t, http.MethodPost, ts.URL+"/api/v1/assign", strings.NewReader(tc.body)), tc.status, tc.code, tc.field)
		})
	}
}
