package store_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"gridmap/geo/coord"
	"gridmap/geo/store"
	"gridmap/geo/store/storetest"
)

// village2 lies east of the test village, without grids: its households have none.
const village2 = `INSERT INTO units (code, name, level, parent_code, boundary) VALUES
	('999001001002', '东村', 'village', '999001001', ST_Multi(ST_MakeEnvelope(114.1, 30, 114.2, 30.1, 4326)))`

// households lists every household without its id and time stamp, by key.
func householdRows(t *testing.T, pool *pgxpool.Pool) string {
	t.Helper()
	var s string
	err := pool.QueryRow(context.Background(), `
		SELECT coalesce(string_agg(concat_ws(',', h.unit_code, h.external_id, ST_AsText(h.location), h.address,
		           h.head_name, h.head_phone, h.residents, h.party, g.code), E'\n' ORDER BY h.unit_code, h.external_id), '')
		FROM households h LEFT JOIN grids g ON g.id = h.grid_id`).Scan(&s)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// gridStats lists the statistics of every grid by code.
func gridStats(t *testing.T, pool *pgxpool.Pool) string {
	t.Helper()
	var s string
	err := pool.QueryRow(context.Background(), `
		SELECT coalesce(string_agg(concat_ws(',', g.code, s.households, s.residents, s.state), ' ' ORDER BY g.code), '')
		FROM grids g LEFT JOIN grid_stats s ON s.grid_id = g.id`).Scan(&s)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// The bulk path gives what the small path gives: the same households in the same grids
// and units (points on a shared grid edge go to the lower grid id, points on the border of
// two villages to the lower code), the same counts, the same statistics; old households
// keep their ids; the table comes back with every index, constraint and trigger as before.
func TestImportHouseholdsBulkMatchesSmall(t *testing.T) {
	files := []string{
		"external_id,lon,lat,address,residents,party\n" +
			"W1,114.02,30.02,west 1,3,1\n" +
			"E1,114.08,30.08,east 1,2,0\n" +
			"E2,114.09,30.09,east 2,4,是\n" +
			"EDGE,114.05,30.05,on the grid edge,1,0\n" +
			"BORDER,114.1,30.05,on the village border,1,0\n" +
			"V2,114.15,30.05,east village,5,0\n",
		// E1 moves west, E2 changes its address, N1 is new, V2 moves within its village.
		"external_id,lon,lat,address,residents,party\n" +
			"W1,114.02,30.02,west 1,3,1\n" +
			"E1,114.03,30.03,east 1,2,0\n" +
			"E2,114.09,30.09,east 2 (new),4,是\n" +
			"N1,114.06,30.01,new,1,0\n" +
			"V2,114.15,30.06,east village,5,0\n",
	}
	type step struct {
		res              store.ImportResult
		rows, stats, ids string
	}
	run := func(bulkRows int) []step {
		st, pool := importStore(t)
		mustExec(t, pool, village2)
		schema := storetest.TableShape(t, pool, "households")
		var steps []step
		for i, f := range append(files[:1:1], files...) { // the first file twice: all unchanged
			res, err := importCSV(t, st, f, coord.WGS84, store.ImportOptions{BulkRows: bulkRows})
			if err != nil {
				t.Fatalf("bulk rows %d, file %d: %v", bulkRows, i, err)
			}
			placedRight(t, pool)
			var ids string
			if err := pool.QueryRow(context.Background(),
				`SELECT string_agg(external_id || '=' || id, ' ' ORDER BY external_id) FROM households`).Scan(&ids); err != nil {
				t.Fatal(err)
			}
			steps = append(steps, step{res, householdRows(t, pool), gridStats(t, pool), ids})
			if got := storetest.TableShape(t, pool, "households"); got != schema {
				t.Fatalf("bulk rows %d, file %d: households' schema changed:\n%s\nwant\n%s", bulkRows, i, got, schema)
			}
		}
		return steps
	}
	small, bulk := run(0), run(1)
	for i := range small {
		if small[i].res.Bulk || !bulk[i].res.Bulk {
			t.Fatalf("step %d: bulk flags %v %v", i, small[i].res.Bulk, bulk[i].res.Bulk)
		}
		bulk[i].res.Bulk = false
		if fmt.Sprint(small[i].res) != fmt.Sprint(bulk[i].res) {
			t.Errorf("step %d: small %+v, bulk %+v", i, small[i].res, bulk[i].res)
		}
		if small[i].rows != bulk[i].rows {
			t.Errorf("step %d: households differ:\nsmall\n%s\nbulk\n%s", i, small[i].rows, bulk[i].rows)
		}
		if small[i].stats != bulk[i].stats {
			t.Errorf("step %d: statistics differ:\nsmall %s\nbulk  %s", i, small[i].stats, bulk[i].stats)
		}
	}
	if r := bulk[1].res; r.Inserted != 0 || r.Updated != 0 || r.Unchanged != 6 {
		t.Fatalf("second run of the first file: %+v", bulk[1].res)
	}
	if r := bulk[2].res; r.Inserted != 1 || r.Updated != 3 || r.Unchanged != 1 {
		t.Fatalf("second file on the bulk path: %+v", r)
	}
	// Old households keep their ids through a bulk load; only N1 is new.
	before, after := strings.Fields(bulk[1].ids), strings.Fields(bulk[2].ids)
	kept := map[string]bool{}
	for _, f := range before {
		kept[f] = true
	}
	for _, f := range after {
		if !kept[f] && !strings.HasPrefix(f, "N1=") {
			t.Fatalf("household id changed: %s (before: %s)", f, bulk[1].ids)
		}
	}
	for _, want := range []string{"EDGE,POINT(114.05 30.05),on the grid edge,1,f,999001001001001",
		"999001001001,BORDER", "999001001002,V2"} {
		if !strings.Contains(bulk[0].rows, want) {
			t.Fatalf("bulk import lacks %q:\n%s", want, bulk[0].rows)
		}
	}
}

// bigCSV is a file of n households spread over the test village.
func bigCSV(n int, tail string) string {
	var b strings.Builder
	b.WriteString("external_id,lon,lat,residents\n")
	for i := range n {
		fmt.Fprintf(&b, "B%d,%.6f,%.6f,%d\n", i, 114+float64(i%997)/10000, 30+float64(i%1009)/10100, 1+i%5)
	}
	b.WriteString(tail)
	return b.String()
}

// A bulk load that fails after rows went in (here the file is cut short in the middle of
// a quoted field, past the first batch) leaves the households, the statistics and the
// table's indexes, constraints and triggers as they were.
func TestImportHouseholdsBulkRollsBack(t *testing.T) {
	st, pool := importStore(t)
	if _, err := importCSV(t, st, "external_id,lon,lat\nOLD1,114.01,30.01\nOLD2,114.07,30.07\n", coord.WGS84, store.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	before, schema := snapshot(t, pool), storetest.TableShape(t, pool, "households")
	_, err := importCSV(t, st, bigCSV(70000, "X,114.01,\"30.01\n"), coord.WGS84, store.ImportOptions{BulkRows: 1})
	if err == nil {
		t.Fatal("a file cut short was imported")
	}
	if got := snapshot(t, pool); got != before {
		t.Fatalf("the failed bulk import changed the database: %s, want %s", got, before)
	}
	if got := storetest.TableShape(t, pool, "households"); got != schema {
		t.Fatalf("the failed bulk import changed the schema:\n%s\nwant\n%s", got, schema)
	}
	// The same rows without the bad tail go in on the bulk path.
	res, err := importCSV(t, st, bigCSV(70000, ""), coord.WGS84, store.ImportOptions{BulkRows: 1})
	if err != nil || !res.Bulk || res.Inserted != 70000 {
		t.Fatalf("bulk import: %+v %v", res, err)
	}
	placedRight(t, pool)
	if got := storetest.TableShape(t, pool, "households"); got != schema {
		t.Fatalf("the bulk import changed the schema:\n%s\nwant\n%s", got, schema)
	}
}

// When readers hold households for longer than the bulk path waits, the import goes the
// small way instead of blocking them (and everyone queued behind its lock).
func TestImportHouseholdsBulkYieldsToReaders(t *testing.T) {
	st, pool := importStore(t)
	ctx := context.Background()
	reader, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Rollback(ctx)
	if _, err := reader.Exec(ctx, `SELECT count(*) FROM households`); err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	res, err := importCSV(t, st, "external_id,lon,lat\nA,114.01,30.01\nB,114.07,30.07\n", coord.WGS84, store.ImportOptions{BulkRows: 1})
	if err != nil || res.Bulk || res.Inserted != 2 {
		t.Fatalf("import beside a reader: %+v %v", res, err)
	}
	if d := time.Since(t0); d < 4*time.Second {
		t.Fatalf("gave up the lock after %v, want about 5 s", d)
	}
	placedRight(t, pool)
}

// A bulk load locks households only: readers of units and grids (the grid layer, the unit
// tree) neither block it nor wait for it.
func TestImportHouseholdsBulkLeavesUnitsAndGridsReadable(t *testing.T) {
	st, pool := importStore(t)
	ctx := context.Background()
	reader, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Rollback(ctx)
	if _, err := reader.Exec(ctx, `SELECT (SELECT count(*) FROM grids), (SELECT count(*) FROM units)`); err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	res, err := importCSV(t, st, bigCSV(1000, ""), coord.WGS84, store.ImportOptions{BulkRows: 1})
	if err != nil || !res.Bulk || res.Inserted != 1000 {
		t.Fatalf("bulk import beside a reader of grids and units: %+v %v", res, err)
	}
	if d := time.Since(t0); d > 3*time.Second {
		t.Fatalf("the bulk import waited %v for a reader of grids and units", d)
	}
	placedRight(t, pool)
}

// A role that may not skip triggers (not a superuser, no SET on session_replication_role)
// still gets the bulk path, with the foreign keys checked row by row.
func TestImportHouseholdsBulkWithoutSuperuser(t *testing.T) {
	dsn := pg.DSN(t)
	admin, err := store.Open(context.Background(), dsn, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	mustExec(t, admin.Pool(), county, township, village, twoGrids,
		`DO $$ BEGIN
		     IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'gridmap_importer') THEN
		         CREATE ROLE gridmap_importer LOGIN NOSUPERUSER;
		     END IF;
		 END $$`,
		`GRANT CREATE, USAGE ON SCHEMA public TO gridmap_importer`,
		`GRANT ALL ON ALL TABLES IN SCHEMA public TO gridmap_importer`,
		`GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO gridmap_importer`,
		`ALTER TABLE households OWNER TO gridmap_importer`)
	st, err := store.Open(context.Background(), dsn+" user=gridmap_importer", store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	schema := storetest.TableShape(t, admin.Pool(), "households")
	res, err := importCSV(t, st, bigCSV(1000, ""), coord.WGS84, store.ImportOptions{BulkRows: 1})
	if err != nil || !res.Bulk || res.Inserted != 1000 {
		t.Fatalf("bulk import as a plain role: %+v %v", res, err)
	}
	var super bool
	if err := st.Pool().QueryRow(context.Background(), `SELECT rolsuper FROM pg_roles WHERE rolname = current_user`).Scan(&super); err != nil || super {
		t.Fatalf("the test role is a superuser (%v)", err)
	}
	placedRight(t, admin.Pool())
	if got := storetest.TableShape(t, admin.Pool(), "households"); got != schema {
		t.Fatalf("the bulk import changed the schema:\n%s\nwant\n%s", got, schema)
	}
}
