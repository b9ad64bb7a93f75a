package store

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"

	"github.com/jackc/pgx/v5"

	"gridmap/geo"
	"gridmap/geo/ingest"
)

// HouseholdSource streams parsed households; *ingest.Parser is one.
type HouseholdSource interface {
	Next() bool
	Row() ingest.Row
	Err() error
	Report() *ingest.Report
}

// ImportOptions tune ImportHouseholds.
type ImportOptions struct {
	// Unit is the 12-digit village/community every household belongs to; "" places each
	// household in the village or community whose boundary contains it (or the unit its
	// row names).
	Unit string
	// SkipInvalid loads the good rows of a file with bad ones; otherwise a bad row rejects
	// the whole file.
	SkipInvalid bool
}

// ImportResult counts what an import did.
type ImportResult struct {
	Inserted  int           `json:"inserted"`
	Updated   int           `json:"updated"`
	Unchanged int           `json:"unchanged"`
	Skipped   int           `json:"skipped"`
	Report    ingest.Report `json:"report"`
}

// ImportHouseholds upserts households by (unit, external id) in one transaction. Batches of
// rows go by COPY into a staging table; one statement per batch finds the unit of each row
// (given, or by point in polygon), inserts new households with their grid by point in
// polygon (grid_at) and updates the rows that changed (moved households are placed again by
// their trigger); at the end the statistics of the grids touched are refreshed and one
// change is notified. The parser runs ahead of the database in a goroutine.
//
// Rows that the parser or the unit lookup finds bad go into the report. Unless
// opts.SkipInvalid, any bad row rolls everything back and the error is a *geo.InputError
// with code "invalid_rows" whose details hold the report ("rows", "bad_rows"). A malformed
// file (src.Err) rolls back too and is returned as it is.
func (s *Store) ImportHouseholds(ctx context.Context, src HouseholdSource, opts ImportOptions) (ImportResult, error) {
	var res ImportResult
	if opts.Unit != "" {
		if d, err := geo.LevelOfCode("unit", opts.Unit); err != nil {
			return res, err
		} else if d != 12 {
			return res, geo.Invalid("unit", fmt.Sprintf("households belong to a village or community (12 digits), not %q", opts.Unit))
		}
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return res, classify("import households: begin", err)
	}
	defer tx.Rollback(context.Background())

	if opts.Unit != "" {
		var level string
		err := tx.QueryRow(ctx, `SELECT level FROM units WHERE code = $1`, opts.Unit).Scan(&level)
		if errors.Is(err, pgx.ErrNoRows) || err == nil && level != "village" && level != "community" {
			return res, geo.Invalid("unit", fmt.Sprintf("no village or community has code %s", opts.Unit))
		}
		if err != nil {
			return res, classify("import households: look up unit", err)
		}
	}
	// Per-statement statistics refreshes wait for the end of the import (002_tiles.sql).
	// The upsert's estimated cost is high enough to trigger JIT compilation, which costs
	// more than a second and saves nothing here.
	for _, set := range []string{`SET LOCAL gridmap.bulk = 'on'`, `SET LOCAL jit = off`} {
		if _, err := tx.Exec(ctx, set); err != nil {
			return res, classify("import households: "+set, err)
		}
	}
	if _, err := tx.Exec(ctx, `
		CREATE TEMP TABLE import_households (
		    line        integer NOT NULL,
		    external_id text NOT NULL,
		    unit_code   text,
		    location    geometry(Point, 4326) NOT NULL,
		    address     text NOT NULL,
		    head_name   text,
		    head_phone  text,
		    residents   integer NOT NULL,
		    party       boolean NOT NULL
		) ON COMMIT DROP`); err != nil {
		return res, classify("import households: staging table", err)
	}
	// The parser runs ahead in its own goroutine while the database works on the batch
	// before: parsing and PostgreSQL then use a core each.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	batches := make(chan importBatch, 1)
	go produceBatches(ctx, src, batches)
	defer func() {
		cancel()
		for range batches { // the parser must be done with the request body before we return
		}
	}()

	var (
		unitReport             ingest.Report
		good, inserted, update int
		grids                  = make(map[int64]struct{})
		box                    = [4]float64{math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)}
	)
	for b := range batches {
		load := opts.SkipInvalid || b.bad == 0 && unitReport.BadRows == 0
		st, err := s.importBatch(ctx, tx, b.rows, opts.Unit, load)
		if err != nil {
			return res, err
		}
		good += st.good
		inserted += st.inserted
		update += st.updated
		for i, line := range st.badLines {
			switch {
			case st.badGiven[i] == "":
				unitReport.Add(int(line), "location", "the point lies in no village or community")
			case opts.Unit != "":
				unitReport.Add(int(line), "unit", fmt.Sprintf("unit %s differs from the unit parameter %s", st.badGiven[i], opts.Unit))
			default:
				unitReport.Add(int(line), "unit", fmt.Sprintf("no village or community has code %s", st.badGiven[i]))
			}
		}
		unitReport.BadRows += st.noUnit - len(st.badLines)
		for _, g := range st.grids {
			grids[g] = struct{}{}
		}
		if st.minX != nil {
			box = [4]float64{min(box[0], *st.minX), min(box[1], *st.minY), max(box[2], *st.maxX), max(box[3], *st.maxY)}
		}
	}
	if err := src.Err(); err != nil { // a malformed file (or a body cut short)
		return res, err
	}
	if err := ctx.Err(); err != nil {
		return res, classify("import households", err)
	}
	res.Report = *src.Report()
	for _, p := range unitReport.Rows {
		res.Report.Add(p.Line, p.Field, p.Reason)
	}
	res.Report.BadRows += unitReport.BadRows - len(unitReport.Rows)
	res.Report.Sort()
	if res.Report.Rows == nil {
		res.Report.Rows = []ingest.Problem{}
	}
	if !opts.SkipInvalid && res.Report.BadRows > 0 {
		return ImportResult{}, &geo.InputError{
			Code:    "invalid_rows",
			Field:   "file",
			Reason:  fmt.Sprintf("%d bad rows; nothing was imported (skip_invalid=true loads the good rows)", res.Report.BadRows),
			Details: map[string]any{"rows": res.Report.Rows, "bad_rows": res.Report.BadRows},
		}
	}
	res.Inserted, res.Updated = inserted, update
	res.Unchanged = good - inserted - update
	res.Skipped = res.Report.BadRows

	if _, err := tx.Exec(ctx, `SET LOCAL gridmap.bulk = 'off'`); err != nil {
		return res, classify("import households: end bulk mode", err)
	}
	if len(grids) > 0 {
		ids := make([]int64, 0, len(grids))
		for g := range grids {
			ids = append(ids, g)
		}
		if _, err := tx.Exec(ctx, `SELECT refresh_grid_stats($1)`, ids); err != nil {
			return res, classify("import households: grid statistics", err)
		}
	}
	if box[0] <= box[2] {
		if _, err := tx.Exec(ctx, `SELECT notify_change(ST_MakeBox2D(ST_Point($1, $2), ST_Point($3, $4)))`,
			box[0], box[1], box[2], box[3]); err != nil {
			return res, classify("import households: notify", err)
		}
	}
	after, _ := json.Marshal(map[string]int{"inserted": res.Inserted, "updated": res.Updated, "unchanged": res.Unchanged, "skipped": res.Skipped})
	if err := audit(ctx, tx, AuditEntry{Action: "import", Entity: "households", EntityID: opts.Unit, Unit: opts.Unit, After: after}); err != nil {
		return res, classify("import households", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return res, classify("import households: commit", err)
	}
	if inserted > 10000 {
		if _, err := s.pool.Exec(ctx, `ANALYZE households`); err != nil {
			return res, classify("import households: analyze", err)
		}
	}
	return res, nil
}

// importBatchSize is how many rows go to the database at a time.
const importBatchSize = 50000

// importBatch is a batch of parsed rows, with the parser's count of bad rows so far.
type importBatch struct {
	rows []ingest.Row
	bad  int
}

// produceBatches runs the parser, sending batches until the file ends or ctx is done; it
// closes out when it has stopped reading.
func produceBatches(ctx context.Context, src HouseholdSource, out chan<- importBatch) {
	defer close(out)
	rows := make([]ingest.Row, 0, importBatchSize)
	for src.Next() {
		rows = append(rows, src.Row())
		if len(rows)%1024 == 0 && ctx.Err() != nil {
			return
		}
		if len(rows) == importBatchSize {
			select {
			case out <- importBatch{rows, src.Report().BadRows}:
			case <-ctx.Done():
				return
			}
			rows = make([]ingest.Row, 0, importBatchSize)
		}
	}
	if src.Err() != nil {
		return
	}
	select {
	case out <- importBatch{rows, src.Report().BadRows}:
	case <-ctx.Done():
	}
}

// batchStats is what one batch did.
type batchStats struct {
	good, inserted, updated, noUnit int
	badLines                        []int32
	badGiven                        []string
	grids                           []int64
	minX, minY, maxX, maxY          *float64
}

// importBatch copies rows into the staging table and, when load, upserts them.
func (s *Store) importBatch(ctx context.Context, tx pgx.Tx, rows []ingest.Row, unit string, load bool) (batchStats, error) {
	var st batchStats
	if _, err := tx.Exec(ctx, `TRUNCATE import_households`); err != nil {
		return st, classify("import households: empty staging", err)
	}
	vals := make([]any, 9)
	_, err := tx.CopyFrom(ctx, pgx.Identifier{"import_households"},
		[]string{"line", "external_id", "unit_code", "location", "address", "head_name", "head_phone", "residents", "party"},
		pgx.CopyFromSlice(len(rows), func(i int) ([]any, error) {
			r := &rows[i]
			vals[0], vals[1], vals[2], vals[3], vals[4] = int32(r.Line), r.ExternalID, nullIfEmpty(r.Unit), pointEWKB(r.Lon, r.Lat), r.Address
			vals[5], vals[6], vals[7], vals[8] = nullIfEmpty(r.HeadName), nullIfEmpty(r.HeadPhone), int32(r.Residents), r.Party
			return vals, nil
		}))
	if err != nil {
		return st, classify("import households: copy", err)
	}
	// One statement resolves units, upserts and gathers what the rest needs. Its CTEs all
	// see the households as they were before it, so "old" holds the grids and places that
	// updated rows leave.
	// The grid of a new household is grid_at(location) written out (min(id) is its ORDER BY
	// id LIMIT 1), so that it is planned once; moved households are placed by their trigger.
	err = tx.QueryRow(ctx, `
		WITH r AS MATERIALIZED (
		    SELECT s.line, s.external_id, s.location, s.address, s.head_name, s.head_phone, s.residents, s.party,
		           s.unit_code AS given,
		           CASE
		               WHEN s.unit_code IS NOT NULL THEN
		                   (SELECT u.code FROM units u
		                    WHERE u.code = s.unit_code AND u.level IN ('village', 'community')
		                      AND ($1 = '' OR u.code = $1))
		               WHEN $1 <> '' THEN $1
		               ELSE (SELECT min(u.code) FROM units u
		                     WHERE u.level IN ('village', 'community')
		                       AND u.boundary && s.location AND ST_Intersects(u.boundary, s.location))
		           END AS unit
		    FROM import_households s
		), old AS (
		    -- LIMIT 1 keeps this a probe of the unique index per row: a join would scan
		    -- every household for every batch.
		    SELECT o.grid_id, o.location
		    FROM r CROSS JOIN LATERAL (
		        SELECT h.grid_id, h.location FROM households h
		        WHERE h.unit_code = r.unit AND h.external_id = r.external_id LIMIT 1) o
		    WHERE $2 AND r.unit IS NOT NULL
		), ins AS (
		    INSERT INTO households AS h (unit_code, external_id, location, address, head_name, head_phone,
		                                 residents, party, grid_id)
		    SELECT r.unit, r.external_id, r.location, r.address, r.head_name, r.head_phone, r.residents, r.party,
		           (SELECT min(g.id) FROM grids g
		            WHERE g.valid_to IS NULL AND g.boundary && r.location AND ST_Intersects(g.boundary, r.location))
		    FROM r WHERE r.unit IS NOT NULL AND $2
		    ON CONFLICT (unit_code, external_id) DO UPDATE SET
		        location = EXCLUDED.location, address = EXCLUDED.address, head_name = EXCLUDED.head_name,
		        head_phone = EXCLUDED.head_phone, residents = EXCLUDED.residents, party = EXCLUDED.party,
		        updated_at = now()
		    WHERE (h.location, h.address, h.head_name, h.head_phone, h.residents, h.party) IS DISTINCT FROM
		          (EXCLUDED.location, EXCLUDED.address, EXCLUDED.head_name, EXCLUDED.head_phone,
		           EXCLUDED.residents, EXCLUDED.party)
		    RETURNING h.xmax = 0 AS inserted, h.grid_id, h.location
		), bad AS (
		    SELECT line, coalesce(given, '') AS given FROM r WHERE unit IS NULL ORDER BY line LIMIT 100
		)
		SELECT (SELECT count(*) FROM r WHERE unit IS NOT NULL),
		       (SELECT count(*) FILTER (WHERE inserted) FROM ins),
		       (SELECT count(*) FILTER (WHERE NOT inserted) FROM ins),
		       (SELECT count(*) FROM r WHERE unit IS NULL),
		       (SELECT coalesce(array_agg(line ORDER BY line), '{}') FROM bad),
		       (SELECT coalesce(array_agg(given ORDER BY line), '{}') FROM bad),
		       (SELECT coalesce(array_agg(DISTINCT g), '{}') FROM
		            (SELECT grid_id FROM ins UNION SELECT grid_id FROM old) x(g) WHERE g IS NOT NULL),
		       ST_XMin(e.box), ST_YMin(e.box), ST_XMax(e.box), ST_YMax(e.box)
		FROM (SELECT ST_Extent(l) AS box FROM
		          (SELECT location FROM ins UNION ALL SELECT location FROM old) y(l)) e`,
		unit, load).
		Scan(&st.good, &st.inserted, &st.updated, &st.noUnit, &st.badLines, &st.badGiven, &st.grids,
			&st.minX, &st.minY, &st.maxX, &st.maxY)
	if err != nil {
		return st, classify("import households: upsert", err)
	}
	return st, nil
}

func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// pointEWKB encodes a WGS84 point as little-endian EWKB with SRID 4326 (as geo/demo does).
func pointEWKB(lon, lat float64) []byte {
	b := make([]byte, 25)
	b[0] = 1
	binary.LittleEndian.PutUint32(b[1:], 1|0x20000000)
	binary.LittleEndian.PutUint32(b[5:], 4326)
	binary.LittleEndian.PutUint64(b[9:], math.Float64bits(lon))
	binary.LittleEndian.PutUint64(b[17:], math.Float64bits(lat))
	return b
}
