package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"gridmap/geo"
)

// User is an account. PasswordHash is only filled by UserByName (for the login check) and
// never leaves the store otherwise.
type User struct {
	ID           int64     `json:"id"`
	Username     string    `json:"username"`
	Role         string    `json:"role"`
	SeePersonal  bool      `json:"see_personal"`
	Disabled     bool      `json:"disabled"`
	CreatedAt    time.Time `json:"created_at"`
	Scope        []string  `json:"scope"` // unit codes, or grid codes for workers
	PasswordHash string    `json:"-"`
}

// NewUser is what CreateUser needs; the password arrives hashed.
type NewUser struct {
	Username     string
	PasswordHash string
	Role         string
	SeePersonal  bool
	Scope        []string
}

const userColumns = `u.id, u.username, u.role, u.see_personal, u.disabled, u.created_at,
	coalesce((SELECT array_agg(s.code ORDER BY s.code) FROM user_scopes s WHERE s.user_id = u.id), '{}'), u.password_hash`

func scanUser(row pgx.Row) (*User, error) {
	var u User
	err := row.Scan(&u.ID, &u.Username, &u.Role, &u.SeePersonal, &u.Disabled, &u.CreatedAt, &u.Scope, &u.PasswordHash)
	return &u, err
}

// auditUser is a user as the audit trail keeps it: never the hash.
func auditUser(u *User) json.RawMessage {
	b, _ := json.Marshal(u) // PasswordHash is json:"-"
	return b
}

// CreateUser adds an account; a taken username is geo.ErrConflict.
func (s *Store) CreateUser(ctx context.Context, in NewUser) (*User, error) {
	var out *User
	err := s.tx(ctx, "create user", func(tx pgx.Tx) error {
		var id int64
		err := tx.QueryRow(ctx, `
			INSERT INTO users (username, password_hash, role, see_personal) VALUES ($1, $2, $3, $4) RETURNING id`,
			in.Username, in.PasswordHash, in.Role, in.SeePersonal).Scan(&id)
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.Code == "23505" {
			return fmt.Errorf("user %q exists: %w", in.Username, geo.ErrConflict)
		}
		if errors.As(err, &pe) && pe.Code == "23514" {
			return geo.Invalid("username", "a username has 1–64 letters, digits or . _ @ - and starts with a letter or digit")
		}
		if err != nil {
			return fmt.Errorf("insert user: %w", err)
		}
		for _, code := range in.Scope {
			if err := addScope(ctx, tx, id, code); err != nil {
				return err
			}
		}
		if out, err = scanUser(tx.QueryRow(ctx, `SELECT `+userColumns+` FROM users u WHERE u.id = $1`, id)); err != nil {
			return fmt.Errorf("read user: %w", err)
		}
		return audit(ctx, tx, AuditEntry{Action: "create", Entity: "user", EntityID: in.Username, After: auditUser(out)})
	})
	if err != nil {
		return nil, err
	}
	out.PasswordHash = ""
	return out, nil
}

// addScope checks that code names an existing unit (or, 15 characters, a grid) and adds it.
func addScope(ctx context.Context, tx pgx.Tx, user int64, code string) error {
	var exists bool
	var err error
	if len(code) == 15 {
		err = tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM grids WHERE code = $1)`, code).Scan(&exists)
	} else {
		err = tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM units WHERE code = $1)`, code).Scan(&exists)
	}
	if err != nil {
		return fmt.Errorf("look up scope %s: %w", code, err)
	}
	if !exists {
		return geo.Invalid("unit", fmt.Sprintf("no unit or grid %q", code))
	}
	if _, err := tx.Exec(ctx, `INSERT INTO user_scopes (user_id, code) VALUES ($1, $2) ON CONFLICT DO NOTHING`, user, code); err != nil {
		return fmt.Errorf("add scope: %w", err)
	}
	return nil
}

// UserByName returns the account with its password hash (for the login check).
func (s *Store) UserByName(ctx context.Context, username string) (*User, error) {
	u, err := scanUser(s.pool.QueryRow(ctx, `SELECT `+userColumns+` FROM users u WHERE u.username = $1`, username))
	if err != nil {
		return nil, classify("get user", notFoundIfNoRows(err, "user", username))
	}
	return u, nil
}

// Users lists the accounts by name, without hashes.
func (s *Store) Users(ctx context.Context) ([]User, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+userColumns+` FROM users u ORDER BY u.username`)
	if err != nil {
		return nil, classify("list users", err)
	}
	users, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (User, error) {
		u, err := scanUser(row)
		if err != nil {
			return User{}, err
		}
		u.PasswordHash = ""
		return *u, nil
	})
	if err != nil {
		return nil, classify("list users", err)
	}
	return users, nil
}

// CountUsers is the number of accounts (0 on a fresh database).
func (s *Store) CountUsers(ctx context.Context) (int, error) {
	var n int
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM users`).Scan(&n); err != nil {
		return 0, classify("count users", err)
	}
	return n, nil
}

// UserChange is a partial update of an account; nil fields stay.
type UserChange struct {
	Role         *string
	SeePersonal  *bool
	Disabled     *bool
	PasswordHash *string
	Grant        []string // scope codes to add
	Revoke       []string // scope codes to remove
}

// UpdateUser changes an account in one transaction, recorded in the audit trail. Disabling
// an account or changing its password ends its sessions.
func (s *Store) UpdateUser(ctx context.Context, username string, ch UserChange) (*User, error) {
	var out *User
	err := s.tx(ctx, "update user", func(tx pgx.Tx) error {
		before, err := scanUser(tx.QueryRow(ctx, `SELECT `+userColumns+` FROM users u WHERE u.username = $1 FOR UPDATE`, username))
		if err != nil {
			return notFoundIfNoRows(err, "user", username)
		}
		if ch.Role != nil {
			if _, err := tx.Exec(ctx, `UPDATE users SET role = $2 WHERE id = $1`, before.ID, *ch.Role); err != nil {
				return fmt.Errorf("set role: %w", err)
			}
		}
		if ch.SeePersonal != nil {
			if _, err := tx.Exec(ctx, `UPDATE users SET see_personal = $2 WHERE id = $1`, before.ID, *ch.SeePersonal); err != nil {
				return fmt.Errorf("set see_personal: %w", err)
			}
		}
		endSessions := false
		if ch.Disabled != nil {
			if _, err := tx.Exec(ctx, `UPDATE users SET disabled = $2 WHERE id = $1`, before.ID, *ch.Disabled); err != nil {
				return fmt.Errorf("set disabled: %w", err)
			}
			endSessions = *ch.Disabled
		}
		if ch.PasswordHash != nil {
			if _, err := tx.Exec(ctx, `UPDATE users SET password_hash = $2 WHERE id = $1`, before.ID, *ch.PasswordHash); err != nil {
				return fmt.Errorf("set password: %w", err)
			}
			endSessions = true
		}
		if endSessions {
			if _, err := tx.Exec(ctx, `DELETE FROM sessions WHERE user_id = $1`, before.ID); err != nil {
				return fmt.Errorf("end sessions: %w", err)
			}
		}
		for _, code := range ch.Grant {
			if err := addScope(ctx, tx, before.ID, code); err != nil {
				return err
			}
		}
		for _, code := range ch.Revoke {
			if _, err := tx.Exec(ctx, `DELETE FROM user_scopes WHERE user_id = $1 AND code = $2`, before.ID, code); err != nil {
				return fmt.Errorf("remove scope: %w", err)
			}
		}
		if out, err = scanUser(tx.QueryRow(ctx, `SELECT `+userColumns+` FROM users u WHERE u.id = $1`, before.ID)); err != nil {
			return fmt.Errorf("read user: %w", err)
		}
		if before.Role == "admin" && !before.Disabled && (out.Role != "admin" || out.Disabled) {
			// The other enabled admins, locked: two admins cannot demote each other at once.
			var others int
			if err := tx.QueryRow(ctx, `SELECT count(*) FROM (SELECT 1 FROM users
				WHERE role = 'admin' AND NOT disabled AND id <> $1 FOR UPDATE) x`, before.ID).Scan(&others); err != nil {
				return fmt.Errorf("count admins: %w", err)
			}
			if others == 0 {
				return fmt.Errorf("%s is the last enabled admin: make another admin first: %w", username, geo.ErrConflict)
			}
		}
		after := auditUser(out)
		if ch.PasswordHash != nil {
			after, _ = json.Marshal(map[string]any{"user": out, "password": "changed"})
		}
		return audit(ctx, tx, AuditEntry{Action: "update", Entity: "user", EntityID: username, Before: auditUser(before), After: after})
	})
	if err != nil {
		return nil, err
	}
	out.PasswordHash = ""
	return out, nil
}
