package geo

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"

	"github.com/paulmach/orb"
	geom "github.com/twpayne/go-geom"
	"github.com/twpayne/go-geom/encoding/ewkb"
	"github.com/twpayne/go-geom/encoding/geojson"

	"gridmap/geo/coord"
)

// MaxVertices is the most vertices a grid boundary may have.
const MaxVertices = 100000

// Area is a validated polygonal geometry in WGS84, ready for PostGIS as EWKB (SRID 4326).
type Area struct {
	MultiPolygon *geom.MultiPolygon
}

// EWKB encodes the area for ST_GeomFromEWKB.
func (a Area) EWKB() ([]byte, error) {
	b, err := ewkb.Marshal(a.MultiPolygon, binary.LittleEndian)
	if err != nil {
		return nil, fmt.Errorf("geo: encode area: %w", err)
	}
	return b, nil
}

// ParseArea reads a GeoJSON Polygon or MultiPolygon given in crs and returns it in WGS84.
// It rejects, as *InputError with code invalid_geometry on field: malformed JSON, other
// geometry types, 3D coordinates, non-finite or out-of-range coordinates, rings that are
// not closed or have fewer than four points, and more than MaxVertices vertices.
// Self-intersection is left to PostGIS (ST_IsValidDetail), which can say where.
func ParseArea(field string, raw json.RawMessage, crs coord.CRS) (Area, error) {
	bad := func(reason string, loc ...float64) error {
		e := &InputError{Code: "invalid_geometry", Field: field, Reason: reason}
		if len(loc) == 2 {
			e.Details = map[string]any{"rule": "coordinates", "location": map[string]any{"type": "Point", "coordinates": loc}}
		}
		return e
	}
	if len(raw) == 0 || string(raw) == "null" {
		return Area{}, bad("a Polygon or MultiPolygon geometry is required")
	}
	var g geojson.Geometry
	if err := json.Unmarshal(raw, &g); err != nil {
		return Area{}, bad("not a GeoJSON geometry: " + err.Error())
	}
	if g.CRS != nil {
		name, _ := g.CRS.Properties["name"].(string)
		switch name {
		case "urn:ogc:def:crs:OGC:1.3:CRS84", "urn:ogc:def:crs:OGC::CRS84", "EPSG:4326", "urn:ogc:def:crs:EPSG::4326":
		default:
			e := bad(fmt.Sprintf("coordinate reference system %q is not accepted: send WGS84 lon/lat (GeoJSON), or GCJ-02/BD-09 with ?crs=gcj02|bd09", name))
			e.(*InputError).Field = field + ".crs"
			return Area{}, e
		}
	}
	if g.Type != "Polygon" && g.Type != "MultiPolygon" {
		return Area{}, bad(fmt.Sprintf("geometry type %q: want Polygon or MultiPolygon", g.Type))
	}
	if g.Coordinates == nil {
		return Area{}, bad("geometry has no coordinates")
	}
	// Decode the coordinates ourselves: go-geom's decoder accepts ragged layouts silently.
	var polys [][][][]float64
	if g.Type == "Polygon" {
		var p [][][]float64
		if err := json.Unmarshal(*g.Coordinates, &p); err != nil {
			return Area{}, bad("Polygon coordinates must be an array of rings of [lon, lat] positions")
		}
		polys = [][][][]float64{p}
	} else if err := json.Unmarshal(*g.Coordinates, &polys); err != nil {
		return Area{}, bad("MultiPolygon coordinates must be an array of polygons of rings of [lon, lat] positions")
	}
	if len(polys) == 0 {
		return Area{}, bad("geometry is empty")
	}
	mp := geom.NewMultiPolygon(geom.XY)
	vertices := 0
	for pi, rings := range polys {
		if len(rings) == 0 {
			return Area{}, bad(fmt.Sprintf("polygon %d has no rings", pi))
		}
		var flat []float64
		var ends []int
		for ri, ring := range rings {
			if len(ring) < 4 {
				return Area{}, bad(fmt.Sprintf("polygon %d ring %d has %d points; a ring needs at least 4", pi, ri, len(ring)))
			}
			vertices += len(ring)
			if vertices > MaxVertices {
				return Area{}, bad(fmt.Sprintf("more than %d vertices", MaxVertices))
			}
			for _, pos := range ring {
				if len(pos) != 2 {
					return Area{}, bad(fmt.Sprintf("polygon %d ring %d: positions must be [lon, lat] (got %d numbers)", pi, ri, len(pos)))
				}
				lon, lat := pos[0], pos[1]
				if math.IsNaN(lon) || math.IsNaN(lat) || math.IsInf(lon, 0) || math.IsInf(lat, 0) {
					return Area{}, bad("coordinates must be finite numbers")
				}
				if lon < -180 || lon > 180 || lat < -90 || lat > 90 {
					return Area{}, bad(fmt.Sprintf("coordinate [%g, %g] out of range (longitude −180…180, latitude −90…90; GeoJSON is lon, lat)", lon, lat), lon, lat)
				}
				p := coord.ToWGS84(orb.Point{lon, lat}, crs)
				flat = append(flat, p[0], p[1])
			}
			first, last := ring[0], ring[len(ring)-1]
			if first[0] != last[0] || first[1] != last[1] {
				return Area{}, bad(fmt.Sprintf("polygon %d ring %d is not closed (first and last positions differ)", pi, ri), first[0], first[1])
			}
			// Close exactly after conversion, which is not bit-for-bit reversible.
			n := len(flat)
			ringStart := 0
			if len(ends) > 0 {
				ringStart = ends[len(ends)-1]
			}
			flat[n-2], flat[n-1] = flat[ringStart], flat[ringStart+1]
			ends = append(ends, len(flat))
		}
		if err := mp.Push(geom.NewPolygonFlat(geom.XY, flat, ends)); err != nil {
			return Area{}, bad("polygon " + fmt.Sprint(pi) + ": " + err.Error())
		}
	}
	mp.SetSRID(4326)
	return Area{MultiPolygon: mp}, nil
}
