package ogc

import (
	"github.com/labstack/echo/v4"
)

// openAPI: GET /ogc/api — the OpenAPI 3.0 definition, with limit's default and maximum
// (QGIS reads them) and each collection's queryables as parameters.
func (s *Service) openAPI(c echo.Context) error {
	if err := checkParams(c); err != nil {
		return err
	}
	b := s.base(c)
	param := func(name, in, desc string, schema map[string]any, required bool) map[string]any {
		return map[string]any{"name": name, "in": in, "description": desc, "required": required, "schema": schema}
	}
	str := map[string]any{"type": "string"}
	crsEnum := map[string]any{"type": "string", "format": "uri", "enum": crsURIs(), "default": CRS84}
	limit := param("limit", "query", "the number of features per page", map[string]any{
		"type": "integer", "minimum": 1, "maximum": s.opts.MaxLimit, "default": s.opts.DefaultLimit}, false)
	limit["style"], limit["explode"] = "form", false
	common := []any{
		limit,
		param("bbox", "query", "minx,miny,maxx,maxy in bbox-crs (default CRS84)", map[string]any{
			"type": "array", "minItems": 4, "maxItems": 6, "items": map[string]any{"type": "number"}}, false),
		param("bbox-crs", "query", "CRS of bbox", crsEnum, false),
		param("crs", "query", "CRS of the returned geometry", crsEnum, false),
		param("datetime", "query", "instant or interval (grids: valid_from/valid_to)", str, false),
		param("filter", "query", "CQL2 text: comparisons, LIKE, BETWEEN, IN, IS NULL, S_INTERSECTS", str, false),
		param("filter-lang", "query", "cql2-text", map[string]any{"type": "string", "enum": []string{"cql2-text"}}, false),
		param("filter-crs", "query", "CRS of geometries in filter", crsEnum, false),
		param("cursor", "query", "opaque position of the next page (from a next link)", str, false),
	}
	geojson := map[string]any{"200": map[string]any{"description": "features",
		"content": map[string]any{mimeGeoJSON: map[string]any{"schema": map[string]any{"type": "object"}}}}}
	jsonOK := map[string]any{"200": map[string]any{"description": "ok",
		"content": map[string]any{mimeJSON: map[string]any{"schema": map[string]any{"type": "object"}}}}}
	paths := map[string]any{
		"/":            map[string]any{"get": map[string]any{"summary": "landing page", "operationId": "getLandingPage", "responses": jsonOK}},
		"/conformance": map[string]any{"get": map[string]any{"summary": "conformance classes", "operationId": "getConformance", "responses": jsonOK}},
		"/collections": map[string]any{"get": map[string]any{"summary": "collections", "operationId": "getCollections", "responses": jsonOK}},
	}
	for _, coll := range s.colls {
		ps := append([]any{}, common...)
		for _, p := range coll.Props {
			sch := map[string]any{"type": p.Type}
			if p.Type == "date-time" {
				sch = map[string]any{"type": "string", "format": "date-time"}
			}
			ps = append(ps, param(p.Name, "query", "equals", sch, false))
		}
		path := "/collections/" + coll.ID
		paths[path] = map[string]any{"get": map[string]any{"summary": coll.Title, "operationId": "describe_" + coll.ID, "responses": jsonOK}}
		paths[path+"/queryables"] = map[string]any{"get": map[string]any{"summary": coll.Title + ": queryables",
			"operationId": "queryables_" + coll.ID, "responses": jsonOK}}
		paths[path+"/items"] = map[string]any{"get": map[string]any{"summary": coll.Title + ": features",
			"operationId": "items_" + coll.ID, "parameters": ps, "responses": geojson}}
		paths[path+"/items/{featureId}"] = map[string]any{"get": map[string]any{"summary": coll.Title + ": one feature",
			"operationId": "item_" + coll.ID, "responses": geojson,
			"parameters": []any{param("featureId", "path", "feature id", str, true),
				param("crs", "query", "CRS of the returned geometry", crsEnum, false)}}}
	}
	return writeJSON(c, mimeOpenAPI, map[string]any{
		"openapi": "3.0.3",
		"info": map[string]any{"title": "gridmap OGC API – Features", "version": "1.0.0",
			"description": "Grids, units, branches, members, households, links and coverage"},
		"servers":    []any{map[string]any{"url": b}},
		"paths":      paths,
		"components": map[string]any{"parameters": map[string]any{"limit": limit}},
	})
}
