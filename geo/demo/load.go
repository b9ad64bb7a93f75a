package demo

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/ewkb"

	"gridmap/geo"
)

// Stats counts what Load wrote.
type Stats struct {
	Units, Grids, Households, People, Links int
}

// Load writes the county in one transaction with COPY. Ids are assigned here, above the
// highest existing ones, so the county can join a database that holds other data; a county
// whose code is already present is geo.ErrConflict.
func Load(ctx context.Context, pool *pgxpool.Pool, c *County) (Stats, error) {
	var st Stats
	tx, err := pool.Begin(ctx)
	if err != nil {
		return st, fmt.Errorf("demo: begin: %w", err)
	}
	defer tx.Rollback(context.Background())

	if _, err := tx.Exec(ctx, `LOCK TABLE units, grids, households, people, branches, party_groups, central_households IN SHARE ROW EXCLUSIVE MODE`); err != nil {
		return st, fmt.Errorf("demo: lock tables: %w", err)
	}
	if _, err := tx.Exec(ctx, `SET CONSTRAINTS people_branch_fk, people_group_fk DEFERRED`); err != nil {
		return st, fmt.Errorf("demo: defer constraints: %w", err)
	}
	// Per-statement statistics refreshes wait for the end of the load (see 002_tiles.sql).
	if _, err := tx.Exec(ctx, `SET LOCAL gridmap.bulk = 'on'`); err != nil {
		return st, fmt.Errorf("demo: bulk mode: %w", err)
	}
	var exists bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM units WHERE code = $1)`, c.Units[0].Code).Scan(&exists); err != nil {
		return st, fmt.Errorf("demo: look for county: %w", err)
	}
	if exists {
		return st, fmt.Errorf("demo: county %s is loaded already: %w", c.Units[0].Code, geo.ErrConflict)
	}
	var base struct{ grid, household, person, branch, group, central int64 }
	err = tx.QueryRow(ctx, `SELECT
		(SELECT coalesce(max(id), 0) FROM grids), (SELECT coalesce(max(id), 0) FROM households),
		(SELECT coalesce(max(id), 0) FROM people), (SELECT coalesce(max(id), 0) FROM branches),
		(SELECT coalesce(max(id), 0) FROM party_groups), (SELECT coalesce(max(id), 0) FROM central_households)`).
		Scan(&base.grid, &base.household, &base.person, &base.branch, &base.group, &base.central)
	if err != nil {
		return st, fmt.Errorf("demo: read id bases: %w", err)
	}
	ref := func(b int64, i int) any { // an index as an id, -1 as NULL
		if i < 0 {
			return nil
		}
		return b + int64(i) + 1
	}

	copies := []struct {
		table string
		cols  []string
		n     int
		row   func(i int) ([]any, error)
	}{
		{"units", []string{"code", "name", "level", "parent_code", "boundary"}, len(c.Units), func(i int) ([]any, error) {
			u := c.Units[i]
			var parent any
			if u.Parent != "" {
				parent = u.Parent
			}
			b, err := ewkb.Marshal(orb.MultiPolygon{u.Box.ToPolygon()}, 4326)
			return []any{u.Code, u.Name, string(u.Level), parent, b}, err
		}},
		{"grids", []string{"id", "code", "unit_code", "name", "kind", "boundary", "updated_by"}, len(c.Grids), func(i int) ([]any, error) {
			g := c.Grids[i]
			b, err := ewkb.Marshal(orb.MultiPolygon{g.Box.ToPolygon()}, 4326)
			return []any{ref(base.grid, i), g.Code, g.Unit, g.Name, string(g.Kind), b, "demo"}, err
		}},
		{"households", []string{"id", "unit_code", "external_id", "location", "address", "head_name", "head_phone", "residents", "party", "grid_id"}, len(c.Households), func(i int) ([]any, error) {
			h := c.Households[i]
			return []any{ref(base.household, i), h.Unit, h.ExternalID, pointEWKB(h.Loc), h.Address, h.HeadName, h.HeadPhone,
				int32(h.Residents), h.Party, ref(base.grid, h.Grid)}, nil
		}},
		{"people", []string{"id", "unit_code", "name", "phone", "party_member", "cadre", "household_id", "branch_id", "group_id"}, len(c.People), func(i int) ([]any, error) {
			p := c.People[i]
			return []any{ref(base.person, i), p.Unit, p.Name, p.Phone, p.Party, p.Cadre,
				ref(base.household, p.Household), ref(base.branch, p.Branch), ref(base.group, p.Group)}, nil
		}},
		{"branches", []string{"id", "grid_id", "name", "secretary_id"}, len(c.Branches), func(i int) ([]any, error) {
			b := c.Branches[i]
			return []any{ref(base.branch, i), ref(base.grid, b.Grid), b.Name, ref(base.person, b.Secretary)}, nil
		}},
		{"party_groups", []string{"id", "branch_id", "name", "leader_id"}, len(c.Groups), func(i int) ([]any, error) {
			g := c.Groups[i]
			return []any{ref(base.group, i), ref(base.branch, g.Branch), g.Name, ref(base.person, g.Leader)}, nil
		}},
		{"grid_team", []string{"grid_id", "person_id", "role"}, len(c.Team), func(i int) ([]any, error) {
			t := c.Team[i]
			return []any{ref(base.grid, t.Grid), ref(base.person, t.Person), t.Role}, nil
		}},
		{"central_households", []string{"id", "household_id", "person_id", "branch_id"}, len(c.Centrals), func(i int) ([]any, error) {
			ch := c.Centrals[i]
			return []any{ref(base.central, i), ref(base.household, ch.Household), ref(base.person, ch.Person), ref(base.branch, ch.Branch)}, nil
		}},
		{"cadre_member_links", []string{"cadre_id", "member_id"}, len(c.CadreLinks), func(i int) ([]any, error) {
			l := c.CadreLinks[i]
			return []any{ref(base.person, l[0]), ref(base.person, l[1])}, nil
		}},
		{"central_member_links", []string{"central_household_id", "member_id"}, len(c.CentralLinks), func(i int) ([]any, error) {
			l := c.CentralLinks[i]
			return []any{ref(base.central, l[0]), ref(base.person, l[1])}, nil
		}},
		{"member_household_links", []string{"member_id", "household_id"}, len(c.MemberLinks), func(i int) ([]any, error) {
			l := c.MemberLinks[i]
			return []any{ref(base.person, l[0]), ref(base.household, l[1])}, nil
		}},
	}
	for _, cp := range copies {
		n, err := tx.CopyFrom(ctx, pgx.Identifier{cp.table}, cp.cols, &rowSource{n: cp.n, row: cp.row})
		if err != nil {
			return st, fmt.Errorf("demo: copy %s: %w", cp.table, err)
		}
		if int(n) != cp.n {
			return st, fmt.Errorf("demo: copy %s: wrote %d of %d rows", cp.table, n, cp.n)
		}
	}
	for _, t := range []string{"grids", "households", "people", "branches", "party_groups", "central_households"} {
		if _, err := tx.Exec(ctx, `SELECT setval(pg_get_serial_sequence($1, 'id'), (SELECT max(id) FROM `+pgx.Identifier{t}.Sanitize()+`))`, t); err != nil {
			return st, fmt.Errorf("demo: advance %s ids: %w", t, err)
		}
	}
	if _, err := tx.Exec(ctx, `SET LOCAL gridmap.bulk = 'off'`); err != nil {
		return st, fmt.Errorf("demo: end bulk mode: %w", err)
	}
	_, err = tx.Exec(ctx, `
		SELECT refresh_grid_stats(array_agg(id)), notify_change(ST_Extent(boundary))
		FROM grids WHERE id > $1`, base.grid)
	if err != nil {
		return st, fmt.Errorf("demo: grid statistics: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return st, fmt.Errorf("demo: commit: %w", err)
	}
	if _, err := pool.Exec(ctx, `ANALYZE units, grids, grid_stats, households, people, branches, party_groups, grid_team, central_households, cadre_member_links, central_member_links, member_household_links`); err != nil {
		return st, fmt.Errorf("demo: analyze: %w", err)
	}
	st = Stats{Units: len(c.Units), Grids: len(c.Grids), Households: len(c.Households), People: len(c.People),
		Links: len(c.CadreLinks) + len(c.CentralLinks) + len(c.MemberLinks)}
	return st, nil
}

// rowSource feeds CopyFrom one generated row at a time, so a million rows never sit in
// memory as []any.
type rowSource struct {
	i, n int
	row  func(int) ([]any, error)
	vals []any
	err  error
}

func (r *rowSource) Next() bool {
	if r.err != nil || r.i >= r.n {
		return false
	}
	r.vals, r.err = r.row(r.i)
	r.i++
	return r.err == nil
}

func (r *rowSource) Values() ([]any, error) { return r.vals, r.err }
func (r *rowSource) Err() error             { return r.err }

// pointEWKB encodes a WGS84 point as little-endian EWKB with SRID 4326.
func pointEWKB(p orb.Point) []byte {
	b := make([]byte, 25)
	b[0] = 1
	binary.LittleEndian.PutUint32(b[1:], 1|0x20000000)
	binary.LittleEndian.PutUint32(b[5:], 4326)
	binary.LittleEndian.PutUint64(b[9:], math.Float64bits(p.X()))
	binary.LittleEndian.PutUint64(b[17:], math.Float64bits(p.Y()))
	return b
}
