package api

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"gridmap/geo"
)

const tileCacheControl = "public, max-age=10, stale-while-revalidate=60"

// getTile: GET /tiles/{layer[,layer…]}/{z}/{x}/{y}.mvt (or .pbf). 204 for an empty tile,
// 304 when If-None-Match holds the tile's ETag, 400 for z/x/y out of range, 404 for an
// unknown layer. The body is gzip-encoded when the client accepts it.
func (s *Server) getTile(c echo.Context) error {
	if err := onlyParams(c, "api_key"); err != nil {
		return err
	}
	layers, err := s.tiles.ParseLayers(c.Param("layers"))
	if err != nil {
		return err
	}
	file := c.Param("file")
	ystr, ok := strings.CutSuffix(file, ".mvt")
	if !ok {
		if ystr, ok = strings.CutSuffix(file, ".pbf"); !ok {
			return geo.NotFound("tile format", file+" (use .mvt or .pbf)")
		}
	}
	z, err1 := strconv.Atoi(c.Param("z"))
	x, err2 := strconv.Atoi(c.Param("x"))
	y, err3 := strconv.Atoi(ystr)
	switch {
	case err1 != nil:
		return geo.Invalid("z", "zoom must be an integer")
	case err2 != nil:
		return geo.Invalid("x", "x must be an integer")
	case err3 != nil:
		return geo.Invalid("y", "y must be an integer")
	}
	t, err := s.tiles.Get(c.Request().Context(), layers, z, x, y, listScope(c))
	if err != nil {
		return err
	}
	h := c.Response().Header()
	cacheControl := tileCacheControl
	for _, l := range layers {
		if !publicLayer(l) { // shared caches must not hand a token's tile to someone else
			cacheControl = strings.Replace(tileCacheControl, "public", "private", 1)
		}
	}
	h.Set("Cache-Control", cacheControl)
	h.Set("Access-Control-Allow-Origin", "*")
	h.Add("Vary", "Accept-Encoding")
	if t.Empty() {
		return c.NoContent(http.StatusNoContent)
	}
	h.Set("ETag", t.ETag)
	if match := c.Request().Header.Get("If-None-Match"); match != "" && etagMatches(match, t.ETag) {
		return c.NoContent(http.StatusNotModified)
	}
	const mvtType = "application/vnd.mapbox-vector-tile"
	if t.Plain != nil {
		return c.Blob(http.StatusOK, mvtType, t.Plain)
	}
	if strings.Contains(c.Request().Header.Get("Accept-Encoding"), "gzip") {
		h.Set("Content-Encoding", "gzip")
		return c.Blob(http.StatusOK, mvtType, t.Gzip)
	}
	zr, err := gzip.NewReader(bytes.NewReader(t.Gzip))
	if err != nil {
		return err
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		return err
	}
	return c.Blob(http.StatusOK, mvtType, raw)
}

// etagMatches reads an If-None-Match list ("*", or ETags, possibly weak).
func etagMatches(header, etag string) bool {
	for _, v := range strings.Split(header, ",") {
		v = strings.TrimPrefix(strings.TrimSpace(v), "W/")
		if v == "*" || v == etag {
			return true
		}
	}
	return false
}

// getTileJSON: GET /tiles/{layer[,layer…]}.json → TileJSON 3.0.0 with absolute tile URLs.
func (s *Server) getTileJSON(c echo.Context) error {
	if err := onlyParams(c, "api_key"); err != nil {
		return err
	}
	name, ok := strings.CutSuffix(c.Param("file"), ".json")
	if !ok {
		return geo.NotFound("tilejson", c.Param("file"))
	}
	layers, err := s.tiles.ParseLayers(name)
	if err != nil {
		return err
	}
	tj, err := s.tiles.TileJSON(c.Request().Context(), layers, baseURL(c), keyQuery(c))
	if err != nil {
		return err
	}
	c.Response().Header().Set("Access-Control-Allow-Origin", "*")
	return c.JSON(http.StatusOK, tj)
}

// getStyle: GET /styles/default.json → the MapLibre style over every layer.
func (s *Server) getStyle(c echo.Context) error {
	if err := onlyParams(c, "api_key"); err != nil {
		return err
	}
	c.Response().Header().Set("Access-Control-Allow-Origin", "*")
	return c.JSON(http.StatusOK, s.tiles.Style(baseURL(c), keyQuery(c), s.basemap))
}

// baseURL is the absolute scheme://host the client used (behind a proxy: X-Forwarded-*).
func baseURL(c echo.Context) string {
	host := c.Request().Host
	if fh := c.Request().Header.Get("X-Forwarded-Host"); fh != "" {
		host = fh
	}
	return c.Scheme() + "://" + host
}

// keyQuery carries ?api_key= into generated URLs, for clients that cannot set headers.
func keyQuery(c echo.Context) string {
	if k := c.QueryParam("api_key"); k != "" {
		return "api_key=" + k
	}
	return ""
}
