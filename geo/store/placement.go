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
	units *locate.Index    // villages and communities, keyed by their code as a number
	grids *locate.Index    // active grids
	known map[string]bool  // codes of villages and communities
	codes map[int64]string // unit key → code
	fixed string           // the import's unit parameter, or ""
}

// loadPlacement reads villages, communities and active grids in tx.
func loadPlacement(ctx context.Context, tx pgx.Tx, unit string) (*placement, error) {
	pl := &placement{known: map[string]bool{}, codes: map[int64]string{}, fixed: unit}
	rows, err := tx.Query(ctx, `SELECT code, ST_AsBinary(boundary) FROM units WHERE level IN ('village', 'community')`)
	if err != nil {
		return nil, classify("import households: load units", err)
	}
	var entries []locate.Entry
	var code string
	var area orb.MultiPolygon
	_, err = pgx.ForEachRow(rows, []any{&code, wkb.Scanner(&area)}, func() error {
		key, err := strconv.ParseInt(code, 10, 64)
		if err != nil || len(code) != 12 {
			return fmt.Errorf("unit code %q is not 12 digits", code)
		}
		pl.known[code], pl.codes[key] = true, code
		entries = append(entries, locate.Entry{ID: key, Geometry: area})
		area = nil
		return nil
	})
	if err != nil {
		return nil, classify("import households: load units", err)
	}
	if pl.units, err = locate.New(entries); err != nil {
		return nil, fmt.Errorf("store: import households: index units: %w", err)
	}

	rows, err = tx.Query(ctx, `SELECT id, ST_AsBinary(boundary) FROM grids WHERE valid_to IS NULL`)
	if err != nil {
		return nil, classify("import households: load grids", err)
	}
	entries = entries[:0]
	var id int64
	_, err = pgx.ForEachRow(rows, []any{&id, wkb.Scanner(&area)}, func() error {
		entries = append(entries, locate.Entry{ID: id, Geometry: area})
		area = nil
		return nil
	})
	if err != nil {
		return nil, classify("import households: load grids", err)
	}
	if pl.grids, err = locate.New(entries); err != nil {
		return nil, fmt.Errorf("store: import households: index grids: %w", err)
	}
	return pl, nil
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
		case !pl.known[r.Unit]:
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
