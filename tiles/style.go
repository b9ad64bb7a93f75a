package tiles

import "strings"

// Style returns the default MapLibre style (version 8) over all layers, served from base.
// It needs no online basemap; basemap, when set, is an XYZ raster URL drawn underneath.
// Grids are coloured by branch (a palette over the feature id), labelled with the grid and
// branch names, and member symbols are sized by the households they serve.
func (s *Service) Style(base, query, basemap string) map[string]any {
	base = strings.TrimRight(base, "/")
	tilejson := base + "/tiles/" + strings.Join(s.order, ",") + ".json"
	if query != "" {
		tilejson += "?" + query
	}
	sources := map[string]any{"gridmap": map[string]any{"type": "vector", "url": tilejson}}
	var layers []any
	layers = append(layers, map[string]any{"id": "background", "type": "background", "paint": map[string]any{"background-color": "#f4f1ea"}})
	if basemap != "" {
		sources["basemap"] = map[string]any{"type": "raster", "tiles": []string{basemap}, "tileSize": 256}
		layers = append(layers, map[string]any{"id": "basemap", "type": "raster", "source": "basemap"})
	}
	palette := []any{"match", []any{"%", []any{"id"}, 8},
		0, "#8dd3c7", 1, "#ffffb3", 2, "#bebada", 3, "#fb8072", 4, "#80b1d3", 5, "#fdb462", 6, "#b3de69", "#fccde5"}
	vl := func(id, typ, layer string, extra map[string]any) map[string]any {
		m := map[string]any{"id": id, "type": typ, "source": "gridmap", "source-layer": layer}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	layers = append(layers,
		vl("units-fill", "fill", "units", map[string]any{"paint": map[string]any{"fill-color": "#ffffff", "fill-opacity": 0.3}}),
		vl("grids-fill", "fill", "grids", map[string]any{"paint": map[string]any{"fill-color": palette, "fill-opacity": 0.45}}),
		vl("coverage-fill", "fill", "coverage", map[string]any{
			"filter": []any{"==", []any{"geometry-type"}, "Polygon"},
			"paint":  map[string]any{"fill-color": "#d7301f", "fill-opacity": 0.15}}),
		vl("grids-line", "line", "grids", map[string]any{"paint": map[string]any{"line-color": "#555555", "line-width": 1}}),
		vl("units-line", "line", "units", map[string]any{"paint": map[string]any{"line-color": "#222222",
			"line-width": []any{"match", []any{"get", "level"}, "county", 3, "township", 2, "street", 2, 1.2}}}),
		vl("links", "line", "links", map[string]any{"minzoom": 16, "paint": map[string]any{"line-color": "#c51b7d", "line-width": 0.6, "line-opacity": 0.6}}),
		vl("households", "circle", "households", map[string]any{"minzoom": 15, "paint": map[string]any{
			"circle-radius": 2.5, "circle-color": []any{"case", []any{"get", "party"}, "#d7301f", "#4d4d4d"}}}),
		vl("households-count", "circle", "households", map[string]any{"maxzoom": 15,
			"filter": []any{"has", "households"},
			"paint": map[string]any{"circle-color": "#2b8cbe", "circle-opacity": 0.6,
				"circle-radius": []any{"interpolate", []any{"linear"}, []any{"get", "households"}, 0, 4, 500, 16, 2000, 28}}}),
		vl("members", "circle", "members", map[string]any{"minzoom": 13, "paint": map[string]any{
			"circle-color":        []any{"case", []any{"get", "central"}, "#b30000", "#e34a33"},
			"circle-stroke-color": "#ffffff", "circle-stroke-width": 1,
			"circle-radius": []any{"interpolate", []any{"linear"}, []any{"get", "households"}, 0, 3, 10, 6, 25, 10}}}),
		vl("coverage-uncovered", "circle", "coverage", map[string]any{
			"filter": []any{"==", []any{"get", "kind"}, "uncovered_household"},
			"paint":  map[string]any{"circle-color": "#ff0000", "circle-radius": 4}}),
		vl("grids-label", "symbol", "grids", map[string]any{"minzoom": 12, "layout": map[string]any{
			"text-field": []any{"format", []any{"get", "name"}, map[string]any{}, "\n", map[string]any{}, []any{"coalesce", []any{"get", "branch"}, ""}, map[string]any{"font-scale": 0.8}},
			"text-size":  12, "text-font": []string{"Noto Sans Regular"}},
			"paint": map[string]any{"text-color": "#222222", "text-halo-color": "#ffffff", "text-halo-width": 1.2}}),
	)
	return map[string]any{
		"version": 8, "name": "gridmap 网格分布图",
		"glyphs":  base + "/fonts/{fontstack}/{range}.pbf",
		"sources": sources, "layers": layers,
	}
}
