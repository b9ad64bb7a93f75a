package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"

	"github.com/labstack/echo/v4"

	"gridmap/geo/auth"
	"gridmap/geo/store"
)

// access is who may call a route, before scope.
type access int

const (
	anyone   access = iota // the public too (anonymous callers)
	signedIn               // any authenticated caller
	readers                // admin, planner, viewer (and worker where rule.workers)
	writers                // admin, planner; never a read-only token
	admins                 // admin only
)

func (a access) String() string {
	return [...]string{"anyone", "signed-in", "readers", "writers", "admins"}[a]
}

// scopeFunc says which unit (6, 9 or 12 digits) or grid (15) a request touches, "" when it
// names none (a list over everything the caller may see).
type scopeFunc func(c echo.Context, s *Server) (string, error)

// rule is the access rule of one route.
type rule struct {
	access   access
	workers  bool                                         // grid workers may call it too (for their own grids)
	scope    scopeFunc                                    // nil: no scope check (public data, or the handler needs none)
	optional bool                                         // an empty scope is allowed for scoped callers: the store filters by scope
	limited  bool                                         // rate-limited per address for anonymous callers
	check    func(c echo.Context, p auth.Principal) error // extra check (layers, collections)
	audit    string                                       // entity recorded after a successful write; "" when the store records it or nothing changes
	noCSRF   bool                                         // login: it needs no session, so a stale cookie must not block it
}

// routeKey is "METHOD /path/:param" as Echo names a route.
func routeKey(method, path string) string { return method + " " + path }

// ruleTable holds every route's rule and the routes Echo knows.
type ruleTable struct {
	rules    map[string]rule
	prefixes map[string]rule // GET paths under a prefix (the glyph routes of /fonts/)
	routes   map[string]bool
}

func (t *ruleTable) lookup(method, path string) (rule, bool) {
	if r, ok := t.rules[routeKey(method, path)]; ok {
		return r, true
	}
	if method == http.MethodGet {
		for p, r := range t.prefixes {
			if strings.HasPrefix(path, p) {
				return r, true
			}
		}
	}
	return rule{}, false
}

func (t *ruleTable) registered(method, path string) bool { return t.routes[routeKey(method, path)] }

// missing lists the registered routes without a rule.
func (t *ruleTable) missing(routes []*echo.Route) []string {
	var out []string
	t.routes = map[string]bool{}
	for _, r := range routes {
		if r.Method == echo.RouteNotFound || strings.HasPrefix(r.Method, "echo_") {
			continue
		}
		t.routes[routeKey(r.Method, r.Path)] = true
		if _, ok := t.lookup(r.Method, r.Path); !ok {
			out = append(out, routeKey(r.Method, r.Path))
		}
	}
	sort.Strings(out)
	return out
}

// check applies the rule to the principal: role, read-only, scope, and the extra check.
func (t *ruleTable) check(c echo.Context, s *Server, r rule, p auth.Principal) error {
	switch r.access {
	case anyone:
	case signedIn:
		if !p.Authenticated() {
			return forbidden("sign in first")
		}
	case readers, writers, admins:
		if !roleAllowed(r, p.Role) {
			return forbidden(fmt.Sprintf("the %s role may not do this", p.Role))
		}
		if r.access == writers && p.ReadOnly {
			return forbidden("this token is read-only")
		}
	}
	if r.check != nil {
		if err := r.check(c, p); err != nil {
			return err
		}
	}
	if r.scope == nil || p.Global() || r.access == anyone {
		return nil
	}
	code, err := r.scope(c, s)
	if err != nil {
		return err
	}
	if code == "" {
		if r.optional {
			return nil
		}
		return forbidden("name a unit within your scope (" + strings.Join(p.Scope, ", ") + ")")
	}
	c.Set(scopeKey, code)
	allowed := p.CanRead(code)
	if r.access == writers {
		allowed = p.CanWrite(code)
	}
	if !allowed {
		return forbidden(fmt.Sprintf("%s is outside your scope", code))
	}
	return nil
}

const scopeKey = "gridmap.scope"

func roleAllowed(r rule, role auth.Role) bool {
	switch role {
	case auth.Admin:
		return true
	case auth.Planner:
		return r.access == readers || r.access == writers
	case auth.Viewer:
		return r.access == readers
	case auth.Worker:
		return r.access == readers && r.workers
	}
	return false
}

// Scope sources.

func fromQuery(name string) scopeFunc {
	return func(c echo.Context, _ *Server) (string, error) { return c.QueryParam(name), nil }
}

func fromPath(name string) scopeFunc {
	return func(c echo.Context, _ *Server) (string, error) { return c.Param(name), nil }
}

// fromLookup finds the unit or grid of the thing whose id is the path parameter name.
func fromLookup(name string, kind store.ScopeKind) scopeFunc {
	return func(c echo.Context, s *Server) (string, error) {
		id, err := pathID(c, name)
		if err != nil {
			return "", err
		}
		return s.store.ScopeOf(c.Request().Context(), kind, id)
	}
}

// fromDrawJob is the unit a drawing job draws.
func fromDrawJob(c echo.Context, s *Server) (string, error) {
	job, err := s.draws.Get(c.Param("id"))
	if err != nil {
		return "", err
	}
	return job.Status().Unit, nil
}

// peekBody reads the JSON body (bounded by the body limit) and puts it back for the handler.
func peekBody(c echo.Context) (map[string]json.RawMessage, error) {
	r := c.Request()
	b, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, bodyError(err)
	}
	r.Body = io.NopCloser(bytes.NewReader(b))
	var m map[string]json.RawMessage
	_ = json.Unmarshal(b, &m) // a malformed body names no unit; the handler reports it
	return m, nil
}

func jsonString(m map[string]json.RawMessage, key string) string {
	var v string
	_ = json.Unmarshal(m[key], &v)
	return strings.TrimSpace(v)
}

// fromBodyUnit is the body's "unit", or for a GeoJSON Feature its properties' unit or code.
func fromBodyUnit(c echo.Context, _ *Server) (string, error) {
	m, err := peekBody(c)
	if err != nil {
		return "", err
	}
	if u := jsonString(m, "unit"); u != "" {
		return u, nil
	}
	var props map[string]json.RawMessage
	_ = json.Unmarshal(m["properties"], &props)
	if code := jsonString(props, "code"); code != "" {
		return code, nil
	}
	return jsonString(props, "unit"), nil
}

// fromBodyID looks up the unit of the thing whose id is the body field of that name.
func fromBodyID(field string, kind store.ScopeKind) scopeFunc {
	return func(c echo.Context, s *Server) (string, error) {
		m, err := peekBody(c)
		if err != nil {
			return "", err
		}
		var id int64
		if json.Unmarshal(m[field], &id) != nil || id <= 0 {
			return "", nil
		}
		return s.store.ScopeOf(c.Request().Context(), kind, id)
	}
}

// fromLinkOwner is the unit of the owner of a PUT /links/{kind} body.
func fromLinkOwner(c echo.Context, s *Server) (string, error) {
	switch c.Param("kind") {
	case "member-households":
		return fromBodyID("member", store.ScopePerson)(c, s)
	case "cadre-members":
		return fromBodyID("cadre", store.ScopePerson)(c, s)
	case "central-members":
		return fromBodyID("central_household", store.ScopeCentral)(c, s)
	}
	return "", nil // an unknown kind: the handler answers 400
}

// fromCentralBody is the unit of the person a central household is made for.
func fromCentralBody(c echo.Context, s *Server) (string, error) {
	return fromBodyID("person", store.ScopePerson)(c, s)
}

// publicLayer reports whether anyone may read a tile layer or OGC collection: units and
// grids hold no personal data.
func publicLayer(name string) bool { return name == "units" || name == "grids" }

// tileLayersCheck lets anyone read public layers; the others need a reader.
func tileLayersCheck(param string, trim string) func(c echo.Context, p auth.Principal) error {
	return func(c echo.Context, p auth.Principal) error {
		v := strings.TrimSuffix(c.Param(param), trim)
		for _, l := range strings.Split(v, ",") {
			if !publicLayer(l) && !readerRole(p.Role) {
				return forbidden(fmt.Sprintf("layer %s is not public", l))
			}
		}
		return nil
	}
}

// collectionCheck lets anyone read the public collections and readers the rest. Like the
// tiles and locate, collections carry no residents' names, phones or addresses; the names
// of branch secretaries and grid staff are public by design (residents must find them).
func collectionCheck(c echo.Context, p auth.Principal) error {
	if id := c.Param("id"); !publicLayer(id) && !readerRole(p.Role) {
		return forbidden(fmt.Sprintf("collection %s is not public", id))
	}
	return nil
}

func readerRole(r auth.Role) bool {
	return r == auth.Admin || r == auth.Planner || r == auth.Viewer || r == auth.Worker
}

// accessRules is the rules table: every route of the server, by method and Echo path.
func accessRules() map[string]rule {
	pub := rule{access: anyone}
	read := func(scope scopeFunc) rule { return rule{access: readers, scope: scope} }
	gridRead := func(scope scopeFunc) rule { return rule{access: readers, workers: true, scope: scope} }
	write := func(scope scopeFunc, entity string) rule { return rule{access: writers, scope: scope, audit: entity} }
	adm := rule{access: admins}
	unitQ := fromQuery("unit")
	code := fromPath("code")
	person := fromLookup("id", store.ScopePerson)
	branch := fromLookup("id", store.ScopeBranch)
	group := fromLookup("id", store.ScopeGroup)
	central := fromLookup("id", store.ScopeCentral)
	ogcCollection := rule{access: anyone, check: collectionCheck}
	return map[string]rule{
		"GET /health":                                 pub,
		"GET /metrics":                                {access: readers, workers: true},
		"GET /":                                       pub,
		"GET /api/v1/openapi.json":                    pub,
		"POST /api/v1/login":                          {access: anyone, noCSRF: true},
		"POST /api/v1/logout":                         {access: signedIn},
		"GET /api/v1/me":                              pub,
		"GET /api/v1/units":                           pub,
		"GET /api/v1/units/:code":                     pub,
		"GET /api/v1/grids":                           pub,
		"GET /api/v1/grids/:code":                     pub,
		"POST /api/v1/grids":                          {access: writers, scope: fromBodyUnit}, // the store audits grids
		"PUT /api/v1/grids/:code":                     {access: writers, scope: code},
		"DELETE /api/v1/grids/:code":                  {access: writers, scope: code},
		"GET /api/v1/grids/:code/history":             gridRead(code),
		"GET /api/v1/grids/:code/team":                gridRead(code),
		"PUT /api/v1/grids/:code/team":                write(code, "team"),
		"GET /api/v1/grids/:code/branch":              gridRead(code),
		"POST /api/v1/grids/:code/branch":             write(code, "branch"),
		"PUT /api/v1/grids/:code/branch":              write(code, "branch"),
		"DELETE /api/v1/grids/:code/branch":           write(code, "branch"),
		"POST /api/v1/people":                         write(fromBodyUnit, "person"),
		"GET /api/v1/people":                          {access: readers, scope: unitQ, optional: true},
		"GET /api/v1/people/:id":                      read(person),
		"PUT /api/v1/people/:id":                      write(person, "person"),
		"DELETE /api/v1/people/:id":                   write(person, "person"),
		"GET /api/v1/branches/:id/groups":             gridRead(branch),
		"POST /api/v1/branches/:id/groups":            write(branch, "group"),
		"GET /api/v1/groups/:id":                      gridRead(group),
		"PUT /api/v1/groups/:id":                      write(group, "group"),
		"DELETE /api/v1/groups/:id":                   write(group, "group"),
		"POST /api/v1/central-households":             write(fromCentralBody, "central_household"),
		"GET /api/v1/central-households/:id":          gridRead(central),
		"DELETE /api/v1/central-households/:id":       write(central, "central_household"),
		"GET /api/v1/links":                           read(unitQ),
		"PUT /api/v1/links/:kind":                     write(fromLinkOwner, "links"),
		"GET /api/v1/export/:what":                    read(unitQ),
		"POST /api/v1/import/households":              {access: writers, scope: unitQ}, // the store audits it
		"GET /api/v1/locate":                          {access: anyone, limited: true},
		"POST /api/v1/locate":                         {access: anyone, limited: true},
		"POST /api/v1/draw":                           {access: writers, scope: fromBodyUnit},
		"GET /api/v1/draw/:id":                        read(fromDrawJob),
		"GET /api/v1/draw/:id/events":                 read(fromDrawJob),
		"POST /api/v1/draw/:id/apply":                 {access: writers, scope: fromDrawJob},  // the store audits it
		"POST /api/v1/assign":                         {access: writers, scope: fromBodyUnit}, // the store audits it
		"GET /api/v1/coverage":                        read(unitQ),
		"GET /api/v1/coverage/problems":               read(unitQ),
		"GET /api/v1/users":                           adm,
		"POST /api/v1/users":                          adm,
		"PATCH /api/v1/users/:username":               adm,
		"POST /api/v1/users/:username/grants":         adm,
		"DELETE /api/v1/users/:username/grants/:code": adm,
		"GET /api/v1/tokens":                          {access: writers},
		"POST /api/v1/tokens":                         {access: writers},
		"DELETE /api/v1/tokens/:id":                   {access: writers},
		"GET /api/v1/audit":                           adm,
		"GET /tiles/:layers/:z/:x/:file":              {access: anyone, check: tileLayersCheck("layers", "")},
		"GET /tiles/:file":                            {access: anyone, check: tileLayersCheck("file", ".json")},
		"GET /styles/default.json":                    pub,
		"GET /ogc":                                    pub,
		"GET /ogc/":                                   pub,
		"GET /ogc/conformance":                        pub,
		"GET /ogc/api":                                pub,
		"GET /ogc/collections":                        pub,
		"GET /ogc/collections/:id":                    pub,
		"GET /ogc/collections/:id/queryables":         pub,
		"GET /ogc/collections/:id/items":              ogcCollection,
		"GET /ogc/collections/:id/items/:fid":         ogcCollection,
	}
}

// prefixRules cover routes registered by path prefix: the map fonts (glyph ranges) are
// public assets like the style.
func prefixRules() map[string]rule {
	return map[string]rule{"/fonts/": {access: anyone}}
}
