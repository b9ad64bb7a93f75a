package ingest

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
	"math/rand/v2"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"gridmap/geo"
	"gridmap/geo/coord"
)

// The fast GeoJSON path against the slow one (encoding/json for every feature): both must
// give the same rows, the same report and the same error, offsets included, for any input.

// outcome is everything a parse shows its caller.
type outcome struct {
	Rows      []Row
	Report    Report
	Err       string
	Input     *geo.InputError
	Format    Format
	Encoding  string
	RowsAtErr int
}

// parseWith parses data through r(data) with the fast or the slow GeoJSON path.
func parseWith(data []byte, opts Options, slow bool, r func([]byte) io.Reader) outcome {
	p, err := newParser(r(data), opts, slow)
	var o outcome
	if err == nil {
		o.Format, o.Encoding = p.Format(), p.Encoding()
		for p.Next() {
			o.Rows = append(o.Rows, p.Row())
		}
		o.Report = *p.Report()
		err = p.Err()
	}
	if err != nil {
		o.Err = err.Error()
		var in *geo.InputError
		if errors.As(err, &in) {
			o.Input = in
		}
	}
	return o
}

func plainReader(b []byte) io.Reader { return bytes.NewReader(b) }

// chunkReader reads at most n bytes at a time.
type chunkReader struct {
	r io.Reader
	n int
}

func (c *chunkReader) Read(p []byte) (int, error) {
	return c.r.Read(p[:min(len(p), c.n)])
}

// readerKind is a way to feed the parser.
type readerKind struct {
	name string
	r    func([]byte) io.Reader
}

// readerKinds are the ways tests feed the parser: whole, a byte at a time, half of each
// read, the end of the file with the last bytes.
func readerKinds() []readerKind {
	return []readerKind{
		{"whole", plainReader},
		{"bytes", func(b []byte) io.Reader { return iotest.OneByteReader(bytes.NewReader(b)) }},
		{"halves", func(b []byte) io.Reader { return iotest.HalfReader(bytes.NewReader(b)) }},
		{"eof with data", func(b []byte) io.Reader { return iotest.DataErrReader(bytes.NewReader(b)) }},
	}
}

// sameOutcome parses data both ways and fails the test on any difference.
func sameOutcome(t testing.TB, data []byte, opts Options, r func([]byte) io.Reader) {
	t.Helper()
	slow := parseWith(data, opts, true, r)
	fast := parseWith(data, opts, false, r)
	same := reflect.DeepEqual(slow, fast)
	for i := range fast.Rows {
		same = same && math.Float64bits(fast.Rows[i].Lon) == math.Float64bits(slow.Rows[i].Lon) &&
			math.Float64bits(fast.Rows[i].Lat) == math.Float64bits(slow.Rows[i].Lat)
	}
	if !same {
		t.Fatalf("fast and slow paths differ on %q (%+v)\nslow: %s\nfast: %s", clip(data), opts, show(slow), show(fast))
	}
}

func show(o outcome) string {
	s := fmt.Sprintf("%d rows, report %+v, err %q", len(o.Rows), o.Report, o.Err)
	if o.Input != nil {
		s += fmt.Sprintf(" details %v", o.Input.Details)
	}
	for i, r := range o.Rows {
		if i == 5 {
			s += "\n  …"
			break
		}
		s += fmt.Sprintf("\n  %+v", r)
	}
	return s
}

func clip(b []byte) []byte {
	if len(b) > 600 {
		return append(b[:600:600], "…"...)
	}
	return b
}

// collection wraps features in a FeatureCollection.
func collection(features ...string) string {
	return `{"type":"FeatureCollection","features":[` + strings.Join(features, ",") + `]}`
}

// point is a feature with a Point geometry and the given properties object.
func point(props string) string {
	return `{"type":"Feature","geometry":{"type":"Point","coordinates":[114.2,30.3]},"properties":` + props + `}`
}

const goodFeature = `{"type":"Feature","geometry":{"type":"Point","coordinates":[114.2022582,30.3515467]},"properties":{"external_id":"BIG0","address":"河桥社区 126号","residents":2,"party":true}}`

// trickyFeatures are features that exercise every branch of the fast decoder and of its
// fallback to encoding/json.
func trickyFeatures() []string {
	return []string{
		goodFeature,
		// strings
		point(`{"id":"a\"b\\c\/d\b\f\n\r\t"}`),
		point(`{"id":"\u0041\u00e9\u4e2d\ud83d\ude00"}`),
		point(`{"id":"x\u0000y"}`),
		point(`{"id":"nul\u0000"}`),
		point(`{"id":"lone \ud800 high"}`),
		point(`{"id":"lone \udc00 low"}`),
		point(`{"id":"high then ascii \ud800\u0041"}`),
		point(`{"id":"high at end \ud800"}`),
		point(`{"id":"two highs \ud800\ud800\udc00"}`),
		point(`{"id":"\uD83D\uDE00 upper hex"}`),
		point("{\"id\":\"bad utf8 \xff\xfe end\"}"),
		point("{\"id\":\"cut rune \xe4\xb8\"}"),
		point("{\"id\":\"surrogate in utf8 \xed\xa0\x80\"}"),
		point("{\"id\":\"replacement \xef\xbf\xbd ok\"}"),
		point("{\"id\":\"del \x7f ok\"}"),
		point("{\"address\":\"\xff\",\"id\":\"U1\"}"),
		point(`{"id":"  padded  ","address":"  a  "}`),
		point(`{"id":""}`),
		point(`{"id":"` + strings.Repeat("长", 101) + `"}`),
		point(`{"id":"L","address":"` + strings.Repeat("a", 501) + `"}`),
		// keys
		point(`{"ID":"upper"}`),
		point(`{"\u0069d":"escaped key"}`),
		point(`{"i\u0064":"esc2","address":"x"}`),
		point("{\"\xff\":\"bad key\",\"id\":\"K1\"}"),
		point(`{"\ufeffid":"bom key"}`),
		point(`{" id ":"spaced key"}`),
		point(`{"户号":"H1","人口":"3","党员户":"是"}`),
		point(`{"id":"dup1","id":"dup2"}`),
		point(`{"id":"dup1","\u0069d":"dup-esc"}`),
		point(`{"id":"a","户号":"b"}`),
		point(`{"id":"a","external_id":"b"}`),
		point(`{"id":null,"external_id":"b"}`),
		point(`{"lon":1,"lat":2,"wkt":"POINT(1 2)","id":"LL"}`),
		point(`{"lon":{"a":1},"id":"LL2"}`),
		point(`{"other":{"deep":[1,[2,[3,{"x":null}]]]},"id":"O"}`),
		point(`{"":"empty key","id":"E"}`),
		// values
		point(`{"id":{"a":1}}`),
		point(`{"id":[1]}`),
		point(`{"id":"a","residents":[]}`),
		point(`{"id":"a","address":{}}`),
		point(`{"id":1e400}`),
		point(`{"id":-0}`),
		point(`{"id":1.0}`),
		point(`{"id":12345678901234567890}`),
		point(`{"id":1E+2,"residents":2.0}`),
		point(`{"id":0.5e-3,"residents":1e1}`),
		point(`{"id":true,"party":false}`),
		point(`{"id":false,"party":null}`),
		point(`{"id":"n","residents":null,"party":"是"}`),
		point(`{"id":"n2","residents":"201"}`),
		point(`{"id":"u","unit":"420102001001"}`),
		point(`{"id":"u2","unit":"4201"}`),
		point(`null`),
		`{"type":"Feature","geometry":{"type":"Point","coordinates":[114,30]},"properties":null,"id":"P0"}`,
		`{"type":"Feature","geometry":{"type":"Point","coordinates":[114,30]},"properties":[],"id":"P1"}`,
		`{"type":"Feature","geometry":{"type":"Point","coordinates":[114,30]},"properties":"x","id":"P2"}`,
		`{"type":"Feature","geometry":{"type":"Point","coordinates":[114,30]},"properties":5,"id":"P3"}`,
		`{"type":"Feature","geometry":{"type":"Point","coordinates":[114,30]},"properties":true,"id":"P4"}`,
		// ids
		`{"type":"Feature","id":7,"geometry":{"type":"Point","coordinates":[114,30]}}`,
		`{"type":"Feature","id":"s7","geometry":{"type":"Point","coordinates":[114,30]},"properties":{}}`,
		`{"type":"Feature","id":{"x":1},"geometry":{"type":"Point","coordinates":[114,30]},"properties":{}}`,
		`{"type":"Feature","id":[],"geometry":{"type":"Point","coordinates":[114,30]},"properties":{"id":"wins"}}`,
		`{"type":"Feature","id":null,"geometry":{"type":"Point","coordinates":[114,30]},"properties":{}}`,
		`{"type":"Feature","id":true,"geometry":{"type":"Point","coordinates":[114,30]},"properties":{"id":""}}`,
		`{"type":"Feature","id":"i1","id":"i2","geometry":{"type":"Point","coordinates":[114,30]}}`,
		`{"type":"Feature","Id":"i3","geometry":{"type":"Point","coordinates":[114,30]}}`,
		// type
		`{"Type":"Feature","id":"t1","geometry":{"type":"Point","coordinates":[114,30]}}`,
		`{"TYPE":"Feature","type":"Feature","id":"t2","geometry":{"type":"Point","coordinates":[114,30]}}`,
		`{"type":"Feature","type":"Feature","id":"t3","geometry":{"type":"Point","coordinates":[114,30]}}`,
		`{"type":"feature","id":"t4","geometry":{"type":"Point","coordinates":[114,30]}}`,
		`{"type":"Feat\u0075re","id":"t5","geometry":{"type":"Point","coordinates":[114,30]}}`,
		`{"type":null,"id":"t6","geometry":{"type":"Point","coordinates":[114,30]}}`,
		`{"type":5,"id":"t7","geometry":{"type":"Point","coordinates":[114,30]}}`,
		`{"type":["Feature"],"id":"t8","geometry":{"type":"Point","coordinates":[114,30]}}`,
		`{"type":"Featur\u0065","id":"t9","geometry":{"type":"Point","coordinates":[114,30]}}`,
		"{\"type\":\"Feature\xff\",\"id\":\"t10\",\"geometry\":{\"type\":\"Point\",\"coordinates\":[114,30]}}",
		`{"ſype":"Feature","id":"t11","geometry":{"type":"Point","coordinates":[114,30]}}`,
		`{"typeſ":"Feature","type":"Feature","id":"t12","geometry":{"type":"Point","coordinates":[114,30]}}`,
		`{"名称":"x","type":"Feature","id":"t13","geometry":{"type":"Point","coordinates":[114,30]}}`,
		`{"propertieſ":{"id":"fold"},"type":"Feature","geometry":{"type":"Point","coordinates":[114,30]}}`,
		`{"\u0074ype":"Feature","id":"t14","geometry":{"type":"Point","coordinates":[114,30]}}`,
		`{"type":"Feature","id":"t15","geom\u0065try":{"type":"Point","coordinates":[114,30]}}`,
		`{"type":"Feature","i\u0064":"t16","geometry":{"type":"Point","coordinates":[114,30]}}`,
		`{"type":"Feature","geometry":{"type":"Point","coordinates":[114,30]},"propertie\u0073":{"id":"t17"}}`,
		`{"type":"Feature","geometry":{"typ\u0065":"Point","coordinates":[114,30]},"properties":{"id":"t18"}}`,
		`{"type":"Feature","geometry":{"type":"Point","coordin\u0061tes":[114,30]},"properties":{"id":"t19"}}`,
		`{"type":"Feature","geometry":{"type":"Point","coordinates":[114,30],"\u0063oordinates":[1,2]},"properties":{"id":"t20"}}`,
		"{\"type\":\"Feature\",\"\xff\":1,\"id\":\"t21\",\"geometry\":{\"type\":\"Point\",\"coordinates\":[114,30]}}",
		`{"type":"Feature","\n":1,"id":"t22","geometry":{"type":"Point","\t":2,"coordinates":[114,30]}}`,
		`{"type":"Feature","id":"t23","geometry":{"type":"Point","coordinates":[114,30],"Kype":1}}`,
		`{"type":"Feature","id":"t24","geometry":{"type":"Point","coordinates":[114,30],"\u212aype":1}}`,
		`{"type":"Feature","id":"t25","geometry":{"type":"Point","coordinateſ":[1,2]}}`,
		`{}`,
		// geometry
		`{"type":"Feature","properties":{"id":"g1"}}`,
		`{"type":"Feature","geometry":null,"properties":{"id":"g2"}}`,
		`{"type":"Feature","geometry":{},"properties":{"id":"g3"}}`,
		`{"type":"Feature","geometry":"Point","properties":{"id":"g4"}}`,
		`{"type":"Feature","geometry":[114,30],"properties":{"id":"g5"}}`,
		`{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]},"properties":{"id":"g6"}}`,
		`{"type":"Feature","geometry":{"type":"MultiPoint","coordinates":[[114,30]]},"properties":{"id":"g7"}}`,
		`{"type":"Feature","geometry":{"type":"point","coordinates":[114,30]},"properties":{"id":"g8"}}`,
		`{"type":"Feature","geometry":{"type":null,"coordinates":[114,30]},"properties":{"id":"g9"}}`,
		`{"type":"Feature","geometry":{"type":1,"coordinates":[114,30]},"properties":{"id":"g10"}}`,
		`{"type":"Feature","geometry":{"Type":"Point","coordinates":[114,30]},"properties":{"id":"g11"}}`,
		`{"type":"Feature","geometry":{"type":"Point","Coordinates":[114,30]},"properties":{"id":"g12"}}`,
		`{"type":"Feature","geometry":{"type":"Point","coordinates":[1,2],"coordinates":[114,30]},"properties":{"id":"g13"}}`,
		`{"type":"Feature","geometry":{"type":"Point","coordinates":[114,30]},"geometry":{"type":"Polygon"},"properties":{"id":"g14"}}`,
		`{"type":"Feature","geometry":{"coordinates":[114,30],"type":"Point","bbox":[1,2,3,4]},"properties":{"id":"g15"}}`,
		`{"type":"Feature","geometry":{"type":"Po\u0069nt","coordinates":[114,30]},"properties":{"id":"g16"}}`,
		// coordinates
		`{"type":"Feature","geometry":{"type":"Point"},"properties":{"id":"c0"}}`,
		`{"type":"Feature","geometry":{"type":"Point","coordinates":null},"properties":{"id":"c1"}}`,
		`{"type":"Feature","geometry":{"type":"Point","coordinates":[]},"properties":{"id":"c2"}}`,
		`{"type":"Feature","geometry":{"type":"Point","coordinates":[114]},"properties":{"id":"c3"}}`,
		`{"type":"Feature","geometry":{"type":"Point","coordinates":[114,30,5]},"properties":{"id":"c4"}}`,
		`{"type":"Feature","geometry":{"type":"Point","coordinates":[114,30,5,6]},"properties":{"id":"c5"}}`,
		`{"type":"Feature","geometry":{"type":"Point","coordinates":["114",30]},"properties":{"id":"c6"}}`,
		`{"type":"Feature","geometry":{"type":"Point","coordinates":[114,"30"]},"properties":{"id":"c7"}}`,
		`{"type":"Feature","geometry":{"type":"Point","coordinates":[null,30]},"properties":{"id":"c8"}}`,
		`{"type":"Feature","geometry":{"type":"Point","coordinates":[null,null]},"properties":{"id":"c9"}}`,
		`{"type":"Feature","geometry":{"type":"Point","coordinates":[1e400,30]},"properties":{"id":"c10"}}`,
		`{"type":"Feature","geometry":{"type":"Point","coordinates":[114,1e-400]},"properties":{"id":"c11"}}`,
		`{"type":"Feature","geometry":{"type":"Point","coordinates":[-0,-0.0]},"properties":{"id":"c12"}}`,
		`{"type":"Feature","geometry":{"type":"Point","coordinates":[114.20225820000000001,30.35154670000000001]},"properties":{"id":"c13"}}`,
		`{"type":"Feature","geometry":{"type":"Point","coordinates":[181,30]},"properties":{"id":"c14"}}`,
		`{"type":"Feature","geometry":{"type":"Point","coordinates":[114,91]},"properties":{"id":"c15"}}`,
		`{"type":"Feature","geometry":{"type":"Point","coordinates":[[114],30]},"properties":{"id":"c16"}}`,
		`{"type":"Feature","geometry":{"type":"Point","coordinates":[true,30]},"properties":{"id":"c17"}}`,
		`{"type":"Feature","geometry":{"type":"Point","coordinates":[{},30]},"properties":{"id":"c18"}}`,
		`{"type":"Feature","geometry":{"type":"Point","coordinates":"114,30"},"properties":{"id":"c19"}}`,
		`{"type":"Feature","geometry":{"type":"Point","coordinates":{"0":114}},"properties":{"id":"c20"}}`,
		`{"type":"Feature","geometry":{"type":"Point","coordinates":[114,30,null,null]},"properties":{"id":"c21"}}`,
		`{"type":"Feature","geometry":{"type":"Point","coordinates":[1E2,3e1]},"properties":{"id":"c22"}}`,
		// white space everywhere
		" { \"type\" : \"Feature\" ,\n\t\"geometry\"\r: { \"type\" :\"Point\" , \"coordinates\" : [ 114 , 30 ] } , \"properties\" : { \"id\" : \"W1\" , \"residents\" : 3 } } ",
		// deep nesting in an ignored member
		point(`{"id":"deep","x":` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `}`),
		point(`{"id":"deep2","x":` + strings.Repeat(`{"a":`, 70) + `1` + strings.Repeat("}", 70) + `}`),
		// not objects
		`5`, `"feature"`, `true`, `[]`, `[{"type":"Feature"}]`,
	}
}

// trickyDocuments are whole files: the features array in unusual places and shapes.
func trickyDocuments() []string {
	f := goodFeature
	g := point(`{"id":"G2"}`)
	return []string{
		collection(),
		collection(f),
		collection(f, g),
		`{"type":"FeatureCollection","features":[]}`,
		`{"type":"FeatureCollection","features":[ ]}`,
		"\xef\xbb\xbf" + collection(f, g),
		"\n\t " + collection(f, g) + " \n\t",
		` { "type" : "FeatureCollection" , "features" : [ ` + f + ` , ` + g + ` ] } `,
		"{\n\"type\"\n:\n\"FeatureCollection\"\n,\n\"features\"\n:\n[\n" + f + "\n,\n" + g + "\n]\n}\n",
		`{"features":[` + f + `],"type":"FeatureCollection"}`,
		`{"features":[` + f + `,` + g + `],"type":"FeatureCollection","bbox":[0,0,1,1]}`,
		`{"type":"FeatureCollection","features":[` + f + `],"name":"n","crs":{"type":"name","properties":{"name":"EPSG:4326"}}}`,
		`{"type":"FeatureCollection","features":[` + f + `],"crs":{"type":"name","properties":{"name":"EPSG:3857"}}}`,
		`{"type":"FeatureCollection","crs":null,"bbox":[1,2,3,4],"x":{"y":[1,"]"]},"features":[` + f + `]}`,
		`{"type":"FeatureCollection","features":[` + f + `],"features":[` + g + `]}`,
		`{"type":"FeatureCollection","features":[` + f + `]} {}`,
		`{"type":"FeatureCollection","features":[` + f + `]}x`,
		`{"type":"FeatureCollection","features":[` + f + `]}]`,
		`{"type":"FeatureCollection","features":[` + f + `]]}`,
		`{"type":"FeatureCollection","features":[` + f + `}}`,
		`{"type":"FeatureCollection","features":[` + f + `,]}`,
		`{"type":"FeatureCollection","features":[,` + f + `]}`,
		`{"type":"FeatureCollection","features":[` + f + ` ` + g + `]}`,
		`{"type":"FeatureCollection","features":[` + f + `,,` + g + `]}`,
		`{"type":"FeatureCollection","features":[` + f + `:` + g + `]}`,
		`{"type":"FeatureCollection","features":[}`,
		`{"type":"FeatureCollection","features":[` + f + `],}`,
		`{"type":"FeatureCollection","features":[` + f + `],"bbox":[1,,]}`,
		`{"type":"FeatureCollection","features":[` + f + `],"bbox"}`,
		`{"type":"FeatureCollection","features":[` + f + `] "x":1}`,
		`{"type":"FeatureCollection","features":[` + f + `],"type":"Other"}`,
		`{"type":"FeatureCollection","features":[` + f + `],5:1}`,
		`{"type":"FeatureCollection","features":[` + f + `,1x]}`,
		`{"type":"FeatureCollection","features":[` + f + `,1]}`,
		`{"type":"FeatureCollection","features":[` + f + `,null,` + g + `]}`,
		`{"type":"FeatureCollection","features":[` + f + `,{"type":"Feature",,}]}`,
		`{"type":"FeatureCollection","features":[` + f + `,{"type":"Feature"}x]}`,
		`{"type":"FeatureCollection","features":[` + f + `,{"type":"Feature"` + "\x01" + `}]}`,
		`{"type":"FeatureCollection","features":[` + f + `,{"type":"Fea` + "\x01" + `ture"}]}`,
		`{"type":"FeatureCollection","features":[` + f + `,{"type":"Feature\q"}]}`,
		`{"type":"FeatureCollection","features":[` + f + `,{"type":"\u12G4"}]}`,
		`{"type":"FeatureCollection","features":[` + f + `,{"id":01}]}`,
		`{"type":"FeatureCollection","features":[` + f + `,{"id":1.}]}`,
		`{"type":"FeatureCollection","features":[` + f + `,{"id":-}]}`,
		`{"type":"FeatureCollection","features":[` + f + `,{"id":1e}]}`,
		`{"type":"FeatureCollection","features":[` + f + `,{"id":1e+}]}`,
		`{"type":"FeatureCollection","features":[` + f + `,{"id":.5}]}`,
		`{"type":"FeatureCollection","features":[` + f + `,{"id":+1}]}`,
		`{"type":"FeatureCollection","features":[` + f + `,{"id":tru}]}`,
		`{"type":"FeatureCollection","features":[` + f + `,{"id":nul}]}`,
		`{"type":"FeatureCollection","features":[` + f + `,{"id":True}]}`,
		`{"type":"FeatureCollection","features":[` + f + `,{"id":[1,]}]}`,
		`{"type":"FeatureCollection","features":[` + f + `,{"id":{"a"}}]}`,
		`{"type":"FeatureCollection","features":[` + f + `,{"id":{"a":1,}}]}`,
		`{"type":"FeatureCollection","features":[` + f + `,{"id":'x'}]}`,
		`{"type":"FeatureCollection","features":[` + f + `,{"id":"x"` + "\u00a0" + `}]}`,
		`{"type":"FeatureCollection","features":[` + f + `,{"x":` + strings.Repeat("[", 10001) + strings.Repeat("]", 10001) + `}]}`,
		`{"type":"FeatureCollection","features":[` + f + `,{"x":` + strings.Repeat("[", 9999) + strings.Repeat("]", 9999) + `},` + g + `]}`,
		`{"type":"FeatureCollection","features":[` + f + `,{"x":"` + strings.Repeat("y", 300<<10) + `"},` + g + `]}`,
		`{"type":"FeatureCollection","features":{}}`,
		`{"type":"FeatureCollection","features":null}`,
		`{"type":"FeatureCollection"}`,
		`{"features":[]}`,
		`{"type":"Feature"}`,
		`[` + f + `]`,
		`{"type":"FeatureCollection","features":[` + f + `,` + f + `]}`,
	}
}

// options are the option sets the differential tests run with.
func options() []Options {
	return []Options{
		{},
		{Format: FormatGeoJSON},
		{Format: FormatGeoJSON, CRS: coord.GCJ02},
		{Format: FormatGeoJSON, CRS: coord.BD09, Encoding: "gbk"},
		{Encoding: "gb18030"},
	}
}

func TestGeoJSONFastVsSlowFeatures(t *testing.T) {
	features := trickyFeatures()
	for i, f := range features {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			docs := []string{
				collection(f),
				collection(goodFeature, f),
				collection(f, point(`{"id":"after"}`)),
				"{\"type\":\"FeatureCollection\",\"features\":[\n" + goodFeature + ",\n" + f + "\n]}\n",
			}
			for _, doc := range docs {
				for _, opts := range options() {
					sameOutcome(t, []byte(doc), opts, plainReader)
				}
			}
		})
	}
	t.Run("all at once", func(t *testing.T) {
		doc := collection(features...)
		for _, rk := range readerKinds() {
			sameOutcome(t, []byte(doc), Options{}, rk.r)
		}
	})
}

func TestGeoJSONFastVsSlowDocuments(t *testing.T) {
	for i, doc := range trickyDocuments() {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			for _, opts := range options() {
				sameOutcome(t, []byte(doc), opts, plainReader)
			}
			for _, rk := range readerKinds()[1:] {
				if len(doc) < 20000 {
					sameOutcome(t, []byte(doc), Options{}, rk.r)
				}
			}
		})
	}
}

// TestGeoJSONFastVsSlowTruncated cuts files at every byte.
func TestGeoJSONFastVsSlowTruncated(t *testing.T) {
	docs := []string{
		collection(goodFeature, trickyFeatures()[2], point(`{"id":"X","residents":1e2}`), `{"type":"Feature","geometry":{"type":"Point","coordinates":[114,30]},"properties":null,"id":7}`),
		` { "type" : "FeatureCollection" , "features" : [ ` + goodFeature + ` , ` + point(`{"id":"Y"}`) + ` ] , "bbox" : [ 1 , 2 ] } `,
		`{"features":[` + goodFeature + `],"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"CRS84"}}}`,
	}
	for i, doc := range docs {
		for cut := range len(doc) + 1 {
			data := []byte(doc[:cut])
			sameOutcome(t, data, Options{Format: FormatGeoJSON}, plainReader)
			if i == 0 && cut%7 == 0 {
				sameOutcome(t, data, Options{Format: FormatGeoJSON}, readerKinds()[1].r)
			}
		}
	}
}

// TestGeoJSONFastVsSlowLarge checks the offsets far into a file: many features, then
// trouble in the last one, after the array, or in a read.
func TestGeoJSONFastVsSlowLarge(t *testing.T) {
	const n = 60000 // well past the scanner's buffer and the resumed decoder's padding runs
	body := generateGeoJSON(n, 7)
	body = body[:bytes.LastIndex(body, []byte("]"))] // up to the end of the last feature
	endings := []string{
		"]}", "\n]}\n", "]", "", ",", ",{", `,{"type":"Feature",,}]}`, `]},`, `],"bbox":[1,,]}`,
		`],"bbox":[1,2]} x`, `,5]}`, `,null]}`, `,{"type":"Feature","geometry":{"type":"Point","coordinates":[1e400,1]}}]}`,
		` x`, `,{"type":"Feature","id":tru}]}`, `],"crs":{"type":"name","properties":{"name":"EPSG:2385"}}}`,
		`],"type":"FeatureCollection","features":[]}`,
	}
	for _, end := range endings {
		data := append(bytes.Clone(body), end...)
		sameOutcome(t, data, Options{}, plainReader)
	}
	t.Run("early trouble", func(t *testing.T) {
		data := bytes.Clone(body)
		i := bytes.Index(data[len(data)/2:], []byte(`"party"`)) + len(data)/2
		data[i+2] = '\n' // a control character in a key
		sameOutcome(t, data, Options{}, plainReader)
	})
	t.Run("read error", func(t *testing.T) {
		for _, at := range []int{100, 70000, len(body) / 2, len(body) - 3} {
			sameOutcome(t, body, Options{}, func(b []byte) io.Reader {
				return io.MultiReader(bytes.NewReader(b[:at]), iotest.ErrReader(errors.New("disk on fire")))
			})
		}
	})
	t.Run("big features, small reads", func(t *testing.T) {
		poly := `{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[` + strings.Repeat("[114.123456,30.123456],", 40000) + `[1,2]]]},"properties":{"id":"P"}}`
		props := point(`{"id":"B","x":[` + strings.Repeat(`{"a":"}]\"[{"},`, 30000) + `1]}`)
		small := func(b []byte) io.Reader { return &chunkReader{r: bytes.NewReader(b), n: 3000} }
		for _, doc := range []string{
			collection(poly, goodFeature, poly, props),
			collection(goodFeature, poly[:len(poly)/2]+"}"+poly[len(poly)/2:]),
			collection(goodFeature, props[:len(props)-200]+"x"+props[len(props)-199:]),
			collection(goodFeature, props[:len(props)/3]),
		} {
			sameOutcome(t, []byte(doc), Options{}, small)
		}
	})
	t.Run("halves", func(t *testing.T) {
		sameOutcome(t, append(bytes.Clone(body), "]}"...), Options{}, readerKinds()[2].r)
	})
}

// TestGeoJSONFastPathTaken makes sure the fast path decodes the usual feature itself, and
// hands nothing over before the end of the array.
func TestGeoJSONFastPathTaken(t *testing.T) {
	data := generateGeoJSON(1000, 1)
	p, err := NewParser(bytes.NewReader(data), Options{})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for p.Next() {
		n++
	}
	if n != 1000 || p.Err() != nil {
		t.Fatalf("%d rows, %v", n, p.Err())
	}
	// Every feature of the usual shape is decoded by the fast decoder itself, and the
	// scanner hands over at the closing bracket only.
	s := &featureScanner{buf: data[bytes.IndexByte(data, '[')+1:], first: true, err: io.EOF}
	fast := 0
	for s.decodeAhead(); s.queue[len(s.queue)-1].step != stepHandOver; s.decodeAhead() {
		for _, tk := range s.queue {
			if tk.step != stepFast {
				t.Fatalf("feature %d: step %d", fast+1, tk.step)
			}
			fast++
		}
	}
	if fast+len(s.queue)-1 != 1000 || strings.TrimSpace(string(s.buf[s.pos:])) != "]}" {
		t.Fatalf("%d fast features, handed over at %q", fast, s.buf[s.pos:])
	}
}

func TestParseFloat(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	lits := []string{"0", "-0", "0.0", "-0.0", "1", "114.2022582", "-30.3515467", "999999999999999", "9999999999999999",
		"0.000000000000001", "0.1", "0.30000000000000004", "1e5", "1E-5", "-1.5e+300", "1e400", "-1e400", "1e-400",
		"123456789012345.6", "12345678901234.56", "4.9406564584124654e-324", "179769313486231570000000000000000000000"}
	for range 200000 {
		var b []byte
		if rng.IntN(2) == 0 {
			b = append(b, '-')
		}
		b = strconv.AppendUint(b, rng.Uint64N(1_000_000_000)>>rng.UintN(30), 10)
		if rng.IntN(4) > 0 {
			b = append(b, '.')
			for range 1 + rng.IntN(14) {
				b = append(b, byte('0'+rng.IntN(10)))
			}
		}
		lits = append(lits, string(b))
	}
	for _, lit := range lits {
		want, err := strconv.ParseFloat(lit, 64)
		got, bad := parseFloat([]byte(lit))
		if bad != (err != nil) || math.Float64bits(got) != math.Float64bits(want) {
			t.Fatalf("parseFloat(%s) = %v, %v; strconv: %v, %v", lit, got, bad, want, err)
		}
	}
}

func TestSpecialBytes(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	pick := []byte{'"', '\\', 0, 0x1f, 0x20, 0x21, 0x5b, 0x5d, 0x7f, 0x80, 0xa2, 0xdc, 0xff, 'a'}
	for range 1000000 {
		var w [8]byte
		for i := range w {
			w[i] = pick[rng.IntN(len(pick))]
		}
		first := 8
		for i, c := range w {
			if c == '"' || c == '\\' || c < ' ' {
				first = i
				break
			}
		}
		got := specialBytes(binary.LittleEndian.Uint64(w[:]))
		if got == 0 && first != 8 || got != 0 && bits.TrailingZeros64(got)/8 != first {
			t.Fatalf("specialBytes(%q) = %x, first special byte at %d", w, got, first)
		}
	}
}

func TestIDSet(t *testing.T) {
	var s idSet
	want := make(map[string]int)
	rng := rand.New(rand.NewPCG(7, 8))
	for line := range 300000 {
		id := strconv.Itoa(rng.IntN(200000))
		if line%1000 == 0 {
			id = ""
		}
		first, dup := s.add(id, line)
		w, wdup := want[id]
		if dup != wdup || first != w {
			t.Fatalf("add(%q, %d) = %d, %v; want %d, %v", id, line, first, dup, w, wdup)
		}
		if !wdup {
			want[id] = line
		}
		s.touch(id)
	}
}

func FuzzGeoJSONFastVsSlow(f *testing.F) {
	for i, doc := range trickyDocuments() {
		if len(doc) < 5000 {
			f.Add([]byte(doc), byte(i))
		}
	}
	for i, feat := range trickyFeatures() {
		f.Add([]byte(collection(goodFeature, feat)), byte(i))
	}
	f.Fuzz(func(t *testing.T, data []byte, mode byte) {
		encodings := []string{"", "utf-8", "gbk", "gb18030"}
		opts := Options{Format: Format(mode % 3), CRS: coord.CRS((mode / 3) % 3), Encoding: encodings[(mode/9)%4]}
		r := readerKinds()[(mode/36)%4].r
		if opts.Format == FormatCSV {
			opts.Format = FormatGeoJSON
		}
		sameOutcome(t, data, opts, r)
	})
}

// generateGeoJSON writes n features of the usual shape, one a line, as genhouseholds does.
func generateGeoJSON(n int, seed uint64) []byte {
	rng := rand.New(rand.NewPCG(seed, 42))
	names := []string{"河桥社区", "安柳村", "红青村", "乐新村", "山安村"}
	b := make([]byte, 0, n*190)
	b = append(b, `{"type":"FeatureCollection","features":[`+"\n"...)
	for i := range n {
		if i > 0 {
			b = append(b, ",\n"...)
		}
		b = append(b, `{"type":"Feature","geometry":{"type":"Point","coordinates":[`...)
		b = strconv.AppendFloat(b, 114.1+0.2*rng.Float64(), 'f', 7, 64)
		b = append(b, ',')
		b = strconv.AppendFloat(b, 30.2+0.2*rng.Float64(), 'f', 7, 64)
		b = append(b, `]},"properties":{"external_id":"BIG`...)
		b = strconv.AppendInt(b, int64(i), 10)
		b = append(b, `","address":"`...)
		b = append(b, names[rng.IntN(len(names))]...)
		b = append(b, ' ')
		b = strconv.AppendInt(b, int64(rng.IntN(300)+1), 10)
		b = append(b, `号","residents":`...)
		b = strconv.AppendInt(b, int64(rng.IntN(6)+1), 10)
		b = append(b, `,"party":`...)
		b = strconv.AppendBool(b, rng.IntN(100) < 8)
		b = append(b, "}}"...)
	}
	return append(b, "\n]}\n"...)
}

// BenchmarkParseGeoJSON parses 100,000 features of the usual shape from memory.
func BenchmarkParseGeoJSON(b *testing.B) {
	const n = 100000
	data := generateGeoJSON(n, 1)
	for _, path := range []struct {
		name string
		slow bool
	}{{"fast", false}, {"slow", true}} {
		b.Run(path.name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			start := time.Now()
			for b.Loop() {
				benchParse(b, bytes.NewReader(data), path.slow, n)
			}
			b.ReportMetric(float64(n)*float64(b.N)/time.Since(start).Seconds(), "rows/s")
		})
	}
}

// BenchmarkParseGeoJSONFile streams the file named by $GEOJSON_BENCH_FILE (default
// /tmp/exp/big.geojson) through a parser, as an import does; it is skipped when the file
// is missing. Run it with -benchtime=1x for one pass.
func BenchmarkParseGeoJSONFile(b *testing.B) {
	path := os.Getenv("GEOJSON_BENCH_FILE")
	if path == "" {
		path = "/tmp/exp/big.geojson"
	}
	fi, err := os.Stat(path)
	if err != nil {
		b.Skipf("no benchmark file: %v", err)
	}
	for _, mode := range []struct {
		name string
		slow bool
	}{{"fast", false}, {"slow", true}} {
		b.Run(mode.name, func(b *testing.B) {
			b.SetBytes(fi.Size())
			rows := 0
			start := time.Now()
			for b.Loop() {
				f, err := os.Open(path)
				if err != nil {
					b.Fatal(err)
				}
				rows = benchParse(b, f, mode.slow, -1)
				f.Close()
			}
			b.ReportMetric(float64(rows)*float64(b.N)/time.Since(start).Seconds(), "rows/s")
		})
	}
}

// benchParse streams r through a parser and returns the number of rows; want (unless -1)
// is how many there must be.
func benchParse(b *testing.B, r io.Reader, slow bool, want int) int {
	p, err := newParser(r, Options{}, slow)
	if err != nil {
		b.Fatal(err)
	}
	rows := 0
	for p.Next() {
		rows++
	}
	if p.Err() != nil || (want >= 0 && rows != want) || p.Report().BadRows != 0 {
		b.Fatalf("%d rows, %d bad, %v", rows, p.Report().BadRows, p.Err())
	}
	return rows
}
