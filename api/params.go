package api

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"gridmap/geo"
)

// onlyParams rejects query parameters the endpoint does not know, so a typo such as
// ?unti= is an error instead of a silently unfiltered answer.
func onlyParams(c echo.Context, known ...string) error {
	var unknown []string
	for k := range c.QueryParams() {
		ok := false
		for _, n := range known {
			ok = ok || k == n
		}
		if !ok {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		e := geo.Invalid(unknown[0], fmt.Sprintf("unknown query parameter; this endpoint takes %s", strings.Join(known, ", ")))
		e.Code = "unknown_parameter"
		return e
	}
	return nil
}

// unitParam validates an optional unit code parameter.
func unitParam(c echo.Context, name string) (string, error) {
	code := c.QueryParam(name)
	if code == "" {
		return "", nil
	}
	if _, err := geo.LevelOfCode(name, code); err != nil {
		return "", err
	}
	return code, nil
}

// bboxParam parses bbox=minLon,minLat,maxLon,maxLat (WGS84).
func bboxParam(c echo.Context) (*[4]float64, error) {
	raw := c.QueryParam("bbox")
	if raw == "" {
		return nil, nil
	}
	parts := strings.Split(raw, ",")
	if len(parts) != 4 {
		return nil, geo.Invalid("bbox", "bbox takes four numbers: minLon,minLat,maxLon,maxLat")
	}
	var b [4]float64
	for i, p := range parts {
		v, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil || v != v {
			return nil, geo.Invalid("bbox", fmt.Sprintf("%q is not a number", p))
		}
		b[i] = v
	}
	switch {
	case b[0] < -180 || b[2] > 180 || b[1] < -90 || b[3] > 90:
		return nil, geo.Invalid("bbox", "coordinates out of range: longitude −180…180, latitude −90…90")
	case b[0] > b[2] || b[1] > b[3]:
		return nil, geo.Invalid("bbox", "min must not exceed max (minLon,minLat,maxLon,maxLat)")
	}
	return &b, nil
}
