package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"gridmap/geo"
)

// listUnits: GET /api/v1/units?parent=CODE → {"units": [...]}; no parent lists the counties.
func (s *Server) listUnits(c echo.Context) error {
	if err := onlyParams(c, "parent"); err != nil {
		return err
	}
	parent, err := unitParam(c, "parent")
	if err != nil {
		return err
	}
	units, err := s.store.Units(c.Request().Context(), parent)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string][]geo.Unit{"units": units})
}

// getUnit: GET /api/v1/units/{code}[?geometry=true] → the unit with its path and counts.
func (s *Server) getUnit(c echo.Context) error {
	if err := onlyParams(c, "geometry"); err != nil {
		return err
	}
	code := c.Param("code")
	if _, err := geo.LevelOfCode("code", code); err != nil {
		return err
	}
	withGeom := false
	switch c.QueryParam("geometry") {
	case "", "false":
	case "true":
		withGeom = true
	default:
		return geo.Invalid("geometry", "geometry takes true or false")
	}
	u, err := s.store.Unit(c.Request().Context(), code, withGeom)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, u)
}
