package api

import (
	"bytes"
	"encoding/json"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"gridmap/geo/store"
)

// listGrids: GET /api/v1/grids?unit=CODE&bbox=… → a GeoJSON FeatureCollection of the
// active grids, each feature carrying properties.code.
func (s *Server) listGrids(c echo.Context) error {
	if err := onlyParams(c, "unit", "bbox"); err != nil {
		return err
	}
	unit, err := unitParam(c, "unit")
	if err != nil {
		return err
	}
	box, err := bboxParam(c)
	if err != nil {
		return err
	}
	grids, err := s.store.Grids(c.Request().Context(), store.GridFilter{Unit: unit, BBox: box})
	if err != nil {
		return err
	}
	type props struct {
		Code       string    `json:"code"`
		Name       string    `json:"name"`
		Kind       string    `json:"kind"`
		Unit       string    `json:"unit"`
		Households int       `json:"households"`
		Residents  int       `json:"residents"`
		Version    int       `json:"version"`
		ValidFrom  time.Time `json:"valid_from"`
	}
	type feature struct {
		Type       string          `json:"type"`
		ID         string          `json:"id"`
		Geometry   json.RawMessage `json:"geometry"`
		Properties props           `json:"properties"`
	}
	fc := struct {
		Type           string    `json:"type"`
		Features       []feature `json:"features"`
		NumberReturned int       `json:"numberReturned"`
	}{Type: "FeatureCollection", Features: make([]feature, 0, len(grids)), NumberReturned: len(grids)}
	for _, g := range grids {
		fc.Features = append(fc.Features, feature{"Feature", g.Code, g.Geometry,
			props{g.Code, g.Name, string(g.Kind), g.Unit, g.Households, g.Residents, g.Version, g.ValidFrom}})
	}
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(fc); err != nil {
		return err
	}
	return c.Blob(http.StatusOK, "application/geo+json", buf.Bytes())
}
