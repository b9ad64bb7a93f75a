package store

import (
	"context"
	"fmt"
	"strconv"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkb"

	"gridmap/geo/ingest"
	"gridmap/geo/locate"
)

// placement finds the village or community and the grid of a household point in memory,
// with the same answers as SQL: the lowest unit code among the villages and communities
// whose boundary intersects the point (inside or on the edge), and grid_at (the lowest id
// among the active grids that intersect it). It is loaded inside the import's transaction
// after units and grids are locked against edits, so it stays true until the commit.
type placement struct {
	units *locate.Index    // villages and communities, keyed by their 12-digit code as a number
	codes map[int64]string // unit key → code, so that placing a row allocates nothing
	grids *locate.Index    // active grids
	fixed string           // the import's unit parameter, or ""
}

// loadPlacement reads villages, communities and active grids in tx.
func loadPlacement(ctx context.Context, tx pgx.Tx, unit string) (*placement, error) {
	units, keys, err := loadIndex(ctx, tx, "units",
		`SELECT code::bigint, ST_AsBinary(boundary) FROM units WHERE level IN ('village', 'community')`)
	if err != nil {
		return nil, err
	}
	grids, _, err := loadIndex(ctx, tx, "grids", `SELECT id, ST_AsBinary(boundary) FROM grids WHERE valid_to IS NULL`)
	if err != nil {
		return nil, err
	}
	codes := make(map[int64]string, len(keys))
	for _, k := range keys {
		codes[k] = fmt.Sprintf("%012d", k)
	}
	return &placement{units: units, codes: codes, grids: grids, fixed: unit}, nil
}

// loadIndex indexes the (id, WKB area) rows of query, answering the ids too.
func loadIndex(ctx context.Context, tx pgx.Tx, what, query string) (*locate.Index, []int64, error) {
	rows, err := tx.Query(ctx, query)
	if err != nil {
		return nil, nil, classify("import households: load "+what, err)
	}
	var entries []locate.Entry
	var ids []int64
	var id int64
	var area orb.MultiPolygon
	_, err = pgx.ForEachRow(rows, []any{&id, wkb.Scanner(&area)}, func() error {
		entries = append(entries, locate.Entry{ID: id, Geometry: area})
		ids = append(ids, id)
		area = nil
		return nil
	})
	if err != nil {
		return nil, nil, classify("import households: load "+what, err)
	}
	ix, err := locate.New(entries)
	if err != nil {
		return nil, nil, fmt.Errorf("store: import households: index %s: %w", what, err)
	}
	return ix, ids, nil
}

// unitKey is the index key of a village or community code (12 digits), or -1.
func unitKey(code string) int64 {
	if len(code) != 12 {
		return -1
	}
	k, err := strconv.ParseInt(code, 10, 64)
	if err != nil || k < 0 {
		return -1
	}
	return k
}

// placed is a household row with its unit and grid (0 when no active grid holds it).
type placed struct {
	ingest.Row
	UnitCode string
	Grid     int64
}

// place finds the unit and grid of r. A row that cannot be placed comes back with ok false
// and the field and reason for the report.
func (pl *placement) place(r ingest.Row) (p placed, field, reason string, ok bool) {
	p.Row = r
	pt := orb.Point{r.Lon, r.Lat}
	switch {
	case r.Unit != "":
		switch {
		case pl.fixed != "" && r.Unit != pl.fixed:
			return p, "unit", fmt.Sprintf("unit %s differs from the unit parameter %s", r.Unit, pl.fixed), false
		case pl.codes[unitKey(r.Unit)] != r.Unit:
			return p, "unit", fmt.Sprintf("no village or community has code %s", r.Unit), false
		}
		p.UnitCode = r.Unit
	case pl.fixed != "":
		p.UnitCode = pl.fixed
	default:
		key, found := pl.units.Primary(pt)
		if !found {
			return p, "location", "the point lies in no village or community", false
		}
		p.UnitCode = pl.codes[key]
	}
	p.Grid, _ = pl.grids.Primary(pt)
	return p, "", "", true
}
