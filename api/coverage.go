package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"gridmap/geo"
	"gridmap/geo/coverage"
	"gridmap/geo/store"
)

// getCoverage: GET /api/v1/coverage?unit=CODE → the coverage and span summary of a county,
// township/street or village/community: counts and rates rolled up through its child units
// down to every grid, and its problems counted by kind. Never cached: every edit is in the
// next answer.
func (s *Server) getCoverage(c echo.Context) error {
	if err := onlyParams(c, "unit"); err != nil {
		return err
	}
	unit, err := requiredUnit(c)
	if err != nil {
		return err
	}
	r, err := s.store.Coverage(c.Request().Context(), unit, store.CoverageOptions{})
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, r.Summary())
}

// getCoverageProblems: GET /api/v1/coverage/problems?unit=CODE[&kind=K[,K…]] → the problems
// as a GeoJSON FeatureCollection; each feature's properties carry kind, severity,
// message_zh, message_en, the unit and the ids involved (grid codes, households, people).
func (s *Server) getCoverageProblems(c echo.Context) error {
	if err := onlyParams(c, "unit", "kind"); err != nil {
		return err
	}
	unit, err := requiredUnit(c)
	if err != nil {
		return err
	}
	kinds, err := coverage.ParseKinds("kind", c.QueryParam("kind"))
	if err != nil {
		return err
	}
	r, err := s.store.Coverage(c.Request().Context(), unit, store.CoverageOptions{Kinds: kinds, Geometry: true})
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(r.Features(kinds)); err != nil {
		return fmt.Errorf("encode coverage problems: %w", err)
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.Blob(http.StatusOK, "application/geo+json", buf.Bytes())
}

// requiredUnit reads the unit parameter, which these endpoints need.
func requiredUnit(c echo.Context) (string, error) {
	unit, err := unitParam(c, "unit")
	if err != nil {
		return "", err
	}
	if unit == "" {
		return "", geo.Invalid("unit", "unit is required: a county (6 digits), township/street (9) or village/community (12) code")
	}
	return unit, nil
}
