package api

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"gridmap/geo"
	"gridmap/tiles"
)

const glyphCacheControl = "public, max-age=86400"

// getGlyphs: GET /fonts/{fontstack}/{start}-{end}.pbf → the glyph range MapLibre asks for
// through the style's "glyphs" URL, as a glyphs protobuf of signed distance fields. Every
// fontstack is drawn from the configured fonts (tiles.FontsEnv). 304 when If-None-Match holds
// the ETag, 400 for a range that is not one of MapLibre's 256-code-point blocks, 503 when no
// font file can be read.
func (s *Server) getGlyphs(c echo.Context) error {
	if err := onlyParams(c, "api_key"); err != nil {
		return err
	}
	rng, ok := strings.CutSuffix(c.Param("range"), ".pbf")
	if !ok {
		return geo.NotFound("glyph format", c.Param("range")+" (use {start}-{end}.pbf)")
	}
	start, err := tiles.ParseGlyphRange(rng)
	if err != nil {
		return err
	}
	stack := c.Param("fontstack")
	if strings.Contains(stack, "%") { // routed on the escaped path
		if u, err := url.PathUnescape(stack); err == nil {
			stack = u
		}
	}
	g, err := s.glyphs.Range(c.Request().Context(), stack, start)
	if errors.Is(err, tiles.ErrNoFonts) {
		s.log.Error("glyphs", "error", err, "id", requestID(c))
		return &statusError{http.StatusServiceUnavailable, ErrorDetail{Code: "fonts_unavailable", Field: tiles.FontsEnv,
			Message: "no font file could be read; set " + tiles.FontsEnv + " to a colon-separated list of TrueType/OpenType files"}}
	}
	if err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set("Cache-Control", glyphCacheControl)
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("ETag", g.ETag)
	if match := c.Request().Header.Get("If-None-Match"); match != "" && etagMatches(match, g.ETag) {
		return c.NoContent(http.StatusNotModified)
	}
	return c.Blob(http.StatusOK, "application/x-protobuf", g.PBF)
}
