package api_test

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestOpenAPIDocumentsEveryRoute fails when a route under /api/v1 is added without being
// documented, or the document names a route that does not exist.
func TestOpenAPIDocumentsEveryRoute(t *testing.T) {
	ts, _, srv := newServer(t, 0)
	missing, stale := srv.UndocumentedRoutes()
	if len(missing) > 0 {
		t.Errorf("routes missing from the OpenAPI document: %s", strings.Join(missing, ", "))
	}
	if len(stale) > 0 {
		t.Errorf("documented operations without a route: %s", strings.Join(stale, ", "))
	}
	r := do(t, "GET", ts.URL+"/api/v1/openapi.json", nil)
	var doc struct {
		OpenAPI string `json:"openapi"`
		Paths   map[string]map[string]struct {
			Summary   string         `json:"summary"`
			Responses map[string]any `json:"responses"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(r.body, &doc); err != nil || r.status != 200 {
		t.Fatalf("%d %v", r.status, err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") || len(doc.Paths) < 10 {
		t.Fatalf("document %s with %d paths", doc.OpenAPI, len(doc.Paths))
	}
	for path, ops := range doc.Paths {
		for method, op := range ops {
			if op.Summary == "" || len(op.Responses) == 0 {
				t.Errorf("%s %s has no summary or responses", method, path)
			}
		}
	}
}
