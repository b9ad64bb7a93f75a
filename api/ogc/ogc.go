// Package ogc serves gridmap's layers as OGC API – Features: Part 1 (Core, GeoJSON,
// OpenAPI 3.0), Part 2 (CRS84, EPSG:4326, EPSG:3857) and the basics of Part 3 (CQL2 text
// filters with comparisons and S_INTERSECTS, queryables), the way QGIS and GDAL use it:
// keyset-paged items with numberMatched and rel=next links of type application/geo+json,
// a top-level id on every feature, the extent in CRS84, 400 for unknown query parameters
// (except f and api_key), and ETags. Geometry leaves PostGIS already encoded as GeoJSON and
// large pages are streamed. Errors are returned to the API's one error handler.
package ogc

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/labstack/echo/v4"

	"gridmap/geo"
)

// Media types.
const (
	mimeJSON      = "application/json"
	mimeGeoJSON   = "application/geo+json"
	mimeOpenAPI   = "application/vnd.oai.openapi+json;version=3.0"
	mimeSchema    = "application/schema+json"
	relQueryables = "http://www.opengis.net/def/rel/ogc/1.0/queryables"
)

// Options tune the service.
type Options struct {
	DefaultLimit int           // items per page when limit is absent (default 100)
	MaxLimit     int           // the largest limit accepted (default 10,000)
	Logger       *slog.Logger  // for errors after a streamed response started
	ExtentTTL    time.Duration // how long collection extents are cached (default 30 s)
	StreamAbove  int           // pages larger than this many bytes stream without ETag (default 4 MiB)
	// Scope returns the unit or grid codes a caller may read (nil: all). Items of the
	// collections with a scope column are filtered to them.
	Scope func(c echo.Context) []string
}

// Service is the OGC API – Features endpoint set.
type Service struct {
	pool  *pgxpool.Pool
	opts  Options
	colls []*collection
	byID  map[string]*collection

	root string // the route of the landing page, e.g. /ogc

	mu      sync.Mutex // guards the extent cache
	extents map[string]extent
	extAt   time.Time
}

// extent is a collection's spatial (CRS84) and temporal extent.
type extent struct {
	bbox     *[4]float64
	from, to *time.Time
}

// Register mounts the service on g (conventionally e.Group("/ogc")).
func Register(g *echo.Group, pool *pgxpool.Pool, opts Options) *Service {
	if opts.DefaultLimit <= 0 {
		opts.DefaultLimit = 100
	}
	if opts.MaxLimit <= 0 {
		opts.MaxLimit = 10000
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.ExtentTTL <= 0 {
		opts.ExtentTTL = 30 * time.Second
	}
	if opts.StreamAbove <= 0 {
		opts.StreamAbove = 4 << 20
	}
	s := &Service{pool: pool, opts: opts, colls: collections(), byID: map[string]*collection{}}
	for _, c := range s.colls {
		s.byID[c.ID] = c
	}
	s.root = g.GET("", s.landing).Path
	g.GET("/", s.landing)
	g.GET("/conformance", s.conformance)
	g.GET("/api", s.openAPI)
	g.GET("/collections", s.listCollections)
	g.GET("/collections/:id", s.getCollection)
	g.GET("/collections/:id/queryables", s.queryables)
	g.GET("/collections/:id/items", s.items)
	g.GET("/collections/:id/items/:fid", s.item)
	return s
}

// link is an OGC link.
type link struct {
	Href  string `json:"href"`
	Rel   string `json:"rel"`
	Type  string `json:"type,omitempty"`
	Title string `json:"title,omitempty"`
}

// base is the absolute URL of the service root (…/ogc), from the request.
func (s *Service) base(c echo.Context) string {
	return c.Scheme() + "://" + c.Request().Host + s.root
}

// checkParams allows only the known parameters plus f and api_key; f must ask for JSON.
func checkParams(c echo.Context, known ...string) error {
	var unknown []string
	for k := range c.QueryParams() {
		ok := k == "f" || k == "api_key"
		for _, n := range known {
			ok = ok || k == n
		}
		if !ok {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		sortStrings(unknown)
		allowed := append(append([]string{}, known...), "f", "api_key")
		e := geo.Invalid(unknown[0], "unknown query parameter; this endpoint takes "+strings.Join(allowed, ", "))
		e.Code = "unknown_parameter"
		return e
	}
	switch f := c.QueryParam("f"); f {
	case "", "json", "geojson", "application/json", "application/geo+json":
	default:
		return geo.Invalid("f", fmt.Sprintf("format %q is not served; use f=json", f))
	}
	return nil
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// writeJSON encodes v with a strong ETag and answers 304 to a matching If-None-Match.
func writeJSON(c echo.Context, mime string, v any) error {
	b, err := jsonMarshal(v)
	if err != nil {
		return err
	}
	return writeBody(c, mime, b)
}

// writeBody sends b with a strong ETag (a hash of b) and Cache-Control, or 304.
func writeBody(c echo.Context, mime string, b []byte) error {
	etag := hashETag(b)
	hd := c.Response().Header()
	hd.Set("ETag", etag)
	hd.Set("Cache-Control", "no-cache")
	hd.Set("Access-Control-Allow-Origin", "*")
	if etagMatches(c.Request().Header.Get("If-None-Match"), etag) {
		return c.NoContent(http.StatusNotModified)
	}
	return c.Blob(http.StatusOK, mime, b)
}

// etagMatches reads an If-None-Match list ("*", or ETags, possibly weak).
func etagMatches(header, etag string) bool {
	if header == "" {
		return false
	}
	for _, v := range strings.Split(header, ",") {
		v = strings.TrimPrefix(strings.TrimSpace(v), "W/")
		if v == "*" || v == etag {
			return true
		}
	}
	return false
}

// landing: GET /ogc/ — links to the API definition, conformance and collections.
func (s *Service) landing(c echo.Context) error {
	if err := checkParams(c); err != nil {
		return err
	}
	b := s.base(c)
	return writeJSON(c, mimeJSON, map[string]any{
		"title":       "gridmap",
		"description": "Grids, administrative units, party branches and members, households and coverage as OGC API – Features",
		"links": []link{
			{b + "/", "self", mimeJSON, "this document"},
			{b + "/api", "service-desc", mimeOpenAPI, "the API definition (OpenAPI 3.0)"},
			{b + "/conformance", "conformance", mimeJSON, "conformance classes"},
			{b + "/collections", "data", mimeJSON, "the collections"},
		},
	})
}

// conformanceClasses are the classes implemented.
func conformanceClasses() []string {
	return []string{
		"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
		"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
		"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
		"http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
		"http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
		"http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
		"http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
		"http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters",
		"http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
		"http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
		"http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions",
	}
}

// conformance: GET /ogc/conformance.
func (s *Service) conformance(c echo.Context) error {
	if err := checkParams(c); err != nil {
		return err
	}
	return writeJSON(c, mimeJSON, map[string]any{"conformsTo": conformanceClasses()})
}

// collectionDoc describes one collection.
func (s *Service) collectionDoc(b string, coll *collection, ext extent) map[string]any {
	doc := map[string]any{
		"id":          coll.ID,
		"title":       coll.Title,
		"description": coll.Description,
		"itemType":    "feature",
		"crs":         crsURIs(),
		"storageCrs":  CRS84,
		"links": []link{
			{b + "/collections/" + coll.ID, "self", mimeJSON, coll.Title},
			{b + "/collections/" + coll.ID + "/items", "items", mimeGeoJSON, coll.Title + " (GeoJSON)"},
			{b + "/collections/" + coll.ID + "/queryables", relQueryables, mimeSchema, "queryables"},
		},
	}
	e := map[string]any{}
	if ext.bbox != nil {
		e["spatial"] = map[string]any{"bbox": [][4]float64{*ext.bbox}, "crs": CRS84}
	}
	if coll.Temporal && ext.from != nil {
		iv := [2]any{ext.from.UTC().Format(time.RFC3339), nil}
		if ext.to != nil {
			iv[1] = ext.to.UTC().Format(time.RFC3339)
		}
		e["temporal"] = map[string]any{"interval": [][2]any{iv}, "trs": "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"}
	}
	if len(e) > 0 {
		doc["extent"] = e
	}
	return doc
}

// listCollections: GET /ogc/collections.
func (s *Service) listCollections(c echo.Context) error {
	if err := checkParams(c); err != nil {
		return err
	}
	exts, err := s.extentsFor(c.Request().Context())
	if err != nil {
		return err
	}
	b := s.base(c)
	docs := make([]map[string]any, 0, len(s.colls))
	for _, coll := range s.colls {
		docs = append(docs, s.collectionDoc(b, coll, exts[coll.Extent]))
	}
	return writeJSON(c, mimeJSON, map[string]any{
		"links":       []link{{b + "/collections", "self", mimeJSON, "collections"}},
		"crs":         crsURIs(),
		"collections": docs,
	})
}

func (s *Service) collectionParam(c echo.Context) (*collection, error) {
	coll, ok := s.byID[c.Param("id")]
	if !ok {
		names := make([]string, 0, len(s.colls))
		for _, x := range s.colls {
			names = append(names, x.ID)
		}
		return nil, geo.NotFound("collection", c.Param("id")+" (collections: "+strings.Join(names, ", ")+")")
	}
	return coll, nil
}

// getCollection: GET /ogc/collections/{id}.
func (s *Service) getCollection(c echo.Context) error {
	if err := checkParams(c); err != nil {
		return err
	}
	coll, err := s.collectionParam(c)
	if err != nil {
		return err
	}
	exts, err := s.extentsFor(c.Request().Context())
	if err != nil {
		return err
	}
	return writeJSON(c, mimeJSON, s.collectionDoc(s.base(c), coll, exts[coll.Extent]))
}

// queryables: GET /ogc/collections/{id}/queryables — a JSON Schema of the properties that
// property filters and CQL2 may use.
func (s *Service) queryables(c echo.Context) error {
	if err := checkParams(c); err != nil {
		return err
	}
	coll, err := s.collectionParam(c)
	if err != nil {
		return err
	}
	props := map[string]any{"geometry": map[string]any{"format": coll.Geometry, "x-ogc-role": "primary-geometry"}}
	for _, p := range coll.Props {
		sch := map[string]any{"type": p.Type}
		if p.Type == "date-time" {
			sch = map[string]any{"type": "string", "format": "date-time"}
		}
		sch["title"] = p.Name
		if p.Description != "" {
			sch["description"] = p.Description
		}
		props[p.Name] = sch
	}
	return writeJSON(c, mimeSchema, map[string]any{
		"$schema":    "https://json-schema.org/draft/2020-12/schema",
		"$id":        s.base(c) + "/collections/" + coll.ID + "/queryables",
		"type":       "object",
		"title":      coll.Title,
		"properties": props,
	})
}

// extentsFor returns the extents by kind, cached for ExtentTTL.
func (s *Service) extentsFor(ctx context.Context) (map[string]extent, error) {
	s.mu.Lock()
	if s.extents != nil && time.Since(s.extAt) < s.opts.ExtentTTL {
		e := s.extents
		s.mu.Unlock()
		return e, nil
	}
	s.mu.Unlock()
	var box [4][4]*float64
	var from, to *time.Time
	err := s.pool.QueryRow(ctx, `
		WITH u AS (SELECT ST_Extent(boundary) AS b FROM units WHERE parent_code IS NULL),
		     g AS (SELECT ST_Extent(boundary) AS b, min(valid_from) AS f,
		                  CASE WHEN bool_or(valid_to IS NULL) THEN NULL ELSE max(valid_to) END AS t FROM grids),
		     h AS (SELECT ST_Extent(location) AS b FROM households),
		     c AS (SELECT ST_Extent(x) AS b FROM (SELECT (SELECT b FROM g)::geometry AS x
		                                          UNION ALL SELECT (SELECT b FROM h)::geometry) y)
		SELECT ST_XMin(u.b), ST_YMin(u.b), ST_XMax(u.b), ST_YMax(u.b),
		       ST_XMin(g.b), ST_YMin(g.b), ST_XMax(g.b), ST_YMax(g.b),
		       ST_XMin(h.b), ST_YMin(h.b), ST_XMax(h.b), ST_YMax(h.b),
		       ST_XMin(c.b), ST_YMin(c.b), ST_XMax(c.b), ST_YMax(c.b), g.f, g.t
		FROM u, g, h, c`).Scan(
		&box[0][0], &box[0][1], &box[0][2], &box[0][3], &box[1][0], &box[1][1], &box[1][2], &box[1][3],
		&box[2][0], &box[2][1], &box[2][2], &box[2][3], &box[3][0], &box[3][1], &box[3][2], &box[3][3], &from, &to)
	if err != nil {
		return nil, classify("collection extents", err)
	}
	out := map[string]extent{}
	for i, kind := range []string{"units", "grids", "households", "coverage"} {
		var e extent
		if box[i][0] != nil {
			e.bbox = &[4]float64{*box[i][0], *box[i][1], *box[i][2], *box[i][3]}
		}
		e.from, e.to = from, to
		out[kind] = e
	}
	s.mu.Lock()
	s.extents, s.extAt = out, time.Now()
	s.mu.Unlock()
	return out, nil
}

// jsonMarshal encodes v without HTML escaping (links keep their & as is).
func jsonMarshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("ogc: encode response: %w", err)
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// hashETag is a strong ETag over b.
func hashETag(b []byte) string {
	h := fnv.New128a()
	h.Write(b)
	return fmt.Sprintf(`"%x"`, h.Sum(nil))
}
