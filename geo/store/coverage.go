package store

import (
	"context"
	"fmt"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"gridmap/geo"
	"gridmap/geo/coverage"
)

// CoverageOptions choose what a coverage computation includes.
type CoverageOptions struct {
	// Kinds limits the problems computed (nil: every kind, and every count of the summary;
	// with kinds the summary's counts are partial).
	Kinds []coverage.Kind
	// Geometry encodes each problem's geometry as GeoJSON (the summary needs none).
	Geometry bool
}

// Coverage computes the coverage report of a county, township/street or village/community:
// its unit tree with counts rolled up to every level and every grid, and its problems. It
// reads one consistent snapshot (a read-only repeatable-read transaction). Per-household and
// per-link numbers come from the caches that refresh_grid_stats keeps current in the
// transaction of every edit (004_coverage.sql); households and homes without a grid are read
// live. A malformed code is a *geo.InputError on field "unit"; an unknown unit is
// geo.ErrNotFound.
func (s *Store) Coverage(ctx context.Context, unit string, opts CoverageOptions) (*coverage.Report, error) {
	if _, err := geo.LevelOfCode("unit", unit); err != nil {
		return nil, err
	}
	tx, err := s.coverageTx(ctx, "")
	if err != nil {
		return nil, err
	}
	defer tx.Rollback(context.Background())
	run := &coverageRun{tx: tx, scope: unit, geom: opts.Geometry, sel: coverage.Select(opts.Kinds)}
	if err := run.units(ctx); err != nil {
		return nil, err
	}
	if err := run.grids(ctx, tx); err != nil {
		return nil, classify("coverage: grids", err)
	}
	// The other steps only add to the report; the heaviest go first.
	var steps []coverageStep
	for _, st := range []coverageStep{
		{"member spans", []coverage.Kind{coverage.MemberSpan}, run.members},
		{"long links", []coverage.Kind{coverage.LongLink}, run.longLinks},
		{"central households", []coverage.Kind{coverage.CentralSpan}, run.centrals},
		{"overlaps", []coverage.Kind{coverage.Overlap, coverage.HouseholdMultiGrid}, run.overlaps},
		{"gaps", []coverage.Kind{coverage.Gap}, run.gaps},
		{"grids outside units", []coverage.Kind{coverage.GridOutsideUnit}, run.outside},
		{"cadre spans", []coverage.Kind{coverage.CadreSpan}, run.cadres},
		{"secretaries", []coverage.Kind{coverage.SecretarySpan}, run.secretaries},
		{"households without member", []coverage.Kind{coverage.HouseholdNoMember}, run.unlinked},
		{"households without grid", []coverage.Kind{coverage.HouseholdNoGrid}, run.uncovered},
		{"households", nil, run.households},
	} {
		if run.sel == nil || st.kinds != nil && run.sel.Has(st.kinds...) {
			steps = append(steps, st)
		}
	}
	// A village's report takes milliseconds on one connection; a township's or county's
	// spreads its steps over coverageLanes connections reading the same snapshot.
	lanes := []pgx.Tx{tx}
	if len(unit) < 12 && len(steps) > 1 {
		var snapshot string
		if err := tx.QueryRow(ctx, `SELECT pg_export_snapshot()`).Scan(&snapshot); err != nil {
			return nil, classify("coverage: export snapshot", err)
		}
		for range coverageLanes - 1 {
			// A lane waits briefly for a free connection, else the report makes do with
			// fewer: reports holding one connection each must not wait for one another.
			lctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
			t, err := s.coverageTx(lctx, snapshot)
			cancel()
			if err != nil {
				if ctx.Err() != nil {
					return nil, classify("coverage", ctx.Err())
				}
				break
			}
			defer t.Rollback(context.Background())
			lanes = append(lanes, t)
		}
	}
	if err := run.steps(ctx, lanes, steps); err != nil {
		return nil, err
	}
	return run.b.Build(time.Now().UTC()), nil
}

// coverageLanes is how many connections a township's or county's report uses at once.
const coverageLanes = 3

// coverageTx begins a read-only repeatable-read transaction (on the exported snapshot, if
// given) with the report's planner settings.
func (s *Store) coverageTx(ctx context.Context, snapshot string) (pgx.Tx, error) {
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return nil, classify("coverage: begin", err)
	}
	sets := []string{
		// The report reads cached rows by key all over the tables, which are in memory:
		// index lookups cost little more than sequential reads (the default assumes
		// spinning disks and picks full scans of a million households instead).
		`SET LOCAL random_page_cost = 1.1`,
		// The queries' estimated costs are high enough to trigger JIT compilation, which
		// takes longer (~350 ms) than they run.
		`SET LOCAL jit = off`,
	}
	if snapshot != "" {
		// SET TRANSACTION SNAPSHOT is a utility statement and takes no parameters: the id
		// (from pg_export_snapshot, hex digits and dashes) is checked, then spliced in.
		if strings.Trim(snapshot, "0123456789ABCDEFabcdef-") != "" {
			tx.Rollback(context.Background())
			return nil, fmt.Errorf("store: coverage: unexpected snapshot id %q", snapshot)
		}
		sets = append([]string{`SET TRANSACTION SNAPSHOT '` + snapshot + `'`}, sets...)
	}
	for _, set := range sets {
		if _, err := tx.Exec(ctx, set); err != nil {
			tx.Rollback(context.Background())
			return nil, classify("coverage: "+set, err)
		}
	}
	return tx, nil
}

type coverageStep struct {
	name  string
	kinds []coverage.Kind // nil: the summary's counts only
	fn    func(context.Context, pgx.Tx) error
}

// steps runs the steps on the lanes, each lane taking the next step when it is free; the
// first error cancels the rest.
func (r *coverageRun) steps(ctx context.Context, lanes []pgx.Tx, steps []coverageStep) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	next := make(chan coverageStep, len(steps))
	for _, st := range steps {
		next <- st
	}
	close(next)
	errs := make(chan error, len(lanes))
	for _, q := range lanes {
		go func() {
			for st := range next {
				if ctx.Err() != nil {
					break
				}
				if err := st.fn(ctx, q); err != nil {
					cancel()
					errs <- classify("coverage: "+st.name, err)
					return
				}
			}
			errs <- nil
		}()
	}
	var first error
	for range lanes {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	if first == nil && ctx.Err() != nil {
		first = classify("coverage", ctx.Err())
	}
	return first
}

// coverageRun is one computation: the transaction, the scope (a unit code whose subtree is
// the code range [scope, scope || '999999'], codes being digits only) and the report so far,
// which steps running at once change under mu.
type coverageRun struct {
	tx    pgx.Tx
	scope string
	geom  bool
	sel   coverage.Selection
	b     *coverage.Builder
	mu    sync.Mutex
}

// each scans every row into dst and calls fn with the report locked.
func (r *coverageRun) each(rows pgx.Rows, dst []any, fn func() error) error {
	_, err := pgx.ForEachRow(rows, dst, func() error {
		r.mu.Lock()
		defer r.mu.Unlock()
		return fn()
	})
	return err
}

func (r *coverageRun) want(k coverage.Kind) bool { return r.sel.Has(k) }

// units reads the scope's units with their policies; the scope itself comes first.
func (r *coverageRun) units(ctx context.Context) error {
	rows, err := r.tx.Query(ctx, `
		SELECT u.code, u.name, u.level, coalesce(u.parent_code, ''),
		       p.grid_households_min, p.grid_households_max, p.grid_residents_min, p.grid_residents_max,
		       p.member_households_min, p.member_households_max, p.cadre_members_min, p.cadre_members_max,
		       p.central_members_min, p.secretary_central_min, p.secretary_central_max,
		       p.link_distance_m, p.central_rule
		FROM units u CROSS JOIN LATERAL effective_span_policy(u.code) p
		WHERE u.code BETWEEN $1 AND $1 || '999999'
		ORDER BY length(u.code), u.code`, r.scope)
	if err != nil {
		return classify("coverage: units", err)
	}
	units, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (coverage.Unit, error) {
		var u coverage.Unit
		p := &u.Policy
		err := row.Scan(&u.Code, &u.Name, &u.Level, &u.Parent,
			&p.GridHouseholds[0], &p.GridHouseholds[1], &p.GridResidents[0], &p.GridResidents[1],
			&p.MemberHouseholds[0], &p.MemberHouseholds[1], &p.CadreMembers[0], &p.CadreMembers[1],
			&p.CentralMembersMin, &p.SecretaryCentrals[0], &p.SecretaryCentrals[1],
			&p.LinkDistanceM, &p.CentralRule)
		return u, err
	})
	if err != nil {
		return classify("coverage: units", err)
	}
	if len(units) == 0 || units[0].Code != r.scope {
		return geo.NotFound("unit", r.scope)
	}
	if r.b, err = coverage.NewBuilder(units); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	return nil
}

// grids reads the active grids with their statistics (grid_stats), team and shape, and
// finds the problems of single grids: more than one part, households or residents out of
// band, no branch, no worker, no leader, a branch without party groups.
func (r *coverageRun) grids(ctx context.Context, q pgx.Tx) error {
	rows, err := q.Query(ctx, `
		SELECT g.id, g.code, g.name, g.kind, g.unit_code,
		       coalesce(s.households, 0), coalesce(s.residents, 0), coalesce(s.party_members, 0),
		       coalesce(s.branch_id, 0), coalesce(s.branch, ''), coalesce(s.party_groups, 0),
		       EXISTS (SELECT 1 FROM grid_team t WHERE t.grid_id = g.id AND t.role = 'worker'),
		       EXISTS (SELECT 1 FROM grid_team t WHERE t.grid_id = g.id AND t.role = 'leader'),
		       ST_NumGeometries(g.boundary),
		       coalesce((SELECT sum(c.linked) FROM coverage_grid_units c WHERE c.grid_id = g.id), 0)::int,
		       CASE WHEN $2 THEN ST_AsGeoJSON(g.boundary, 7)::bytea END
		FROM grids g
		LEFT JOIN grid_stats s ON s.grid_id = g.id
		WHERE g.valid_to IS NULL AND g.unit_code BETWEEN $1 AND $1 || '999999'
		ORDER BY g.code`, r.scope, r.geom)
	if err != nil {
		return err
	}
	grids, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*coverage.GridReport, error) {
		var g coverage.GridReport
		var geom []byte
		err := row.Scan(&g.ID, &g.Code, &g.Name, &g.Kind, &g.Unit, &g.Households, &g.Residents, &g.PartyMembers,
			&g.BranchID, &g.BranchName, &g.PartyGroups, &g.Worker, &g.Leader, &g.Parts, &g.LinkedHouseholds, &geom)
		g.Branch = g.BranchID != 0
		g.Geometry = geom
		return &g, err
	})
	if err != nil {
		return err
	}
	for _, g := range grids {
		r.b.AddGrid(g)
		if g.Parts > 1 && r.want(coverage.GridMultipart) {
			r.b.Add(coverage.NewGridMultipart(g.Unit, g.Code, g.Parts, g.Geometry))
		}
		if !g.InHouseholdBand && r.want(coverage.GridHouseholdsBand) {
			r.b.Add(coverage.NewGridHouseholdsBand(g.Unit, g.Code, g.Households, g.HouseholdBand[0], g.HouseholdBand[1], g.Geometry))
		}
		if !g.InResidentBand && r.want(coverage.GridResidentsBand) {
			r.b.Add(coverage.NewGridResidentsBand(g.Unit, g.Code, g.Residents, g.ResidentBand[0], g.ResidentBand[1], g.Geometry))
		}
		if !g.Branch && r.want(coverage.GridNoBranch) {
			r.b.Add(coverage.NewGridNoBranch(g.Unit, g.Code, g.Geometry))
		}
		if !g.Worker && r.want(coverage.GridNoWorker) {
			r.b.Add(coverage.NewGridNoWorker(g.Unit, g.Code, g.Geometry))
		}
		if !g.Leader && r.want(coverage.GridNoLeader) {
			r.b.Add(coverage.NewGridNoLeader(g.Unit, g.Code, g.Geometry))
		}
		if g.Branch && g.PartyGroups == 0 && r.want(coverage.BranchNoGroups) {
			r.b.Add(coverage.NewBranchNoGroups(g.Unit, g.Code, g.BranchID, g.BranchName, g.Geometry))
		}
	}
	return nil
}

// households counts the covered households of each unit (by the household's own unit,
// wherever its grid is) from the per-grid cache.
func (r *coverageRun) households(ctx context.Context, q pgx.Tx) error {
	rows, err := q.Query(ctx, `
		SELECT unit_code, sum(households)::int, sum(residents)::int, sum(linked)::int
		FROM coverage_grid_units
		WHERE unit_code BETWEEN $1 AND $1 || '999999'
		GROUP BY unit_code`, r.scope)
	if err != nil {
		return err
	}
	var unit string
	var n, res, linked int
	err = r.each(rows, []any{&unit, &n, &res, &linked}, func() error {
		c := r.b.Direct(unit)
		c.Households += n
		c.CoveredHouseholds += n
		c.Residents += res
		c.LinkedHouseholds += linked
		return nil
	})
	return err
}

// uncovered finds the households in no active grid (live: they are not cached), one
// problem per unit, and counts them.
func (r *coverageRun) uncovered(ctx context.Context, q pgx.Tx) error {
	rows, err := q.Query(ctx, `
		SELECT h.unit_code, coalesce(sum(h.residents), 0)::int, count(l.household_id)::int,
		       array_agg(h.id ORDER BY h.id), array_agg(h.external_id ORDER BY h.id),
		       CASE WHEN $2 THEN ST_AsGeoJSON(ST_Collect(h.location ORDER BY h.id), 7)::bytea END
		FROM households h
		LEFT JOIN member_household_links l ON l.household_id = h.id
		WHERE h.grid_id IS NULL AND h.unit_code BETWEEN $1 AND $1 || '999999'
		GROUP BY h.unit_code
		ORDER BY h.unit_code`, r.scope, r.geom)
	if err != nil {
		return err
	}
	var unit string
	var res, linked int
	var ids []int64
	var ext []string
	var geom []byte
	err = r.each(rows, []any{&unit, &res, &linked, &ids, &ext, &geom}, func() error {
		if r.sel == nil {
			c := r.b.Direct(unit)
			c.Households += len(ids)
			c.Residents += res
			c.LinkedHouseholds += linked
		}
		name, _ := r.b.Unit(unit)
		r.b.Add(coverage.NewHouseholdNoGrid(unit, name, refs(ids, ext), clone(geom)))
		return nil
	})
	return err
}

// overlaps finds every pair of active grids whose interiors meet, one of them in the scope:
// sibling pairs overlapping by 1 m² or more are overlap problems; the households inside
// any pair's intersection are in more than one grid.
func (r *coverageRun) overlaps(ctx context.Context, q pgx.Tx) error {
	rows, err := q.Query(ctx, `
		SELECT a.code, b.code, a.unit_code, b.unit_code, ST_Area(x.geom::geography),
		       CASE WHEN $2 THEN ST_AsGeoJSON(x.geom, 7)::bytea END,
		       coalesce(hh.ids, '{}'), coalesce(hh.ext, '{}'), coalesce(hh.units, '{}'), hh.geom
		FROM grids a
		JOIN grids b ON b.boundary && a.boundary AND b.id <> a.id AND b.valid_to IS NULL
		CROSS JOIN LATERAL (SELECT ST_CollectionExtract(ST_Intersection(a.boundary, b.boundary), 3) AS geom) x
		CROSS JOIN LATERAL (
		    SELECT array_agg(h.id ORDER BY h.id) AS ids, array_agg(h.external_id ORDER BY h.id) AS ext,
		           array_agg(h.unit_code ORDER BY h.id) AS units,
		           CASE WHEN $2 THEN ST_AsGeoJSON(ST_Collect(h.location ORDER BY h.id), 7)::bytea END AS geom
		    FROM households h
		    WHERE h.location && x.geom AND ST_Intersects(x.geom, h.location)) hh
		WHERE a.valid_to IS NULL AND a.unit_code BETWEEN $1 AND $1 || '999999'
		  AND (b.unit_code NOT BETWEEN $1 AND $1 || '999999' OR a.id < b.id)
		  -- boxes that only touch (neighbours sharing an edge) cannot overlap: skip ST_Relate
		  AND least(ST_XMax(a.boundary), ST_XMax(b.boundary)) > greatest(ST_XMin(a.boundary), ST_XMin(b.boundary))
		  AND least(ST_YMax(a.boundary), ST_YMax(b.boundary)) > greatest(ST_YMin(a.boundary), ST_YMin(b.boundary))
		  AND ST_Relate(a.boundary, b.boundary, '2********')
		ORDER BY a.code, b.code`, r.scope, r.geom)
	if err != nil {
		return err
	}
	var a, b, ua, ub string
	var m2 float64
	var geom, hgeom []byte
	var ids []int64
	var ext, units []string
	multi := map[int64]bool{}
	perGrid := map[string]map[int64]bool{}
	err = r.each(rows, []any{&a, &b, &ua, &ub, &m2, &geom, &ids, &ext, &units, &hgeom}, func() error {
		if ua == ub && m2 >= overlapToleranceM2 {
			r.b.Direct(ua).OverlapAreaM2 += m2
			if r.want(coverage.Overlap) {
				r.b.Add(coverage.NewOverlap(ua, a, b, m2, clone(geom)))
			}
		}
		if len(ids) == 0 {
			return nil
		}
		for i, id := range ids {
			if !multi[id] {
				multi[id] = true
				r.b.Direct(units[i]).MultiGridHouseholds++
			}
			for _, g := range []string{a, b} {
				if perGrid[g] == nil {
					perGrid[g] = map[int64]bool{}
				}
				perGrid[g][id] = true
			}
		}
		if r.want(coverage.HouseholdMultiGrid) {
			r.b.Add(coverage.NewHouseholdMultiGrid(ua, a, b, refs(ids, ext), clone(hgeom)))
		}
		return nil
	})
	r.mu.Lock()
	defer r.mu.Unlock()
	for g, set := range perGrid {
		if gr := r.b.Grid(g); gr != nil {
			gr.MultiGridHouseholds = len(set)
		}
	}
	return err
}

// gaps finds, for each village/community, the parts of its boundary that none of its active
// grids covers (each part of 1 m² or more; slivers are ignored).
func (r *coverageRun) gaps(ctx context.Context, q pgx.Tx) error {
	rows, err := q.Query(ctx, `
		SELECT code, name, m2, CASE WHEN $2 THEN ST_AsGeoJSON(geom, 7)::bytea END
		FROM (
		    SELECT v.code, v.name, d.geom, ST_Area(d.geom::geography) AS m2
		    FROM units v
		    LEFT JOIN LATERAL (SELECT ST_Union(g.boundary) AS geom FROM grids g
		                       WHERE g.unit_code = v.code AND g.valid_to IS NULL) c ON true
		    CROSS JOIN LATERAL ST_Dump(ST_CollectionExtract(
		        CASE WHEN c.geom IS NULL THEN v.boundary ELSE ST_Difference(v.boundary, c.geom) END, 3)) d
		    WHERE v.code BETWEEN $1 AND $1 || '999999' AND length(v.code) = 12
		) x
		WHERE m2 >= $3
		ORDER BY code, m2 DESC`, r.scope, r.geom, gapSliverM2)
	if err != nil {
		return err
	}
	var unit, name string
	var m2 float64
	var geom []byte
	seq := map[string]int{}
	err = r.each(rows, []any{&unit, &name, &m2, &geom}, func() error {
		seq[unit]++
		r.b.Direct(unit).GapAreaM2 += m2
		r.b.Add(coverage.NewGap(unit, name, seq[unit], m2, clone(geom)))
		return nil
	})
	return err
}

// gapSliverM2 is the smallest gap or overhang reported; smaller ones are slivers.
const gapSliverM2 = 1.0

// outside finds the grids reaching outside their unit's boundary by 1 m² or more.
func (r *coverageRun) outside(ctx context.Context, q pgx.Tx) error {
	rows, err := q.Query(ctx, `
		SELECT code, unit_code, name, ST_Area(d::geography), CASE WHEN $2 THEN ST_AsGeoJSON(d, 7)::bytea END
		FROM (
		    SELECT g.code, g.unit_code, u.name,
		           ST_CollectionExtract(ST_Difference(g.boundary, u.boundary), 3) AS d
		    FROM grids g JOIN units u ON u.code = g.unit_code
		    WHERE g.valid_to IS NULL AND g.unit_code BETWEEN $1 AND $1 || '999999'
		      AND NOT ST_CoveredBy(g.boundary, u.boundary)
		    OFFSET 0
		) o
		WHERE ST_Area(d::geography) >= $3
		ORDER BY code`, r.scope, r.geom, gapSliverM2)
	if err != nil {
		return err
	}
	var grid, unit, name string
	var m2 float64
	var geom []byte
	err = r.each(rows, []any{&grid, &unit, &name, &m2, &geom}, func() error {
		r.b.Add(coverage.NewGridOutsideUnit(unit, name, grid, m2, clone(geom)))
		return nil
	})
	return err
}

// unlinked finds the households with no linked party member: in the grids whose cache says
// some are unlinked, and among the households in no grid; one problem per grid (or per unit
// for households in no grid).
func (r *coverageRun) unlinked(ctx context.Context, q pgx.Tx) error {
	rows, err := q.Query(ctx, `
		SELECT h.unit_code, coalesce(g.code, ''), array_agg(h.id ORDER BY h.id), array_agg(h.external_id ORDER BY h.id),
		       CASE WHEN $2 THEN ST_AsGeoJSON(ST_Collect(h.location ORDER BY h.id), 7)::bytea END
		FROM (
		    SELECT h.id, h.unit_code, h.external_id, h.location, h.grid_id
		    FROM coverage_grid_units c
		    JOIN households h ON h.grid_id = c.grid_id AND h.unit_code = c.unit_code
		    WHERE c.unit_code BETWEEN $1 AND $1 || '999999' AND c.linked < c.households
		    UNION ALL
		    SELECT h.id, h.unit_code, h.external_id, h.location, h.grid_id
		    FROM households h
		    WHERE h.grid_id IS NULL AND h.unit_code BETWEEN $1 AND $1 || '999999'
		) h
		LEFT JOIN grids g ON g.id = h.grid_id
		WHERE NOT EXISTS (SELECT 1 FROM member_household_links l WHERE l.household_id = h.id)
		GROUP BY h.unit_code, g.code
		ORDER BY h.unit_code, g.code NULLS FIRST`, r.scope, r.geom)
	if err != nil {
		return err
	}
	var unit, grid string
	var ids []int64
	var ext []string
	var geom []byte
	err = r.each(rows, []any{&unit, &grid, &ids, &ext, &geom}, func() error {
		name, _ := r.b.Unit(unit)
		r.b.Add(coverage.NewHouseholdNoMember(unit, name, grid, refs(ids, ext), clone(geom)))
		return nil
	})
	return err
}

// members counts each party member's linked households (cached per grid, plus the
// households in no grid, live) and finds those outside the span of their unit's policy.
// Members linked to no household (instructors, members away) are counted but not flagged.
// A member's problem names the grids of the member's households.
func (r *coverageRun) members(ctx context.Context, q pgx.Tx) error {
	// A county reads the whole cache once (hash aggregate); a village looks its members up.
	perMember := `LEFT JOIN LATERAL (SELECT sum(c.households)::int AS n, array_agg(c.grid_id) AS grids
		                   FROM coverage_grid_members c WHERE c.member_id = p.id) c ON true`
	if len(r.scope) < 12 {
		perMember = `LEFT JOIN (SELECT c.member_id, sum(c.households)::int AS n, array_agg(c.grid_id) AS grids
		                   FROM coverage_grid_members c GROUP BY c.member_id) c ON c.member_id = p.id`
	}
	rows, err := q.Query(ctx, `
		WITH pol AS (
		    SELECT u.code, p.member_households_min AS lo, p.member_households_max AS hi
		    FROM units u CROSS JOIN LATERAL effective_span_policy(u.code) p
		    WHERE u.code BETWEEN $1 AND $1 || '999999'
		), live AS (
		    SELECT l.member_id, count(*)::int AS n
		    FROM households h
		    JOIN member_household_links l ON l.household_id = h.id
		    WHERE h.grid_id IS NULL
		    GROUP BY l.member_id
		), m AS (
		    SELECT p.id, p.unit_code, p.household_id, coalesce(c.n, 0) + coalesce(live.n, 0) AS n,
		           coalesce(c.grids, '{}') AS grids
		    FROM people p
		    `+perMember+`
		    LEFT JOIN live ON live.member_id = p.id
		    WHERE p.party_member AND p.unit_code BETWEEN $1 AND $1 || '999999'
		)
		SELECT m.id, m.unit_code, m.n, m.grids,
		       CASE WHEN $2 AND m.n > 0 AND m.n NOT BETWEEN pol.lo AND pol.hi
		            THEN (SELECT ST_AsGeoJSON(h.location, 7)::bytea FROM households h WHERE h.id = m.household_id) END
		FROM m JOIN pol ON pol.code = m.unit_code
		ORDER BY m.id`, r.scope, r.geom)
	if err != nil {
		return err
	}
	var id int64
	var unit string
	var n int
	var grids []int64
	var geom []byte
	err = r.each(rows, []any{&id, &unit, &n, &grids, &geom}, func() error {
		c := r.b.Direct(unit)
		c.PartyMembers++
		if n == 0 {
			return nil
		}
		c.LinkingMembers++
		band := r.b.Policy(unit).MemberHouseholds
		if n >= band[0] && n <= band[1] {
			c.MembersWithinSpan++
		} else if r.want(coverage.MemberSpan) {
			r.b.Add(coverage.NewMemberSpan(unit, id, r.gridCodes(grids), n, band[0], band[1], clone(geom)))
		}
		return nil
	})
	return err
}

// gridCodes maps grid ids to the codes of the grids in the report (others are dropped).
func (r *coverageRun) gridCodes(ids []int64) []string {
	var out []string
	for _, id := range ids {
		if g := r.b.GridByID(id); g != nil {
			out = append(out, g.Code)
		}
	}
	return out
}

type home struct {
	grids []string
	geom  []byte
}

// homes returns, for people ids, the grid of their home and (with geometry) its point.
func (r *coverageRun) homes(ctx context.Context, q pgx.Tx, ids []int64) (map[int64]home, error) {
	rows, err := q.Query(ctx, `
		SELECT p.id, g.code, CASE WHEN $2 THEN ST_AsGeoJSON(h.location, 7)::bytea END
		FROM people p
		LEFT JOIN households h ON h.id = p.household_id
		LEFT JOIN grids g ON g.id = h.grid_id
		WHERE p.id = ANY ($1)`, ids, r.geom)
	if err != nil {
		return nil, err
	}
	out := make(map[int64]home, len(ids))
	var id int64
	var grid *string
	var geom []byte
	err = r.each(rows, []any{&id, &grid, &geom}, func() error {
		h := home{geom: clone(geom)}
		if grid != nil {
			h.grids = []string{*grid}
		}
		out[id] = h
		return nil
	})
	return out, err
}

// longLinks finds the links longer than the policy's distance, one problem per member: the
// cached ones, and live those of households or homes in no grid. External ids and lines
// (member's home → household) are read only with geometry.
func (r *coverageRun) longLinks(ctx context.Context, q pgx.Tx) error {
	rows, err := q.Query(ctx, `
		WITH ll AS (
		    SELECT c.member_id, p.unit_code, p.household_id AS home_id, c.household_id, c.grid_id,
		           c.distance_m, c.limit_m
		    FROM coverage_long_links c JOIN people p ON p.id = c.member_id
		    WHERE p.unit_code BETWEEN $1 AND $1 || '999999'
		  UNION ALL
		    SELECT * FROM (
		        SELECT l.member_id, p.unit_code, p.household_id, l.household_id, h.grid_id,
		               ST_Distance(h.location::geography, home.location::geography) AS d, pol.link_distance_m AS lim
		        FROM households h
		        JOIN member_household_links l ON l.household_id = h.id
		        JOIN people p ON p.id = l.member_id
		        JOIN households home ON home.id = p.household_id
		        CROSS JOIN LATERAL effective_span_policy(h.unit_code) pol
		        WHERE h.grid_id IS NULL AND p.unit_code BETWEEN $1 AND $1 || '999999'
		      UNION ALL
		        SELECT l.member_id, p.unit_code, p.household_id, l.household_id, h.grid_id,
		               ST_Distance(h.location::geography, home.location::geography), pol.link_distance_m
		        FROM households home
		        JOIN people p ON p.household_id = home.id AND p.party_member
		        JOIN member_household_links l ON l.member_id = p.id
		        JOIN households h ON h.id = l.household_id
		        JOIN grids g ON g.id = h.grid_id
		        CROSS JOIN LATERAL effective_span_policy(g.unit_code) pol
		        WHERE home.grid_id IS NULL AND p.unit_code BETWEEN $1 AND $1 || '999999'
		    ) live WHERE d > lim
		)
		SELECT member_id, unit_code, max(limit_m),
		       array_agg(household_id ORDER BY distance_m DESC, household_id),
		       array_agg(CASE WHEN $2 THEN (SELECT h.external_id FROM households h WHERE h.id = ll.household_id) ELSE '' END
		                 ORDER BY distance_m DESC, household_id),
		       array_agg(distance_m ORDER BY distance_m DESC, household_id),
		       array_remove(array_agg(DISTINCT grid_id), NULL),
		       ST_AsGeoJSON(ST_Collect(CASE WHEN $2 THEN (
		           SELECT ST_MakeLine(m.location, h.location) FROM households m, households h
		           WHERE m.id = ll.home_id AND h.id = ll.household_id) END
		           ORDER BY distance_m DESC, household_id), 7)::bytea
		FROM ll
		GROUP BY member_id, unit_code
		ORDER BY member_id`, r.scope, r.geom)
	if err != nil {
		return err
	}
	var member int64
	var unit string
	var limit float64
	var ids, grids []int64
	var ext []string
	var dist []float64
	var geom []byte
	err = r.each(rows, []any{&member, &unit, &limit, &ids, &ext, &dist, &grids, &geom}, func() error {
		links := make([]coverage.LinkRef, len(ids))
		for i := range ids {
			links[i] = coverage.LinkRef{Household: ids[i], ExternalID: ext[i], DistanceM: round1(dist[i])}
		}
		r.b.Direct(unit).LongLinks += len(links)
		r.b.Add(coverage.NewLongLink(unit, member, r.gridCodes(grids), links, limit, clone(geom)))
		return nil
	})
	return err
}

// cadres counts each cadre's linked party members against the policy.
func (r *coverageRun) cadres(ctx context.Context, q pgx.Tx) error {
	rows, err := q.Query(ctx, `
		SELECT c.id, c.unit_code, (SELECT count(*) FROM cadre_member_links l WHERE l.cadre_id = c.id)::int
		FROM people c
		WHERE c.cadre AND c.unit_code BETWEEN $1 AND $1 || '999999'
		ORDER BY c.id`, r.scope)
	if err != nil {
		return err
	}
	type off struct {
		id        int64
		unit      string
		n, lo, hi int
	}
	var bad []off
	var id int64
	var unit string
	var n int
	err = r.each(rows, []any{&id, &unit, &n}, func() error {
		c := r.b.Direct(unit)
		c.Cadres++
		band := r.b.Policy(unit).CadreMembers
		if n >= band[0] && n <= band[1] {
			c.CadresWithinSpan++
		} else {
			bad = append(bad, off{id, unit, n, band[0], band[1]})
		}
		return nil
	})
	if err != nil || len(bad) == 0 {
		return err
	}
	ids := make([]int64, len(bad))
	for i, c := range bad {
		ids[i] = c.id
	}
	homes, err := r.homes(ctx, q, ids)
	if err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, c := range bad {
		p := coverage.NewCadreSpan(c.unit, c.id, c.n, c.lo, c.hi, homes[c.id].geom)
		p.Props.Grids = homes[c.id].grids
		r.b.Add(p)
	}
	return nil
}

// centrals counts each central household's linked party members against the policy's
// minimum (the unit is its keeper's, who lives there; the grid its branch's).
func (r *coverageRun) centrals(ctx context.Context, q pgx.Tx) error {
	rows, err := q.Query(ctx, `
		SELECT ch.id, k.unit_code, ch.household_id,
		       CASE WHEN $2 THEN (SELECT h.external_id FROM households h WHERE h.id = ch.household_id) ELSE '' END,
		       ch.person_id, b.grid_id,
		       (SELECT count(*) FROM central_member_links l WHERE l.central_household_id = ch.id)::int,
		       CASE WHEN $2 THEN (SELECT ST_AsGeoJSON(h.location, 7)::bytea FROM households h WHERE h.id = ch.household_id) END
		FROM central_households ch
		JOIN people k ON k.id = ch.person_id
		LEFT JOIN branches b ON b.id = ch.branch_id
		WHERE k.unit_code BETWEEN $1 AND $1 || '999999'
		ORDER BY ch.id`, r.scope, r.geom)
	if err != nil {
		return err
	}
	var id, keeper int64
	var hh coverage.HouseholdRef
	var unit string
	var grid *int64
	var n int
	var geom []byte
	err = r.each(rows, []any{&id, &unit, &hh.ID, &hh.ExternalID, &keeper, &grid, &n, &geom}, func() error {
		c := r.b.Direct(unit)
		c.Centrals++
		lo := r.b.Policy(unit).CentralMembersMin
		if n >= lo {
			c.CentralsWithinSpan++
			return nil
		}
		var grids []string
		if grid != nil {
			grids = r.gridCodes([]int64{*grid})
		}
		r.b.Add(coverage.NewCentralSpan(unit, id, hh, keeper, grids, n, lo, clone(geom)))
		return nil
	})
	return err
}

// secretaries counts the central households each active branch's secretary guides against
// the policy (the unit is the branch's grid's).
func (r *coverageRun) secretaries(ctx context.Context, q pgx.Tx) error {
	rows, err := q.Query(ctx, `
		SELECT b.id, g.code, g.unit_code, b.secretary_id,
		       (SELECT count(*) FROM central_households ch WHERE ch.branch_id = b.id)::int,
		       CASE WHEN $2 THEN coalesce(
		           (SELECT ST_AsGeoJSON(h.location, 7) FROM people p JOIN households h ON h.id = p.household_id
		            WHERE p.id = b.secretary_id),
		           ST_AsGeoJSON(ST_PointOnSurface(g.boundary), 7))::bytea END
		FROM branches b
		JOIN grids g ON g.id = b.grid_id
		WHERE b.valid_to IS NULL AND g.valid_to IS NULL AND b.secretary_id IS NOT NULL
		  AND g.unit_code BETWEEN $1 AND $1 || '999999'
		ORDER BY g.code, b.id`, r.scope, r.geom)
	if err != nil {
		return err
	}
	var branch, secretary int64
	var grid, unit string
	var n int
	var geom []byte
	err = r.each(rows, []any{&branch, &grid, &unit, &secretary, &n, &geom}, func() error {
		c := r.b.Direct(unit)
		c.Secretaries++
		band := r.b.Policy(unit).SecretaryCentrals
		if n >= band[0] && n <= band[1] {
			c.SecretariesInSpan++
			return nil
		}
		r.b.Add(coverage.NewSecretarySpan(unit, grid, branch, secretary, n, band[0], band[1], clone(geom)))
		return nil
	})
	return err
}

// refs pairs household ids with their external ids.
func refs(ids []int64, ext []string) []coverage.HouseholdRef {
	out := make([]coverage.HouseholdRef, len(ids))
	for i := range ids {
		out[i] = coverage.HouseholdRef{ID: ids[i], ExternalID: ext[i]}
	}
	return out
}

// clone copies a scanned byte slice (pgx reuses its buffers between rows).
func clone(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append([]byte(nil), b...)
}

func round1(f float64) float64 { return math.Round(f*10) / 10 }
