package store

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"

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
	// SizeHint is the file's size in bytes when known (0 when not); a large file takes the
	// bulk path from its first row instead of from the row that crosses BulkRows.
	SizeHint int64
	// BulkRows is how many rows make an import a bulk load (0: DefaultBulkRows). An import
	// also needs at least a quarter as many rows as the table holds to be one.
	BulkRows int
}

// DefaultBulkRows is the size from which an import writes straight into households with
// their secondary indexes and constraints rebuilt at the end (see ImportHouseholds).
const DefaultBulkRows = 100000

// ImportResult counts what an import did.
type ImportResult struct {
	Inserted  int           `json:"inserted"`
	Updated   int           `json:"updated"`
	Unchanged int           `json:"unchanged"`
	Skipped   int           `json:"skipped"`
	Report    ingest.Report `json:"report"`
	// Bulk says that the import took the bulk path (households were locked while it ran).
	Bulk bool `json:"bulk"`
}

// ImportHouseholds upserts households by (unit, external id) in one transaction.
//
// Units and grids are locked against edits (SHARE) and indexed in memory first; the parser
// goroutine then finds each row's village or community (given, or by point in polygon)
// and its grid with the same answers as SQL (placement.go), while the database works on
// the batch before.
//
// Small imports copy each batch into a staging table and upsert it with one statement
// (moved households are placed again by their trigger). An import of at least
// opts.BulkRows rows and a quarter of the table is a bulk load: it takes households
// exclusively (readers wait until the commit; if the lock is not granted within 5 s the
// import stays on the small path), reads the keys of the households it holds, sets the
// secondary indexes and unique constraints aside (and the per-row triggers and foreign-key
// checks while copying, when the role may; see bulkLoad), copies the new households of the
// rest of the file straight in and the known ones into a staging table that updates the
// old rows (which keep their ids), and rebuilds and checks everything before the commit.
// Units and grids stay readable throughout. Either way
// the statistics of the grids touched are refreshed and one change is notified.
//
// Rows that the parser or the placement finds bad go into the report. Unless
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
	if opts.BulkRows <= 0 {
		opts.BulkRows = DefaultBulkRows
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
	// Placement in memory holds only while units and grids cannot change.
	for _, set := range []string{`SET LOCAL gridmap.bulk = 'on'`, `SET LOCAL jit = off`,
		`LOCK TABLE units, grids IN SHARE MODE`} {
		if _, err := tx.Exec(ctx, set); err != nil {
			return res, classify("import households: "+set, err)
		}
	}
	pl, err := loadPlacement(ctx, tx, opts.Unit)
	if err != nil {
		return res, err
	}
	var existing float64
	if err := tx.QueryRow(ctx, `SELECT greatest(reltuples, 0) FROM pg_class WHERE oid = 'households'::regclass`).Scan(&existing); err != nil {
		return res, classify("import households: table size", err)
	}

	// The parser runs ahead in its own goroutine while the database works on the batch
	// before: parsing and PostgreSQL then use a core each.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	batches := make(chan importBatch, 1)
	go produceBatches(ctx, src, pl, batches)
	defer func() {
		// Locks go first (a failed import must not hold households while the parser stops),
		// then the parser must be done with the request body before we return.
		tx.Rollback(context.Background())
		cancel()
		for range batches {
		}
	}()

	var (
		unitReport ingest.Report
		rows       int // good rows read so far
		done       = importTotals{grids: map[int64]struct{}{}, box: noBound()}
		bulk       *bulkLoad
		triedBulk  bool
		staged     bool
		expected   = int(opts.SizeHint / 200) // a GeoJSON household is ~185 bytes
		bulkFrom   = max(opts.BulkRows, int(existing/4))
	)
	for b := range batches {
		for _, p := range b.bad {
			unitReport.Add(p.Line, p.Field, p.Reason)
		}
		rows += len(b.rows)
		if !opts.SkipInvalid && (b.parserBad > 0 || unitReport.BadRows > 0) {
			continue // the file will be refused: read on only to report every bad row
		}
		if !triedBulk && max(rows, expected) >= bulkFrom {
			triedBulk = true
			if bulk, err = startBulk(ctx, tx); err != nil {
				return res, err
			}
		}
		if bulk != nil {
			if err := bulk.copy(ctx, tx, b.rows, &done); err != nil {
				return res, err
			}
			continue
		}
		if !staged {
			if err := createStaging(ctx, tx, "import_households"); err != nil {
				return res, err
			}
			staged = true
		}
		st, err := upsertBatch(ctx, tx, b.rows)
		if err != nil {
			return res, err
		}
		done.add(st)
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
	if bulk != nil {
		st, err := bulk.finish(ctx, tx)
		if err != nil {
			return res, err
		}
		done.add(st)
		res.Bulk = true
	}
	res.Inserted, res.Updated = done.inserted, done.updated
	res.Unchanged = rows - res.Inserted - res.Updated
	res.Skipped = res.Report.BadRows

	if _, err := tx.Exec(ctx, `SET LOCAL gridmap.bulk = 'off'`); err != nil {
		return res, classify("import households: end bulk mode", err)
	}
	if len(done.grids) > 0 {
		ids := make([]int64, 0, len(done.grids))
		for g := range done.grids {
			ids = append(ids, g)
		}
		if _, err := tx.Exec(ctx, `SELECT refresh_grid_stats($1)`, ids); err != nil {
			return res, classify("import households: grid statistics", err)
		}
	}
	if !done.box.IsEmpty() {
		if _, err := tx.Exec(ctx, `SELECT notify_change(ST_MakeBox2D(ST_Point($1, $2), ST_Point($3, $4)))`,
			done.box.Min[0], done.box.Min[1], done.box.Max[0], done.box.Max[1]); err != nil {
			return res, classify("import households: notify", err)
		}
	}
	after, _ := json.Marshal(map[string]any{"inserted": res.Inserted, "updated": res.Updated, "unchanged": res.Unchanged,
		"skipped": res.Skipped, "bulk": res.Bulk})
	if err := audit(ctx, tx, AuditEntry{Action: "import", Entity: "households", EntityID: opts.Unit, Unit: opts.Unit, After: after}); err != nil {
		return res, classify("import households", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return res, classify("import households: commit", err)
	}
	if res.Inserted > 10000 && !res.Bulk {
		// Best effort, the import is committed: autovacuum would analyze the table soon too.
		s.pool.Exec(context.WithoutCancel(ctx), `ANALYZE households`)
	}
	return res, nil
}

// importBatchSize is how many rows go to the database at a time.
const importBatchSize = 50000

// importBatch is a batch of placed rows, the rows that could not be placed, and the
// parser's count of bad rows so far.
type importBatch struct {
	rows      []placed
	bad       []ingest.Problem
	parserBad int
}

// produceBatches runs the parser and places its rows, sending batches until the file
// ends or ctx is done; it closes out when it has stopped reading.
func produceBatches(ctx context.Context, src HouseholdSource, pl *placement, out chan<- importBatch) {
	defer close(out)
	b := importBatch{rows: make([]placed, 0, importBatchSize)}
	n := 0
	for src.Next() {
		r := src.Row()
		if p, field, reason, ok := pl.place(r); ok {
			b.rows = append(b.rows, p)
		} else {
			b.bad = append(b.bad, ingest.Problem{Line: r.Line, Field: field, Reason: reason})
		}
		n++
		if n%1024 == 0 && ctx.Err() != nil {
			return
		}
		if n == importBatchSize {
			b.parserBad = src.Report().BadRows
			select {
			case out <- b:
			case <-ctx.Done():
				return
			}
			b, n = importBatch{rows: make([]placed, 0, importBatchSize)}, 0
		}
	}
	if src.Err() != nil {
		return
	}
	b.parserBad = src.Report().BadRows
	select {
	case out <- b:
	case <-ctx.Done():
	}
}

// noBound is the empty lon/lat box (Extend and Union start from it).
func noBound() orb.Bound {
	return orb.Bound{Min: orb.Point{math.Inf(1), math.Inf(1)}, Max: orb.Point{math.Inf(-1), math.Inf(-1)}}
}

// batchStats is what a batch (or the end of a bulk load) did: households inserted and
// updated, the grids they left or joined, and the box of the changed points.
type batchStats struct {
	inserted, updated int
	grids             []int64
	box               orb.Bound
}

// importTotals adds up what the batches of an import did.
type importTotals struct {
	inserted, updated int
	grids             map[int64]struct{}
	box               orb.Bound
}

func (t *importTotals) add(st batchStats) {
	t.inserted += st.inserted
	t.updated += st.updated
	for _, g := range st.grids {
		t.grids[g] = struct{}{}
	}
	t.box = t.box.Union(st.box)
}

// householdColumns are the columns an import writes, in copy order.
func householdColumns() []string {
	return []string{"unit_code", "external_id", "location", "address", "head_name", "head_phone", "residents", "party", "grid_id"}
}

// copyRows feeds placed rows to CopyFrom in householdColumns order.
func copyRows(rows []placed) pgx.CopyFromSource {
	vals := make([]any, len(householdColumns()))
	return pgx.CopyFromSlice(len(rows), func(i int) ([]any, error) {
		r := &rows[i]
		var grid any
		if r.Grid != 0 {
			grid = r.Grid
		}
		vals[0], vals[1], vals[2], vals[3], vals[4] = r.UnitCode, r.ExternalID, pointEWKB(r.Lon, r.Lat), r.Address, nullIfEmpty(r.HeadName)
		vals[5], vals[6], vals[7], vals[8] = nullIfEmpty(r.HeadPhone), int32(r.Residents), r.Party, grid
		return vals, nil
	})
}

// createStaging makes a staging table for householdColumns, dropped at the commit.
func createStaging(ctx context.Context, tx pgx.Tx, name string) error {
	_, err := tx.Exec(ctx, `
		CREATE TEMP TABLE `+pgx.Identifier{name}.Sanitize()+` (
		    unit_code   text NOT NULL,
		    external_id text NOT NULL,
		    location    geometry(Point, 4326) NOT NULL,
		    address     text NOT NULL,
		    head_name   text,
		    head_phone  text,
		    residents   integer NOT NULL,
		    party       boolean NOT NULL,
		    grid_id     bigint
		) ON COMMIT DROP`)
	return classify("import households: staging table", err)
}

// upsertBatch copies placed rows into the staging table and upserts them.
func upsertBatch(ctx context.Context, tx pgx.Tx, rows []placed) (batchStats, error) {
	st := batchStats{box: noBound()}
	if _, err := tx.Exec(ctx, `TRUNCATE import_households`); err != nil {
		return st, classify("import households: empty staging", err)
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"import_households"}, householdColumns(), copyRows(rows)); err != nil {
		return st, classify("import households: copy", err)
	}
	// The CTEs all see the households as they were before the statement, so "old" holds
	// the grids and places that updated rows leave. New households come with their grid;
	// moved ones are placed again by their trigger.
	var minX, minY, maxX, maxY *float64
	err := tx.QueryRow(ctx, `
		WITH old AS (
		    -- The households the batch changes, as they were. LIMIT 1 keeps this a probe of
		    -- the unique index per row: a join would scan every household for every batch.
		    SELECT o.grid_id, o.location
		    FROM import_households r CROSS JOIN LATERAL (
		        SELECT h.grid_id, h.location FROM households h
		        WHERE h.unit_code = r.unit_code AND h.external_id = r.external_id
		          AND (h.location, h.address, h.head_name, h.head_phone, h.residents, h.party) IS DISTINCT FROM
		              (r.location, r.address, r.head_name, r.head_phone, r.residents, r.party)
		        LIMIT 1) o
		), ins AS (
		    INSERT INTO households AS h (unit_code, external_id, location, address, head_name, head_phone,
		                                 residents, party, grid_id)
		    SELECT unit_code, external_id, location, address, head_name, head_phone, residents, party, grid_id
		    FROM import_households
		    ON CONFLICT (unit_code, external_id) DO UPDATE SET
		        location = EXCLUDED.location, address = EXCLUDED.address, head_name = EXCLUDED.head_name,
		        head_phone = EXCLUDED.head_phone, residents = EXCLUDED.residents, party = EXCLUDED.party,
		        updated_at = now()
		    WHERE (h.location, h.address, h.head_name, h.head_phone, h.residents, h.party) IS DISTINCT FROM
		          (EXCLUDED.location, EXCLUDED.address, EXCLUDED.head_name, EXCLUDED.head_phone,
		           EXCLUDED.residents, EXCLUDED.party)
		    RETURNING h.xmax = 0 AS inserted, h.grid_id, h.location
		)
		SELECT (SELECT count(*) FILTER (WHERE inserted) FROM ins),
		       (SELECT count(*) FILTER (WHERE NOT inserted) FROM ins),
		       (SELECT coalesce(array_agg(DISTINCT g), '{}') FROM
		            (SELECT grid_id FROM ins UNION SELECT grid_id FROM old) x(g) WHERE g IS NOT NULL),
		       ST_XMin(e.box), ST_YMin(e.box), ST_XMax(e.box), ST_YMax(e.box)
		FROM (SELECT ST_Extent(l) AS box FROM
		          (SELECT location FROM ins UNION ALL SELECT location FROM old) y(l)) e`).
		Scan(&st.inserted, &st.updated, &st.grids, &minX, &minY, &maxX, &maxY)
	if err != nil {
		return st, classify("import households: upsert", err)
	}
	if minX != nil {
		st.box = orb.Bound{Min: orb.Point{*minX, *minY}, Max: orb.Point{*maxX, *maxY}}
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
