package tiles

import (
	"context"
	"fmt"
	"strings"
)

// TileJSON is the TileJSON 3.0.0 document of a layer set.
type TileJSON struct {
	TileJSON     string        `json:"tilejson"`
	Name         string        `json:"name"`
	Description  string        `json:"description"`
	Version      string        `json:"version"`
	Attribution  string        `json:"attribution"`
	Scheme       string        `json:"scheme"`
	Tiles        []string      `json:"tiles"`
	MinZoom      int           `json:"minzoom"`
	MaxZoom      int           `json:"maxzoom"`
	Bounds       [4]float64    `json:"bounds"`
	Center       [3]float64    `json:"center"`
	VectorLayers []VectorLayer `json:"vector_layers"`
}

// VectorLayer describes one layer in TileJSON.
type VectorLayer struct {
	ID          string            `json:"id"`
	Description string            `json:"description"`
	MinZoom     int               `json:"minzoom"`
	MaxZoom     int               `json:"maxzoom"`
	Fields      map[string]string `json:"fields"`
}

// Bounds is the WGS84 extent of the data (every county), or the whole world when empty.
func (s *Service) Bounds(ctx context.Context) ([4]float64, error) {
	var b [4]*float64
	err := s.pool.QueryRow(ctx, `
		SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e)
		FROM (SELECT ST_Extent(boundary) AS e FROM units WHERE parent_code IS NULL) x`).Scan(&b[0], &b[1], &b[2], &b[3])
	if err != nil {
		return [4]float64{}, fmt.Errorf("tiles: data bounds: %w", classify(err))
	}
	if b[0] == nil {
		return [4]float64{-180, -85.0511, 180, 85.0511}, nil
	}
	return [4]float64{*b[0], *b[1], *b[2], *b[3]}, nil
}

// TileJSON describes the layers; base is the absolute URL prefix of the server (scheme and
// host), query an optional query string (such as api_key=…) carried into the tile URLs.
func (s *Service) TileJSON(ctx context.Context, layers []string, base, query string) (*TileJSON, error) {
	bounds, err := s.Bounds(ctx)
	if err != nil {
		return nil, err
	}
	url := fmt.Sprintf("%s/tiles/%s/{z}/{x}/{y}.mvt", strings.TrimRight(base, "/"), strings.Join(layers, ","))
	if query != "" {
		url += "?" + query
	}
	tj := &TileJSON{
		TileJSON: "3.0.0", Name: "gridmap " + strings.Join(layers, ","), Version: "1.0.0",
		Description: "gridmap layers: grids, party branches, members, households and coverage",
		Attribution: "gridmap", Scheme: "xyz", Tiles: []string{url}, MinZoom: 0, MaxZoom: MaxZoom, Bounds: bounds,
		Center: [3]float64{(bounds[0] + bounds[2]) / 2, (bounds[1] + bounds[3]) / 2, 11},
	}
	for _, name := range layers {
		l := s.layers[name]
		tj.VectorLayers = append(tj.VectorLayers, VectorLayer{ID: l.Name, Description: l.Description,
			MinZoom: l.MinZoom, MaxZoom: l.MaxZoom, Fields: l.Fields})
	}
	return tj, nil
}
