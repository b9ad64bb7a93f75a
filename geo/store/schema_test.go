package store_test

import (
	"context"
	"errors"
	"os"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"gridmap/geo/store"
	"gridmap/geo/store/storetest"
)

var pg *storetest.Cluster

func TestMain(m *testing.M) { os.Exit(storetest.Run(m, &pg)) }

const (
	county   = `INSERT INTO units (code, name, level, boundary) VALUES ('999001', '示范县', 'county', ST_Multi(ST_MakeEnvelope(114, 30, 114.1, 30.1, 4326)))`
	township = `INSERT INTO units (code, name, level, parent_code, boundary) VALUES ('999001001', '青石镇', 'township', '999001', ST_Multi(ST_MakeEnvelope(114, 30, 114.1, 30.1, 4326)))`
	village  = `INSERT INTO units (code, name, level, parent_code, boundary) VALUES ('999001001001', '柳河村', 'village', '999001001', ST_Multi(ST_MakeEnvelope(114, 30, 114.1, 30.1, 4326)))`
)

func mustExec(t *testing.T, pool *pgxpool.Pool, sqls ...string) {
	t.Helper()
	for _, sql := range sqls {
		if _, err := pool.Exec(context.Background(), sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
}

// pgCode returns the SQLSTATE of err, or "" when err is not a PostgreSQL error.
func pgCode(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

func TestSchemaRejectsInvalidData(t *testing.T) {
	pool := pg.Store(t).Pool()
	mustExec(t, pool, county, township, village,
		`INSERT INTO people (unit_code, name, party_member) VALUES ('999001001001', '李四', false)`)

	cases := []struct {
		name, sql, code string
	}{
		{"unit code with letters", `INSERT INTO units (code, name, level, boundary) VALUES ('99A001', 'x', 'county', ST_Multi(ST_MakeEnvelope(0,0,1,1,4326)))`, "23514"},
		{"township whose parent is not its prefix", `INSERT INTO units (code, name, level, parent_code, boundary) VALUES ('888001001', 'x', 'township', '999001', ST_Multi(ST_MakeEnvelope(0,0,1,1,4326)))`, "23514"},
		{"village at township length", `INSERT INTO units (code, name, level, parent_code, boundary) VALUES ('999001002', 'x', 'village', '999001', ST_Multi(ST_MakeEnvelope(0,0,1,1,4326)))`, "23514"},
		{"self-intersecting boundary", `INSERT INTO grids (code, unit_code, name, kind, boundary) VALUES ('999001001001001', '999001001001', 'g', 'village', ST_Multi('SRID=4326;POLYGON((114 30, 114.1 30.1, 114.1 30, 114 30.1, 114 30))'::geometry))`, "23514"},
		{"grid code not under its unit", `INSERT INTO grids (code, unit_code, name, kind, boundary) VALUES ('999001001002001', '999001001001', 'g', 'village', ST_Multi(ST_MakeEnvelope(114, 30, 114.01, 30.01, 4326)))`, "23514"},
		{"grid sequence 000", `INSERT INTO grids (code, unit_code, name, kind, boundary) VALUES ('999001001001000', '999001001001', 'g', 'village', ST_Multi(ST_MakeEnvelope(114, 30, 114.01, 30.01, 4326)))`, "23514"},
		{"unknown grid kind", `INSERT INTO grids (code, unit_code, name, kind, boundary) VALUES ('999001001001001', '999001001001', 'g', 'park', ST_Multi(ST_MakeEnvelope(114, 30, 114.01, 30.01, 4326)))`, "23514"},
		{"grid without geometry", `INSERT INTO grids (code, unit_code, name, kind, boundary) VALUES ('999001001001001', '999001001001', 'g', 'village', NULL)`, "23502"},
		{"grid with wrong SRID", `INSERT INTO grids (code, unit_code, name, kind, boundary) VALUES ('999001001001001', '999001001001', 'g', 'village', ST_Multi(ST_MakeEnvelope(114, 30, 114.01, 30.01, 3857)))`, "22023"},
		{"household latitude out of range", `INSERT INTO households (unit_code, external_id, location) VALUES ('999001001001', 'h1', ST_SetSRID(ST_MakePoint(114, 95), 4326))`, "23514"},
		{"household in a township", `INSERT INTO households (unit_code, external_id, location) VALUES ('999001001', 'h1', ST_SetSRID(ST_MakePoint(114, 30), 4326))`, "23514"},
		{"negative residents", `INSERT INTO households (unit_code, external_id, location, residents) VALUES ('999001001001', 'h1', ST_SetSRID(ST_MakePoint(114, 30), 4326), -1)`, "23514"},
		{"link to a person who is not a party member", `INSERT INTO member_household_links (member_id, household_id) SELECT p.id, 1 FROM people p`, "23503"},
		{"bad phone", `INSERT INTO people (unit_code, name, phone) VALUES ('999001001001', '王五', 'call me')`, "23514"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := pool.Exec(context.Background(), tc.sql)
			if got := pgCode(err); got != tc.code {
				t.Fatalf("want SQLSTATE %s, got %q (%v)", tc.code, got, err)
			}
		})
	}
}

func TestHouseholdsFollowGrids(t *testing.T) {
	pool := pg.Store(t).Pool()
	ctx := context.Background()
	mustExec(t, pool, county, township, village,
		// Two households before any grid exists, one on the future shared edge x = 114.05.
		`INSERT INTO households (unit_code, external_id, location) VALUES
		   ('999001001001', 'a', ST_SetSRID(ST_MakePoint(114.02, 30.02), 4326)),
		   ('999001001001', 'edge', ST_SetSRID(ST_MakePoint(114.05, 30.02), 4326))`)
	gridOf := func(ext string) *string {
		t.Helper()
		var code *string
		err := pool.QueryRow(ctx, `SELECT g.code FROM households h LEFT JOIN grids g ON g.id = h.grid_id WHERE h.external_id = $1`, ext).Scan(&code)
		if err != nil {
			t.Fatal(err)
		}
		return code
	}
	if c := gridOf("a"); c != nil {
		t.Fatalf("household placed in %s before any grid exists", *c)
	}
	mustExec(t, pool,
		`INSERT INTO grids (code, unit_code, name, kind, boundary) VALUES
		   ('999001001001002', '999001001001', 'east', 'village', ST_Multi(ST_MakeEnvelope(114.05, 30, 114.1, 30.1, 4326))),
		   ('999001001001001', '999001001001', 'west', 'village', ST_Multi(ST_MakeEnvelope(114, 30, 114.05, 30.1, 4326)))`)
	if c := gridOf("a"); c == nil || *c != "999001001001001" {
		t.Fatalf("household a: want grid 001, got %v", c)
	}
	// On the shared edge the lower grid id wins: "east" was inserted first.
	if c := gridOf("edge"); c == nil || *c != "999001001001002" {
		t.Fatalf("edge household: want grid 002 (lowest id), got %v", c)
	}
	// A household inserted later is placed by the statement trigger.
	mustExec(t, pool, `INSERT INTO households (unit_code, external_id, location) VALUES ('999001001001', 'b', ST_SetSRID(ST_MakePoint(114.08, 30.08), 4326))`)
	if c := gridOf("b"); c == nil || *c != "999001001001002" {
		t.Fatalf("household b: want grid 002, got %v", c)
	}
	// Moving it re-places it.
	mustExec(t, pool, `UPDATE households SET location = ST_SetSRID(ST_MakePoint(114.01, 30.01), 4326) WHERE external_id = 'b'`)
	if c := gridOf("b"); c == nil || *c != "999001001001001" {
		t.Fatalf("moved household b: want grid 001, got %v", c)
	}
	// Retiring the west grid leaves its households without a grid and records a version.
	mustExec(t, pool, `UPDATE grids SET valid_to = now(), version = version + 1 WHERE code = '999001001001001'`)
	if c := gridOf("a"); c != nil {
		t.Fatalf("household a still in retired grid %s", *c)
	}
	var versions int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM grid_versions v JOIN grids g ON g.id = v.grid_id WHERE g.code = '999001001001001'`).Scan(&versions); err != nil {
		t.Fatal(err)
	}
	if versions != 2 {
		t.Fatalf("want 2 versions of the retired grid, got %d", versions)
	}
	// Reshaping the east grid over the whole village takes the households back.
	mustExec(t, pool, `UPDATE grids SET boundary = ST_Multi(ST_MakeEnvelope(114, 30, 114.1, 30.1, 4326)), version = version + 1 WHERE code = '999001001001002'`)
	if c := gridOf("a"); c == nil || *c != "999001001001002" {
		t.Fatalf("household a after reshape: want grid 002, got %v", c)
	}
}

func TestSpanPolicyInheritance(t *testing.T) {
	pool := pg.Store(t).Pool()
	ctx := context.Background()
	mustExec(t, pool, county, township, village,
		`INSERT INTO units (code, name, level, parent_code, boundary) VALUES ('999001001002', '花园社区', 'community', '999001001', ST_Multi(ST_MakeEnvelope(114, 30, 114.1, 30.1, 4326)))`)
	get := func(code string) (ghMin, ghMax, mhMin, cmMax int, dist float64) {
		t.Helper()
		err := pool.QueryRow(ctx, `SELECT grid_households_min, grid_households_max, member_households_min, cadre_members_max, link_distance_m FROM effective_span_policy($1)`, code).
			Scan(&ghMin, &ghMax, &mhMin, &cmMax, &dist)
		if err != nil {
			t.Fatal(err)
		}
		return
	}
	// Seeds' defaults: communities 300–500 households per grid, members ~10 households,
	// cadres 5–10 members, links within 500 m.
	if a, b, c, d, e := get("999001001002"); a != 300 || b != 500 || c != 10 || d != 10 || e != 500 {
		t.Fatalf("community defaults: %d %d %d %d %v", a, b, c, d, e)
	}
	mustExec(t, pool,
		`INSERT INTO span_policies (unit_code, grid_households_max, link_distance_m) VALUES ('999001', 450, 800)`,
		`INSERT INTO span_policies (unit_code, central_rule) VALUES ('999001001', true)`,
		`INSERT INTO span_policies (unit_code, grid_households_max) VALUES ('999001001002', 480)`)
	// The nearest setting wins; unset fields fall through to the county, then the defaults.
	if a, b, c, _, e := get("999001001002"); a != 300 || b != 480 || c != 15 || e != 800 {
		t.Fatalf("community with policies: %d %d %d %v", a, b, c, e)
	}
	if _, b, c, _, _ := get("999001001001"); b != 450 || c != 15 {
		t.Fatalf("village inherits county max 450 and the township's 1+10+15 rule: %d %d", b, c)
	}
	_, err := pool.Exec(ctx, `INSERT INTO span_policies (unit_code, grid_households_min, grid_households_max) VALUES ('999001001001', 500, 300)`)
	if pgCode(err) != "23514" {
		t.Fatalf("min > max accepted: %v", err)
	}
}

func TestMigrateIsIdempotent(t *testing.T) {
	dsn := pg.DSN(t)
	// The template was migrated already; migrating again must be a no-op.
	if err := store.Migrate(context.Background(), dsn); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(context.Background(), dsn, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var version int
	if err := st.Pool().QueryRow(context.Background(), `SELECT version FROM schema_version`).Scan(&version); err != nil {
		t.Fatal(err)
	}
	if version < 1 {
		t.Fatalf("schema version %d", version)
	}
}
