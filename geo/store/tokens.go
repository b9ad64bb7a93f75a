package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"gridmap/geo"
)

// APIToken is an API token's record; the token itself is never stored, only its digest.
type APIToken struct {
	ID          int64      `json:"id"`
	Name        string     `json:"name"`
	Role        string     `json:"role"`
	Units       []string   `json:"units"`
	ReadOnly    bool       `json:"read_only"`
	SeePersonal bool       `json:"see_personal"`
	CreatedBy   string     `json:"created_by"`
	CreatedAt   time.Time  `json:"created_at"`
	RevokedAt   *time.Time `json:"revoked_at"`
	LastUsed    *time.Time `json:"last_used"`
}

// NewAPIToken is what CreateToken stores.
type NewAPIToken struct {
	Hash        []byte
	Name        string
	Role        string
	Units       []string
	ReadOnly    bool
	SeePersonal bool
}

const tokenColumns = `t.id, t.name, t.role, t.units, t.read_only, t.see_personal, t.created_by, t.created_at, t.revoked_at, t.last_used`

func scanToken(row pgx.Row) (*APIToken, error) {
	var t APIToken
	err := row.Scan(&t.ID, &t.Name, &t.Role, &t.Units, &t.ReadOnly, &t.SeePersonal, &t.CreatedBy, &t.CreatedAt, &t.RevokedAt, &t.LastUsed)
	return &t, err
}

// CreateToken stores a token's digest and scope; the creator is the context's actor.
func (s *Store) CreateToken(ctx context.Context, in NewAPIToken) (*APIToken, error) {
	if in.Units == nil {
		in.Units = []string{}
	}
	var out *APIToken
	err := s.tx(ctx, "create token", func(tx pgx.Tx) error {
		for _, code := range in.Units {
			var exists bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM units WHERE code = $1) OR EXISTS (SELECT 1 FROM grids WHERE code = $1)`, code).Scan(&exists); err != nil {
				return fmt.Errorf("look up unit: %w", err)
			}
			if !exists {
				return geo.Invalid("unit", fmt.Sprintf("no unit or grid %q", code))
			}
		}
		var err error
		out, err = scanToken(tx.QueryRow(ctx, `
			INSERT INTO api_tokens AS t (hash, name, role, units, read_only, see_personal, created_by)
			VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING `+tokenColumns,
			in.Hash, in.Name, in.Role, in.Units, in.ReadOnly, in.SeePersonal, Actor(ctx)))
		if err != nil {
			return fmt.Errorf("insert token: %w", err)
		}
		after, _ := json.Marshal(out)
		unit := ""
		if len(in.Units) == 1 {
			unit = in.Units[0]
		}
		return audit(ctx, tx, AuditEntry{Action: "create", Entity: "token", EntityID: fmt.Sprint(out.ID), Unit: unit, After: after})
	})
	return out, err
}

// TokenByHash returns the live (not revoked) token with that digest, or geo.ErrNotFound.
// It notes the use at most once a minute.
func (s *Store) TokenByHash(ctx context.Context, hash []byte) (*APIToken, error) {
	t, err := scanToken(s.pool.QueryRow(ctx, `
		WITH used AS (
			UPDATE api_tokens SET last_used = now()
			WHERE hash = $1 AND revoked_at IS NULL AND (last_used IS NULL OR last_used < now() - interval '1 minute'))
		SELECT `+tokenColumns+` FROM api_tokens t WHERE t.hash = $1 AND t.revoked_at IS NULL`, hash))
	if err != nil {
		return nil, classify("get token", notFoundIfNoRows(err, "token", "(given)"))
	}
	return t, nil
}

// Token returns a token's record by id (revoked ones too).
func (s *Store) Token(ctx context.Context, id int64) (*APIToken, error) {
	t, err := scanToken(s.pool.QueryRow(ctx, `SELECT `+tokenColumns+` FROM api_tokens t WHERE t.id = $1`, id))
	if err != nil {
		return nil, classify("get token", notFoundIfNoRows(err, "token", fmt.Sprint(id)))
	}
	return t, nil
}

// Tokens lists token records by id; createdBy filters to one creator unless empty.
func (s *Store) Tokens(ctx context.Context, createdBy string) ([]APIToken, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+tokenColumns+` FROM api_tokens t WHERE $1 = '' OR t.created_by = $1 ORDER BY t.id`, createdBy)
	if err != nil {
		return nil, classify("list tokens", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (APIToken, error) {
		t, err := scanToken(row)
		return *t, err
	})
	if err != nil {
		return nil, classify("list tokens", err)
	}
	return out, nil
}

// RevokeToken revokes a token at once; revoking twice is geo.ErrNotFound.
func (s *Store) RevokeToken(ctx context.Context, id int64) error {
	return s.tx(ctx, "revoke token", func(tx pgx.Tx) error {
		t, err := scanToken(tx.QueryRow(ctx, `
			UPDATE api_tokens t SET revoked_at = now() WHERE t.id = $1 AND t.revoked_at IS NULL RETURNING `+tokenColumns, id))
		if err != nil {
			return notFoundIfNoRows(err, "live token", fmt.Sprint(id))
		}
		after, _ := json.Marshal(t)
		return audit(ctx, tx, AuditEntry{Action: "revoke", Entity: "token", EntityID: fmt.Sprint(id), After: after})
	})
}
