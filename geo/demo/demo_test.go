package demo_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"testing"

	"gridmap/geo"
	"gridmap/geo/demo"
	"gridmap/geo/store/storetest"
)

var pg *storetest.Cluster

func TestMain(m *testing.M) { os.Exit(storetest.Run(m, &pg)) }

func digest(c *demo.County) string {
	h := sha256.New()
	fmt.Fprintf(h, "%v", *c)
	return fmt.Sprintf("%x", h.Sum(nil))
}

func TestGenerateIsDeterministic(t *testing.T) {
	a, err := demo.Generate(demo.Options{Households: 5000, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := demo.Generate(demo.Options{Households: 5000, Seed: 7})
	c, _ := demo.Generate(demo.Options{Households: 5000, Seed: 8})
	if digest(a) != digest(b) {
		t.Fatal("same seed gave different counties")
	}
	if digest(a) == digest(c) {
		t.Fatal("different seeds gave the same county")
	}
	if len(a.Households) != 5000 {
		t.Fatalf("asked for 5000 households, got %d", len(a.Households))
	}
}

func TestGenerateShape(t *testing.T) {
	c, err := demo.Generate(demo.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	levels := map[geo.Level]int{}
	for _, u := range c.Units {
		levels[u.Level]++
	}
	if levels[geo.LevelCounty] != 1 || levels[geo.LevelTownship]+levels[geo.LevelStreet] < 2 ||
		levels[geo.LevelTownship]+levels[geo.LevelStreet] > 3 || levels[geo.LevelVillage] == 0 || levels[geo.LevelCommunity] == 0 {
		t.Fatalf("levels: %v", levels)
	}
	party := 0
	shared := map[[2]float64]int{}
	for _, h := range c.Households {
		if h.Party {
			party++
		}
		shared[h.Loc]++
	}
	if share := float64(party) / float64(len(c.Households)); share < 0.06 || share > 0.10 {
		t.Fatalf("party share %.3f, want about 8%%", share)
	}
	biggest := 0
	for _, n := range shared {
		biggest = max(biggest, n)
	}
	if biggest < 20 {
		t.Fatalf("no apartment building: at most %d households share a point", biggest)
	}
	if len(c.MemberLinks) != len(c.Households) {
		t.Fatalf("%d member links for %d households", len(c.MemberLinks), len(c.Households))
	}
	if len(c.Branches) != len(c.Grids) {
		t.Fatalf("%d branches for %d grids", len(c.Branches), len(c.Grids))
	}
	if _, err := demo.Generate(demo.Options{Households: 10}); err == nil {
		t.Fatal("10 households accepted")
	}
	if _, err := demo.Generate(demo.Options{Code: "12345"}); err == nil {
		t.Fatal("5-digit county code accepted")
	}
}

// TestLoad loads the default county and lets PostGIS check it: grids tile their units,
// every household lies in the grid it was given, and the counts match.
func TestLoad(t *testing.T) {
	st := pg.Store(t)
	ctx := context.Background()
	c, err := demo.Generate(demo.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	stats, err := demo.Load(ctx, st.Pool(), c)
	if err != nil {
		t.Fatal(err)
	}
	if stats.Households != 20000 || stats.Grids != len(c.Grids) {
		t.Fatalf("stats %+v", stats)
	}
	pool := st.Pool()
	var households, misplaced, unplaced, gridsIn int
	var gap, overlap float64
	err = pool.QueryRow(ctx, `
		SELECT count(*),
		       count(*) FILTER (WHERE h.grid_id IS NOT NULL AND NOT ST_Intersects(g.boundary, h.location)),
		       count(*) FILTER (WHERE h.grid_id IS NULL OR h.grid_id <> grid_at(h.location))
		FROM households h LEFT JOIN grids g ON g.id = h.grid_id`).Scan(&households, &misplaced, &unplaced)
	if err != nil {
		t.Fatal(err)
	}
	if households != 20000 || misplaced != 0 || unplaced != 0 {
		t.Fatalf("households %d, outside their grid %d, not in the grid PostGIS finds %d", households, misplaced, unplaced)
	}
	// Grids tile each village/community: the union equals the unit, the areas add up.
	err = pool.QueryRow(ctx, `
		SELECT max(ST_Area(ST_SymDifference(u.boundary, x.cover))), max(abs(ST_Area(u.boundary) - x.area))
		FROM units u
		JOIN (SELECT unit_code, ST_Union(boundary) AS cover, sum(ST_Area(boundary)) AS area FROM grids GROUP BY unit_code) x
		  ON x.unit_code = u.code`).Scan(&gap, &overlap)
	if err != nil {
		t.Fatal(err)
	}
	if gap > 1e-12 || overlap > 1e-12 {
		t.Fatalf("grids do not tile their units: symmetric difference %g, area difference %g (deg²)", gap, overlap)
	}
	// Most community grids fall in the 300–500 band the simple bisection aims at.
	err = pool.QueryRow(ctx, `
		SELECT count(*) FILTER (WHERE n BETWEEN 300 AND 500) * 100 / count(*)
		FROM (SELECT count(*) AS n FROM households h JOIN grids g ON g.id = h.grid_id WHERE g.kind = 'community' GROUP BY g.id) x`).Scan(&gridsIn)
	if err != nil {
		t.Fatal(err)
	}
	if gridsIn < 80 {
		t.Fatalf("only %d%% of community grids hold 300–500 households", gridsIn)
	}
	// Every household has a responsible party member in its own grid.
	var wrongGrid int
	err = pool.QueryRow(ctx, `
		SELECT count(*) FROM member_household_links l
		JOIN households h ON h.id = l.household_id
		JOIN people p ON p.id = l.member_id
		JOIN households home ON home.id = p.household_id
		WHERE home.grid_id <> h.grid_id`).Scan(&wrongGrid)
	if err != nil {
		t.Fatal(err)
	}
	if wrongGrid != 0 {
		t.Fatalf("%d households linked to a member of another grid", wrongGrid)
	}
	// Loading the same county twice is a conflict, and leaves nothing behind.
	_, err = demo.Load(ctx, pool, c)
	if !errors.Is(err, geo.ErrConflict) {
		t.Fatalf("second load: want conflict, got %v", err)
	}
	// A second county with other codes joins the same database.
	other := demo.DefaultOptions()
	other.Code, other.Households, other.Origin = "999002", 2000, [2]float64{116, 30}
	c2, err := demo.Generate(other)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := demo.Load(ctx, pool, c2); err != nil {
		t.Fatalf("second county: %v", err)
	}
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM households`).Scan(&households); err != nil || households != 22000 {
		t.Fatalf("households after two counties: %d %v", households, err)
	}
}
