package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// actorKey carries who acts in a request's context, for the audit trail.
type actorKey struct{}

// WithActor returns ctx naming actor ("user:alice", "token:7") as the author of the writes
// made under it; the audit trail records it.
func WithActor(ctx context.Context, actor string) context.Context {
	return context.WithValue(ctx, actorKey{}, actor)
}

// Actor is the actor named in ctx, or "system" (command line, background jobs).
func Actor(ctx context.Context) string {
	if a, ok := ctx.Value(actorKey{}).(string); ok && a != "" {
		return a
	}
	return "system"
}

// pendingAuditKey carries a request's pending audit entry in its context.
type pendingAuditKey struct{}

// PendingAudit is the audit entry a request expects its write to record. A write of the
// people and organisation tables records it in its own transaction and sets Written, so
// the entry commits or rolls back with the write; the caller records an entry that no
// write took (Written still false) itself.
type PendingAudit struct {
	Entry   AuditEntry
	Written bool
}

// WithPendingAudit returns ctx carrying p for the writes made under it.
func WithPendingAudit(ctx context.Context, p *PendingAudit) context.Context {
	return context.WithValue(ctx, pendingAuditKey{}, p)
}

// auditPending records the pending audit entry of ctx, if any and not yet written, in tx.
func auditPending(ctx context.Context, tx pgx.Tx) error {
	p, ok := ctx.Value(pendingAuditKey{}).(*PendingAudit)
	if !ok || p.Written {
		return nil
	}
	if err := audit(ctx, tx, p.Entry); err != nil {
		return err
	}
	p.Written = true
	return nil
}

// AuditEntry is one write in the audit trail: who, when, what, and the state before and
// after (grids include their geometry as GeoJSON).
type AuditEntry struct {
	ID       int64           `json:"id"`
	At       time.Time       `json:"at"`
	Actor    string          `json:"actor"`
	Action   string          `json:"action"`
	Entity   string          `json:"entity"`
	EntityID string          `json:"entity_id"`
	Unit     string          `json:"unit,omitempty"`
	Before   json.RawMessage `json:"before,omitempty"`
	After    json.RawMessage `json:"after,omitempty"`
}

// audit records e in the transaction tx (the actor comes from ctx unless e names one), so
// the entry commits or rolls back with the write it describes.
func audit(ctx context.Context, tx pgx.Tx, e AuditEntry) error {
	if e.Actor == "" {
		e.Actor = Actor(ctx)
	}
	var unit *string
	if e.Unit != "" {
		unit = &e.Unit
	}
	_, err := tx.Exec(ctx, `
		INSERT INTO audit_log (actor, action, entity, entity_id, unit, before, after)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		e.Actor, e.Action, e.Entity, e.EntityID, unit, nullJSON(e.Before), nullJSON(e.After))
	if err != nil {
		return fmt.Errorf("record audit entry: %w", err)
	}
	return nil
}

// Audit records e on its own, for writes whose own transaction lies outside the store's
// reach (the API records them after they succeed).
func (s *Store) Audit(ctx context.Context, e AuditEntry) error {
	return s.tx(ctx, "record audit entry", func(tx pgx.Tx) error { return audit(ctx, tx, e) })
}

func nullJSON(b json.RawMessage) any {
	if len(b) == 0 {
		return nil
	}
	return string(b)
}

// AuditFilter selects audit entries: a unit's subtree (entries without a unit only when
// Unit is empty), since a time, newest first, a page before an id.
type AuditFilter struct {
	Unit   string
	Since  time.Time
	Before int64
	Limit  int
}

// AuditLog lists audit entries, newest first; more says whether an older page follows.
func (s *Store) AuditLog(ctx context.Context, f AuditFilter) (entries []AuditEntry, more bool, err error) {
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 100
	}
	var q whereBuilder
	if f.Unit != "" {
		u := q.arg(f.Unit)
		q.where("a.unit LIKE " + u + " || '%'")
	}
	if !f.Since.IsZero() {
		q.where("a.at >= " + q.arg(f.Since))
	}
	if f.Before > 0 {
		q.where("a.id < " + q.arg(f.Before))
	}
	sql := `SELECT a.id, a.at, a.actor, a.action, a.entity, a.entity_id, coalesce(a.unit, ''), a.before::text, a.after::text
		FROM audit_log a` + q.sql() + ` ORDER BY a.id DESC LIMIT ` + q.arg(f.Limit+1)
	rows, err := s.pool.Query(ctx, sql, q.args...)
	if err != nil {
		return nil, false, classify("list audit entries", err)
	}
	defer rows.Close()
	for rows.Next() {
		var e AuditEntry
		var before, after *string
		if err := rows.Scan(&e.ID, &e.At, &e.Actor, &e.Action, &e.Entity, &e.EntityID, &e.Unit, &before, &after); err != nil {
			return nil, false, classify("scan audit entry", err)
		}
		if before != nil {
			e.Before = json.RawMessage(*before)
		}
		if after != nil {
			e.After = json.RawMessage(*after)
		}
		entries = append(entries, e)
	}
	if err := rows.Err(); err != nil {
		return nil, false, classify("list audit entries", err)
	}
	if len(entries) > f.Limit {
		return entries[:f.Limit], true, nil
	}
	return entries, false, nil
}

// gridSnapshot is a grid's state as the audit trail keeps it, geometry included.
func gridSnapshot(ctx context.Context, tx pgx.Tx, id int64) (json.RawMessage, error) {
	var b []byte
	err := tx.QueryRow(ctx, `
		SELECT jsonb_build_object('code', code, 'name', name, 'kind', kind, 'unit', unit_code, 'version', version,
		       'valid_to', valid_to, 'geometry', ST_AsGeoJSON(boundary, 7)::jsonb)::text
		FROM grids WHERE id = $1`, id).Scan(&b)
	if err != nil {
		return nil, fmt.Errorf("snapshot grid %d: %w", id, err)
	}
	return b, nil
}
