package api

import (
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"
)

// apiOp documents one operation of /api/v1. The table below is the OpenAPI document's
// source; a test fails when a registered route is missing from it or it names a route that
// does not exist.
type apiOp struct {
	Method, Path, Tag, Summary string
	Query                      []string // name: description
	Body                       string   // request content type, "" for none
	OK                         int      // success status
	OKType                     string   // response content type
	Errors                     []int
}

func apiOps() []apiOp {
	unitQ := "unit: statistical code of a county (6 digits), township/street (9) or village/community (12); its whole subtree"
	crsQ := "crs: coordinate system of the coordinates sent: wgs84 (default), gcj02 (AMap, Tencent, WeChat) or bd09 (Baidu)"
	return append([]apiOp{
		{"GET", "/api/v1/units", "units", "List administrative units: the children of parent, or the counties", []string{"parent: unit code"}, "", 200, "application/json", []int{400, 404}},
		{"GET", "/api/v1/units/{code}", "units", "One unit with its path from the county and its counts", []string{"geometry: true to add the boundary"}, "", 200, "application/json", []int{400, 404}},
		{"GET", "/api/v1/grids", "grids", "Active grids as a GeoJSON FeatureCollection", []string{unitQ, "bbox: minLon,minLat,maxLon,maxLat (WGS84)"}, "", 200, "application/geo+json", []int{400, 404}},
		{"POST", "/api/v1/grids", "grids", "Create a grid from a GeoJSON Feature (properties name, kind, unit or code); topology rules apply", []string{crsQ}, "application/geo+json", 201, "application/geo+json", []int{400, 404, 409, 413, 422}},
		{"GET", "/api/v1/grids/{code}", "grids", "One active grid with its ETag", nil, "", 200, "application/geo+json", []int{304, 404}},
		{"PUT", "/api/v1/grids/{code}", "grids", "Replace a grid; needs If-Match with its ETag", []string{crsQ}, "application/geo+json", 200, "application/geo+json", []int{400, 404, 412, 422, 428}},
		{"DELETE", "/api/v1/grids/{code}", "grids", "Retire a grid (it stays in the history); If-Match optional", nil, "", 204, "", []int{404, 412}},
		{"GET", "/api/v1/grids/{code}/history", "grids", "Every version of a grid: who, when, geometry", nil, "", 200, "application/json", []int{404}},
		{"GET", "/api/v1/export/{what}", "exports", "Stream grids, households, people or links as GeoJSON or CSV (no personal fields)", []string{unitQ, "format: geojson (default) or csv"}, "", 200, "application/geo+json", []int{400, 404}},
		{"POST", "/api/v1/import/households", "imports", "Import households from CSV or GeoJSON in one transaction; upsert by external id", []string{crsQ, "unit: village/community the households belong to (else found by location)", "skip_invalid: true loads the good rows and reports the bad", "encoding: utf-8 (default) or gbk"}, "text/csv", 200, "application/json", []int{400, 404, 413, 422}},
		{"GET", "/api/v1/locate", "locate", "Which grid holds a point: grid, unit path, branch, team, responsible member", []string{"lon: longitude", "lat: latitude", crsQ}, "", 200, "application/json", []int{400, 404, 503}},
		{"POST", "/api/v1/locate", "locate", "Locate up to 10,000 points at once", nil, "application/json", 200, "application/json", []int{400, 413}},
		{"POST", "/api/v1/draw", "drawing", "Start drawing grids for a unit by residential adjacency (a job)", nil, "application/json", 202, "application/json", []int{400, 404, 422}},
		{"GET", "/api/v1/draw/{id}", "drawing", "A drawing job: progress, proposal, metrics, households whose grid would change", nil, "", 200, "application/json", []int{404}},
		{"GET", "/api/v1/draw/{id}/events", "drawing", "Server-sent events with the job's progress", nil, "", 200, "text/event-stream", []int{404}},
		{"POST", "/api/v1/draw/{id}/apply", "drawing", "Apply a proposal in one transaction", nil, "", 200, "application/json", []int{404, 409}},
		{"GET", "/api/v1/coverage", "coverage", "Coverage and span summary of a unit, rolled up county → township → village → grid", []string{unitQ}, "", 200, "application/json", []int{400, 404}},
		{"GET", "/api/v1/coverage/problems", "coverage", "Every coverage problem of a unit as GeoJSON features (kind, severity, messages in Chinese and English, ids)", []string{unitQ, "kind: only problems of this kind"}, "", 200, "application/geo+json", []int{400, 404}},
		{"POST", "/api/v1/assign", "drawing", "Assign households to party members (or members to cadres) by min-cost flow: preview or apply", nil, "application/json", 200, "application/json", []int{400, 404, 422}},
	}, append(orgOps(), accountOps()...)...) // people and organisation: api/org.go; accounts: api/accounts.go
}

// openAPIDoc builds the OpenAPI 3.0 document of /api/v1.
func openAPIDoc(base string) map[string]any {
	paths := map[string]any{}
	for _, op := range apiOps() {
		item, _ := paths[op.Path].(map[string]any)
		if item == nil {
			item = map[string]any{}
			paths[op.Path] = item
		}
		var params []any
		for _, seg := range strings.Split(op.Path, "/") {
			if strings.HasPrefix(seg, "{") {
				params = append(params, map[string]any{"name": strings.Trim(seg, "{}"), "in": "path", "required": true, "schema": map[string]any{"type": "string"}})
			}
		}
		for _, q := range op.Query {
			name, desc, _ := strings.Cut(q, ": ")
			params = append(params, map[string]any{"name": name, "in": "query", "required": false, "description": desc, "schema": map[string]any{"type": "string"}})
		}
		responses := map[string]any{}
		ok := map[string]any{"description": http.StatusText(op.OK)}
		if op.OKType != "" {
			ok["content"] = map[string]any{op.OKType: map[string]any{}}
		}
		responses[strconv.Itoa(op.OK)] = ok
		for _, code := range op.Errors {
			r := map[string]any{"description": http.StatusText(code)}
			if code != 304 {
				r["content"] = map[string]any{"application/json": map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/Error"}}}
			}
			responses[strconv.Itoa(code)] = r
		}
		o := map[string]any{"summary": op.Summary, "tags": []string{op.Tag}, "parameters": params, "responses": responses,
			"operationId": strings.ToLower(op.Method) + strings.NewReplacer("/api/v1", "", "/", "_", "{", "", "}", "").Replace(op.Path)}
		if op.Body != "" {
			o["requestBody"] = map[string]any{"required": true, "content": map[string]any{op.Body: map[string]any{}}}
		}
		item[strings.ToLower(op.Method)] = o
	}
	return map[string]any{
		"openapi": "3.0.3",
		"info": map[string]any{"title": "gridmap API", "version": "1",
			"description": "Grid-based community management (网格化管理): units, grids, households, the party organisation, coverage, drawing and locate. Geometry is GeoJSON in WGS84 unless crs= says otherwise. Errors: {\"error\":{\"code\",\"message\",\"field\",\"details\"}}."},
		"servers":  []any{map[string]any{"url": base}},
		"paths":    paths,
		"security": []any{map[string]any{}, map[string]any{"bearer": []any{}}, map[string]any{"session": []any{}}},
		"components": map[string]any{
			"securitySchemes": map[string]any{
				"bearer":  map[string]any{"type": "http", "scheme": "bearer", "description": "an API token (gm_…) from gridmap token create or POST /api/v1/tokens"},
				"session": map[string]any{"type": "apiKey", "in": "cookie", "name": sessionCookie, "description": "a web session from POST /api/v1/login; writes also need the X-CSRF-Token header"},
			},
			"schemas": map[string]any{"Error": map[string]any{
				"type": "object", "required": []string{"error"},
				"properties": map[string]any{"error": map[string]any{"type": "object", "required": []string{"code", "message"},
					"properties": map[string]any{
						"code": map[string]any{"type": "string"}, "message": map[string]any{"type": "string"},
						"field": map[string]any{"type": "string"}, "details": map[string]any{"type": "object"}}}}}}},
	}
}

// getOpenAPI: GET /api/v1/openapi.json.
func (s *Server) getOpenAPI(c echo.Context) error {
	if err := onlyParams(c); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, openAPIDoc(baseURL(c)))
}

// UndocumentedRoutes lists /api/v1 routes missing from the OpenAPI document, and documented
// operations with no route, as "METHOD /path" (for the test that keeps the document true).
func (s *Server) UndocumentedRoutes() (missing, stale []string) {
	documented := map[string]bool{}
	for _, op := range apiOps() {
		documented[op.Method+" "+op.Path] = true
	}
	routed := map[string]bool{}
	for _, r := range s.e.Routes() {
		if !strings.HasPrefix(r.Path, "/api/v1/") || r.Path == "/api/v1/openapi.json" {
			continue
		}
		parts := strings.Split(r.Path, "/")
		for i, p := range parts {
			if strings.HasPrefix(p, ":") {
				parts[i] = "{" + p[1:] + "}"
			}
		}
		key := r.Method + " " + strings.Join(parts, "/")
		routed[key] = true
		if !documented[key] {
			missing = append(missing, key)
		}
	}
	for k := range documented {
		if !routed[k] {
			stale = append(stale, k)
		}
	}
	sort.Strings(missing)
	sort.Strings(stale)
	return missing, stale
}
