package api_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// The demo county of loadDemo(2000): communities 999001001001 (562 households) and
// 999001001002 (638), villages 999001002001 (468) and 999001003001 (332); each
// community has 2 grids, each village 1.
const (
	drawCommunity = "999001001002"
	drawVillage   = "999001003001"
)

type drawJob struct {
	ID       string  `json:"id"`
	Unit     string  `json:"unit"`
	State    string  `json:"state"`
	Progress float64 `json:"progress"`
	Error    string  `json:"error"`
	Band     struct {
		Min, Max int
		Weight   string
	} `json:"band"`
	Metrics struct {
		Grids      int     `json:"grids"`
		PctInBand  float64 `json:"pct_in_band"`
		MinPP      float64 `json:"pp_min"`
		MeanPP     float64 `json:"pp_mean"`
		Households int     `json:"households"`
		Changed    int     `json:"households_changed"`
		Seconds    float64 `json:"seconds"`
	} `json:"metrics"`
	Proposal struct {
		Type     string `json:"type"`
		Features []struct {
			Geometry   json.RawMessage `json:"geometry"`
			Properties struct {
				Code         string  `json:"code"`
				Unit         string  `json:"unit"`
				Grid         int     `json:"grid"`
				Households   int     `json:"households"`
				Residents    int     `json:"residents"`
				Points       int     `json:"points"`
				PolsbyPopper float64 `json:"polsby_popper"`
				InBand       bool    `json:"in_band"`
			} `json:"properties"`
		} `json:"features"`
	} `json:"proposal"`
	Changes []struct {
		ID         int64  `json:"id"`
		ExternalID string `json:"external_id"`
		From, To   string
	} `json:"changes"`
	Infeasible *struct {
		Units []struct {
			Unit    string
			Min     int
			Max     int
			Message string
			Items   []struct {
				Reason    string
				Points    int
				Weight    int
				KMin      int `json:"k_min"`
				KMax      int `json:"k_max"`
				Component int
				Location  [2]float64
			}
		}
	} `json:"infeasible"`
}

// startDraw posts a drawing and returns its Location.
func startDraw(t *testing.T, base, body string) string {
	t.Helper()
	r := do(t, http.MethodPost, base+"/api/v1/draw", strings.NewReader(body))
	if r.status != http.StatusAccepted {
		t.Fatalf("POST /draw %s: %d %s", body, r.status, r.body)
	}
	loc := r.header.Get("Location")
	id := decode[struct{ ID string }](t, r).ID
	if id == "" || loc != "/api/v1/draw/"+id {
		t.Fatalf("id %q, Location %q", id, loc)
	}
	return loc
}

// waitDraw polls the job until it leaves the running state.
func waitDraw(t *testing.T, base, loc string) drawJob {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		r := do(t, http.MethodGet, base+loc, nil)
		if r.status != http.StatusOK {
			t.Fatalf("GET %s: %d %s", loc, r.status, r.body)
		}
		j := decode[drawJob](t, r)
		if j.State != "running" {
			return j
		}
		if time.Now().After(deadline) {
			t.Fatalf("job still running after 90 s: %s", r.body)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// checkTiling asks PostGIS whether the proposal's polygons (plus the kept grids) tile the
// unit: the symmetric difference of their ST_Union with the unit's boundary and the pairwise
// ST_Intersection must have no area (planar in lon/lat, like the overlay, scaled to m²),
// every polygon must be valid and in one piece.
func checkTiling(t *testing.T, pool *pgxpool.Pool, unit string, j drawJob, keep []string) {
	t.Helper()
	fc, err := json.Marshal(j.Proposal)
	if err != nil {
		t.Fatal(err)
	}
	var gap, overlap float64
	var n, invalid, multi int
	err = pool.QueryRow(context.Background(), `
		WITH p AS (
		    SELECT row_number() OVER () AS i, ST_SetSRID(ST_GeomFromGeoJSON(f->>'geometry'), 4326) AS g
		    FROM json_array_elements($1::json->'features') f
		    UNION ALL
		    SELECT 100000 + id, boundary FROM grids WHERE code = ANY ($3::text[]) AND valid_to IS NULL
		), u AS (SELECT boundary, (pi() * 6371008.8 / 180) ^ 2 * cos(radians(ST_Y(ST_Centroid(boundary)))) AS m2
		         FROM units WHERE code = $2)
		SELECT (SELECT count(*) FROM p),
		       (SELECT count(*) FROM p WHERE NOT ST_IsValid(g)),
		       (SELECT count(*) FROM p WHERE ST_NumGeometries(g) <> 1),
		       (SELECT ST_Area(ST_SymDifference(ST_Union(p.g), u.boundary)) * u.m2 FROM p, u GROUP BY u.boundary, u.m2),
		       (SELECT coalesce(sum(ST_Area(ST_Intersection(a.g, b.g))), 0) * (SELECT m2 FROM u)
		        FROM p a JOIN p b ON a.i < b.i AND a.g && b.g AND ST_Intersects(a.g, b.g))`,
		string(fc), unit, keep).Scan(&n, &invalid, &multi, &gap, &overlap)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("PostGIS: %d polygons, gap %.6f m², overlap %.6f m²", n, gap, overlap)
	if n != len(j.Proposal.Features)+len(keep) || invalid != 0 || multi != 0 {
		t.Fatalf("%d polygons (want %d), %d invalid, %d not in one piece", n, len(j.Proposal.Features)+len(keep), invalid, multi)
	}
	if gap > 0.01 || overlap > 0.01 {
		t.Fatalf("proposal does not tile unit %s: gap %g m², overlap %g m²", unit, gap, overlap)
	}
}

func TestDrawCommunityEndToEnd(t *testing.T) {
	ts, st, _ := newServer(t, 2000)
	ctx := context.Background()
	pool := st.Pool()
	var households, maxSeq int
	var oldCodes []string
	if err := pool.QueryRow(ctx, `
		SELECT (SELECT count(*) FROM households WHERE unit_code = $1),
		       (SELECT max(right(code, 3)::int) FROM grids WHERE unit_code = $1),
		       (SELECT array_agg(code ORDER BY code) FROM grids WHERE unit_code = $1 AND valid_to IS NULL)`,
		drawCommunity).Scan(&households, &maxSeq, &oldCodes); err != nil {
		t.Fatal(err)
	}

	loc := startDraw(t, ts.URL, fmt.Sprintf(`{"unit":%q,"min":150,"max":250,"weight":"households","seed":7}`, drawCommunity))
	j := waitDraw(t, ts.URL, loc)
	if j.State != "done" || j.Progress != 1 {
		t.Fatalf("state %s progress %g error %q", j.State, j.Progress, j.Error)
	}
	m := j.Metrics
	t.Logf("metrics %+v", m)
	if m.Grids < 3 || m.Grids > 4 || m.PctInBand != 100 || m.Households != households || m.MinPP <= 0 {
		t.Fatalf("metrics %+v (households %d)", m, households)
	}
	if j.Band.Min != 150 || j.Band.Max != 250 || j.Band.Weight != "households" {
		t.Fatalf("band %+v", j.Band)
	}
	sum := 0
	for i, f := range j.Proposal.Features {
		p := f.Properties
		want := fmt.Sprintf("%s%03d", drawCommunity, maxSeq+i+1)
		if p.Code != want || p.Grid != i+1 || p.Unit != drawCommunity {
			t.Fatalf("feature %d: code %s grid %d unit %s, want %s", i, p.Code, p.Grid, p.Unit, want)
		}
		if !p.InBand || p.Households < 150 || p.Households > 250 || p.Points != p.Households || p.PolsbyPopper <= 0 {
			t.Fatalf("feature %d: %+v", i, p)
		}
		sum += p.Households
	}
	if sum != households {
		t.Fatalf("proposal holds %d households, the unit %d", sum, households)
	}
	checkTiling(t, pool, drawCommunity, j, nil)
	// Two old grids become three or four: some households change grid, and each change
	// names a current grid and a proposed one.
	if len(j.Changes) == 0 || len(j.Changes) != m.Changed {
		t.Fatalf("%d changes, metrics say %d", len(j.Changes), m.Changed)
	}
	for _, c := range j.Changes {
		if c.ID == 0 || c.ExternalID == "" || len(c.From) != 15 || len(c.To) != 15 || c.To[:12] != drawCommunity {
			t.Fatalf("change %+v", c)
		}
	}

	// A second drawing of the same unit, applied after the first: 409.
	loc2 := startDraw(t, ts.URL, fmt.Sprintf(`{"unit":%q,"min":150,"max":250,"seed":8}`, drawCommunity))
	if j2 := waitDraw(t, ts.URL, loc2); j2.State != "done" {
		t.Fatalf("second drawing: %s %s", j2.State, j2.Error)
	}

	r := do(t, http.MethodPost, ts.URL+loc+"/apply", nil)
	if r.status != http.StatusOK {
		t.Fatalf("apply: %d %s", r.status, r.body)
	}
	applied := decode[struct {
		Retired []string
		Created []struct {
			ID         int64
			Code, Unit string
			Households int
		}
	}](t, r)
	if strings.Join(applied.Retired, ",") != strings.Join(oldCodes, ",") || len(applied.Created) != len(j.Proposal.Features) {
		t.Fatalf("applied %+v, old grids %v", applied, oldCodes)
	}
	for i, g := range applied.Created {
		f := j.Proposal.Features[i].Properties
		if g.Code != f.Code || g.Households != f.Households {
			t.Fatalf("created %+v, proposed %+v", g, f)
		}
	}
	// The database agrees: old grids retired with their history, new ones active, every
	// household placed in a new grid.
	var active, retired, versions, unplaced int
	var activeCodes []string
	if err := pool.QueryRow(ctx, `
		SELECT (SELECT count(*) FROM grids WHERE unit_code = $1 AND valid_to IS NULL),
		       (SELECT count(*) FROM grids WHERE code = ANY ($2) AND valid_to IS NOT NULL),
		       (SELECT count(*) FROM grid_versions v JOIN grids g ON g.id = v.grid_id
		        WHERE g.code = ANY ($2) AND v.valid_to IS NOT NULL AND v.changed_by = 'auto-draw'),
		       (SELECT count(*) FROM households h WHERE h.unit_code = $1 AND
		          h.grid_id IS DISTINCT FROM (SELECT id FROM grids g WHERE g.unit_code = $1 AND g.valid_to IS NULL
		                                      AND ST_Intersects(g.boundary, h.location) ORDER BY id LIMIT 1)),
		       (SELECT array_agg(code ORDER BY code) FROM grids WHERE unit_code = $1 AND valid_to IS NULL)`,
		drawCommunity, oldCodes).Scan(&active, &retired, &versions, &unplaced, &activeCodes); err != nil {
		t.Fatal(err)
	}
	if active != len(j.Proposal.Features) || retired != len(oldCodes) || versions != len(oldCodes) || unplaced != 0 {
		t.Fatalf("active %d retired %d history %d unplaced %d", active, retired, versions, unplaced)
	}
	for i, code := range activeCodes {
		if code != j.Proposal.Features[i].Properties.Code {
			t.Fatalf("active grids %v", activeCodes)
		}
	}
	var placed int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM households h JOIN grids g ON g.id = h.grid_id
		WHERE h.unit_code = $1 AND g.code = ANY ($2)`, drawCommunity, activeCodes).Scan(&placed); err != nil {
		t.Fatal(err)
	}
	if placed != households {
		t.Fatalf("%d of %d households placed in the new grids", placed, households)
	}
	// The old grids' history is readable through the API.
	if r := do(t, http.MethodGet, ts.URL+"/api/v1/grids/"+oldCodes[0]+"/history", nil); r.status == http.StatusOK &&
		!strings.Contains(string(r.body), "auto-draw") {
		t.Fatalf("history of %s: %s", oldCodes[0], r.body)
	}

	// Applied twice: 409. The other drawing, made before the apply: 409, and nothing changes.
	wantError(t, do(t, http.MethodPost, ts.URL+loc+"/apply", nil), http.StatusConflict, "conflict", "")
	wantError(t, do(t, http.MethodPost, ts.URL+loc2+"/apply", nil), http.StatusConflict, "conflict", "")
	var after int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM grids WHERE unit_code = $1 AND valid_to IS NULL`, drawCommunity).Scan(&after); err != nil {
		t.Fatal(err)
	}
	if after != active {
		t.Fatalf("a refused apply changed the grids: %d active, was %d", after, active)
	}
	// The job reports what it applied.
	if j := decode[struct {
		Applied *struct{ Created []struct{ Code string } }
	}](t, do(t, http.MethodGet, ts.URL+loc+"?proposal=false", nil)); j.Applied == nil || len(j.Applied.Created) != active {
		t.Fatalf("job after apply: %+v", j)
	}
}

func TestDrawKeepAndPolicyBand(t *testing.T) {
	ts, st, _ := newServer(t, 2000)
	ctx := context.Background()
	pool := st.Pool()
	var keep string
	var keptHouseholds, households int
	if err := pool.QueryRow(ctx, `
		SELECT g.code, (SELECT count(*) FROM households WHERE grid_id = g.id),
		       (SELECT count(*) FROM households WHERE unit_code = $1)
		FROM grids g WHERE g.unit_code = $1 AND g.valid_to IS NULL ORDER BY g.code LIMIT 1`, drawCommunity).
		Scan(&keep, &keptHouseholds, &households); err != nil {
		t.Fatal(err)
	}
	// No band given: the unit's policy (communities: 300–500 households) applies to what
	// is left outside the kept grid.
	if _, err := pool.Exec(ctx, `INSERT INTO span_policies (unit_code, grid_households_min, grid_households_max) VALUES ($1, 100, 200)`, drawCommunity); err != nil {
		t.Fatal(err)
	}
	loc := startDraw(t, ts.URL, fmt.Sprintf(`{"unit":%q,"keep":[%q]}`, drawCommunity, keep))
	j := waitDraw(t, ts.URL, loc)
	if j.State != "done" {
		t.Fatalf("state %s: %s", j.State, j.Error)
	}
	if j.Band.Min != 100 || j.Band.Max != 200 || j.Metrics.PctInBand != 100 || j.Metrics.Households != households-keptHouseholds {
		t.Fatalf("band %+v metrics %+v; %d households, %d kept", j.Band, j.Metrics, households, keptHouseholds)
	}
	for _, f := range j.Proposal.Features {
		if f.Properties.Code == keep {
			t.Fatalf("kept code %s reused", keep)
		}
	}
	checkTiling(t, pool, drawCommunity, j, []string{keep})
	if r := do(t, http.MethodPost, ts.URL+loc+"/apply", nil); r.status != http.StatusOK {
		t.Fatalf("apply: %d %s", r.status, r.body)
	}
	var keptActive bool
	var keptNow int
	if err := pool.QueryRow(ctx, `SELECT valid_to IS NULL, (SELECT count(*) FROM households WHERE grid_id = g.id)
		FROM grids g WHERE code = $1`, keep).Scan(&keptActive, &keptNow); err != nil {
		t.Fatal(err)
	}
	if !keptActive || keptNow != keptHouseholds {
		t.Fatalf("kept grid active %v with %d households, had %d", keptActive, keptNow, keptHouseholds)
	}
}

func TestDrawInfeasible(t *testing.T) {
	ts, st, _ := newServer(t, 2000)
	var households int
	if err := st.Pool().QueryRow(context.Background(), `SELECT count(*) FROM households WHERE unit_code = $1`, drawVillage).Scan(&households); err != nil {
		t.Fatal(err)
	}
	// 332 households cannot make grids of 400–500.
	loc := startDraw(t, ts.URL, fmt.Sprintf(`{"unit":%q,"min":400,"max":500}`, drawVillage))
	j := waitDraw(t, ts.URL, loc)
	if j.State != "infeasible" || j.Infeasible == nil || len(j.Infeasible.Units) != 1 {
		t.Fatalf("state %s, report %+v", j.State, j.Infeasible)
	}
	u := j.Infeasible.Units[0]
	if u.Unit != drawVillage || u.Min != 400 || u.Max != 500 || len(u.Items) != 1 || !strings.Contains(u.Message, "infeasible") {
		t.Fatalf("report %+v", u)
	}
	it := u.Items[0]
	if it.Reason != "component lighter than min" || it.Weight != households || it.Points != households || it.KMin != 1 || it.KMax != 0 || it.Location[0] == 0 {
		t.Fatalf("item %+v (households %d)", it, households)
	}
	if len(j.Proposal.Features) != 0 {
		t.Fatalf("an infeasible drawing proposes %d grids", len(j.Proposal.Features))
	}
	wantError(t, do(t, http.MethodPost, ts.URL+loc+"/apply", nil), http.StatusConflict, "conflict", "")
}

func TestDrawEvents(t *testing.T) {
	ts, _, _ := newServer(t, 2000)
	// A township: its two communities are drawn one after the other.
	loc := startDraw(t, ts.URL, `{"unit":"999001001","min":150,"max":250}`)
	req, err := http.NewRequest("GET", ts.URL+loc+"/events", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+defaultToken(ts.URL))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("events: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	type event struct {
		name string
		data map[string]any
	}
	var events []event
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	var cur event
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "event: "):
			cur.name = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			if err := json.Unmarshal([]byte(strings.TrimPrefix(line, "data: ")), &cur.data); err != nil {
				t.Fatalf("data %q: %v", line, err)
			}
		case line == "" && cur.name != "":
			events = append(events, cur)
			cur = event{}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(events) < 2 {
		t.Fatalf("%d events: %+v", len(events), events)
	}
	last := events[len(events)-1]
	if last.name != "done" || last.data["state"] != "done" || last.data["progress"] != 1.0 {
		t.Fatalf("last event %+v", last)
	}
	if m, _ := last.data["metrics"].(map[string]any); m == nil || m["pct_in_band"] != 100.0 || m["units"] != 2.0 {
		t.Fatalf("final metrics %+v", last.data["metrics"])
	}
	prev := -1.0
	progress := 0
	for _, e := range events[:len(events)-1] {
		if e.name != "progress" {
			t.Fatalf("event %q before done", e.name)
		}
		p := e.data["progress"].(float64)
		if p < prev || p > 1 {
			t.Fatalf("progress went %g → %g", prev, p)
		}
		if p > 0 && p < 1 {
			progress++
		}
		prev = p
	}
	if progress == 0 {
		t.Fatalf("no intermediate progress among %+v", events)
	}
	// A stream opened after the end gets the final state at once.
	r := do(t, http.MethodGet, ts.URL+loc+"/events", nil)
	if r.status != http.StatusOK || !strings.Contains(string(r.body), "event: done") {
		t.Fatalf("late stream: %d %s", r.status, r.body)
	}
	// The township's drawing applies to both communities in one transaction.
	grids := int(last.data["metrics"].(map[string]any)["grids"].(float64))
	r = do(t, http.MethodPost, ts.URL+loc+"/apply", nil)
	applied := decode[struct {
		Retired []string
		Created []struct{ Code, Unit string }
	}](t, r)
	units := map[string]int{}
	for _, g := range applied.Created {
		units[g.Unit]++
	}
	if r.status != http.StatusOK || len(applied.Created) != grids || len(applied.Retired) != 4 || len(units) != 2 {
		t.Fatalf("apply: %d %s", r.status, r.body)
	}
}

func TestDrawBadInput(t *testing.T) {
	ts, _, _ := newServer(t, 2000)
	cases := []struct {
		name, body  string
		status      int
		code, field string
	}{
		{"no unit", `{"min":300,"max":500}`, 400, "invalid_parameter", "unit"},
		{"short unit", `{"unit":"12345"}`, 400, "invalid_parameter", "unit"},
		{"county", `{"unit":"999001"}`, 400, "invalid_parameter", "unit"},
		{"unknown unit", `{"unit":"999001009009"}`, 404, "not_found", ""},
		{"negative min", `{"unit":"999001001002","min":-1,"max":500}`, 400, "invalid_parameter", "min"},
		{"max below min", `{"unit":"999001001002","min":500,"max":300}`, 400, "invalid_parameter", "max"},
		{"min not a number", `{"unit":"999001001002","min":"many"}`, 400, "invalid_parameter", "min"},
		{"weight", `{"unit":"999001001002","weight":"cows"}`, 400, "invalid_parameter", "weight"},
		{"barriers not lines", `{"unit":"999001001002","barriers":{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},"geometry":{"type":"Point","coordinates":[114.2,30.3]}}]}}`, 422, "invalid_geometry", "barriers"},
		{"barriers not GeoJSON", `{"unit":"999001001002","barriers":[1,2]}`, 422, "invalid_geometry", "barriers"},
		{"keep not a code", `{"unit":"999001001002","keep":["abc"]}`, 400, "invalid_parameter", "keep"},
		{"keep unknown grid", `{"unit":"999001001002","keep":["999001001002999"]}`, 400, "invalid_parameter", "keep"},
		{"keep other unit", `{"unit":"999001001002","keep":["999001001001001"]}`, 400, "invalid_parameter", "keep"},
		{"unknown field", `{"unit":"999001001002","band":[1,2]}`, 400, "unknown_parameter", "band"},
		{"not JSON", `{"unit":`, 400, "invalid_parameter", "body"},
		{"empty", ``, 400, "invalid_parameter", "body"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			wantError(t, do(t, http.MethodPost, ts.URL+"/api/v1/draw", strings.NewReader(tc.body)), tc.status, tc.code, tc.field)
		})
	}
	wantError(t, do(t, http.MethodGet, ts.URL+"/api/v1/draw/nosuchjob", nil), 404, "not_found", "")
	wantError(t, do(t, http.MethodGet, ts.URL+"/api/v1/draw/nosuchjob/events", nil), 404, "not_found", "")
	wantError(t, do(t, http.MethodPost, ts.URL+"/api/v1/draw/nosuchjob/apply", nil), 404, "not_found", "")
}
