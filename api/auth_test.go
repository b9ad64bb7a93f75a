package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	urlpkg "net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/maptile"

	"gridmap/api"
	"gridmap/geo/auth"
	"gridmap/geo/store"
)

// syncBuffer is a log sink the test can read while the server writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// authServer serves a small demo county with a debug log captured in a buffer, and no
// default token: requests are anonymous unless they carry one.
func authServer(t *testing.T) (*httptest.Server, *store.Store, *syncBuffer) {
	t.Helper()
	st := pg.Store(t)
	loadDemo(t, st, 1000)
	logs := &syncBuffer{}
	srv := api.New(st, api.Config{Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	t.Cleanup(srv.Close)
	return ts, st, logs
}

func addUser(t *testing.T, st *store.Store, name, password, role string, scope ...string) {
	t.Helper()
	hash, err := auth.HashPassword(password, auth.DefaultParams())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateUser(context.Background(), store.NewUser{Username: name, PasswordHash: hash, Role: role, Scope: scope}); err != nil {
		t.Fatal(err)
	}
}

// client is a browser: it keeps cookies.
func client(t *testing.T) *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar}
}

func call(t *testing.T, c *http.Client, method, url, body string, header map[string]string) response {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(res.Body)
	return response{res.StatusCode, res.Header, b.Bytes()}
}

func login(t *testing.T, c *http.Client, base, user, pw string) response {
	t.Helper()
	b, _ := json.Marshal(map[string]string{"username": user, "password": pw})
	return call(t, c, "POST", base+"/api/v1/login", string(b), nil)
}

// TestSessions: login sets an HttpOnly SameSite=Lax cookie and returns a CSRF token; reads
// work with the cookie; writes need X-CSRF-Token; logout and expiry end the session.
func TestSessions(t *testing.T) {
	ts, st, logs := authServer(t)
	const pw = "planner password 1"
	var town string
	if err := st.Pool().QueryRow(context.Background(), `SELECT min(code) FROM units WHERE length(code) = 9`).Scan(&town); err != nil {
		t.Fatal(err)
	}
	addUser(t, st, "li.planner", pw, "planner", town)
	c := client(t)

	if r := call(t, c, "GET", ts.URL+"/api/v1/people?unit="+town, "", nil); r.status != 401 {
		t.Fatalf("anonymous people: %d", r.status)
	}
	wantError(t, login(t, c, ts.URL, "li.planner", "wrong password!"), 401, "unauthorized", "")
	wantError(t, login(t, c, ts.URL, "nobody", "wrong password!"), 401, "unauthorized", "")
	r := login(t, c, ts.URL, "li.planner", pw)
	if r.status != 200 {
		t.Fatalf("login: %d %s", r.status, r.body)
	}
	var body struct {
		CSRF string `json:"csrf_token"`
		User struct{ Username, Role string }
	}
	json.Unmarshal(r.body, &body)
	cookie := ""
	for _, h := range r.header.Values("Set-Cookie") {
		if strings.HasPrefix(h, "gridmap_session=") {
			cookie = h
		}
	}
	if body.CSRF == "" || body.User.Role != "planner" || !strings.Contains(cookie, "HttpOnly") || !strings.Contains(cookie, "SameSite=Lax") {
		t.Fatalf("login answer %s, cookie %q", r.body, cookie)
	}
	if strings.Contains(string(r.body), "argon2") || strings.Contains(string(r.body), pw) {
		t.Fatalf("login answer leaks: %s", r.body)
	}
	me := call(t, c, "GET", ts.URL+"/api/v1/me", "", nil)
	if !strings.Contains(string(me.body), `"actor":"user:li.planner"`) {
		t.Fatalf("me: %s", me.body)
	}
	if r := call(t, c, "GET", ts.URL+"/api/v1/people?unit="+town, "", nil); r.status != 200 {
		t.Fatalf("people with a session: %d %s", r.status, r.body)
	}
	// A write without the CSRF header is refused; with it, it goes through.
	team := ts.URL + "/api/v1/grids/" + firstGrid(t, st, town) + "/branch"
	wantError(t, call(t, c, "PUT", team, `{"name":"新支部"}`, nil), 403, "forbidden", "")
	wantError(t, call(t, c, "PUT", team, `{"name":"新支部"}`, map[string]string{"X-CSRF-Token": "forged"}), 403, "forbidden", "")
	if r := call(t, c, "PUT", team, `{"name":"新支部"}`, map[string]string{"X-CSRF-Token": body.CSRF}); r.status == 401 || r.status == 403 {
		t.Fatalf("write with CSRF token: %d %s", r.status, r.body)
	}
	// Out of scope: 403 even with the CSRF token.
	other := ts.URL + "/api/v1/grids/" + firstGrid(t, st, otherTownship(t, st, town)) + "/branch"
	wantError(t, call(t, c, "PUT", other, `{"name":"x"}`, map[string]string{"X-CSRF-Token": body.CSRF}), 403, "forbidden", "")

	// Expiry: a session past its time is no session.
	if _, err := st.Pool().Exec(context.Background(), `UPDATE sessions SET expires_at = now() - interval '1 second'`); err != nil {
		t.Fatal(err)
	}
	if r := call(t, c, "GET", ts.URL+"/api/v1/people?unit="+town, "", nil); r.status != 401 {
		t.Fatalf("expired session: %d", r.status)
	}
	// Logout needs the CSRF token and ends the session.
	login(t, c, ts.URL, "li.planner", pw)
	var csrf string
	for _, ck := range c.Jar.Cookies(mustURL(t, ts.URL)) {
		if ck.Name == "gridmap_csrf" {
			csrf = ck.Value
		}
	}
	wantError(t, call(t, c, "POST", ts.URL+"/api/v1/logout", "", nil), 403, "forbidden", "")
	if r := call(t, c, "POST", ts.URL+"/api/v1/logout", "", map[string]string{"X-CSRF-Token": csrf}); r.status != 204 {
		t.Fatalf("logout: %d %s", r.status, r.body)
	}
	if r := call(t, c, "GET", ts.URL+"/api/v1/people?unit="+town, "", nil); r.status != 401 {
		t.Fatalf("after logout: %d", r.status)
	}
	noSecrets(t, logs.String(), pw, body.CSRF, csrf)
}

// TestLoginRateLimit: guessing one account's password is slowed with 429 while another
// account still logs in; many accounts from one address hit the address limit.
func TestLoginRateLimit(t *testing.T) {
	ts, st, logs := authServer(t)
	addUser(t, st, "alice", "alice password 1", "viewer", "999001")
	addUser(t, st, "bob", "bob password 12", "viewer", "999001")
	c := client(t)
	var limited response
	for i := 0; i < 10; i++ {
		r := login(t, c, ts.URL, "alice", fmt.Sprintf("guess %d guess", i))
		if r.status == 429 {
			limited = r
			break
		}
		if r.status != 401 {
			t.Fatalf("guess %d: %d %s", i, r.status, r.body)
		}
	}
	if limited.status != 429 || limited.header.Get("Retry-After") == "" {
		t.Fatalf("no 429 after 10 guesses: %d", limited.status)
	}
	wantError(t, limited, 429, "rate_limited", "")
	// Even the right password waits now; bob is not locked out.
	if r := login(t, c, ts.URL, "alice", "alice password 1"); r.status != 429 {
		t.Fatalf("alice during the limit: %d", r.status)
	}
	if r := login(t, client(t), ts.URL, "bob", "bob password 12"); r.status != 200 {
		t.Fatalf("bob: %d %s", r.status, r.body)
	}
	// Spraying many accounts from one address hits the address limit.
	got429 := false
	for i := 0; i < 40 && !got429; i++ {
		got429 = login(t, c, ts.URL, fmt.Sprintf("user%d", i), "some password").status == 429
	}
	if !got429 {
		t.Fatal("40 logins from one address were never limited")
	}
	noSecrets(t, logs.String(), "alice password 1", "bob password 12", "guess 1 guess")
}

// TestTokens: Bearer tokens, ?api_key= on tile and OGC URLs only, read-only tokens,
// planners handing out narrower tokens, and revocation taking effect at once.
func TestTokens(t *testing.T) {
	ts, st, logs := authServer(t)
	admin := newToken(t, st, store.NewAPIToken{Name: "root", Role: "admin"})
	bearer := func(tok string) map[string]string { return map[string]string{"Authorization": "Bearer " + tok} }
	c := http.DefaultClient
	town := otherTownship(t, st, "")

	// A planner token for one township, created through the API.
	r := call(t, c, "POST", ts.URL+"/api/v1/tokens", `{"name":"li","role":"planner","units":["`+town+`"]}`, bearer(admin))
	if r.status != 201 {
		t.Fatalf("create token: %d %s", r.status, r.body)
	}
	created := decode[struct {
		Token string
		ID    int64
	}](t, r)
	planner := created.Token
	if !strings.HasPrefix(planner, "gm_") {
		t.Fatalf("token %q", planner)
	}
	var stored []byte
	st.Pool().QueryRow(context.Background(), `SELECT hash FROM api_tokens WHERE id = $1`, created.ID).Scan(&stored)
	if bytes.Contains(stored, []byte(planner)) || len(stored) != 32 {
		t.Fatal("the token is not stored hashed")
	}
	// The planner may hand out a viewer token inside its township, nothing wider.
	wantError(t, call(t, c, "POST", ts.URL+"/api/v1/tokens", `{"role":"admin"}`, bearer(planner)), 403, "forbidden", "")
	wantError(t, call(t, c, "POST", ts.URL+"/api/v1/tokens", `{"role":"viewer","units":["999001"]}`, bearer(planner)), 403, "forbidden", "")
	r = call(t, c, "POST", ts.URL+"/api/v1/tokens", `{"name":"qgis","role":"viewer","units":["`+town+`"],"read_only":true}`, bearer(planner))
	if r.status != 201 {
		t.Fatalf("planner creates a viewer token: %d %s", r.status, r.body)
	}
	viewer := decode[struct{ Token string }](t, r).Token

	// QGIS-style URLs: the token as ?api_key= on tiles and OGC, not on the JSON API.
	tile := ts.URL + "/tiles/households/15/27036/13230.mvt"
	if r := call(t, c, "GET", tile, "", nil); r.status != 401 {
		t.Fatalf("household tile without a key: %d", r.status)
	}
	if r := call(t, c, "GET", tile+"?api_key="+viewer, "", nil); r.status != 200 && r.status != 204 {
		t.Fatalf("household tile with api_key: %d %s", r.status, r.body)
	}
	items := ts.URL + "/ogc/collections/households/items?limit=2"
	if r := call(t, c, "GET", items+"&api_key="+viewer, "", nil); r.status != 200 {
		t.Fatalf("OGC items with api_key: %d %s", r.status, r.body)
	}
	if r := call(t, c, "GET", items, "", nil); r.status != 401 {
		t.Fatalf("OGC households without a key: %d", r.status)
	}
	wantError(t, call(t, c, "GET", ts.URL+"/api/v1/people?unit="+town+"&api_key="+viewer, "", nil), 401, "unauthorized", "")
	if r := call(t, c, "GET", ts.URL+"/api/v1/people?unit="+town, "", bearer(viewer)); r.status != 200 {
		t.Fatalf("viewer reads people: %d %s", r.status, r.body)
	}
	// Read-only: no writes, whatever the role.
	wantError(t, call(t, c, "PUT", ts.URL+"/api/v1/grids/"+firstGrid(t, st, town)+"/branch", `{"name":"x"}`, bearer(viewer)), 403, "forbidden", "")
	wantError(t, call(t, c, "GET", ts.URL+"/api/v1/me", "", bearer("gm_not-a-real-token-at-all-00000000000")), 401, "unauthorized", "")
	wantError(t, call(t, c, "GET", ts.URL+"/api/v1/me", "", map[string]string{"Authorization": "Basic eDp5"}), 401, "unauthorized", "")

	// Revocation takes effect on the next request.
	if r := call(t, c, "DELETE", fmt.Sprintf("%s/api/v1/tokens/%d", ts.URL, created.ID), "", bearer(admin)); r.status != 204 {
		t.Fatalf("revoke: %d %s", r.status, r.body)
	}
	wantError(t, call(t, c, "GET", ts.URL+"/api/v1/me", "", bearer(planner)), 401, "unauthorized", "")
	if r := call(t, c, "GET", tile+"?api_key="+planner, "", nil); r.status != 401 {
		t.Fatalf("revoked token on a tile URL: %d", r.status)
	}
	list := call(t, c, "GET", ts.URL+"/api/v1/tokens", "", bearer(admin))
	if list.status != 200 || strings.Contains(string(list.body), "gm_") || !strings.Contains(string(list.body), `"revoked_at":"`) {
		t.Fatalf("token list: %d %s", list.status, list.body)
	}
	noSecrets(t, logs.String(), admin, planner, viewer)
}

// TestAuditTrail: a grid edit records who, before and after with geometry; user and token
// administration is audited; the trail is for admins only.
func TestAuditTrail(t *testing.T) {
	ts, st, logs := authServer(t)
	admin := newToken(t, st, store.NewAPIToken{Name: "root", Role: "admin"})
	bearer := map[string]string{"Authorization": "Bearer " + admin}
	town := otherTownship(t, st, "")
	code := firstGrid(t, st, town)
	c := http.DefaultClient
	if r := call(t, c, "DELETE", ts.URL+"/api/v1/grids/"+code, "", bearer); r.status != 204 {
		t.Fatalf("retire: %d %s", r.status, r.body)
	}
	r := call(t, c, "POST", ts.URL+"/api/v1/users", `{"username":"wang","password":"wang password 1","role":"viewer","scope":["`+town+`"]}`, bearer)
	if r.status != 201 || strings.Contains(string(r.body), "argon2") {
		t.Fatalf("create user: %d %s", r.status, r.body)
	}
	if r := call(t, c, "PUT", ts.URL+"/api/v1/grids/"+firstGrid(t, st, town)+"/branch", `{"name":"审计支部"}`, bearer); r.status != 200 {
		t.Fatalf("branch: %d %s", r.status, r.body)
	}
	// A refused write leaves no entry (the entry is written in the write's transaction).
	if r := call(t, c, "PUT", ts.URL+"/api/v1/grids/"+firstGrid(t, st, town)+"/branch", `{"name":"  "}`, bearer); r.status < 400 {
		t.Fatalf("blank branch name: %d %s", r.status, r.body)
	}

	var village string
	var lon, lat float64
	if err := st.Pool().QueryRow(context.Background(), `SELECT code, ST_X(ST_PointOnSurface(boundary)), ST_Y(ST_PointOnSurface(boundary))
		FROM units WHERE length(code) = 12 AND code LIKE $1 || '%' ORDER BY code LIMIT 1`, town).Scan(&village, &lon, &lat); err != nil {
		t.Fatal(err)
	}
	csv := fmt.Sprintf("external_id,lon,lat\nAUDIT1,%v,%v\n", lon, lat)
	if r := call(t, c, "POST", ts.URL+"/api/v1/import/households?unit="+village, csv,
		map[string]string{"Authorization": "Bearer " + admin, "Content-Type": "text/csv"}); r.status != 200 {
		t.Fatalf("import: %d %s", r.status, r.body)
	}

	r = call(t, c, "GET", ts.URL+"/api/v1/audit?unit="+town, "", bearer)
	if r.status != 200 {
		t.Fatalf("audit: %d %s", r.status, r.body)
	}
	entries := decode[struct {
		Entries []struct {
			Actor, Action, Entity, Unit string
			EntityID                    string `json:"entity_id"`
			Before, After               map[string]any
		}
	}](t, r).Entries
	var grid bool
	for _, e := range entries {
		if e.Entity == "grid" && e.Action == "retire" && e.EntityID == code {
			grid = true
			if !strings.HasPrefix(e.Actor, "token:") || !strings.HasSuffix(e.Actor, "(root)") || e.Before["valid_to"] != nil ||
				e.After["valid_to"] == nil || e.Before["geometry"] == nil || e.After["geometry"] == nil || e.Unit != code[:12] {
				t.Fatalf("grid entry %+v", e)
			}
		}
	}
	if !grid {
		t.Fatalf("no audit entry for the grid edit: %s", r.body)
	}
	all := call(t, c, "GET", ts.URL+"/api/v1/audit?since=2000-01-01", "", bearer)
	for _, want := range []string{`"entity":"user"`, `"entity_id":"wang"`, `"PUT /api/v1/grids/:code/branch"`,
		`"action":"import","entity":"households","entity_id":"` + village + `"`, `"inserted":1`} {
		if !strings.Contains(string(all.body), want) {
			t.Fatalf("audit lacks %s: %s", want, all.body)
		}
	}
	if n := strings.Count(string(all.body), `"PUT /api/v1/grids/:code/branch"`); n != 1 {
		t.Fatalf("%d branch entries for one successful and one refused write: %s", n, all.body)
	}
	if strings.Contains(string(all.body), "argon2") || strings.Contains(string(all.body), "wang password") {
		t.Fatalf("audit leaks a password: %s", all.body)
	}
	viewer := newToken(t, st, store.NewAPIToken{Role: "viewer", Units: []string{town}})
	wantError(t, call(t, c, "GET", ts.URL+"/api/v1/audit", "", map[string]string{"Authorization": "Bearer " + viewer}), 403, "forbidden", "")
	wantError(t, call(t, c, "GET", ts.URL+"/api/v1/audit", "", nil), 401, "unauthorized", "")
	noSecrets(t, logs.String(), admin, viewer, "wang password 1")
}

// noSecrets fails when the log holds a secret, a password hash or a token.
func noSecrets(t *testing.T, log string, secrets ...string) {
	t.Helper()
	if log == "" {
		t.Fatal("nothing was logged: the check would be empty")
	}
	for _, s := range append(secrets, "$argon2id$", "gm_") {
		if s != "" && strings.Contains(log, s) {
			t.Fatalf("the log holds a secret (%.6s…)", s)
		}
	}
}

func firstGrid(t *testing.T, st *store.Store, unit string) string {
	t.Helper()
	var code string
	err := st.Pool().QueryRow(context.Background(), `SELECT min(code) FROM grids WHERE valid_to IS NULL AND code LIKE $1 || '%'`, unit).Scan(&code)
	if err != nil {
		t.Fatal(err)
	}
	return code
}

// otherTownship is a township other than not ("" for the first).
func otherTownship(t *testing.T, st *store.Store, not string) string {
	t.Helper()
	var code string
	err := st.Pool().QueryRow(context.Background(), `SELECT min(code) FROM units WHERE length(code) = 9 AND code <> $1`, not).Scan(&code)
	if err != nil {
		t.Fatal(err)
	}
	return code
}

func mustURL(t *testing.T, s string) *urlpkg.URL {
	u, err := urlpkg.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// TestPublicLocateRateLimit: anonymous locate is limited per address; tokens are not.
func TestPublicLocateRateLimit(t *testing.T) {
	st := pg.Store(t)
	srv := api.New(st, api.Config{Logger: slog.New(slog.NewTextHandler(testLog(), nil)), LocateRate: 1})
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	t.Cleanup(srv.Close)
	url := ts.URL + "/api/v1/locate?lon=114.2&lat=30.3"
	statuses := map[int]int{}
	for i := 0; i < 5; i++ {
		statuses[call(t, http.DefaultClient, "GET", url, "", nil).status]++
	}
	if statuses[429] < 2 || statuses[429] == 5 {
		t.Fatalf("anonymous locate statuses %v: want the burst through, then 429", statuses)
	}
	tok := newToken(t, st, store.NewAPIToken{Role: "admin"}) // an empty database: no units to scope to
	for i := 0; i < 5; i++ {
		if r := call(t, http.DefaultClient, "GET", url, "", map[string]string{"Authorization": "Bearer " + tok}); r.status == 429 {
			t.Fatal("a token caller was rate-limited")
		}
	}
}

// TestTokenCacheFollowsRevocation: with the LISTEN connection up the server caches token
// lookups, and a token revoked elsewhere (another replica, the command line) stops working
// within a second.
func TestTokenCacheFollowsRevocation(t *testing.T) {
	st := pg.Store(t)
	srv := api.New(st, api.Config{Logger: slog.New(slog.NewTextHandler(testLog(), nil))})
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	t.Cleanup(srv.Close)
	listenTokens(t, srv)
	tok := newToken(t, st, store.NewAPIToken{Name: "cached", Role: "admin"})
	h := map[string]string{"Authorization": "Bearer " + tok}
	for i := 0; i < 3; i++ {
		if r := call(t, http.DefaultClient, "GET", ts.URL+"/api/v1/users", "", h); r.status != 200 {
			t.Fatalf("before revoking: %d %s", r.status, r.body)
		}
	}
	if _, err := st.Pool().Exec(context.Background(), `UPDATE api_tokens SET revoked_at = now() WHERE name = 'cached'`); err != nil {
		t.Fatal(err)
	}
	revoked := time.Now()
	for call(t, http.DefaultClient, "GET", ts.URL+"/api/v1/users", "", h).status != 401 {
		if time.Since(revoked) > time.Second {
			t.Fatal("a revoked token still works a second later")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestOGCScope: a scoped viewer's OGC collections hold only its township's features; a
// feature elsewhere is not found. Tiles of non-public layers are private to caches.
func TestOGCScope(t *testing.T) {
	ts, st, _ := authServer(t)
	town := otherTownship(t, st, "")
	viewer := newToken(t, st, store.NewAPIToken{Role: "viewer", Units: []string{town}, ReadOnly: true})
	admin := newToken(t, st, store.NewAPIToken{Role: "admin"})
	type page struct {
		NumberMatched int `json:"numberMatched"`
		Features      []struct {
			ID         any
			Properties struct{ Unit, Grid string }
		}
	}
	get := func(tok, path string) response {
		return call(t, http.DefaultClient, "GET", ts.URL+path, "", map[string]string{"Authorization": "Bearer " + tok})
	}
	mine := decode[page](t, get(viewer, "/ogc/collections/households/items?limit=10000"))
	all := decode[page](t, get(admin, "/ogc/collections/households/items?limit=1"))
	if mine.NumberMatched == 0 || mine.NumberMatched >= all.NumberMatched || len(mine.Features) != mine.NumberMatched {
		t.Fatalf("viewer sees %d of %d households", mine.NumberMatched, all.NumberMatched)
	}
	for _, f := range mine.Features {
		if !strings.HasPrefix(f.Properties.Grid, town) {
			t.Fatalf("household %v in grid %s outside %s", f.ID, f.Properties.Grid, town)
		}
	}
	var outside int64
	if err := st.Pool().QueryRow(context.Background(), `SELECT min(h.id) FROM households h JOIN grids g ON g.id = h.grid_id WHERE g.code NOT LIKE $1 || '%'`, town).Scan(&outside); err != nil {
		t.Fatal(err)
	}
	item := fmt.Sprintf("/ogc/collections/households/items/%d", outside)
	if r := get(viewer, item); r.status != 404 {
		t.Fatalf("household outside the scope: %d", r.status)
	}
	if r := get(admin, item); r.status != 200 {
		t.Fatalf("admin reads it: %d", r.status)
	}
	if r := get(viewer, "/tiles/households/15/27036/13230.mvt"); !strings.HasPrefix(r.header.Get("Cache-Control"), "private") {
		t.Fatalf("household tile Cache-Control %q", r.header.Get("Cache-Control"))
	}
	if r := call(t, http.DefaultClient, "GET", ts.URL+"/tiles/grids/15/27036/13230.mvt", "", nil); !strings.HasPrefix(r.header.Get("Cache-Control"), "public") {
		t.Fatalf("grid tile Cache-Control %q", r.header.Get("Cache-Control"))
	}
}

// TestTileScope: a viewer of one township gets the non-public layers of that township only,
// while the public grid layer stays whole; an admin gets everything.
func TestTileScope(t *testing.T) {
	ts, st, _ := authServer(t)
	ctx := context.Background()
	town := otherTownship(t, st, "")
	viewer := newToken(t, st, store.NewAPIToken{Role: "viewer", Units: []string{town}, ReadOnly: true})
	admin := newToken(t, st, store.NewAPIToken{Role: "admin"})
	// A z12 tile over the household nearest the county's centre holds several townships.
	var lon, lat float64
	err := st.Pool().QueryRow(ctx, `
		SELECT ST_X(h.location), ST_Y(h.location) FROM households h,
		       (SELECT ST_Centroid(boundary) AS c FROM units WHERE level = 'county') u
		ORDER BY h.location <-> u.c LIMIT 1`).Scan(&lon, &lat)
	if err != nil {
		t.Fatal(err)
	}
	tl := maptile.At(orb.Point{lon, lat}, 12)
	codes := func(tok, layers, prop string) (in, out int) {
		r := call(t, http.DefaultClient, "GET", ts.URL+tilePath(layers, tl), "", map[string]string{"Authorization": "Bearer " + tok})
		if r.status == http.StatusNoContent {
			return 0, 0
		}
		if r.status != 200 {
			t.Fatalf("%s: %d %s", layers, r.status, r.body)
		}
		ls, err := mvt.Unmarshal(r.body)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range ls {
			for _, f := range l.Features {
				if strings.HasPrefix(fmt.Sprint(f.Properties[prop]), town) {
					in++
				} else {
					out++
				}
			}
		}
		return in, out
	}
	for _, layer := range []string{"households", "branches"} {
		prop := "grid"
		if in, out := codes(admin, layer, prop); in == 0 || out == 0 {
			t.Fatalf("%s: the admin tile should hold both the township and others (%d in, %d out)", layer, in, out)
		}
		if in, out := codes(viewer, layer, prop); in == 0 || out != 0 {
			t.Fatalf("%s: the viewer of %s sees %d features inside and %d outside", layer, town, in, out)
		}
	}
	if _, out := codes(viewer, "grids", "code"); out == 0 {
		t.Fatal("the public grid layer was cut to the viewer's scope")
	}
}
