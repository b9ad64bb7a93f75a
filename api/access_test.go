package api_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"gridmap/geo/store"
)

// accessFixture is one side (in or out of the callers' scope) of the authorisation test:
// a township with a village, a grid with a branch, a party group and a central household,
// a person, and a drawing job.
type accessFixture struct {
	township, village, grid     string
	person, branch, group, cent int64
	draw                        string
}

func findFixture(t *testing.T, st *store.Store, township string) accessFixture {
	t.Helper()
	f := accessFixture{township: township}
	err := st.Pool().QueryRow(context.Background(), `
		SELECT g.code, g.unit_code, b.id, pg.id, c.id,
		       (SELECT p.id FROM people p WHERE p.unit_code = g.unit_code ORDER BY p.id LIMIT 1)
		FROM central_households c
		JOIN households h ON h.id = c.household_id
		JOIN grids g ON g.id = h.grid_id
		JOIN branches b ON b.grid_id = g.id AND b.valid_to IS NULL
		JOIN party_groups pg ON pg.branch_id = b.id
		WHERE g.unit_code LIKE $1 || '%'
		ORDER BY c.id LIMIT 1`, township).Scan(&f.grid, &f.village, &f.branch, &f.group, &f.cent, &f.person)
	if err != nil {
		t.Fatalf("fixture in %s: %v", township, err)
	}
	return f
}

// accessCase is how the test calls one route and who may call it:
//
//	public    anyone, anonymous included
//	signedin  any token or session
//	read      admin; planner and viewer in scope
//	gridread  read, and a grid worker on its own grid
//	write     admin; planner in scope, not with a read-only token
//	tokens    admin, planner (any scope), not read-only
//	admin     admin only
type accessCase struct {
	class string
	req   func(f accessFixture) (method, path, body string)
}

func accessCases() map[string]accessCase {
	get := func(p func(f accessFixture) string) func(accessFixture) (string, string, string) {
		return func(f accessFixture) (string, string, string) { return "GET", p(f), "" }
	}
	send := func(method string, p func(f accessFixture) string, body func(f accessFixture) string) func(accessFixture) (string, string, string) {
		return func(f accessFixture) (string, string, string) { return method, p(f), body(f) }
	}
	fixed := func(s string) func(accessFixture) string { return func(accessFixture) string { return s } }
	none := fixed("")
	return map[string]accessCase{
		"GET /health":              {"public", get(fixed("/health"))},
		"GET /metrics":             {"readers-any", get(fixed("/metrics"))},
		"GET /api/v1/openapi.json": {"public", get(fixed("/api/v1/openapi.json"))},
		"POST /api/v1/login": {"login", func(f accessFixture) (string, string, string) {
			return "POST", "/api/v1/login", fmt.Sprintf(`{"username":"nobody%d","password":"wrong password"}`, time.Now().UnixNano())
		}},
		"POST /api/v1/logout":     {"signedin", send("POST", fixed("/api/v1/logout"), none)},
		"GET /api/v1/me":          {"public", get(fixed("/api/v1/me"))},
		"GET /api/v1/units":       {"public", get(func(f accessFixture) string { return "/api/v1/units?parent=" + f.township })},
		"GET /api/v1/units/:code": {"public", get(func(f accessFixture) string { return "/api/v1/units/" + f.village })},
		"GET /api/v1/grids":       {"public", get(func(f accessFixture) string { return "/api/v1/grids?unit=" + f.village })},
		"GET /api/v1/grids/:code": {"public", get(func(f accessFixture) string { return "/api/v1/grids/" + f.grid })},
		"POST /api/v1/grids": {"write", send("POST", fixed("/api/v1/grids"), func(f accessFixture) string {
			return `{"type":"Feature","properties":{"unit":"` + f.village + `","name":"x"},"geometry":{"type":"Polygon","coordinates":[[[0,0],[0,0.0001],[0.0001,0],[0,0]]]}}`
		})},
		"PUT /api/v1/grids/:code":                     {"write", send("PUT", func(f accessFixture) string { return "/api/v1/grids/" + f.grid }, fixed(`{}`))},
		"DELETE /api/v1/grids/:code":                  {"write", send("DELETE", func(f accessFixture) string { return "/api/v1/grids/" + f.grid }, none)},
		"GET /api/v1/grids/:code/history":             {"gridread", get(func(f accessFixture) string { return "/api/v1/grids/" + f.grid + "/history" })},
		"GET /api/v1/grids/:code/team":                {"gridread", get(func(f accessFixture) string { return "/api/v1/grids/" + f.grid + "/team" })},
		"PUT /api/v1/grids/:code/team":                {"write", send("PUT", func(f accessFixture) string { return "/api/v1/grids/" + f.grid + "/team" }, fixed(`{"bogus":1}`))},
		"GET /api/v1/grids/:code/branch":              {"gridread", get(func(f accessFixture) string { return "/api/v1/grids/" + f.grid + "/branch" })},
		"POST /api/v1/grids/:code/branch":             {"write", send("POST", func(f accessFixture) string { return "/api/v1/grids/" + f.grid + "/branch" }, fixed(`{"bogus":1}`))},
		"PUT /api/v1/grids/:code/branch":              {"write", send("PUT", func(f accessFixture) string { return "/api/v1/grids/" + f.grid + "/branch" }, fixed(`{"bogus":1}`))},
		"DELETE /api/v1/grids/:code/branch":           {"write", send("DELETE", func(f accessFixture) string { return "/api/v1/grids/" + f.grid + "/branch" }, none)},
		"POST /api/v1/people":                         {"write", send("POST", fixed("/api/v1/people"), func(f accessFixture) string { return `{"unit":"` + f.village + `","bogus":1}` })},
		"GET /api/v1/people":                          {"read", get(func(f accessFixture) string { return "/api/v1/people?unit=" + f.village })},
		"GET /api/v1/people/:id":                      {"read", get(func(f accessFixture) string { return fmt.Sprintf("/api/v1/people/%d", f.person) })},
		"PUT /api/v1/people/:id":                      {"write", send("PUT", func(f accessFixture) string { return fmt.Sprintf("/api/v1/people/%d", f.person) }, fixed(`{"bogus":1}`))},
		"DELETE /api/v1/people/:id":                   {"write", send("DELETE", func(f accessFixture) string { return fmt.Sprintf("/api/v1/people/%d", f.person) }, none)},
		"GET /api/v1/branches/:id/groups":             {"gridread", get(func(f accessFixture) string { return fmt.Sprintf("/api/v1/branches/%d/groups", f.branch) })},
		"POST /api/v1/branches/:id/groups":            {"write", send("POST", func(f accessFixture) string { return fmt.Sprintf("/api/v1/branches/%d/groups", f.branch) }, fixed(`{"bogus":1}`))},
		"GET /api/v1/groups/:id":                      {"gridread", get(func(f accessFixture) string { return fmt.Sprintf("/api/v1/groups/%d", f.group) })},
		"PUT /api/v1/groups/:id":                      {"write", send("PUT", func(f accessFixture) string { return fmt.Sprintf("/api/v1/groups/%d", f.group) }, fixed(`{"bogus":1}`))},
		"DELETE /api/v1/groups/:id":                   {"write", send("DELETE", func(f accessFixture) string { return fmt.Sprintf("/api/v1/groups/%d", f.group) }, none)},
		"POST /api/v1/central-households":             {"write", send("POST", fixed("/api/v1/central-households"), func(f accessFixture) string { return fmt.Sprintf(`{"person":%d,"bogus":1}`, f.person) })},
		"GET /api/v1/central-households/:id":          {"gridread", get(func(f accessFixture) string { return fmt.Sprintf("/api/v1/central-households/%d", f.cent) })},
		"DELETE /api/v1/central-households/:id":       {"write", send("DELETE", func(f accessFixture) string { return fmt.Sprintf("/api/v1/central-households/%d", f.cent) }, none)},
		"GET /api/v1/links":                           {"read", get(func(f accessFixture) string { return "/api/v1/links?kind=member-households&unit=" + f.village })},
		"PUT /api/v1/links/:kind":                     {"write", send("PUT", fixed("/api/v1/links/member-households"), func(f accessFixture) string { return fmt.Sprintf(`{"member":%d,"bogus":1}`, f.person) })},
		"GET /api/v1/export/:what":                    {"read", get(func(f accessFixture) string { return "/api/v1/export/people?unit=" + f.village })},
		"POST /api/v1/import/households":              {"write", send("POST", func(f accessFixture) string { return "/api/v1/import/households?unit=" + f.village }, fixed("not,a,csv"))},
		"GET /api/v1/locate":                          {"public", get(fixed("/api/v1/locate?lon=0&lat=0"))},
		"POST /api/v1/locate":                         {"public", send("POST", fixed("/api/v1/locate"), fixed(`{"points":[]}`))},
		"POST /api/v1/draw":                           {"write", send("POST", fixed("/api/v1/draw"), func(f accessFixture) string { return `{"unit":"` + f.village + `","min":-1}` })},
		"GET /api/v1/draw/:id":                        {"read", get(func(f accessFixture) string { return f.draw })},
		"GET /api/v1/draw/:id/events":                 {"read", get(func(f accessFixture) string { return f.draw + "/events" })},
		"POST /api/v1/draw/:id/apply":                 {"write", send("POST", func(f accessFixture) string { return f.draw + "/apply?bogus=1" }, none)},
		"POST /api/v1/assign":                         {"write", send("POST", fixed("/api/v1/assign"), func(f accessFixture) string { return `{"unit":"` + f.village + `","kind":"bogus"}` })},
		"GET /api/v1/coverage":                        {"read", get(func(f accessFixture) string { return "/api/v1/coverage?unit=" + f.village })},
		"GET /api/v1/coverage/problems":               {"read", get(func(f accessFixture) string { return "/api/v1/coverage/problems?unit=" + f.village })},
		"GET /api/v1/users":                           {"admin", get(fixed("/api/v1/users"))},
		"POST /api/v1/users":                          {"admin", send("POST", fixed("/api/v1/users"), fixed(`{"bogus":1}`))},
		"PATCH /api/v1/users/:username":               {"admin", send("PATCH", fixed("/api/v1/users/nobody"), fixed(`{}`))},
		"POST /api/v1/users/:username/grants":         {"admin", send("POST", fixed("/api/v1/users/nobody/grants"), fixed(`{"unit":"999001"}`))},
		"DELETE /api/v1/users/:username/grants/:code": {"admin", send("DELETE", fixed("/api/v1/users/nobody/grants/999001"), none)},
		"GET /api/v1/tokens":                          {"tokens", get(fixed("/api/v1/tokens"))},
		"POST /api/v1/tokens":                         {"tokens", send("POST", fixed("/api/v1/tokens"), fixed(`{"bogus":1}`))},
		"DELETE /api/v1/tokens/:id":                   {"tokens", send("DELETE", fixed("/api/v1/tokens/999999"), none)},
		"GET /api/v1/audit":                           {"admin", get(func(f accessFixture) string { return "/api/v1/audit?unit=" + f.village })},
		"GET /tiles/:layers/:z/:x/:file":              {"public", get(fixed("/tiles/units,grids/10/845/413.mvt"))},
		"GET /tiles/:file":                            {"public", get(fixed("/tiles/grids.json"))},
		"GET /styles/default.json":                    {"public", get(fixed("/styles/default.json"))},
		"GET /ogc":                                    {"public", get(fixed("/ogc"))},
		"GET /ogc/":                                   {"public", get(fixed("/ogc/"))},
		"GET /ogc/conformance":                        {"public", get(fixed("/ogc/conformance"))},
		"GET /ogc/api":                                {"public", get(fixed("/ogc/api"))},
		"GET /ogc/collections":                        {"public", get(fixed("/ogc/collections"))},
		"GET /ogc/collections/:id":                    {"public", get(fixed("/ogc/collections/households"))},
		"GET /ogc/collections/:id/queryables":         {"public", get(fixed("/ogc/collections/grids/queryables"))},
		"GET /ogc/collections/:id/items":              {"public", get(fixed("/ogc/collections/grids/items?limit=5"))},
		"GET /ogc/collections/:id/items/:fid":         {"public", get(func(f accessFixture) string { return "/ogc/collections/grids/items/" + f.grid })},
		// Not public: household tiles and collections need a reader (any scope).
		"GET /tiles/households (extra)":      {"readers-any", get(fixed("/tiles/households/15/27036/13230.mvt"))},
		"GET /tiles/households.json (extra)": {"readers-any", get(fixed("/tiles/grids,households.json"))},
		"GET /ogc households items (extra)":  {"readers-any", get(fixed("/ogc/collections/households/items?limit=5"))},
	}
}

// callerRole is one principal of the authorisation test.
type callerRole struct {
	name     string
	role     string // admin, planner, viewer, worker, public
	readOnly bool
	personal bool
	token    string
}

// allowed says whether the role may call a route of class on the fixture side in.
func allowed(class string, c callerRole, in bool) bool {
	switch class {
	case "public":
		return true
	case "login":
		return true
	case "signedin":
		return c.role != "public"
	case "readers-any":
		return c.role == "admin" || c.role == "planner" || c.role == "viewer" || c.role == "worker"
	case "read":
		return c.role == "admin" || (c.role == "planner" || c.role == "viewer") && in
	case "gridread":
		return c.role == "admin" || (c.role == "planner" || c.role == "viewer" || c.role == "worker") && in
	case "write":
		return c.role == "admin" || c.role == "planner" && in && !c.readOnly
	case "tokens":
		return c.role == "admin" || c.role == "planner" && !c.readOnly
	case "admin":
		return c.role == "admin"
	}
	panic("unknown class " + class)
}

// TestAuthorisationMatrix calls every registered route (and the non-public tile and OGC
// layers) as every role, in and out of its scope, and checks the answer: 401 for the
// anonymous caller and 403 for a principal without the right, anything else when allowed;
// and that no phone number or unmasked name leaks to a caller without the right to see
// personal data. A route without a rule, or without a case here, fails the test.
func TestAuthorisationMatrix(t *testing.T) {
	ts, st, srv := newServer(t, 2000)
	if missing := srv.MissingRules(); len(missing) > 0 {
		t.Fatalf("routes without an access rule: %v", missing)
	}
	cases := accessCases()
	for _, r := range srv.Echo().Routes() {
		key := r.Method + " " + r.Path
		if strings.HasPrefix(r.Path, "/fonts/") {
			continue // public glyphs: prefixRules
		}
		if _, ok := cases[key]; !ok {
			t.Errorf("route %s has no case in the authorisation test", key)
		}
	}
	ctx := context.Background()
	var townships []string
	rows, err := st.Pool().Query(ctx, `SELECT code FROM units WHERE length(code) = 9 ORDER BY code`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var c string
		rows.Scan(&c)
		townships = append(townships, c)
	}
	rows.Close()
	in, out := findFixture(t, st, townships[0]), findFixture(t, st, townships[1])
	in.draw = startDraw(t, ts.URL, `{"unit":"`+in.village+`","min":150,"max":250}`)
	out.draw = startDraw(t, ts.URL, `{"unit":"`+out.village+`","min":150,"max":250}`)

	token := func(role string, units []string, ro, personal bool) string {
		return newToken(t, st, store.NewAPIToken{Name: role, Role: role, Units: units, ReadOnly: ro, SeePersonal: personal})
	}
	// Least to most powerful, so that the deletions of in-scope things by a planner come
	// after every refusal that needs them to exist; the admin (who deletes out-of-scope
	// things too) goes last.
	callers := []callerRole{
		{name: "anonymous", role: "public"},
		{name: "worker", role: "worker", token: token("worker", []string{in.grid}, false, false)},
		{name: "viewer", role: "viewer", token: token("viewer", []string{in.township}, false, false)},
		{name: "viewer+personal", role: "viewer", personal: true, token: token("viewer", []string{in.township}, false, true)},
		{name: "planner read-only", role: "planner", readOnly: true, token: token("planner", []string{in.township}, true, false)},
		{name: "planner", role: "planner", token: token("planner", []string{in.township}, false, false)},
		{name: "admin", role: "admin", token: token("admin", nil, false, false)},
	}

	// Personal data: every phone, and the names of people (masked as 张** unless allowed).
	var phones, names []string
	rows, err = st.Pool().Query(ctx, `SELECT name, coalesce(phone, '') FROM people WHERE unit_code IN ($1, $2)`, in.village, out.village)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var n, p string
		rows.Scan(&n, &p)
		names = append(names, n)
		if p != "" {
			phones = append(phones, p)
		}
	}
	rows.Close()
	if len(names) == 0 || len(phones) == 0 {
		t.Fatal("no people to check for leaks")
	}
	maskedName := regexp.MustCompile(`"name":"[^"]*\*`)

	order := func(key string) int { // deletions last
		if strings.HasPrefix(key, "DELETE ") {
			return 1
		}
		return 0
	}
	for _, c := range callers {
		for pass := 0; pass < 2; pass++ {
			for key, tc := range cases {
				if order(key) != pass {
					continue
				}
				for _, side := range []struct {
					name string
					f    accessFixture
					in   bool
				}{{"in", in, true}, {"out", out, false}} {
					method, path, body := tc.req(side.f)
					status, b := callAs(t, ts.URL, method, path, body, c.token)
					want := allowed(tc.class, c, side.in)
					label := fmt.Sprintf("%s %s (%s scope) as %s: %d", method, path, side.name, c.name, status)
					switch {
					case tc.class == "login":
						if status != http.StatusUnauthorized {
							t.Errorf("%s, want 401 for a wrong password", label)
						}
					case want && (status == 401 || status == 403 || status >= 500 && status != 503): // 503: the locate index is not loaded here
						t.Errorf("%s, want it allowed: %.200s", label, b)
					case !want && c.role == "public" && status != 401:
						t.Errorf("%s, want 401: %.200s", label, b)
					case !want && c.role != "public" && status != 403:
						t.Errorf("%s, want 403: %.200s", label, b)
					}
					if !want || c.personal || c.role == "admin" && c.personal {
						continue
					}
					for _, p := range phones {
						if bytes.Contains(b, []byte(p)) {
							t.Errorf("%s: phone %s leaks", label, p)
						}
					}
					if strings.HasPrefix(path, "/api/v1/people") || strings.HasPrefix(path, "/api/v1/links") {
						for _, n := range names {
							if bytes.Contains(b, []byte(`"`+n+`"`)) {
								t.Errorf("%s: name %s leaks", label, n)
							}
						}
					}
				}
			}
		}
	}
	// The right to see personal data shows names in the clear (so the leak check can fail).
	_, b := callAs(t, ts.URL, "GET", "/api/v1/people?unit="+in.village, "", callers[3].token)
	if maskedName.Match(b) || !bytes.Contains(b, []byte(`"name":"`)) {
		t.Errorf("viewer with see_personal gets masked names: %.300s", b)
	}
	_, b = callAs(t, ts.URL, "GET", "/api/v1/people?unit="+in.village, "", callers[2].token)
	if !maskedName.Match(b) {
		t.Errorf("viewer without see_personal gets names in the clear: %.300s", b)
	}
}

// callAs makes one request with an optional Bearer token; streams are cut after a second.
func callAs(t *testing.T, base, method, path, body, token string) (int, []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, base+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body) // a stream ends at the deadline: keep what came
	return res.StatusCode, b
}
