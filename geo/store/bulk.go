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
// set aside, rows copied straight in. finish folds duplicates of old rows into them and
// puts everything back; a rollback at any point restores the table as it was (DDL is
// transactional).
type bulkLoad struct {
	firstID int64    // every row copied in has an id ≥ firstID; every older row a lower one
	restore []string // statements that put the table back, in order
	copied  int
	units   map[string]struct{} // units the copied rows belong to
}

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
	bk := &bulkLoad{units: map[string]struct{}{}}
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
	if err := tx.QueryRow(ctx, `SELECT nextval(pg_get_serial_sequence('households', 'id'))`).Scan(&bk.firstID); err != nil {
		return nil, classify("import households: id watermark", err)
	}
	return bk, nil
}

// copy writes placed rows straight into households, noting their grids and box.
func (bk *bulkLoad) copy(ctx context.Context, tx pgx.Tx, rows []placed, grids map[int64]struct{}, box *bbox) error {
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"households"}, householdColumns, copyRows(rows)); err != nil {
		return classify("import households: copy", err)
	}
	bk.copied += len(rows)
	for i := range rows {
		r := &rows[i]
		if r.Grid != 0 {
			grids[r.Grid] = struct{}{}
		}
		box.add(r.Lon, r.Lat)
		bk.units[r.UnitCode] = struct{}{}
	}
	return nil
}

// finish folds copied rows whose (unit, external id) already existed into the old rows
// (updating those that differ; the copies go), then rebuilds what startBulk set aside.
// The rebuilt unique constraint is the proof that no duplicate is left.
func (bk *bulkLoad) finish(ctx context.Context, tx pgx.Tx) (batchStats, error) {
	st := batchStats{box: emptyBox()}
	units := make([]string, 0, len(bk.units))
	for u := range bk.units {
		units = append(units, u)
	}
	// Statistics first: the planner would otherwise take the copied rows for the few the
	// table held and hash the wrong side of the join below; the commit needs none after.
	if _, err := tx.Exec(ctx, `ANALYZE households`); err != nil {
		return st, classify("import households: analyze", err)
	}
	var matched int
	var minX, minY, maxX, maxY *float64
	// Without the unique index the pairs are found by one hash join of the copied rows
	// against the older rows of their units. The old row keeps its id (people and links
	// point at it); a moved one is placed again by its trigger.
	err := tx.QueryRow(ctx, `
		WITH pair AS MATERIALIZED (
		    SELECT o.id AS old_id, n.id AS new_id, o.grid_id AS old_grid, o.location AS old_location,
		           n.location, n.address, n.head_name, n.head_phone, n.residents, n.party,
		           (o.location, o.address, o.head_name, o.head_phone, o.residents, o.party) IS DISTINCT FROM
		           (n.location, n.address, n.head_name, n.head_phone, n.residents, n.party) AS changed
		    FROM households n JOIN households o USING (unit_code, external_id)
		    WHERE n.id >= $1 AND o.id < $1 AND o.unit_code = ANY ($2)
		), upd AS (
		    UPDATE households h SET location = p.location, address = p.address, head_name = p.head_name,
		           head_phone = p.head_phone, residents = p.residents, party = p.party, updated_at = now()
		    FROM pair p WHERE h.id = p.old_id AND p.changed
		    RETURNING h.grid_id
		), del AS (
		    DELETE FROM households h USING pair p WHERE h.id = p.new_id
		)
		SELECT (SELECT count(*) FROM pair), (SELECT count(*) FROM pair WHERE changed),
		       (SELECT coalesce(array_agg(DISTINCT g), '{}') FROM
		            (SELECT old_grid FROM pair WHERE changed UNION SELECT grid_id FROM upd) x(g) WHERE g IS NOT NULL),
		       ST_XMin(e.box), ST_YMin(e.box), ST_XMax(e.box), ST_YMax(e.box)
		FROM (SELECT ST_Extent(old_location) AS box FROM pair WHERE changed) e`, bk.firstID, units).
		Scan(&matched, &st.updated, &st.grids, &minX, &minY, &maxX, &maxY)
	if err != nil {
		return st, classify("import households: fold existing rows", err)
	}
	if minX != nil {
		st.box = bbox{*minX, *minY, *maxX, *maxY}
	}
	st.inserted = bk.copied - matched
	for _, q := range bk.restore {
		if _, err := tx.Exec(ctx, q); err != nil {
			return st, classify(fmt.Sprintf("import households: rebuild (%s)", q), err)
		}
	}
	return st, nil
}
