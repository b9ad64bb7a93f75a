package api_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"
)

func TestExports(t *testing.T) {
	ts, st, _ := newServer(t, 3000)
	ctx := context.Background()
	secrets := personal(t, st)
	count := func(sql string) int {
		var n int
		if err := st.Pool().QueryRow(ctx, sql).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	want := map[string]int{
		"households": count(`SELECT count(*) FROM households`),
		"grids":      count(`SELECT count(*) FROM grids WHERE valid_to IS NULL`),
		"people":     count(`SELECT count(*) FROM people`),
		"links":      count(`SELECT count(*) FROM member_household_links`),
	}
	noSecrets := func(what string, body []byte) {
		t.Helper()
		fields := strings.FieldsFunc(string(body), func(r rune) bool { return strings.ContainsRune(`",:{}[]`+"\n", r) })
		for _, f := range fields {
			if secrets[f] {
				t.Fatalf("%s export leaks personal value %q", what, f)
			}
		}
	}
	for what, n := range want {
		r := do(t, "GET", ts.URL+"/api/v1/export/"+what+"?format=csv", nil)
		if r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/csv") {
			t.Fatalf("%s csv: %d %s", what, r.status, r.header.Get("Content-Type"))
		}
		recs, err := csv.NewReader(strings.NewReader(string(r.body))).ReadAll()
		if err != nil {
			t.Fatalf("%s csv: %v\n%.300s", what, err, r.body)
		}
		if len(recs)-1 != n {
			t.Fatalf("%s csv: %d rows, database has %d", what, len(recs)-1, n)
		}
		noSecrets(what, r.body)

		r = do(t, "GET", ts.URL+"/api/v1/export/"+what, nil)
		var fc struct {
			Type     string
			Features []struct {
				Type       string
				ID         int64
				Geometry   *struct{ Type string }
				Properties map[string]any
			}
		}
		if err := json.Unmarshal(r.body, &fc); err != nil {
			t.Fatalf("%s geojson: %v", what, err)
		}
		if r.status != 200 || fc.Type != "FeatureCollection" || len(fc.Features) != n {
			t.Fatalf("%s geojson: %d, %d features of %d", what, r.status, len(fc.Features), n)
		}
		if what != "people" && fc.Features[0].Geometry == nil {
			t.Fatalf("%s: feature without geometry", what)
		}
		noSecrets(what, r.body)
	}
	// A unit narrows every export to its subtree.
	var town string
	st.Pool().QueryRow(ctx, `SELECT code FROM units WHERE level IN ('township','street') ORDER BY code LIMIT 1`).Scan(&town)
	r := do(t, "GET", ts.URL+"/api/v1/export/households?format=csv&unit="+town, nil)
	recs, _ := csv.NewReader(strings.NewReader(string(r.body))).ReadAll()
	inTown := count(`SELECT count(*) FROM households WHERE unit_code LIKE '` + town + `%'`)
	if len(recs)-1 != inTown || inTown == 0 || inTown == want["households"] {
		t.Fatalf("unit %s: %d rows, want %d", town, len(recs)-1, inTown)
	}
	for _, rec := range recs[1:] {
		if !strings.HasPrefix(rec[2], town) {
			t.Fatalf("row of unit %s in export of %s", rec[2], town)
		}
	}
	wantError(t, do(t, "GET", ts.URL+"/api/v1/export/secrets", nil), 404, "not_found", "")
	wantError(t, do(t, "GET", ts.URL+"/api/v1/export/grids?format=xlsx", nil), 400, "invalid_parameter", "format")
	wantError(t, do(t, "GET", ts.URL+"/api/v1/export/grids?unit=888001", nil), 404, "not_found", "")
	wantError(t, do(t, "GET", ts.URL+"/api/v1/export/grids?unit=1", nil), 400, "invalid_parameter", "unit")
	wantError(t, do(t, "GET", ts.URL+"/api/v1/export/grids?limit=3", nil), 400, "unknown_parameter", "limit")
}
