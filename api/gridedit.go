package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"gridmap/geo"
	"gridmap/geo/coord"
	"gridmap/geo/store"
)

// gridFeature is the GeoJSON Feature a client sends to create or replace a grid.
type gridFeature struct {
	Type       string          `json:"type"`
	ID         any             `json:"id,omitempty"`
	BBox       []float64       `json:"bbox,omitempty"`
	Geometry   json.RawMessage `json:"geometry"`
	Properties struct {
		Code string `json:"code"`
		Unit string `json:"unit"`
		Name string `json:"name"`
		Kind string `json:"kind"`
	} `json:"properties"`
}

// readGridFeature decodes and validates the body: a Feature with a Polygon/MultiPolygon in
// the crs of ?crs= and properties name (required), kind, code, unit — nothing else.
func readGridFeature(c echo.Context) (store.GridInput, error) {
	crs, err := intakeCRS(c)
	if err != nil {
		return store.GridInput{}, err
	}
	var f gridFeature
	dec := json.NewDecoder(c.Request().Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return store.GridInput{}, bodyError(err)
	}
	if f.Type != "Feature" {
		return store.GridInput{}, geo.Invalid("type", fmt.Sprintf("want a GeoJSON Feature, got type %q", f.Type))
	}
	name := strings.TrimSpace(f.Properties.Name)
	if name == "" {
		return store.GridInput{}, geo.Invalid("properties.name", "a grid needs a name")
	}
	kind := geo.GridKind(f.Properties.Kind)
	switch kind {
	case "", geo.KindVillage, geo.KindCommunity, geo.KindSpecialised:
	default:
		return store.GridInput{}, geo.Invalid("properties.kind", fmt.Sprintf("kind %q: want village, community or specialised", f.Properties.Kind))
	}
	area, err := geo.ParseArea("geometry", f.Geometry, crs)
	if err != nil {
		return store.GridInput{}, err
	}
	return store.GridInput{Code: f.Properties.Code, Unit: f.Properties.Unit, Name: name, Kind: kind, Area: area}, nil
}

// bodyError explains a JSON decoding error, naming the field where it can.
func bodyError(err error) error {
	var ute *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		e := geo.Invalid(field, "unknown field")
		e.Code = "unknown_field"
		return e
	case asErr(err, &ute):
		return geo.Invalid(ute.Field, fmt.Sprintf("wrong type: want %s", ute.Type))
	case asErr(err, &se):
		return &geo.InputError{Code: "malformed_json", Field: "body", Reason: fmt.Sprintf("malformed JSON at byte %d: %v", se.Offset, se)}
	}
	if strings.Contains(err.Error(), "request body too large") {
		return echo.ErrStatusRequestEntityTooLarge
	}
	return &geo.InputError{Code: "malformed_json", Field: "body", Reason: err.Error()}
}

// intakeCRS reads ?crs=wgs84|gcj02|bd09 (default wgs84).
func intakeCRS(c echo.Context) (coord.CRS, error) {
	raw := c.QueryParam("crs")
	if raw == "" {
		return coord.WGS84, nil
	}
	crs, err := coord.Parse(raw)
	if err != nil {
		return 0, geo.Invalid("crs", fmt.Sprintf("crs %q: want wgs84, gcj02 or bd09", raw))
	}
	return crs, nil
}

func gridETag(d *store.GridDetail) string { return fmt.Sprintf(`"g%d-v%d"`, d.ID, d.Version) }

// versionFromETag reads the version out of a grid ETag sent back in If-Match.
func versionFromETag(code, tag string) (int, error) {
	tag = strings.TrimPrefix(strings.TrimSpace(tag), "W/")
	tag = strings.Trim(tag, `"`)
	i := strings.LastIndex(tag, "-v")
	if i < 0 {
		return 0, fmt.Errorf("If-Match %q is not an ETag of grid %s: %w", tag, code, geo.ErrPrecondition)
	}
	v, err := strconv.Atoi(tag[i+2:])
	if err != nil {
		return 0, fmt.Errorf("If-Match %q is not an ETag of grid %s: %w", tag, code, geo.ErrPrecondition)
	}
	return v, nil
}

// writeGrid answers one grid as a GeoJSON Feature with its ETag.
func writeGrid(c echo.Context, status int, d *store.GridDetail) error {
	props := map[string]any{
		"code": d.Code, "name": d.Name, "kind": d.Kind, "unit": d.Unit, "version": d.Version,
		"valid_from": d.ValidFrom, "updated_by": d.UpdatedBy, "updated_at": d.UpdatedAt, "households": d.Households,
	}
	if d.Trimmed > 0 {
		props["trimmed_m2"] = d.Trimmed
	}
	f := map[string]any{"type": "Feature", "id": d.Code, "geometry": d.Geometry, "properties": props}
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(f); err != nil {
		return err
	}
	c.Response().Header().Set("ETag", gridETag(d))
	return c.Blob(status, "application/geo+json", buf.Bytes())
}

// getGrid: GET /api/v1/grids/{code} with ETag / If-None-Match.
func (s *Server) getGrid(c echo.Context) error {
	if err := onlyParams(c); err != nil {
		return err
	}
	d, err := s.store.Grid(c.Request().Context(), c.Param("code"))
	if err != nil {
		return err
	}
	if m := c.Request().Header.Get("If-None-Match"); m != "" && etagMatches(m, gridETag(d)) {
		c.Response().Header().Set("ETag", gridETag(d))
		return c.NoContent(http.StatusNotModified)
	}
	return writeGrid(c, http.StatusOK, d)
}

// createGrid: POST /api/v1/grids with a GeoJSON Feature → 201, Location, ETag.
func (s *Server) createGrid(c echo.Context) error {
	if err := onlyParams(c, "crs"); err != nil {
		return err
	}
	in, err := readGridFeature(c)
	if err != nil {
		return err
	}
	d, err := s.store.CreateGrid(c.Request().Context(), in, actor(c))
	if err != nil {
		return err
	}
	c.Response().Header().Set("Location", "/api/v1/grids/"+d.Code)
	return writeGrid(c, http.StatusCreated, d)
}

// replaceGrid: PUT /api/v1/grids/{code}; If-Match is required (428 without, 412 when stale).
func (s *Server) replaceGrid(c echo.Context) error {
	if err := onlyParams(c, "crs"); err != nil {
		return err
	}
	code := c.Param("code")
	match := c.Request().Header.Get("If-Match")
	if match == "" {
		return echo.NewHTTPError(http.StatusPreconditionRequired, "PUT needs If-Match with the grid's ETag (GET it first)")
	}
	version, err := versionFromETag(code, match)
	if err != nil {
		return err
	}
	in, err := readGridFeature(c)
	if err != nil {
		return err
	}
	if in.Code != "" && in.Code != code {
		return geo.Invalid("properties.code", fmt.Sprintf("the body names grid %s, the URL %s", in.Code, code))
	}
	d, err := s.store.ReplaceGrid(c.Request().Context(), code, version, in, actor(c))
	if err != nil {
		return err
	}
	return writeGrid(c, http.StatusOK, d)
}

// retireGrid: DELETE /api/v1/grids/{code} retires the grid (If-Match optional).
func (s *Server) retireGrid(c echo.Context) error {
	if err := onlyParams(c); err != nil {
		return err
	}
	code := c.Param("code")
	version := -1
	if m := c.Request().Header.Get("If-Match"); m != "" {
		v, err := versionFromETag(code, m)
		if err != nil {
			return err
		}
		version = v
	}
	if err := s.store.RetireGrid(c.Request().Context(), code, version, actor(c)); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// gridHistory: GET /api/v1/grids/{code}/history → every version, oldest first.
func (s *Server) gridHistory(c echo.Context) error {
	if err := onlyParams(c); err != nil {
		return err
	}
	code := c.Param("code")
	versions, err := s.store.GridHistory(c.Request().Context(), code)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"code": code, "versions": versions})
}
