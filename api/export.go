package api

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"gridmap/geo"
	"gridmap/geo/store"
)

// export: GET /api/v1/export/{grids|households|people|links}?unit=&format=geojson|csv.
// The body is streamed as rows come off the database, in constant memory. An error before
// the first row is an ordinary JSON error; one after it cuts the stream short (the GeoJSON
// is then incomplete, which a client detects) and is logged.
func (s *Server) export(c echo.Context) error {
	if err := onlyParams(c, "unit", "format"); err != nil {
		return err
	}
	what := c.Param("what")
	switch what {
	case "grids", "households", "people", "links":
	default:
		return geo.NotFound("export", what+" (exports: grids, households, people, links)")
	}
	format := c.QueryParam("format")
	if format == "" {
		format = "geojson"
	}
	if format != "geojson" && format != "csv" {
		return geo.Invalid("format", fmt.Sprintf("format %q: want geojson or csv", format))
	}
	unit, err := unitParam(c, "unit")
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	if unit != "" {
		if _, err := s.store.Units(ctx, unit); err != nil {
			return err
		}
	}
	w := &exportWriter{c: c, format: format, name: what}
	csvOut := format == "csv"
	switch what {
	case "households":
		w.header = []string{"id", "external_id", "unit", "lon", "lat", "residents", "party", "grid"}
		err = s.store.ExportHouseholds(ctx, unit, func(r *store.HouseholdRow) error {
			if csvOut {
				return w.row(strconv.FormatInt(r.ID, 10), r.ExternalID, r.Unit, ftoa(r.Lon), ftoa(r.Lat),
					strconv.Itoa(int(r.Residents)), strconv.FormatBool(r.Party), deref(r.Grid))
			}
			return w.feature(r.ID, pointJSON(r.Lon, r.Lat), "external_id", r.ExternalID, "unit", r.Unit,
				"residents", int(r.Residents), "party", r.Party, "grid", r.Grid)
		})
	case "grids":
		w.header = []string{"id", "code", "name", "kind", "unit", "version", "households", "residents", "wkt"}
		err = s.store.ExportGrids(ctx, unit, format == "csv", func(r *store.GridRow) error {
			if csvOut {
				return w.row(strconv.FormatInt(r.ID, 10), r.Code, r.Name, r.Kind, r.Unit, strconv.Itoa(int(r.Version)),
					strconv.Itoa(int(r.Households)), strconv.Itoa(int(r.Residents)), string(r.Geometry))
			}
			return w.feature(r.ID, r.Geometry, "code", r.Code, "name", r.Name, "kind", r.Kind, "unit", r.Unit,
				"version", int(r.Version), "households", int(r.Households), "residents", int(r.Residents))
		})
	case "people":
		w.header = []string{"id", "unit", "party_member", "cadre", "household", "grid", "branch", "group", "lon", "lat"}
		err = s.store.ExportPeople(ctx, unit, func(r *store.PersonRow) error {
			if csvOut {
				return w.row(strconv.FormatInt(r.ID, 10), r.Unit, strconv.FormatBool(r.PartyMember), strconv.FormatBool(r.Cadre),
					itoaPtr(r.Household), deref(r.Grid), itoaPtr(r.Branch), itoaPtr(r.Group), ftoaPtr(r.Lon), ftoaPtr(r.Lat))
			}
			var g []byte
			if r.Lon != nil && r.Lat != nil {
				g = pointJSON(*r.Lon, *r.Lat)
			}
			return w.feature(r.ID, g, "unit", r.Unit, "party_member", r.PartyMember, "cadre", r.Cadre,
				"household", r.Household, "grid", r.Grid, "branch", r.Branch, "group", r.Group)
		})
	case "links":
		w.header = []string{"member", "household", "external_id", "grid", "from_lon", "from_lat", "to_lon", "to_lat", "distance_m"}
		err = s.store.ExportLinks(ctx, unit, func(r *store.LinkRow) error {
			if csvOut {
				return w.row(strconv.FormatInt(r.Member, 10), strconv.FormatInt(r.Household, 10), r.ExternalID, deref(r.Grid),
					ftoa(r.FromLon), ftoa(r.FromLat), ftoa(r.ToLon), ftoa(r.ToLat), strconv.FormatFloat(r.DistanceM, 'f', 1, 64))
			}
			line := fmt.Appendf(nil, `{"type":"LineString","coordinates":[[%s,%s],[%s,%s]]}`, ftoa(r.FromLon), ftoa(r.FromLat), ftoa(r.ToLon), ftoa(r.ToLat))
			return w.feature(r.Household, line, "member", r.Member, "household", r.Household, "external_id", r.ExternalID,
				"grid", r.Grid, "distance_m", r.DistanceM)
		})
	}
	if err != nil {
		if !w.started {
			return err
		}
		s.log.Error("export cut short", "export", what, "error", err, "id", requestID(c))
		return nil
	}
	return w.finish()
}

// exportWriter writes the response lazily, so an error before the first row can still be a
// JSON error.
type exportWriter struct {
	c       echo.Context
	format  string
	name    string
	header  []string
	started bool
	buf     *bufio.Writer
	csv     *csv.Writer
	n       int
	scratch []byte
}

func (w *exportWriter) start() error {
	w.started = true
	h := w.c.Response().Header()
	if w.format == "csv" {
		h.Set("Content-Type", "text/csv; charset=utf-8")
		h.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s.csv"`, w.name))
	} else {
		h.Set("Content-Type", "application/geo+json")
		h.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s.geojson"`, w.name))
	}
	w.c.Response().WriteHeader(http.StatusOK)
	w.buf = bufio.NewWriterSize(w.c.Response(), 64<<10)
	if w.format == "csv" {
		w.csv = csv.NewWriter(w.buf)
		return w.csv.Write(w.header)
	}
	_, err := w.buf.WriteString(`{"type":"FeatureCollection","features":[` + "\n")
	return err
}

func (w *exportWriter) row(fields ...string) error {
	if !w.started {
		if err := w.start(); err != nil {
			return err
		}
	}
	return w.csv.Write(fields)
}

// feature writes one GeoJSON feature; props alternate key, value (nil pointers become null).
func (w *exportWriter) feature(id int64, geometry []byte, props ...any) error {
	if !w.started {
		if err := w.start(); err != nil {
			return err
		}
	}
	b := w.scratch[:0]
	if w.n > 0 {
		b = append(b, ",\n"...)
	}
	b = append(b, `{"type":"Feature","id":`...)
	b = strconv.AppendInt(b, id, 10)
	b = append(b, `,"geometry":`...)
	if len(geometry) == 0 {
		b = append(b, "null"...)
	} else {
		b = append(b, geometry...)
	}
	b = append(b, `,"properties":{`...)
	for i := 0; i+1 < len(props); i += 2 {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendQuote(b, props[i].(string))
		b = append(b, ':')
		b = appendJSONValue(b, props[i+1])
	}
	b = append(b, "}}"...)
	w.scratch = b
	w.n++
	_, err := w.buf.Write(b)
	return err
}

func (w *exportWriter) finish() error {
	if !w.started {
		if err := w.start(); err != nil {
			return err
		}
	}
	if w.csv != nil {
		w.csv.Flush()
		if err := w.csv.Error(); err != nil {
			return err
		}
	} else if _, err := w.buf.WriteString("\n]}\n"); err != nil {
		return err
	}
	return w.buf.Flush()
}

// appendJSONValue encodes the few value types exports use.
func appendJSONValue(b []byte, v any) []byte {
	switch x := v.(type) {
	case string:
		return appendJSONString(b, x)
	case *string:
		if x == nil {
			return append(b, "null"...)
		}
		return appendJSONString(b, *x)
	case int:
		return strconv.AppendInt(b, int64(x), 10)
	case int64:
		return strconv.AppendInt(b, x, 10)
	case *int64:
		if x == nil {
			return append(b, "null"...)
		}
		return strconv.AppendInt(b, *x, 10)
	case float64:
		return strconv.AppendFloat(b, x, 'f', 1, 64)
	case bool:
		return strconv.AppendBool(b, x)
	}
	return append(b, "null"...)
}

// appendJSONString quotes s as a JSON string (UTF-8 kept as is).
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20:
			b = fmt.Appendf(b, `\u%04x`, c)
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}

func pointJSON(lon, lat float64) []byte {
	b := append([]byte(nil), `{"type":"Point","coordinates":[`...)
	b = strconv.AppendFloat(b, lon, 'f', -1, 64)
	b = append(b, ',')
	b = strconv.AppendFloat(b, lat, 'f', -1, 64)
	return append(b, "]}"...)
}

func ftoa(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

func ftoaPtr(f *float64) string {
	if f == nil {
		return ""
	}
	return ftoa(*f)
}

func itoaPtr(i *int64) string {
	if i == nil {
		return ""
	}
	return strconv.FormatInt(*i, 10)
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
