package ingest

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
)

// jsonState walks a FeatureCollection with the decoder's token API: the top-level members
// one by one, then the features one at a time.
//
// Unless the parser is slowJSON, the features are read by a featureScanner (fast) instead,
// from the decoder's first '[' until the scanner meets anything it does not take itself;
// then a decoder resumed at that point (see resumeDecoder) carries on to the end of the file.
// base maps that decoder's offsets back to those the first decoder would have reported.
type jsonState struct {
	dec         *json.Decoder
	base        int64
	fast        *featureScanner
	typ         string
	sawFeatures bool
	inFeatures  bool
	index       int
}

// geoFeature is one feature as decoded; the geometry's coordinates wait until its type is known.
type geoFeature struct {
	Type     string         `json:"type"`
	ID       any            `json:"id"`
	Geometry *geoGeometry   `json:"geometry"`
	Props    map[string]any `json:"properties"`
}

type geoGeometry struct {
	Type        string          `json:"type"`
	Coordinates json.RawMessage `json:"coordinates"`
}

// startGeoJSON reads up to the first feature.
func (p *Parser) startGeoJSON(src io.Reader) error {
	var rec *recordingReader
	if !p.slowJSON {
		rec = &recordingReader{r: src, limit: maxHead}
		src = rec
	}
	dec := json.NewDecoder(src)
	dec.UseNumber()
	st := &jsonState{dec: dec}
	tok, err := dec.Token()
	if err != nil {
		return st.jsonError(err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return fileError("file", "a GeoJSON file must be a FeatureCollection object", nil)
	}
	if err := st.advance(); err != nil {
		return err
	}
	if rec != nil {
		st.fast = rec.featureScanner(dec)
	}
	p.next = st.next(p)
	return nil
}

// advance reads top-level members until the features array opens or the object ends.
func (st *jsonState) advance() error {
	for {
		tok, err := st.dec.Token()
		if err != nil {
			return st.jsonError(err)
		}
		if d, ok := tok.(json.Delim); ok && d == '}' {
			if _, err := st.dec.Token(); !errors.Is(err, io.EOF) {
				return fileError("file", "data after the end of the FeatureCollection", map[string]any{"offset": st.base + st.dec.InputOffset()})
			}
			if st.typ != "FeatureCollection" {
				return fileError("type", `the top-level "type" must be "FeatureCollection"`, nil)
			}
			if !st.sawFeatures {
				return fileError("features", `missing "features" array`, nil)
			}
			return nil
		}
		key, _ := tok.(string)
		switch key {
		case "type":
			var t any
			if err := st.dec.Decode(&t); err != nil {
				return st.jsonError(err)
			}
			s, _ := t.(string)
			if s != "FeatureCollection" {
				return fileError("type", fmt.Sprintf(`the top-level "type" must be "FeatureCollection", not %s`, describe(t)), nil)
			}
			st.typ = s
		case "crs":
			if err := st.checkCRS(); err != nil {
				return err
			}
		case "features":
			if st.sawFeatures {
				return fileError("features", `"features" appears twice`, nil)
			}
			st.sawFeatures = true
			tok, err := st.dec.Token()
			if err != nil {
				return st.jsonError(err)
			}
			if d, ok := tok.(json.Delim); !ok || d != '[' {
				return fileError("features", `"features" must be an array`, nil)
			}
			st.inFeatures = true
			return nil
		default: // bbox, name, and members of other specifications are skipped
			var skip json.RawMessage
			if err := st.dec.Decode(&skip); err != nil {
				return st.jsonError(err)
			}
		}
	}
}

// checkCRS accepts the old GeoJSON crs member only when it names WGS84 lon/lat.
func (st *jsonState) checkCRS() error {
	var c any
	if err := st.dec.Decode(&c); err != nil {
		return st.jsonError(err)
	}
	if c == nil {
		return nil
	}
	obj, _ := c.(map[string]any)
	props, _ := obj["properties"].(map[string]any)
	name, _ := props["name"].(string)
	switch strings.ToUpper(strings.TrimSpace(name)) {
	case "URN:OGC:DEF:CRS:OGC:1.3:CRS84", "URN:OGC:DEF:CRS:OGC::CRS84", "CRS84", "OGC:CRS84",
		"EPSG:4326", "URN:OGC:DEF:CRS:EPSG::4326", "URN:OGC:DEF:CRS:EPSG:4326",
		"EPSG:4490", "URN:OGC:DEF:CRS:EPSG::4490": // CGCS2000 is treated as WGS84
		return nil
	}
	if name == "" {
		name = describe(c)
	}
	if len(name) > 80 {
		name = name[:80] + "…"
	}
	return fileError("crs", fmt.Sprintf("unsupported crs %q: GeoJSON coordinates must be WGS84 lon/lat (CRS84, EPSG:4326); for GCJ-02 or BD-09 use the crs parameter", name), nil)
}

// next returns the function that reads the next valid feature.
func (st *jsonState) next(p *Parser) func() (Row, bool, error) {
	return func() (Row, bool, error) {
		for {
			if st.fast != nil {
				row, ok, err := st.nextFast(p)
				if ok || err != nil {
					return row, ok, err
				}
				continue // the scanner handed over to a decoder
			}
			if !st.inFeatures {
				return Row{}, false, nil
			}
			if !st.dec.More() {
				if _, err := st.dec.Token(); err != nil { // ']'
					return Row{}, false, st.jsonError(err)
				}
				st.inFeatures = false
				if err := st.advance(); err != nil {
					return Row{}, false, err
				}
				continue
			}
			st.index++
			var f geoFeature
			err := st.dec.Decode(&f)
			var te *json.UnmarshalTypeError
			if errors.As(err, &te) {
				p.reportTypeError(st.index, te)
				continue
			}
			if err != nil {
				return Row{}, false, st.jsonError(err)
			}
			if row, ok := p.feature(st.index, &f); ok {
				return row, true, nil
			}
		}
	}
}

// reportTypeError reports a feature that encoding/json could not decode into a geoFeature.
func (p *Parser) reportTypeError(index int, te *json.UnmarshalTypeError) {
	name := te.Field
	if name == "" {
		name = "feature"
	}
	p.report.Add(index, name, fmt.Sprintf("a JSON %s where %s was expected", te.Value, typeName(te.Type.Kind().String())))
}

func typeName(kind string) string {
	switch kind {
	case "map", "struct":
		return "an object"
	case "slice":
		return "an array"
	}
	return "a " + kind
}

// feature turns a decoded feature into a row, reporting what is wrong with it.
func (p *Parser) feature(index int, f *geoFeature) (Row, bool) {
	if f.Type != "Feature" {
		p.report.Add(index, "type", fmt.Sprintf(`a feature's "type" must be "Feature", not %q`, f.Type))
		return Row{}, false
	}
	rec := record{line: index, hasPoint: true}
	g := f.Geometry
	switch {
	case g == nil:
		p.report.Add(index, "geometry", "missing geometry")
		return Row{}, false
	case g.Type != "Point":
		p.report.Add(index, "geometry", fmt.Sprintf("only Point geometries are accepted, got %q", g.Type))
		return Row{}, false
	}
	var c []float64
	if err := json.Unmarshal(g.Coordinates, &c); err != nil || len(c) < 2 || len(c) > 3 {
		p.report.Add(index, "geometry", "a Point's coordinates must be [lon, lat]")
		return Row{}, false
	}
	rec.lon, rec.lat = c[0], c[1]

	keys := make([]string, 0, len(f.Props))
	for k := range f.Props {
		keys = append(keys, k)
	}
	sort.Strings(keys) // deterministic reports
	for _, k := range keys {
		fld, ok := fieldOf(k)
		if !ok || fld == fLon || fld == fLat || fld == fWKT {
			continue // the location is the geometry
		}
		name := "properties." + k
		if rec.name[fld] != "" {
			p.report.Add(index, name, fmt.Sprintf("%s and %s both give %s", rec.name[fld], name, fld.name()))
			return Row{}, false
		}
		s, ok := scalarText(f.Props[k])
		if !ok {
			p.report.Add(index, name, "must be a string, number or boolean")
			return Row{}, false
		}
		rec.text[fld], rec.name[fld] = strings.TrimSpace(s), name
	}
	if rec.text[fExternalID] == "" && f.ID != nil {
		s, ok := scalarText(f.ID)
		if !ok {
			p.report.Add(index, "id", "a feature id must be a string or number")
			return Row{}, false
		}
		rec.text[fExternalID], rec.name[fExternalID] = strings.TrimSpace(s), "id"
	}
	if rec.name[fExternalID] == "" {
		rec.name[fExternalID] = "properties.external_id"
	}
	return p.finish(&rec)
}

// scalarText renders a JSON scalar as text; objects and arrays are not scalars.
func scalarText(v any) (string, bool) {
	switch v := v.(type) {
	case nil:
		return "", true
	case string:
		return v, true
	case json.Number:
		return v.String(), true
	case bool:
		if v {
			return "true", true
		}
		return "false", true
	case float64:
		if math.IsNaN(v) {
			return "", false
		}
		return fmt.Sprint(v), true
	}
	return "", false
}

// describe names a JSON value's kind for messages.
func describe(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case string:
		if len(v) > 40 {
			v = v[:40] + "…"
		}
		return fmt.Sprintf("%q", v)
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	}
	return fmt.Sprint(v)
}

// jsonError turns a JSON syntax error into a malformed-file error with its byte offset.
// The offsets are those of the decoder that started the file (see jsonState.base).
func (st *jsonState) jsonError(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fileError("file", "the GeoJSON ends too early", map[string]any{"offset": st.base + st.dec.InputOffset()})
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		off := st.base + se.Offset
		return fileError("file", fmt.Sprintf("malformed JSON at byte %d: %v", off, se), map[string]any{"offset": off})
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fileError("file", fmt.Sprintf("malformed GeoJSON at byte %d: a JSON %s where %s was expected", te.Offset, te.Value, typeName(te.Type.Kind().String())), map[string]any{"offset": te.Offset})
	}
	return fmt.Errorf("ingest: read GeoJSON: %w", err)
}
