package ingest_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"golang.org/x/text/encoding/simplifiedchinese"

	"gridmap/geo"
	"gridmap/geo/coord"
	"gridmap/geo/ingest"
)

// Seed files, shared by the tests and the fuzz targets' seed corpora.
func csvSeeds() []string {
	return []string{
		"external_id,lon,lat,address,residents,party\nH1,114.2,30.3,一组1号,3,true\nH2,114.21,30.31,一组2号,2,0\n",
		"户号,经度,纬度,地址,人口,党员户,户主,电话\nA-1,114.2,30.3,柳河村,4,是,张三,13800000000\n",
		"id\tx\ty\nT1\t114\t30\n",
		"external_id;wkt\nW1;POINT(114.2 30.3)\nW2;\"SRID=4326;POINT (114 30)\"\n",
		"\ufeffexternal_id,longitude,latitude,unit\nB1,114.2,30.3,999001001001\n",
		"external_id,lon,lat\n\"q,1\",114,30\n,,\nH1,NaN,30\nH2,114,Inf\nH3,181,30\nH4,114,-91\nH5,abc,30\n",
		"external_id,lon,lat,residents,party\nH1,114,30,2.5,maybe\nH1,114,30,201,1\n",
		"external_id,wkt\nP1,POLYGON((0 0,1 0,1 1,0 0))\nP2,POINT EMPTY\nP3,POINT(1)\n",
		"external_id,lon,lat\nH1,114,\"30\nH2,114,30\n",
		"lon,lat\n114,30\n",
		"",
	}
}

func geoJSONSeeds() []string {
	return []string{
		`{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Point","coordinates":[114.2,30.3]},"properties":{"external_id":"G1","address":"一组","residents":3,"party":true}}]}`,
		`{"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:OGC:1.3:CRS84"}},"features":[{"type":"Feature","id":7,"geometry":{"type":"Point","coordinates":[114,30,5]},"properties":{"户号":"X","人口":"2","党员户":"否"}}]}`,
		`{"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"EPSG:3857"}},"features":[]}`,
		`{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]},"properties":{"id":"P"}},{"type":"Feature","geometry":null,"properties":{"id":"N"}},{"type":"Feature","geometry":{"type":"Point","coordinates":"x"},"properties":[]}]}`,
		`{"features":[{"type":"Feature","geometry":{"type":"Point","coordinates":[1e400,30]},"properties":{"id":"Big"}}],"type":"FeatureCollection","bbox":[0,0,1,1]}`,
		`{"type":"Feature","geometry":{"type":"Point","coordinates":[114,30]}}`,
		`{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Point","coordinates":[114,30]},"properties":{"id":"D"}},{"type":"Feature","geometry":{"type":"Point","coordinates":[114,30]},"properties":{"id":"D"}}`,
		`{"type":"FeatureCollection","features":[5,{"type":"Feature","geometry":{"type":"Point","coordinates":[114,30]},"properties":{"id":{"a":1}}}]}`,
	}
}

func parse(t *testing.T, data []byte, opts ingest.Options) ([]ingest.Row, *ingest.Report) {
	t.Helper()
	rows, rep, err := ingest.ParseAll(bytes.NewReader(data), opts)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return rows, rep
}

// inputError asserts err wraps a *geo.InputError with the code and field.
func inputError(t *testing.T, err error, code, field string) *geo.InputError {
	t.Helper()
	var in *geo.InputError
	if !errors.As(err, &in) {
		t.Fatalf("want *geo.InputError %s/%s, got %v", code, field, err)
	}
	if in.Code != code || in.Field != field {
		t.Fatalf("want %s/%s, got %s/%s: %s", code, field, in.Code, in.Field, in.Reason)
	}
	if !strings.HasPrefix(err.Error(), "ingest: ") {
		t.Fatalf("error %q lacks the package prefix", err)
	}
	return in
}

func TestCSV(t *testing.T) {
	rows, rep := parse(t, []byte(csvSeeds()[0]), ingest.Options{})
	if rep.BadRows != 0 || len(rows) != 2 {
		t.Fatalf("rows %v report %+v", rows, rep)
	}
	want := ingest.Row{Line: 2, ExternalID: "H1", Lon: 114.2, Lat: 30.3, Address: "一组1号", Residents: 3, Party: true}
	if rows[0] != want {
		t.Fatalf("row %+v, want %+v", rows[0], want)
	}
	if rows[1].Line != 3 || rows[1].Party || rows[1].Residents != 2 {
		t.Fatalf("second row %+v", rows[1])
	}
}

func TestCSVAliasesAndDelimiters(t *testing.T) {
	cases := []struct {
		name string
		data string
		want ingest.Row
	}{
		{"chinese headers", csvSeeds()[1], ingest.Row{Line: 2, ExternalID: "A-1", Lon: 114.2, Lat: 30.3, Address: "柳河村", Residents: 4, Party: true, HeadName: "张三", HeadPhone: "13800000000"}},
		{"tabs and x/y", csvSeeds()[2], ingest.Row{Line: 2, ExternalID: "T1", Lon: 114, Lat: 30, Residents: 1}},
		{"semicolons and wkt", csvSeeds()[3], ingest.Row{Line: 2, ExternalID: "W1", Lon: 114.2, Lat: 30.3, Residents: 1}},
		{"BOM and unit", csvSeeds()[4], ingest.Row{Line: 2, ExternalID: "B1", Lon: 114.2, Lat: 30.3, Residents: 1, Unit: "999001001001"}},
		{"quoted multi-line address", "external_id,address,lon,lat\nM1,\"一组\n二号\",114,30\nM2,x,114,30\n", ingest.Row{Line: 2, ExternalID: "M1", Address: "一组\n二号", Lon: 114, Lat: 30, Residents: 1}},
		{"extra columns ignored", "note,external_id,lon,lat,备注\nn,E1,114,30,x\n", ingest.Row{Line: 2, ExternalID: "E1", Lon: 114, Lat: 30, Residents: 1}},
		{"CRLF", "external_id,lon,lat\r\nC1,114,30\r\n", ingest.Row{Line: 2, ExternalID: "C1", Lon: 114, Lat: 30, Residents: 1}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rows, rep := parse(t, []byte(tc.data), ingest.Options{})
			if rep.BadRows != 0 || len(rows) == 0 {
				t.Fatalf("rows %v report %+v", rows, rep)
			}
			if rows[0] != tc.want {
				t.Fatalf("row %+v, want %+v", rows[0], tc.want)
			}
		})
	}
}

func gbk(t *testing.T, s string) []byte {
	t.Helper()
	b, err := simplifiedchinese.GBK.NewEncoder().Bytes([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestCSVEncodings(t *testing.T) {
	text := "户号,经度,纬度,地址,人口,党员户\n甲1,114.2,30.3,湖北省示范县青石镇柳河村一组,3,是\n"
	want := ingest.Row{Line: 2, ExternalID: "甲1", Lon: 114.2, Lat: 30.3, Address: "湖北省示范县青石镇柳河村一组", Residents: 3, Party: true}
	cases := []struct {
		name, enc, detected string
		data                []byte
	}{
		{"utf-8", "", "utf-8", []byte(text)},
		{"utf-8 BOM", "", "utf-8", append([]byte("\xef\xbb\xbf"), text...)},
		{"gbk detected", "", "gbk", gbk(t, text)},
		{"gbk declared", "gbk", "gbk", gbk(t, text)},
		{"gb18030 declared", "GB18030", "gb18030", gbk(t, text)},
		{"BOM wins over a declaration", "gbk", "utf-8", append([]byte("\xef\xbb\xbf"), text...)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := ingest.NewParser(bytes.NewReader(tc.data), ingest.Options{Encoding: tc.enc})
			if err != nil {
				t.Fatal(err)
			}
			if p.Encoding() != tc.detected || p.Format() != ingest.FormatCSV {
				t.Fatalf("encoding %s format %s", p.Encoding(), p.Format())
			}
			if !p.Next() {
				t.Fatalf("no row: %v %+v", p.Err(), p.Report())
			}
			if p.Row() != want {
				t.Fatalf("row %+v, want %+v", p.Row(), want)
			}
		})
	}
	t.Run("gbk read as utf-8 is reported", func(t *testing.T) {
		_, rep, err := ingest.ParseAll(bytes.NewReader(gbk(t, text)), ingest.Options{Encoding: "utf-8"})
		if err == nil && (rep.BadRows == 0 || !strings.Contains(rep.Rows[0].Reason, "UTF-8")) {
			t.Fatalf("report %+v", rep)
		}
	})
	t.Run("unknown encoding", func(t *testing.T) {
		_, err := ingest.NewParser(strings.NewReader(text), ingest.Options{Encoding: "latin-9"})
		inputError(t, err, "invalid_parameter", "encoding")
	})
}

func TestCRSIntake(t *testing.T) {
	wgs := orb.Point{114.2345678, 30.3456789}
	for _, c := range []coord.CRS{coord.WGS84, coord.GCJ02, coord.BD09} {
		t.Run(c.String(), func(t *testing.T) {
			in := coord.FromWGS84(wgs, c)
			data := fmt.Sprintf("external_id,lon,lat\nH1,%.12f,%.12f\n", in[0], in[1])
			rows, _ := parse(t, []byte(data), ingest.Options{CRS: c})
			if len(rows) != 1 {
				t.Fatal("no row")
			}
			if d := math.Max(math.Abs(rows[0].Lon-wgs[0]), math.Abs(rows[0].Lat-wgs[1])); d > 1e-7 {
				t.Fatalf("got %v,%v want %v (off by %g°)", rows[0].Lon, rows[0].Lat, wgs, d)
			}
			if c != coord.WGS84 && in == wgs {
				t.Fatal("the test point is not offset")
			}
		})
	}
}

func TestCSVBadRows(t *testing.T) {
	cases := []struct {
		name, data   string
		line         int
		field, cause string
	}{
		{"missing external id", "external_id,lon,lat\n,114,30\n", 2, "external_id", "missing external id"},
		{"NaN", "external_id,lon,lat\nH1,NaN,30\n", 2, "lon", "not a finite number"},
		{"Inf", "external_id,lon,lat\nH1,114,-Inf\n", 2, "lat", "not a finite number"},
		{"not a number", "external_id,lon,lat\nH1,114°,30\n", 2, "lon", "not a number"},
		{"hex", "external_id,lon,lat\nH1,0x1p6,30\n", 2, "lon", "not a number"},
		{"longitude range", "external_id,lon,lat\nH1,180.5,30\n", 2, "lon", "outside −180…180"},
		{"latitude range", "external_id,lon,lat\nH1,114,90.1\n", 2, "lat", "outside −90…90"},
		{"swapped", "external_id,经度,纬度\nH1,30,114\n", 2, "纬度", "outside −90…90"},
		{"missing latitude", "external_id,lon,lat\nH1,114,\n", 2, "lat", "missing coordinate"},
		{"no coordinates", "external_id,lon,lat\nH1,,\n", 2, "lon", "missing coordinates"},
		{"residents fraction", "external_id,lon,lat,residents\nH1,114,30,2.5\n", 2, "residents", "whole number"},
		{"residents negative", "external_id,lon,lat,人口\nH1,114,30,-1\n", 2, "人口", "whole number from 0 to 200"},
		{"residents too many", "external_id,lon,lat,residents\nH1,114,30,201\n", 2, "residents", "0 to 200"},
		{"party", "external_id,lon,lat,party\nH1,114,30,maybe\n", 2, "party", "yes/no"},
		{"duplicate", "external_id,lon,lat\nH1,114,30\nH2,114,30\nH1,114.1,30\n", 4, "external_id", `duplicate external id "H1": first used on line 2`},
		{"field count", "external_id,lon,lat\nH1,114,30,extra\n", 2, "file", "4 fields, the header has 3"},
		{"wkt polygon", "external_id,wkt\nP1,\"POLYGON((0 0,1 0,1 1,0 0))\"\n", 2, "wkt", "only POINT"},
		{"wkt empty", "external_id,wkt\nP1,POINT EMPTY\n", 2, "wkt", "empty point"},
		{"wkt one coordinate", "external_id,wkt\nP1,POINT(1)\n", 2, "wkt", "two coordinates"},
		{"wkt srid", "external_id,wkt\nP1,SRID=3857;POINT(1 2)\n", 2, "wkt", "SRID 3857"},
		{"wkt range", "external_id,wkt\nP1,POINT(200 30)\n", 2, "wkt", "outside −180…180"},
		{"unit code", "external_id,lon,lat,unit\nH1,114,30,999001\n", 2, "unit", "12-digit"},
		{"NUL", "external_id,lon,lat\nH\x001,114,30\n", 2, "external_id", "NUL"},
		{"long id", "external_id,lon,lat\n" + strings.Repeat("x", 101) + ",114,30\n", 2, "external_id", "longer than 100"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rows, rep := parse(t, []byte(tc.data), ingest.Options{})
			if rep.BadRows != 1 || len(rep.Rows) != 1 {
				t.Fatalf("report %+v", rep)
			}
			p := rep.Rows[0]
			if p.Line != tc.line || p.Field != tc.field || !strings.Contains(p.Reason, tc.cause) {
				t.Fatalf("problem %+v, want line %d field %s reason ~ %q", p, tc.line, tc.field, tc.cause)
			}
			for _, r := range rows {
				if r.Line == tc.line {
					t.Fatalf("bad line %d came out as a row", tc.line)
				}
			}
		})
	}
}

func TestCSVMalformed(t *testing.T) {
	cases := []struct {
		name, data, field, cause string
	}{
		{"empty", "", "file", "empty"},
		{"blank", " \n\n", "file", "empty"},
		{"bare quote", "external_id,lon,lat\nH\"1,114,30\n", "file", "line 2"},
		{"unterminated quote", "external_id,lon,lat\nH1,114,\"30\nH2,114,30\n", "file", "malformed CSV"},
		{"no external id column", "lon,lat\n114,30\n", "external_id", "missing column external_id"},
		{"no latitude column", "external_id,lon\nH1,114\n", "lat", "missing column lat"},
		{"no longitude column", "external_id,纬度\nH1,30\n", "lon", "missing column lon"},
		{"no coordinates at all", "external_id,address\nH1,x\n", "lon", "missing coordinates"},
		{"two id columns", "external_id,户号,lon,lat\nH1,H1,114,30\n", "header", "both give external_id"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := ingest.ParseAll(strings.NewReader(tc.data), ingest.Options{Format: ingest.FormatCSV})
			in := inputError(t, err, "invalid_file", tc.field)
			if !strings.Contains(in.Reason, tc.cause) {
				t.Fatalf("reason %q, want ~ %q", in.Reason, tc.cause)
			}
		})
	}
}

func TestReportCap(t *testing.T) {
	var b strings.Builder
	b.WriteString("external_id,lon,lat\n")
	for i := range 250 {
		fmt.Fprintf(&b, "H%d,114,%s\n", i, map[bool]string{true: "30", false: "x"}[i%5 == 0])
	}
	rows, rep := parse(t, []byte(b.String()), ingest.Options{})
	if len(rows) != 50 || rep.BadRows != 200 || len(rep.Rows) != ingest.MaxProblems {
		t.Fatalf("%d rows, report %d listed of %d", len(rows), len(rep.Rows), rep.BadRows)
	}
	if rep.Rows[0].Line != 3 || rep.Rows[99].Line != 126 {
		t.Fatalf("first %+v last %+v", rep.Rows[0], rep.Rows[99])
	}
}

func TestGeoJSON(t *testing.T) {
	rows, rep := parse(t, []byte(geoJSONSeeds()[0]), ingest.Options{})
	want := ingest.Row{Line: 1, ExternalID: "G1", Lon: 114.2, Lat: 30.3, Address: "一组", Residents: 3, Party: true}
	if rep.BadRows != 0 || len(rows) != 1 || rows[0] != want {
		t.Fatalf("rows %+v report %+v", rows, rep)
	}
	rows, rep = parse(t, []byte(geoJSONSeeds()[1]), ingest.Options{Format: ingest.FormatGeoJSON})
	want = ingest.Row{Line: 1, ExternalID: "X", Lon: 114, Lat: 30, Residents: 2}
	if rep.BadRows != 0 || len(rows) != 1 || rows[0] != want {
		t.Fatalf("rows %+v report %+v", rows, rep)
	}
	t.Run("feature id", func(t *testing.T) {
		rows, _ := parse(t, []byte(`{"type":"FeatureCollection","features":[{"type":"Feature","id":42,"geometry":{"type":"Point","coordinates":[114,30]},"properties":null}]}`), ingest.Options{})
		if len(rows) != 1 || rows[0].ExternalID != "42" {
			t.Fatalf("rows %+v", rows)
		}
	})
	t.Run("type after features, gcj02", func(t *testing.T) {
		w := orb.Point{114.3, 30.4}
		g := coord.WGS84ToGCJ02(w)
		data := fmt.Sprintf(`{"features":[{"type":"Feature","geometry":{"type":"Point","coordinates":[%.12f,%.12f]},"properties":{"id":"a"}}],"type":"FeatureCollection"}`, g[0], g[1])
		rows, _ := parse(t, []byte(data), ingest.Options{CRS: coord.GCJ02})
		if len(rows) != 1 || math.Abs(rows[0].Lon-w[0]) > 1e-7 || math.Abs(rows[0].Lat-w[1]) > 1e-7 {
			t.Fatalf("rows %+v", rows)
		}
	})
}

func TestGeoJSONBadRows(t *testing.T) {
	_, rep := parse(t, []byte(geoJSONSeeds()[3]), ingest.Options{})
	want := []ingest.Problem{
		{Line: 1, Field: "geometry", Reason: `only Point geometries are accepted, got "Polygon"`},
		{Line: 2, Field: "geometry", Reason: "missing geometry"},
		{Line: 3, Field: "properties", Reason: "a JSON array where an object was expected"},
	}
	if rep.BadRows != 3 || fmt.Sprint(rep.Rows) != fmt.Sprint(want) {
		t.Fatalf("report %+v", rep)
	}
	cases := []struct {
		name, feature, field, cause string
	}{
		{"coordinate overflow", `{"type":"Feature","geometry":{"type":"Point","coordinates":[1e400,30]},"properties":{"id":"a"}}`, "geometry", "[lon, lat]"},
		{"one coordinate", `{"type":"Feature","geometry":{"type":"Point","coordinates":[114]},"properties":{"id":"a"}}`, "geometry", "[lon, lat]"},
		{"latitude range", `{"type":"Feature","geometry":{"type":"Point","coordinates":[114,95]},"properties":{"id":"a"}}`, "lat", "outside −90…90"},
		{"missing id", `{"type":"Feature","geometry":{"type":"Point","coordinates":[114,30]},"properties":{"address":"x"}}`, "properties.external_id", "missing external id"},
		{"object id", `{"type":"Feature","geometry":{"type":"Point","coordinates":[114,30]},"properties":{"id":{"a":1}}}`, "properties.id", "string, number or boolean"},
		{"residents", `{"type":"Feature","geometry":{"type":"Point","coordinates":[114,30]},"properties":{"id":"a","residents":-3}}`, "properties.residents", "0 to 200"},
		{"party", `{"type":"Feature","geometry":{"type":"Point","coordinates":[114,30]},"properties":{"id":"a","party":"perhaps"}}`, "properties.party", "yes/no"},
		{"not a feature", `{"type":"Point","coordinates":[114,30]}`, "type", `must be "Feature"`},
		{"a number", `5`, "feature", "a JSON number where an object was expected"},
		{"two id properties", `{"type":"Feature","geometry":{"type":"Point","coordinates":[114,30]},"properties":{"id":"a","户号":"b"}}`, "properties.户号", "both give external_id"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			data := `{"type":"FeatureCollection","features":[` + tc.feature + `]}`
			rows, rep := parse(t, []byte(data), ingest.Options{})
			if len(rows) != 0 || rep.BadRows != 1 {
				t.Fatalf("rows %+v report %+v", rows, rep)
			}
			if p := rep.Rows[0]; p.Line != 1 || p.Field != tc.field || !strings.Contains(p.Reason, tc.cause) {
				t.Fatalf("problem %+v, want field %s reason ~ %q", p, tc.field, tc.cause)
			}
		})
	}
	t.Run("duplicate", func(t *testing.T) {
		f := `{"type":"Feature","geometry":{"type":"Point","coordinates":[114,30]},"properties":{"id":"D"}}`
		rows, rep := parse(t, []byte(`{"type":"FeatureCollection","features":[`+f+`,`+f+`]}`), ingest.Options{})
		if len(rows) != 1 || rep.BadRows != 1 || rep.Rows[0].Line != 2 || !strings.Contains(rep.Rows[0].Reason, "first used on line 1") {
			t.Fatalf("rows %+v report %+v", rows, rep)
		}
	})
}

func TestGeoJSONMalformed(t *testing.T) {
	cases := []struct {
		name, data, field, cause string
	}{
		{"foreign crs", geoJSONSeeds()[2], "crs", `unsupported crs "EPSG:3857"`},
		{"crs after features", `{"type":"FeatureCollection","features":[],"crs":{"type":"name","properties":{"name":"EPSG:2385"}}}`, "crs", "EPSG:2385"},
		{"crs without a name", `{"type":"FeatureCollection","crs":{"type":"link"},"features":[]}`, "crs", "unsupported crs"},
		{"single feature", geoJSONSeeds()[5], "type", "FeatureCollection"},
		{"no type", `{"features":[]}`, "type", "FeatureCollection"},
		{"no features", `{"type":"FeatureCollection"}`, "features", "missing"},
		{"features not an array", `{"type":"FeatureCollection","features":{}}`, "features", "must be an array"},
		{"truncated", geoJSONSeeds()[6], "file", "ends too early"},
		{"syntax", `{"type":"FeatureCollection","features":[{"type":"Feature",,}]}`, "file", "malformed JSON"},
		{"trailing data", `{"type":"FeatureCollection","features":[]} {}`, "file", "after the end"},
		{"array", `[1,2]`, "file", "FeatureCollection object"},
		{"two features arrays", `{"type":"FeatureCollection","features":[],"features":[]}`, "features", "twice"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := ingest.ParseAll(strings.NewReader(tc.data), ingest.Options{Format: ingest.FormatGeoJSON})
			in := inputError(t, err, "invalid_file", tc.field)
			if !strings.Contains(in.Reason, tc.cause) {
				t.Fatalf("reason %q, want ~ %q", in.Reason, tc.cause)
			}
		})
	}
}

func TestFormatDetection(t *testing.T) {
	p, err := ingest.NewParser(strings.NewReader("\n  "+geoJSONSeeds()[0]), ingest.Options{})
	if err != nil || p.Format() != ingest.FormatGeoJSON {
		t.Fatalf("format %v err %v", p, err)
	}
	p, err = ingest.NewParser(strings.NewReader(csvSeeds()[0]), ingest.Options{})
	if err != nil || p.Format() != ingest.FormatCSV {
		t.Fatalf("format %v err %v", p, err)
	}
}

// TestStreams checks that GeoJSON is read feature by feature: the parser hands out the first
// row while most of the file has not been written yet.
func TestStreams(t *testing.T) {
	pr, pw := io.Pipe()
	firstRow := make(chan struct{})
	const n = 20000
	go func() {
		fmt.Fprint(pw, `{"type":"FeatureCollection","features":[`)
		for i := range n {
			if i > 0 {
				fmt.Fprint(pw, ",")
			}
			if i == 1000 { // well past the 64 KiB the parser peeks at
				select {
				case <-firstRow:
				case <-time.After(10 * time.Second):
					pw.CloseWithError(errors.New("the parser did not stream"))
					return
				}
			}
			fmt.Fprintf(pw, `{"type":"Feature","geometry":{"type":"Point","coordinates":[114,30]},"properties":{"id":"S%d"}}`, i)
		}
		fmt.Fprint(pw, `]}`)
		pw.Close()
	}()
	p, err := ingest.NewParser(pr, ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := 0
	for p.Next() {
		if got == 0 {
			close(firstRow)
		}
		got++
	}
	if p.Err() != nil || got != n {
		t.Fatalf("%d rows, err %v", got, p.Err())
	}
}
