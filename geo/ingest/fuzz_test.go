package ingest_test

import (
	"bytes"
	"errors"
	"math"
	"strings"
	"testing"
	"unicode/utf8"

	"gridmap/geo"
	"gridmap/geo/coord"
	"gridmap/geo/ingest"
)

// checkParse runs the parser over data and checks what any input must give: no panic; a
// malformed file only as a *geo.InputError; rows that the database will take (finite WGS84
// within range, residents 0–200, external ids unique, text valid UTF-8 without NUL); a
// report that lists at most MaxProblems rows and counts at least as many.
func checkParse(t *testing.T, data []byte, opts ingest.Options) {
	rows, rep, err := ingest.ParseAll(bytes.NewReader(data), opts)
	if err != nil {
		var in *geo.InputError
		if !errors.As(err, &in) || in.Field == "" || in.Reason == "" {
			t.Fatalf("error is not an input error naming a field: %v", err)
		}
		return
	}
	if len(rep.Rows) > ingest.MaxProblems || rep.BadRows < len(rep.Rows) {
		t.Fatalf("report lists %d of %d", len(rep.Rows), rep.BadRows)
	}
	for _, p := range rep.Rows {
		if p.Field == "" || p.Reason == "" || p.Line < 1 {
			t.Fatalf("problem %+v", p)
		}
	}
	seen := make(map[string]bool)
	for _, r := range rows {
		switch {
		case math.IsNaN(r.Lon) || math.IsNaN(r.Lat) || r.Lon < -180 || r.Lon > 180 || r.Lat < -90 || r.Lat > 90:
			t.Fatalf("row %+v out of range", r)
		case r.Residents < 0 || r.Residents > 200:
			t.Fatalf("row %+v residents", r)
		case r.ExternalID == "" || seen[r.ExternalID]:
			t.Fatalf("row %+v id empty or repeated", r)
		case r.Unit != "" && len(r.Unit) != 12:
			t.Fatalf("row %+v unit", r)
		case r.Line < 1:
			t.Fatalf("row %+v line", r)
		}
		seen[r.ExternalID] = true
		for _, s := range []string{r.ExternalID, r.Address, r.HeadName, r.HeadPhone, r.Unit} {
			if !utf8.ValidString(s) || strings.IndexByte(s, 0) >= 0 {
				t.Fatalf("row %+v has text the database refuses", r)
			}
		}
	}
}

func fuzzOptions(mode byte, format ingest.Format) ingest.Options {
	encodings := []string{"", "utf-8", "gbk", "gb18030"}
	return ingest.Options{Format: format, CRS: coord.CRS(mode % 3), Encoding: encodings[(mode/3)%4]}
}

func FuzzParseCSV(f *testing.F) {
	for i, s := range csvSeeds() {
		f.Add([]byte(s), byte(i))
	}
	f.Fuzz(func(t *testing.T, data []byte, mode byte) {
		checkParse(t, data, fuzzOptions(mode, ingest.FormatCSV))
	})
}

func FuzzParseGeoJSON(f *testing.F) {
	for i, s := range geoJSONSeeds() {
		f.Add([]byte(s), byte(i))
	}
	f.Fuzz(func(t *testing.T, data []byte, mode byte) {
		checkParse(t, data, fuzzOptions(mode, ingest.FormatGeoJSON))
	})
}
