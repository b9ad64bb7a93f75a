package store

import (
	"context"
	"time"
)

// CreateSession stores a web session by the digests of its id and CSRF token.
func (s *Store) CreateSession(ctx context.Context, idHash []byte, user int64, csrfHash []byte, expires time.Time) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO sessions (id_hash, user_id, csrf_hash, expires_at) VALUES ($1, $2, $3, $4)`,
		idHash, user, csrfHash, expires)
	if err != nil {
		return classify("create session", err)
	}
	// Expired sessions of anyone are swept now and then, by the logins themselves.
	if _, err := s.pool.Exec(ctx, `DELETE FROM sessions WHERE expires_at < now() - interval '1 day'`); err != nil {
		return classify("sweep sessions", err)
	}
	return nil
}

// Session returns the live session's account (enabled) and its CSRF digest; an unknown,
// expired or disabled one is geo.ErrNotFound.
func (s *Store) Session(ctx context.Context, idHash []byte) (*User, []byte, error) {
	var csrf []byte
	var u User
	err := s.pool.QueryRow(ctx, `
		SELECT u.id, u.username, u.role, u.see_personal, u.disabled, u.created_at,
		       coalesce((SELECT array_agg(c.code ORDER BY c.code) FROM user_scopes c WHERE c.user_id = u.id), '{}'),
		       s.csrf_hash
		FROM sessions s JOIN users u ON u.id = s.user_id
		WHERE s.id_hash = $1 AND s.expires_at > now() AND NOT u.disabled`, idHash).
		Scan(&u.ID, &u.Username, &u.Role, &u.SeePersonal, &u.Disabled, &u.CreatedAt, &u.Scope, &csrf)
	if err != nil {
		return nil, nil, classify("get session", notFoundIfNoRows(err, "session", "(given)"))
	}
	return &u, csrf, nil
}

// DeleteSession ends a session (logout).
func (s *Store) DeleteSession(ctx context.Context, idHash []byte) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM sessions WHERE id_hash = $1`, idHash); err != nil {
		return classify("delete session", err)
	}
	return nil
}
