package store_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/paulmach/orb"

	"gridmap/geo"
	"gridmap/geo/coord"
	"gridmap/geo/ingest"
	"gridmap/geo/store"
)

// twoGrids is the test village 999001001001 (114…114.1, 30…30.1) cut into a west and an
// east grid at x = 114.05.
const twoGrids = `INSERT INTO grids (code, unit_code, name, kind, boundary) VALUES
	('999001001001001', '999001001001', 'west', 'village', ST_Multi(ST_MakeEnvelope(114, 30, 114.05, 30.1, 4326))),
	('999001001001002', '999001001001', 'east', 'village', ST_Multi(ST_MakeEnvelope(114.05, 30, 114.1, 30.1, 4326)))`

func importStore(t *testing.T) (*store.Store, *pgxpool.Pool) {
	t.Helper()
	st := pg.Store(t)
	mustExec(t, st.Pool(), county, township, village, twoGrids)
	return st, st.Pool()
}

func importCSV(t *testing.T, st *store.Store, data string, crs coord.CRS, opts store.ImportOptions) (store.ImportResult, error) {
	t.Helper()
	p, err := ingest.NewParser(strings.NewReader(data), ingest.Options{CRS: crs})
	if err != nil {
		return store.ImportResult{}, err
	}
	return st.ImportHouseholds(context.Background(), p, opts)
}

// snapshot is a checksum of every household and every grid statistic.
func snapshot(t *testing.T, pool *pgxpool.Pool) string {
	t.Helper()
	var n int
	var sum string
	err := pool.QueryRow(context.Background(), `
		SELECT (SELECT count(*) FROM households),
		       md5(coalesce((SELECT string_agg(h::text, '|' ORDER BY id) FROM households h), '') ||
		           coalesce((SELECT string_agg(s::text, '|' ORDER BY grid_id) FROM grid_stats s), ''))`).Scan(&n, &sum)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%d %s", n, sum)
}

// placedRight checks every household's grid is grid_at(location), and every grid's statistics
// count its households.
func placedRight(t *testing.T, pool *pgxpool.Pool) {
	t.Helper()
	var wrong, stale int
	err := pool.QueryRow(context.Background(), `
		SELECT (SELECT count(*) FROM households WHERE grid_id IS DISTINCT FROM grid_at(location)),
		       (SELECT count(*) FROM grids g LEFT JOIN grid_stats s ON s.grid_id = g.id
		        WHERE coalesce(s.households, -1) <> (SELECT count(*) FROM households h WHERE h.grid_id = g.id)
		           OR coalesce(s.residents, -1) <> (SELECT coalesce(sum(residents), 0) FROM households h WHERE h.grid_id = g.id))`).
		Scan(&wrong, &stale)
	if err != nil {
		t.Fatal(err)
	}
	if wrong != 0 || stale != 0 {
		t.Fatalf("%d households placed off grid_at, %d grids with stale statistics", wrong, stale)
	}
}

func wantInvalidRows(t *testing.T, err error, bad int) []ingest.Problem {
	t.Helper()
	var in *geo.InputError
	if !errors.As(err, &in) || in.Code != "invalid_rows" {
		t.Fatalf("want invalid_rows, got %v", err)
	}
	if in.Details["bad_rows"] != bad {
		t.Fatalf("bad_rows %v, want %d", in.Details["bad_rows"], bad)
	}
	return in.Details["rows"].([]ingest.Problem)
}

func TestImportHouseholdsUpsert(t *testing.T) {
	st, pool := importStore(t)
	file := "external_id,lon,lat,address,residents,party\n" +
		"W1,114.02,30.02,west 1,3,1\n" +
		"E1,114.08,30.08,east 1,2,0\n" +
		"E2,114.09,30.09,east 2,4,是\n"
	res, err := importCSV(t, st, file, coord.WGS84, store.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Inserted != 3 || res.Updated != 0 || res.Unchanged != 0 || res.Skipped != 0 || res.Report.BadRows != 0 {
		t.Fatalf("first import %+v", res)
	}
	placedRight(t, pool)
	var west, east, residents int
	if err := pool.QueryRow(context.Background(), `
		SELECT (SELECT households FROM grid_stats s JOIN grids g ON g.id = s.grid_id WHERE g.code = '999001001001001'),
		       (SELECT households FROM grid_stats s JOIN grids g ON g.id = s.grid_id WHERE g.code = '999001001001002'),
		       (SELECT sum(residents) FROM households WHERE unit_code = '999001001001' AND party)`).Scan(&west, &east, &residents); err != nil {
		t.Fatal(err)
	}
	if west != 1 || east != 2 || residents != 7 {
		t.Fatalf("west %d east %d party residents %d", west, east, residents)
	}

	before := snapshot(t, pool)
	res, err = importCSV(t, st, file, coord.WGS84, store.ImportOptions{})
	if err != nil || res.Inserted != 0 || res.Updated != 0 || res.Unchanged != 3 {
		t.Fatalf("same file again: %+v %v", res, err)
	}
	if after := snapshot(t, pool); after != before {
		t.Fatal("an unchanged import changed the database")
	}

	// E1 moves west, E2 changes its address, N1 is new.
	file2 := "external_id,lon,lat,address,residents,party\n" +
		"W1,114.02,30.02,west 1,3,1\n" +
		"E1,114.03,30.03,east 1,2,0\n" +
		"E2,114.09,30.09,east 2 (new),4,是\n" +
		"N1,114.06,30.01,new,1,0\n"
	res, err = importCSV(t, st, file2, coord.WGS84, store.ImportOptions{})
	if err != nil || res.Inserted != 1 || res.Updated != 2 || res.Unchanged != 1 {
		t.Fatalf("second file: %+v %v", res, err)
	}
	placedRight(t, pool)
	var grid string
	if err := pool.QueryRow(context.Background(), `SELECT g.code FROM households h JOIN grids g ON g.id = h.grid_id WHERE h.external_id = 'E1'`).Scan(&grid); err != nil {
		t.Fatal(err)
	}
	if grid != "999001001001001" {
		t.Fatalf("moved household in grid %s", grid)
	}
}

func TestImportHouseholdsCRS(t *testing.T) {
	st, pool := importStore(t)
	wgs := orb.Point{114.0412345, 30.0567891}
	var b strings.Builder
	for _, c := range []coord.CRS{coord.WGS84, coord.GCJ02, coord.BD09} {
		p := coord.FromWGS84(wgs, c)
		b.Reset()
		fmt.Fprintf(&b, "external_id,lon,lat\n%s,%.12f,%.12f\n", c, p[0], p[1])
		if _, err := importCSV(t, st, b.String(), c, store.ImportOptions{}); err != nil {
			t.Fatalf("%s: %v", c, err)
		}
	}
	rows, err := pool.Query(context.Background(), `SELECT external_id, ST_X(location), ST_Y(location) FROM households ORDER BY external_id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var id string
		var x, y float64
		if err := rows.Scan(&id, &x, &y); err != nil {
			t.Fatal(err)
		}
		if math.Abs(x-wgs[0]) > 1e-7 || math.Abs(y-wgs[1]) > 1e-7 {
			t.Errorf("%s stored at %.9f,%.9f, want %v", id, x, y, wgs)
		}
		n++
	}
	if n != 3 {
		t.Fatalf("%d households", n)
	}
}

func TestImportHouseholdsUnits(t *testing.T) {
	st, pool := importStore(t)
	mustExec(t, pool, `INSERT INTO units (code, name, level, parent_code, boundary) VALUES
		('999001001002', '东村', 'village', '999001001', ST_Multi(ST_MakeEnvelope(114.1, 30, 114.2, 30.1, 4326)))`)

	t.Run("unit parameter", func(t *testing.T) {
		// The point is in the east village, but the parameter puts it in 柳河村.
		res, err := importCSV(t, st, "external_id,lon,lat\nU1,114.15,30.05\n", coord.WGS84, store.ImportOptions{Unit: "999001001001"})
		if err != nil || res.Inserted != 1 {
			t.Fatalf("%+v %v", res, err)
		}
		var unit string
		if err := pool.QueryRow(context.Background(), `SELECT unit_code FROM households WHERE external_id = 'U1'`).Scan(&unit); err != nil || unit != "999001001001" {
			t.Fatalf("unit %q %v", unit, err)
		}
	})
	t.Run("point decides", func(t *testing.T) {
		res, err := importCSV(t, st, "external_id,lon,lat\nU1,114.15,30.05\n", coord.WGS84, store.ImportOptions{})
		if err != nil || res.Inserted != 1 { // another unit: another household
			t.Fatalf("%+v %v", res, err)
		}
		var n int
		if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM households WHERE external_id = 'U1' AND unit_code = '999001001002'`).Scan(&n); err != nil || n != 1 {
			t.Fatalf("n %d %v", n, err)
		}
	})
	for _, tc := range []struct{ name, unit, field string }{
		{"unknown unit", "999001001009", "unit"},
		{"a township", "999001001", "unit"},
		{"not digits", "99900100100x", "unit"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := importCSV(t, st, "external_id,lon,lat\nU2,114.02,30.02\n", coord.WGS84, store.ImportOptions{Unit: tc.unit})
			var in *geo.InputError
			if !errors.As(err, &in) || in.Field != tc.field {
				t.Fatalf("want an input error on %s, got %v", tc.field, err)
			}
		})
	}
	t.Run("bad units in rows", func(t *testing.T) {
		before := snapshot(t, pool)
		file := "external_id,lon,lat,unit\nR1,114.02,30.02,999001001001\nR2,114.02,30.02,999001001077\nR3,115.5,31.5,\nR4,114.02,30.02,999001001002\n"
		_, err := importCSV(t, st, file, coord.WGS84, store.ImportOptions{Unit: "999001001001"})
		probs := wantInvalidRows(t, err, 2)
		if fmt.Sprint(probs) != fmt.Sprint([]ingest.Problem{
			{Line: 3, Field: "unit", Reason: "unit 999001001077 differs from the unit parameter 999001001001"},
			{Line: 5, Field: "unit", Reason: "unit 999001001002 differs from the unit parameter 999001001001"},
		}) {
			t.Fatalf("problems %+v", probs)
		}
		// R3 took the parameter's unit; without it, R3 lies in no village.
		_, err = importCSV(t, st, file, coord.WGS84, store.ImportOptions{})
		probs = wantInvalidRows(t, err, 2)
		if fmt.Sprint(probs) != fmt.Sprint([]ingest.Problem{
			{Line: 3, Field: "unit", Reason: "no village or community has code 999001001077"},
			{Line: 4, Field: "location", Reason: "the point lies in no village or community"},
		}) {
			t.Fatalf("problems %+v", probs)
		}
		if snapshot(t, pool) != before {
			t.Fatal("a rejected file changed the database")
		}
	})
}

func TestImportHouseholdsAllOrNothing(t *testing.T) {
	st, pool := importStore(t)
	if _, err := importCSV(t, st, "external_id,lon,lat\nOLD1,114.01,30.01\nOLD2,114.07,30.07\n", coord.WGS84, store.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, pool)
	file := func(bad string) string {
		var b strings.Builder
		b.WriteString("external_id,lon,lat,residents\n")
		b.WriteString("OLD1,114.011,30.011,5\n") // would update
		for i := range 2000 {
			if i == 1000 {
				b.WriteString(bad)
				continue
			}
			fmt.Fprintf(&b, "F%d,%.6f,%.6f,%d\n", i, 114+float64(i%97)/1000, 30+float64(i%89)/1000, i%7)
		}
		return b.String()
	}
	for _, tc := range []struct {
		name, bad string
		field     string
	}{
		{"NaN", "X,NaN,30.01,1\n", "lon"},
		{"outside every village", "X,120,40,1\n", "location"},
		{"residents", "X,114.01,30.01,999\n", "residents"},
		{"duplicate", "F3,114.01,30.01,1\n", "external_id"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := importCSV(t, st, file(tc.bad), coord.WGS84, store.ImportOptions{})
			probs := wantInvalidRows(t, err, 1)
			if probs[0].Line != 1003 || probs[0].Field != tc.field {
				t.Fatalf("problem %+v", probs[0])
			}
			if after := snapshot(t, pool); after != before {
				t.Fatal("the database changed")
			}
		})
	}
	t.Run("malformed file after good rows", func(t *testing.T) {
		_, err := importCSV(t, st, file("X,114.01,\"30.01\n"), coord.WGS84, store.ImportOptions{})
		var in *geo.InputError
		if !errors.As(err, &in) || in.Code != "invalid_file" {
			t.Fatalf("want invalid_file, got %v", err)
		}
		if after := snapshot(t, pool); after != before {
			t.Fatal("the database changed")
		}
	})
	t.Run("skip invalid", func(t *testing.T) {
		res, err := importCSV(t, st, file("X,120,40,1\nY,abc,30,1\n"), coord.WGS84, store.ImportOptions{SkipInvalid: true})
		if err != nil {
			t.Fatal(err)
		}
		if res.Inserted != 1999 || res.Updated != 1 || res.Skipped != 2 || res.Report.BadRows != 2 ||
			len(res.Report.Rows) != 2 || res.Report.Rows[0].Line != 1003 || res.Report.Rows[1].Line != 1004 {
			t.Fatalf("result %+v", res)
		}
		placedRight(t, pool)
	})
}
