package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"gridmap/api"
	"gridmap/geo/store"
)

// orgFixture serves a village 114.00–114.02 E, 30.00–30.01 N split into a west and an east
// grid, 200 households on a lattice (external ids h{i}_{j}), and a second village. It
// returns the masked server's URL, a server showing personal fields, and the store.
func orgFixture(t *testing.T) (masked, clear string, st *store.Store) {
	t.Helper()
	ts, st, _ := newServer(t, 0)
	_, err := st.Pool().Exec(context.Background(), `
		INSERT INTO units (code, name, level, boundary) VALUES ('999001', '示范县', 'county', ST_Multi(ST_MakeEnvelope(114, 30, 114.04, 30.01, 4326)));
		INSERT INTO units (code, name, level, parent_code, boundary) VALUES ('999001001', '青石镇', 'township', '999001', ST_Multi(ST_MakeEnvelope(114, 30, 114.04, 30.01, 4326)));
		INSERT INTO units (code, name, level, parent_code, boundary) VALUES ('999001001001', '柳河村', 'village', '999001001', ST_Multi(ST_MakeEnvelope(114, 30, 114.02, 30.01, 4326)));
		INSERT INTO units (code, name, level, parent_code, boundary) VALUES ('999001001002', '桃园村', 'village', '999001001', ST_Multi(ST_MakeEnvelope(114.02, 30, 114.04, 30.01, 4326)));
		INSERT INTO grids (code, unit_code, name, kind, boundary) VALUES
			('999001001001001', '999001001001', '西片', 'village', ST_Multi(ST_MakeEnvelope(114, 30, 114.01, 30.01, 4326))),
			('999001001001002', '999001001001', '东片', 'village', ST_Multi(ST_MakeEnvelope(114.01, 30, 114.02, 30.01, 4326)));
		INSERT INTO households (unit_code, external_id, location)
		SELECT '999001001001', 'h' || i || '_' || j, ST_SetSRID(ST_MakePoint(114.0005 + i * 0.001, 30.0005 + j * 0.001), 4326)
		FROM generate_series(0, 19) i, generate_series(0, 9) j;`)
	if err != nil {
		t.Fatal(err)
	}
	// The second server answers an admin token with the right to see personal data.
	srv := api.New(st, api.Config{Logger: slog.New(slog.NewTextHandler(testLog(), nil))})
	clearTS := httptest.NewServer(srv)
	t.Cleanup(clearTS.Close)
	t.Cleanup(srv.Close)
	authorize(t, clearTS.URL, st, store.NewAPIToken{Name: "personal", Role: "admin", SeePersonal: true})
	return ts.URL, clearTS.URL, st
}

const (
	westGrid = "999001001001001"
	eastGrid = "999001001001002"
	village  = "999001001001"
)

type personOut struct {
	ID          int64
	Unit        string
	Name        string
	Phone       *string
	PartyMember bool `json:"party_member"`
	Cadre       bool
	Household   *struct {
		ID         int64
		Unit       string
		ExternalID string `json:"external_id"`
		Grid       *string
	}
	Branch, Group *int64
	Roles         []struct {
		Kind, Grid, Role string
		ID               int64
	}
}

func jsonBody(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// mkPerson creates a person through the API.
func mkPerson(t *testing.T, base string, body map[string]any) personOut {
	t.Helper()
	if body["unit"] == nil {
		body["unit"] = village
	}
	r := send(t, "POST", base+"/api/v1/people", jsonBody(body), nil)
	if r.status != 201 {
		t.Fatalf("create person %v: %d %s", body, r.status, r.body)
	}
	return decode[personOut](t, r)
}

// householdID returns the id of household h{i}_{j}.
func householdID(t *testing.T, st *store.Store, ext string) int64 {
	t.Helper()
	var id int64
	if err := st.Pool().QueryRow(context.Background(), `SELECT id FROM households WHERE external_id = $1`, ext).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

func TestPeopleCRUDAndMasking(t *testing.T) {
	base, clear, st := orgFixture(t)
	ctx := context.Background()
	people := base + "/api/v1/people"

	r := send(t, "POST", people, jsonBody(map[string]any{"unit": village, "name": "张三丰", "phone": "13812345678",
		"party_member": true, "cadre": false, "household": map[string]any{"unit": village, "external_id": "h0_0"}}), nil)
	if r.status != 201 {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	p := decode[personOut](t, r)
	if r.header.Get("Location") != fmt.Sprintf("/api/v1/people/%d", p.ID) || p.ID == 0 {
		t.Fatalf("location %q for %d", r.header.Get("Location"), p.ID)
	}
	// Masked by default; the store holds the clear values.
	if p.Name != "张**" || p.Phone == nil || *p.Phone != "138****5678" || !p.PartyMember || p.Cadre ||
		p.Household == nil || p.Household.ExternalID != "h0_0" || p.Household.Grid == nil || *p.Household.Grid != westGrid {
		t.Fatalf("created %+v", p)
	}
	if strings.Contains(string(r.body), "张三丰") || strings.Contains(string(r.body), "13812345678") {
		t.Fatalf("personal fields leak: %s", r.body)
	}
	var name, phone string
	if err := st.Pool().QueryRow(ctx, `SELECT name, phone FROM people WHERE id = $1`, p.ID).Scan(&name, &phone); err != nil {
		t.Fatal(err)
	}
	if name != "张三丰" || phone != "13812345678" {
		t.Fatalf("stored %q %q", name, phone)
	}
	one := fmt.Sprintf("/api/v1/people/%d", p.ID)
	if got := decode[personOut](t, send(t, "GET", base+one, "", nil)); got.Name != "张**" || *got.Phone != "138****5678" {
		t.Fatalf("masked GET %+v", got)
	}
	list := send(t, "GET", people+"?unit="+village, "", nil)
	if strings.Contains(string(list.body), "张三丰") || !strings.Contains(string(list.body), "张**") {
		t.Fatalf("masked list %s", list.body)
	}
	// The right to see personal data turns masking off.
	if got := decode[personOut](t, send(t, "GET", clear+one, "", nil)); got.Name != "张三丰" || *got.Phone != "13812345678" {
		t.Fatalf("clear GET %+v", got)
	}

	// PUT changes only what it carries; null clears.
	r = send(t, "PUT", clear+one, `{"name": " 张三 ", "phone": null, "household": `+fmt.Sprint(householdID(t, st, "h15_0"))+`}`, nil)
	got := decode[personOut](t, r)
	if r.status != 200 || got.Name != "张三" || got.Phone != nil || !got.PartyMember || got.Household == nil ||
		got.Household.ExternalID != "h15_0" || *got.Household.Grid != eastGrid {
		t.Fatalf("update: %d %s", r.status, r.body)
	}
	r = send(t, "PUT", clear+one, `{"household": {"id": `+fmt.Sprint(householdID(t, st, "h1_1"))+`}, "cadre": true}`, nil)
	if got := decode[personOut](t, r); r.status != 200 || got.Household.ExternalID != "h1_1" || !got.Cadre || got.Name != "张三" {
		t.Fatalf("update by household object: %d %s", r.status, r.body)
	}

	// Bad input names the field; nothing changes.
	wantError(t, send(t, "POST", people, `{"unit": "999001001001", "party_member": true}`, nil), 400, "invalid_parameter", "name")
	wantError(t, send(t, "POST", people, `{"name": "王五"}`, nil), 400, "invalid_parameter", "unit")
	wantError(t, send(t, "POST", people, `{"unit": "888001", "name": "王五"}`, nil), 400, "invalid_reference", "unit")
	wantError(t, send(t, "POST", people, `{"unit": "99900", "name": "王五"}`, nil), 400, "invalid_parameter", "unit")
	wantError(t, send(t, "POST", people, `{"unit": "999001001001", "name": "王五", "phone": 5}`, nil), 400, "invalid_parameter", "phone")
	wantError(t, send(t, "POST", people, `{"unit": "999001001001", "name": "王五", "nmae": "x"}`, nil), 400, "unknown_field", "nmae")
	wantError(t, send(t, "POST", people, `{"unit": "999001001001", "name": "王五", "household": {"unit": "999001001001", "external_id": "h0_0", "x": 1}}`, nil), 400, "unknown_field", "x")
	wantError(t, send(t, "POST", people, `{"unit": "999001001001", "name": "王五", "household": "h0_0"}`, nil), 400, "invalid_parameter", "household")
	wantError(t, send(t, "POST", people, `{"unit": "999001001001", "name": "王五", "household": {"unit": "999001001001", "external_id": "nope"}}`, nil), 400, "invalid_reference", "household")
	wantError(t, send(t, "POST", people, `{"unit": "999001001001", "name": "王五"} {}`, nil), 400, "malformed_json", "body")
	wantError(t, send(t, "POST", people, ``, nil), 400, "malformed_json", "body")
	wantError(t, send(t, "PUT", base+one, `{"phone": "call me"}`, nil), 400, "invalid_parameter", "phone")
	wantError(t, send(t, "PUT", base+one, `{"household": 99999999}`, nil), 400, "invalid_reference", "household")
	wantError(t, send(t, "PUT", base+one, `{"name": ""}`, nil), 400, "invalid_parameter", "name")
	wantError(t, send(t, "PUT", base+one, `{"group": 424242}`, nil), 400, "invalid_reference", "group")
	wantError(t, send(t, "PUT", base+one, `{"cadre": "yes"}`, nil), 400, "invalid_parameter", "cadre")
	if got := decode[personOut](t, send(t, "GET", clear+one, "", nil)); got.Name != "张三" || got.Household.ExternalID != "h1_1" {
		t.Fatalf("a refused update changed %+v", got)
	}
	wantError(t, send(t, "GET", people+"/99999999", "", nil), 404, "not_found", "")
	wantError(t, send(t, "GET", people+"/abc", "", nil), 400, "invalid_parameter", "id")
	wantError(t, send(t, "PUT", people+"/99999999", `{"name": "x"}`, nil), 404, "not_found", "")

	// DELETE a person nothing refers to.
	if r := send(t, "DELETE", base+one, "", nil); r.status != 204 {
		t.Fatalf("delete: %d %s", r.status, r.body)
	}
	wantError(t, send(t, "GET", base+one, "", nil), 404, "not_found", "")
	wantError(t, send(t, "DELETE", base+one, "", nil), 404, "not_found", "")
}

func TestPeoplePaging(t *testing.T) {
	base, _, _ := orgFixture(t)
	var party, cadres []int64
	all := map[int64]bool{}
	for i := range 7 {
		p := mkPerson(t, base, map[string]any{"name": fmt.Sprintf("成员%d", i), "party_member": i%2 == 0, "cadre": i == 3})
		all[p.ID] = true
		if i%2 == 0 {
			party = append(party, p.ID)
		}
		if i == 3 {
			cadres = append(cadres, p.ID)
		}
	}
	other := mkPerson(t, base, map[string]any{"unit": "999001001002", "name": "外村人"})

	type page struct {
		People []personOut
		Next   string
	}
	seen := map[int64]bool{}
	next := "/api/v1/people?unit=" + village + "&limit=3"
	var sizes []int
	last := int64(0)
	for next != "" {
		pg := decode[page](t, send(t, "GET", base+next, "", nil))
		sizes = append(sizes, len(pg.People))
		for _, p := range pg.People {
			if p.ID <= last || seen[p.ID] || p.Unit != village {
				t.Fatalf("page order: %d after %d (%s)", p.ID, last, p.Unit)
			}
			seen[p.ID], last = true, p.ID
		}
		next = pg.Next
	}
	if fmt.Sprint(sizes) != "[3 3 1]" || len(seen) != len(all) {
		t.Fatalf("pages %v, saw %d of %d", sizes, len(seen), len(all))
	}
	// The township holds both villages; no unit lists everyone.
	if n := len(decode[page](t, send(t, "GET", base+"/api/v1/people?unit=999001001", "", nil)).People); n != 8 {
		t.Fatalf("township lists %d", n)
	}
	if pg := decode[page](t, send(t, "GET", base+"/api/v1/people?unit=999001001002", "", nil)); len(pg.People) != 1 || pg.People[0].ID != other.ID || pg.Next != "" {
		t.Fatalf("other village %+v", pg)
	}
	ids := func(pg page) (out []int64) {
		for _, p := range pg.People {
			out = append(out, p.ID)
		}
		return out
	}
	if got := ids(decode[page](t, send(t, "GET", base+"/api/v1/people?role=party_member", "", nil))); fmt.Sprint(got) != fmt.Sprint(party) {
		t.Fatalf("party members %v, want %v", got, party)
	}
	if got := ids(decode[page](t, send(t, "GET", base+"/api/v1/people?role=cadre&unit=999001", "", nil))); fmt.Sprint(got) != fmt.Sprint(cadres) {
		t.Fatalf("cadres %v, want %v", got, cadres)
	}
	if got := decode[page](t, send(t, "GET", base+"/api/v1/people?role=staff", "", nil)); len(got.People) != 0 {
		t.Fatalf("staff before any team: %+v", got)
	}
	wantError(t, send(t, "GET", base+"/api/v1/people?role=boss", "", nil), 400, "invalid_parameter", "role")
	wantError(t, send(t, "GET", base+"/api/v1/people?limit=0", "", nil), 400, "invalid_parameter", "limit")
	wantError(t, send(t, "GET", base+"/api/v1/people?limit=1001", "", nil), 400, "invalid_parameter", "limit")
	wantError(t, send(t, "GET", base+"/api/v1/people?after=-1", "", nil), 400, "invalid_parameter", "after")
	wantError(t, send(t, "GET", base+"/api/v1/people?unit=888001", "", nil), 404, "not_found", "")
	wantError(t, send(t, "GET", base+"/api/v1/people?unti=999001", "", nil), 400, "unknown_parameter", "unti")
}
