package ingest

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// parseCoord parses one coordinate; reason is "" when it is a finite number.
func parseCoord(s string) (float64, string) {
	if s == "" {
		return 0, "missing coordinate"
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || strings.ContainsAny(s, "xX_") { // no hexadecimal or digit separators
		return 0, fmt.Sprintf("%q is not a number", s)
	}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Sprintf("%q is not a finite number", s)
	}
	return v, ""
}

// checkLonLat checks the ranges of a point; reason is "" when it is fine.
func checkLonLat(lon, lat float64) string {
	switch {
	case math.IsNaN(lon) || math.IsInf(lon, 0):
		return "longitude is not a finite number"
	case math.IsNaN(lat) || math.IsInf(lat, 0):
		return "latitude is not a finite number"
	case lon < -180 || lon > 180:
		return fmt.Sprintf("longitude %g is outside −180…180", lon)
	case lat < -90 || lat > 90:
		return fmt.Sprintf("latitude %g is outside −90…90", lat)
	}
	return ""
}

// parseWKT reads a WKT (or EWKT with SRID 4326/4490) POINT.
func parseWKT(s string) (lon, lat float64, reason string) {
	t := strings.TrimSpace(s)
	if len(t) > 5 && strings.EqualFold(t[:5], "SRID=") {
		i := strings.IndexByte(t, ';')
		if i < 0 {
			return 0, 0, "EWKT without ';' after SRID"
		}
		if srid := strings.TrimSpace(t[5:i]); srid != "4326" && srid != "4490" {
			return 0, 0, fmt.Sprintf("SRID %s is not supported: want 4326 (WGS84) or 4490 (CGCS2000); name other systems with crs=", srid)
		}
		t = strings.TrimSpace(t[i+1:])
	}
	word := t
	if i := strings.IndexAny(t, " (\t"); i >= 0 {
		word = t[:i]
	}
	if !strings.EqualFold(word, "POINT") {
		if word == "" {
			return 0, 0, "not a WKT geometry"
		}
		if len(word) > 20 {
			word = word[:20] + "…"
		}
		return 0, 0, fmt.Sprintf("only POINT geometries are accepted, got %q", word)
	}
	rest := strings.TrimSpace(t[len(word):])
	if strings.EqualFold(rest, "EMPTY") {
		return 0, 0, "empty point"
	}
	if len(rest) < 2 || rest[0] != '(' || rest[len(rest)-1] != ')' {
		return 0, 0, "malformed WKT point: want POINT(lon lat)"
	}
	parts := strings.Fields(rest[1 : len(rest)-1])
	if len(parts) != 2 {
		return 0, 0, "malformed WKT point: want exactly two coordinates, POINT(lon lat)"
	}
	if lon, reason = parseCoord(parts[0]); reason != "" {
		return 0, 0, reason
	}
	if lat, reason = parseCoord(parts[1]); reason != "" {
		return 0, 0, reason
	}
	return lon, lat, ""
}

// parseResidents reads a whole number 0–200 ("3" or "3.0").
func parseResidents(s string) (int, string) {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || strings.ContainsAny(s, "xX_") || v != math.Trunc(v) || v < 0 || v > 200 {
		return 0, fmt.Sprintf("%q is not a whole number from 0 to 200", s)
	}
	return int(v), ""
}

// parseParty reads a yes/no value.
func parseParty(s string) (bool, bool) {
	switch strings.ToLower(s) {
	case "true", "t", "yes", "y", "1", "是", "√":
		return true, true
	case "false", "f", "no", "n", "0", "否", "":
		return false, true
	}
	return false, false
}
