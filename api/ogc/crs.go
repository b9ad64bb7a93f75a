package ogc

import (
	"fmt"
	"strconv"
	"strings"

	"gridmap/geo"
)

// The coordinate reference systems served (OGC API – Features Part 2).
const (
	CRS84    = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
	EPSG4326 = "http://www.opengis.net/def/crs/EPSG/0/4326"
	EPSG3857 = "http://www.opengis.net/def/crs/EPSG/0/3857"
)

// crsURIs lists every CRS a collection can be read and filtered in.
func crsURIs() []string { return []string{CRS84, EPSG4326, EPSG3857} }

// crsKind says how a CRS differs from the stored lon/lat: latLon swaps axes, srid
// 3857 transforms.
type crsKind struct {
	uri    string
	srid   int
	latLon bool
}

// parseCRS reads a CRS URI (or its safe CURIE [EPSG:3857], or EPSG:3857); "" is CRS84.
func parseCRS(field, raw string) (crsKind, error) {
	s := strings.TrimSpace(raw)
	s = strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")
	switch strings.ToUpper(s) {
	case "", strings.ToUpper(CRS84), "OGC:CRS84", "CRS84":
		return crsKind{uri: CRS84, srid: 4326}, nil
	case strings.ToUpper(EPSG4326), "EPSG:4326":
		return crsKind{uri: EPSG4326, srid: 4326, latLon: true}, nil
	case strings.ToUpper(EPSG3857), "EPSG:3857":
		return crsKind{uri: EPSG3857, srid: 3857}, nil
	}
	return crsKind{}, geo.Invalid(field, fmt.Sprintf("unsupported CRS %q; use %s", raw, strings.Join(crsURIs(), ", ")))
}

// geomSQL is the expression writing column col in the CRS, and the GeoJSON precision.
func (k crsKind) geomSQL(col string) (string, int) {
	switch {
	case k.srid == 3857:
		return "ST_Transform(" + col + ", 3857)", 2
	case k.latLon:
		return "ST_FlipCoordinates(" + col + ")", 7
	}
	return col, 7
}

// toStored is the expression turning geometry expression g, given in the CRS, into lon/lat.
func (k crsKind) toStored(g string) string {
	switch {
	case k.srid == 3857:
		return "ST_Transform(ST_SetSRID(" + g + ", 3857), 4326)"
	case k.latLon:
		return "ST_SetSRID(ST_FlipCoordinates(" + g + "), 4326)"
	}
	return "ST_SetSRID(" + g + ", 4326)"
}

// parseBBox reads bbox=minx,miny,maxx,maxy (or six numbers with heights, which are ignored)
// in the axis order of the CRS.
func parseBBox(raw string) ([4]float64, error) {
	var b [4]float64
	parts := strings.Split(raw, ",")
	if len(parts) != 4 && len(parts) != 6 {
		return b, geo.Invalid("bbox", "bbox takes four numbers: minx,miny,maxx,maxy (or six with heights)")
	}
	v := make([]float64, len(parts))
	for i, p := range parts {
		f, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil || f-f != 0 {
			return b, geo.Invalid("bbox", fmt.Sprintf("%q is not a number", p))
		}
		v[i] = f
	}
	if len(v) == 6 {
		v = []float64{v[0], v[1], v[3], v[4]}
	}
	copy(b[:], v)
	if b[0] > b[2] || b[1] > b[3] {
		return b, geo.Invalid("bbox", "min must not exceed max (minx,miny,maxx,maxy)")
	}
	return b, nil
}
