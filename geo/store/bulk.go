package store

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/paulmach/orb"
)

// bulkLoad is a large import on its bulk path: households locked exclusively, its
// secondary indexes and unique constraints set aside, and — when the role may (superuser,
// or GRANT SET ON PARAMETER session_replication_role) — the per-row triggers (foreign-key
// checks, the per-statement insert triggers) skipped while rows are copied, the foreign keys
// of the copied rows then checked in one query; otherwise the foreign keys stay live and
// only the two insert triggers are set aside. Foreign keys are never dropped: that would
// lock units and grids exclusively. New households are copied straight in; rows whose
// (unit, external id) the table already held (their keys are read before the unique index
// goes) are copied into a staging table that updates the old rows at the end, which keep
// their ids. finish puts everything back; a rollback at any point restores the table as it
// was (DDL is transactional).
type bulkLoad struct {
	firstID  int64               // every row copied in has an id ≥ firstID
	replica  bool                // per-row triggers are skipped while copying
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

// bulkForeignKeys are the foreign keys of households that a bulk load checks itself for
// the rows it copies; a table with other foreign keys keeps them all live.
func bulkForeignKeys() []string {
	return []string{"households_grid_id_fkey", "households_unit_code_fkey"}
}

// bulkLockWait is how long a bulk load waits for readers to let go of households before
// it stays on the small path.
const bulkLockWait = "5s"

// savepoint runs q inside a savepoint. If it fails with one of the codes, the savepoint is
// rolled back and ok is false; other errors are returned.
func savepoint(ctx context.Context, tx pgx.Tx, q string, codes ...string) (ok bool, err error) {
	if _, err := tx.Exec(ctx, `SAVEPOINT bulk_try`); err != nil {
		return false, classify("import households: savepoint", err)
	}
	_, err = tx.Exec(ctx, q)
	var pe *pgconn.PgError
	if errors.As(err, &pe) && slices.Contains(codes, pe.Code) {
		if _, err := tx.Exec(ctx, `ROLLBACK TO SAVEPOINT bulk_try`); err != nil {
			return false, classify("import households: rollback to savepoint", err)
		}
		return false, nil
	}
	if err != nil {
		return false, classify("import households: "+q, err)
	}
	if _, err := tx.Exec(ctx, `RELEASE SAVEPOINT bulk_try`); err != nil {
		return false, classify("import households: release savepoint", err)
	}
	return true, nil
}

// startBulk takes households for a bulk load. It answers nil (and no error) when the lock
// could not be had within bulkLockWait (readers hold the table, or a deadlock).
func startBulk(ctx context.Context, tx pgx.Tx) (*bulkLoad, error) {
	var wait string
	if err := tx.QueryRow(ctx, `SELECT current_setting('lock_timeout')`).Scan(&wait); err != nil {
		return nil, classify("import households: lock timeout", err)
	}
	if _, err := tx.Exec(ctx, `SELECT set_config('lock_timeout', $1, true)`, bulkLockWait); err != nil {
		return nil, classify("import households: lock timeout", err)
	}
	locked, err := savepoint(ctx, tx, `LOCK TABLE households IN ACCESS EXCLUSIVE MODE`,
		"55P03", "40P01") // lock_not_available, deadlock_detected
	if err != nil {
		return nil, err
	}
	if _, err := tx.Exec(ctx, `SELECT set_config('lock_timeout', $1, true)`, wait); err != nil {
		return nil, classify("import households: lock timeout", err)
	}
	if !locked {
		return nil, nil
	}
	// Index rebuilds of a large table may take longer than an ordinary statement may.
	for _, q := range []string{`SET LOCAL maintenance_work_mem = '256MB'`, `SET LOCAL statement_timeout = '30min'`} {
		if _, err := tx.Exec(ctx, q); err != nil {
			return nil, classify("import households: "+q, err)
		}
	}

	bk := &bulkLoad{}
	var fks []string
	if err := tx.QueryRow(ctx, `SELECT coalesce(array_agg(conname::text ORDER BY conname), '{}') FROM pg_constraint
		WHERE conrelid = 'households'::regclass AND contype = 'f'`).Scan(&fks); err != nil {
		return nil, classify("import households: read foreign keys", err)
	}
	if slices.Equal(fks, bulkForeignKeys()) {
		if bk.replica, err = savepoint(ctx, tx, `SET LOCAL session_replication_role = replica`,
			"42501"); err != nil { // insufficient_privilege
			return nil, err
		}
	}

	// What to set aside, read from the catalogue so that an index added by a later
	// migration is rebuilt too: unique constraints, then plain indexes (dropped in the
	// reverse order). The primary key stays: other tables refer to it.
	rows, err := tx.Query(ctx, `
		SELECT format('ALTER TABLE households DROP CONSTRAINT %I', c.conname),
		       format('ALTER TABLE households ADD CONSTRAINT %I %s', c.conname, pg_get_constraintdef(c.oid)), 0
		FROM pg_constraint c
		WHERE c.conrelid = 'households'::regclass AND c.contype = 'u'
		UNION ALL
		SELECT format('DROP INDEX %s', i.indexrelid::regclass), pg_get_indexdef(i.indexrelid), 1
		FROM pg_index i
		WHERE i.indrelid = 'households'::regclass AND NOT i.indisprimary
		  AND NOT EXISTS (SELECT FROM pg_constraint c WHERE c.conindid = i.indexrelid AND c.conrelid = i.indrelid)
		ORDER BY 3 DESC, 1`)
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
	if bk.existing, err = householdKeys(ctx, tx); err != nil {
		return nil, err
	}
	for _, it := range items {
		if _, err := tx.Exec(ctx, it.Drop); err != nil {
			return nil, classify("import households: "+it.Drop, err)
		}
		bk.restore = append([]string{it.Create}, bk.restore...)
	}
	if !bk.replica {
		var enabled []string
		if err := tx.QueryRow(ctx, `SELECT coalesce(array_agg(tgname::text), '{}') FROM pg_trigger
			WHERE tgrelid = 'households'::regclass AND tgname = ANY ($1) AND tgenabled = 'O'`,
			bulkInsertTriggers()).Scan(&enabled); err != nil {
			return nil, classify("import households: read triggers", err)
		}
		for _, t := range enabled {
			id := pgx.Identifier{t}.Sanitize()
			if _, err := tx.Exec(ctx, `ALTER TABLE households DISABLE TRIGGER `+id); err != nil {
				return nil, classify("import households: disable trigger "+t, err)
			}
			bk.restore = append(bk.restore, `ALTER TABLE households ENABLE TRIGGER `+id)
		}
	}
	if err := createStaging(ctx, tx, "import_existing"); err != nil {
		return nil, err
	}
	if err := tx.QueryRow(ctx, `SELECT nextval(pg_get_serial_sequence('households', 'id'))`).Scan(&bk.firstID); err != nil {
		return nil, classify("import households: id watermark", err)
	}
	return bk, nil
}

// householdKeys reads the key of every household (a bulk load's table holds about four
// times the rows of the file at most, by its size estimate).
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
// into the staging table, adding the new ones to done.
func (bk *bulkLoad) copy(ctx context.Context, tx pgx.Tx, rows []placed, done *importTotals) error {
	bk.direct, bk.update = bk.direct[:0], bk.update[:0]
	for i := range rows {
		r := &rows[i]
		if _, ok := bk.existing[householdKey(r.UnitCode, r.ExternalID)]; ok {
			bk.update = append(bk.update, *r)
			continue
		}
		bk.direct = append(bk.direct, *r)
		if r.Grid != 0 {
			done.grids[r.Grid] = struct{}{}
		}
		done.box = done.box.Extend(orb.Point{r.Lon, r.Lat})
	}
	if len(bk.direct) > 0 {
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"households"}, householdColumns(), copyRows(bk.direct)); err != nil {
			return classify("import households: copy", err)
		}
	}
	if len(bk.update) > 0 {
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"import_existing"}, householdColumns(), copyRows(bk.update)); err != nil {
			return classify("import households: copy known households", err)
		}
	}
	bk.copied += len(bk.direct)
	bk.staged += len(bk.update)
	return nil
}

// finish checks the copied rows' foreign keys (when they were skipped), rebuilds what
// startBulk set aside and updates the known households that changed (a moved one is placed
// again by its trigger).
func (bk *bulkLoad) finish(ctx context.Context, tx pgx.Tx) (batchStats, error) {
	st := batchStats{box: noBound(), inserted: bk.copied}
	if bk.replica {
		if _, err := tx.Exec(ctx, `SET LOCAL session_replication_role = origin`); err != nil {
			return st, classify("import households: end replica mode", err)
		}
		// The foreign-key checks skipped while copying, for the copied rows at once (units
		// and grids are locked SHARE, so what was placed still exists).
		var orphans int
		if err := tx.QueryRow(ctx, `
			SELECT count(*) FROM households h
			WHERE h.id >= $1
			  AND (NOT EXISTS (SELECT FROM units u WHERE u.code = h.unit_code)
			       OR h.grid_id IS NOT NULL AND NOT EXISTS (SELECT FROM grids g WHERE g.id = h.grid_id))`,
			bk.firstID).Scan(&orphans); err != nil {
			return st, classify("import households: check foreign keys", err)
		}
		if orphans > 0 {
			return st, fmt.Errorf("store: import households: %d copied households refer to no unit or grid", orphans)
		}
	}
	for _, q := range bk.restore {
		if _, err := tx.Exec(ctx, q); err != nil {
			return st, classify(fmt.Sprintf("import households: rebuild (%s)", q), err)
		}
	}
	// Statistics for the join below (and every query after the commit), with the
	// expression indexes back.
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
			st.box = orb.Bound{Min: orb.Point{*minX, *minY}, Max: orb.Point{*maxX, *maxY}}
		}
	}
	return st, nil
}
