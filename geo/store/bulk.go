package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// bulkLoad is a large import on its bulk path: households locked exclusively, its
// secondary indexes, unique and foreign-key constraints and per-statement insert triggers
// set aside. New households are copied straight in; rows whose (unit, external id) the
// table already held (their keys are read before the unique index goes) are copied into a
// staging table and update the old rows at the end, which keep their ids. finish puts
// everything back; a rollback at any point restores the table as it was (DDL is
// transactional).
type bulkLoad struct {
	restore  []string            // statements that put the table back, in order
	existing map[string]struct{} // unit + "/" + external id of every household before the import
	copied   int                 // rows copied into households
	staged   int                 // rows copied into the staging table
	direct   []placed            // scratch: a batch's new households
	update   []placed            // scratch: a batch's known households
}

// householdKey is how bulkLoad.existing names a household.
func householdKey(unit, externalID string) string { return unit + "/" + externalID }

// bulkInsertTriggers are the per-statement insert triggers of households that a bulk load
// sets aside: they place households that come without a grid and refresh statistics,
// which the bulk load does itself (rows come placed; statistics and the change notice
// follow the import). Their transition tables would hold a copy of every row.
func bulkInsertTriggers() []string {
	return []string{"households_place_inserted_trg", "households_changed_ins"}
}

// bulkLockWait is how long a bulk load waits for readers to let go of households before
// it stays on the small path.
const bulkLockWait = "5s"

// startBulk takes households for a bulk load. It answers nil (and no error) when the lock
// could not be had within bulkLockWait.
func startBulk(ctx context.Context, tx pgx.Tx) (*bulkLoad, error) {
	if _, err := tx.Exec(ctx, `SAVEPOINT bulk_lock`); err != nil {
		return nil, classify("import households: savepoint", err)
	}
	_, err := tx.Exec(ctx, `SET LOCAL lock_timeout = '`+bulkLockWait+`'`)
	if err == nil {
		_, err = tx.Exec(ctx, `LOCK TABLE households IN ACCESS EXCLUSIVE MODE`)
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "55P03" { // lock_not_available
		if _, err := tx.Exec(ctx, `ROLLBACK TO SAVEPOINT bulk_lock`); err != nil {
			return nil, classify("import households: rollback to savepoint", err)
		}
		return nil, nil
	}
	if err != nil {
		return nil, classify("import households: lock households", err)
	}
	for _, q := range []string{`RELEASE SAVEPOINT bulk_lock`, `SET LOCAL lock_timeout TO DEFAULT`,
		`SET LOCAL maintenance_work_mem = '256MB'`} {
		if _, err := tx.Exec(ctx, q); err != nil {
			return nil, classify("import households: "+q, err)
		}
	}

	// What to set aside, read from the catalogue so that an index or constraint added by a
	// later migration is rebuilt too: unique constraints, then plain indexes, then foreign
	// keys (rebuilt in that order). The primary key stays: other tables refer to it.
	rows, err := tx.Query(ctx, `
		SELECT format('ALTER TABLE households DROP CONSTRAINT %I', c.conname),
		       format('ALTER TABLE households ADD CONSTRAINT %I %s', c.conname, pg_get_constraintdef(c.oid)),
		       CASE c.contype WHEN 'u' THEN 0 ELSE 2 END
		FROM pg_constraint c
		WHERE c.conrelid = 'households'::regclass AND c.contype IN ('u', 'f')
		UNION ALL
		SELECT format('DROP INDEX %s', i.indexrelid::regclass), pg_get_indexdef(i.indexrelid), 1
		FROM pg_index i
		WHERE i.indrelid = 'households'::regclass AND NOT i.indisprimary
		  AND NOT EXISTS (SELECT FROM pg_constraint c WHERE c.conindid = i.indexrelid AND c.conrelid = i.indrelid)
		ORDER BY 3, 1`)
	if err != nil {
		return nil, classify("import households: read indexes", err)
	}
	type item struct {
		Drop, Create string
		Order        int32
	}
	items, err := pgx.CollectRows(rows, pgx.RowToStructByPos[item])
	if err != nil {
		return nil, classify("import households: read indexes", err)
	}
	bk := &bulkLoad{}
	if bk.existing, err = householdKeys(ctx, tx); err != nil {
		return nil, err
	}
	for _, it := range items {
		if _, err := tx.Exec(ctx, it.Drop); err != nil {
			return nil, classify("import households: "+it.Drop, err)
		}
		bk.restore = append(bk.restore, it.Create)
	}
	for _, t := range bulkInsertTriggers() {
		id := pgx.Identifier{t}.Sanitize()
		if _, err := tx.Exec(ctx, `ALTER TABLE households DISABLE TRIGGER `+id); err != nil {
			return nil, classify("import households: disable trigger "+t, err)
		}
		bk.restore = append(bk.restore, `ALTER TABLE households ENABLE TRIGGER `+id)
	}
	if err := createStaging(ctx, tx, "import_existing"); err != nil {
		return nil, err
	}
	return bk, nil
}

// householdKeys reads the key of every household (a bulk load's table holds at most four
// times the rows of the file).
func householdKeys(ctx context.Context, tx pgx.Tx) (map[string]struct{}, error) {
	rows, err := tx.Query(ctx, `SELECT unit_code, external_id FROM households`)
	if err != nil {
		return nil, classify("import households: read keys", err)
	}
	defer rows.Close()
	keys := map[string]struct{}{}
	for rows.Next() {
		raw := rows.RawValues()
		keys[householdKey(string(raw[0]), string(raw[1]))] = struct{}{}
	}
	if err := rows.Err(); err != nil {
		return nil, classify("import households: read keys", err)
	}
	return keys, nil
}

// copy writes the new households of a batch straight into households and the known ones
// into the staging table, noting the grids and box of the new ones.
func (bk *bulkLoad) copy(ctx context.Context, tx pgx.Tx, rows []placed, grids map[int64]struct{}, box *bbox) error {
	bk.direct, bk.update = bk.direct[:0], bk.update[:0]
	for i := range rows {
		r := &rows[i]
		if _, ok := bk.existing[householdKey(r.UnitCode, r.ExternalID)]; ok {
			bk.update = append(bk.update, *r)
			continue
		}
		bk.direct = append(bk.direct, *r)
		if r.Grid != 0 {
			grids[r.Grid] = struct{}{}
		}
		box.add(r.Lon, r.Lat)
	}
	if len(bk.direct) > 0 {
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"households"}, householdColumns, copyRows(bk.direct)); err != nil {
			return classify("import households: copy", err)
		}
	}
	if len(bk.update) > 0 {
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"import_existing"}, householdColumns, copyRows(bk.update)); err != nil {
			return classify("import households: copy known households", err)
		}
	}
	bk.copied += len(bk.direct)
	bk.staged += len(bk.update)
	return nil
}

// finish updates the known households that changed (a moved one is placed again by its
// trigger), then rebuilds what startBulk set aside; the rebuilt unique constraint proves
// that no household came twice.
func (bk *bulkLoad) finish(ctx context.Context, tx pgx.Tx) (batchStats, error) {
	st := batchStats{box: emptyBox(), inserted: bk.copied}
	// Statistics for the join below and for the queries after the commit.
	if _, err := tx.Exec(ctx, `ANALYZE households`); err != nil {
		return st, classify("import households: analyze", err)
	}
	if bk.staged > 0 {
		if _, err := tx.Exec(ctx, `ANALYZE import_existing`); err != nil {
			return st, classify("import households: analyze staging", err)
		}
		var matched int
		var minX, minY, maxX, maxY *float64
		err := tx.QueryRow(ctx, `
			WITH m AS MATERIALIZED (
			    SELECT h.id, h.grid_id AS old_grid, h.location AS old_location,
			           s.location, s.address, s.head_name, s.head_phone, s.residents, s.party,
			           (h.location, h.address, h.head_name, h.head_phone, h.residents, h.party) IS DISTINCT FROM
			           (s.location, s.address, s.head_name, s.head_phone, s.residents, s.party) AS changed
			    FROM import_existing s JOIN households h USING (unit_code, external_id)
			), upd AS (
			    UPDATE households h SET location = m.location, address = m.address, head_name = m.head_name,
			           head_phone = m.head_phone, residents = m.residents, party = m.party, updated_at = now()
			    FROM m WHERE h.id = m.id AND m.changed
			    RETURNING h.grid_id, h.location
			)
			SELECT (SELECT count(*) FROM m), (SELECT count(*) FROM upd),
			       (SELECT coalesce(array_agg(DISTINCT g), '{}') FROM
			            (SELECT old_grid FROM m WHERE changed UNION SELECT grid_id FROM upd) x(g) WHERE g IS NOT NULL),
			       ST_XMin(e.box), ST_YMin(e.box), ST_XMax(e.box), ST_YMax(e.box)
			FROM (SELECT ST_Extent(l) AS box FROM
			          (SELECT old_location FROM m WHERE changed UNION ALL SELECT location FROM upd) y(l)) e`).
			Scan(&matched, &st.updated, &st.grids, &minX, &minY, &maxX, &maxY)
		if err != nil {
			return st, classify("import households: update known households", err)
		}
		if matched != bk.staged {
			return st, fmt.Errorf("store: import households: %d known households staged, %d found", bk.staged, matched)
		}
		if minX != nil {
			st.box = bbox{*minX, *minY, *maxX, *maxY}
		}
	}
	for _, q := range bk.restore {
		if _, err := tx.Exec(ctx, q); err != nil {
			return st, classify(fmt.Sprintf("import households: rebuild (%s)", q), err)
		}
	}
	return st, nil
}
