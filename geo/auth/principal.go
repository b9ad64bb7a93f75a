// Package auth is gridmap's access model in pure Go: roles, the Principal a request acts
// as and its scope checks, argon2id password hashes, random secrets stored as SHA-256
// digests, and a bounded in-memory rate limiter. It knows nothing of HTTP or the database.
package auth

import (
	"errors"
	"fmt"
	"strings"
)

// Role is what a principal may do, before its scope narrows it.
type Role string

// The roles, from most to least powerful. Public is the anonymous caller's role.
const (
	Admin   Role = "admin"   // everything, everywhere; users, tokens and the audit trail
	Planner Role = "planner" // read and write inside its unit subtrees
	Viewer  Role = "viewer"  // read inside its unit subtrees
	Worker  Role = "worker"  // read its own grids
	Public  Role = "public"  // locate and the public layers (units, grids); no personal data
)

// Roles lists the roles an account or token can have (not Public).
func Roles() []Role { return []Role{Admin, Planner, Viewer, Worker} }

// ErrRole is returned by ParseRole for an unknown name.
var ErrRole = errors.New("auth: unknown role (want admin, planner, viewer or worker)")

// ParseRole reads an account or token role.
func ParseRole(s string) (Role, error) {
	for _, r := range Roles() {
		if string(r) == s {
			return r, nil
		}
	}
	return "", fmt.Errorf("%w: %q", ErrRole, s)
}

// rank orders roles for "may not hand out more than it has".
func (r Role) rank() int {
	switch r {
	case Admin:
		return 4
	case Planner:
		return 3
	case Viewer:
		return 2
	case Worker:
		return 1
	}
	return 0
}

// AtMost reports whether r is no more powerful than o.
func (r Role) AtMost(o Role) bool { return r.rank() <= o.rank() }

// Kind says how a principal was authenticated.
type Kind string

// The kinds of principal.
const (
	Anonymous Kind = "anonymous"
	Session   Kind = "session" // a web login (cookie)
	Token     Kind = "token"   // an API token (Bearer or api_key)
)

// Principal is who a request acts as: an account through its session, an API token, or
// the anonymous public.
type Principal struct {
	Kind        Kind
	ID          int64  // user id (session) or token id
	Name        string // username, or the token's name
	UserID      int64  // the account behind a session; 0 for tokens and anonymous
	Role        Role
	Scope       []string // unit codes (subtrees) or, for workers, grid codes
	ReadOnly    bool     // a read-only token
	SeePersonal bool     // names, phones and addresses in the clear
}

// AnonymousPrincipal is the public caller.
func AnonymousPrincipal() Principal { return Principal{Kind: Anonymous, Role: Public} }

// Actor names the principal in the audit trail and grid history: "user:alice",
// "token:7 (qgis)" or "anonymous".
func (p Principal) Actor() string {
	switch p.Kind {
	case Session:
		return "user:" + p.Name
	case Token:
		if p.Name != "" {
			return fmt.Sprintf("token:%d (%s)", p.ID, p.Name)
		}
		return fmt.Sprintf("token:%d", p.ID)
	}
	return "anonymous"
}

// Global reports whether the principal is unrestricted by scope (admins).
func (p Principal) Global() bool { return p.Role == Admin }

// Authenticated reports whether the request carried valid credentials.
func (p Principal) Authenticated() bool { return p.Kind != Anonymous && p.Kind != "" }

// InScope reports whether code (a unit of 6, 9 or 12 digits or a grid of 15 characters)
// lies inside one of the principal's subtrees. Admins hold every code.
func (p Principal) InScope(code string) bool {
	if p.Global() {
		return true
	}
	if code == "" {
		return false
	}
	for _, s := range p.Scope {
		if strings.HasPrefix(code, s) {
			return true
		}
	}
	return false
}

// CanRead reports whether the principal may read the data of code's subtree.
func (p Principal) CanRead(code string) bool {
	switch p.Role {
	case Admin, Planner, Viewer, Worker:
		return p.InScope(code)
	}
	return false
}

// CanWrite reports whether the principal may change the data of code's subtree.
func (p Principal) CanWrite(code string) bool {
	if p.ReadOnly {
		return false
	}
	switch p.Role {
	case Admin, Planner:
		return p.InScope(code)
	}
	return false
}

// Covers reports whether every code of inner lies inside the principal's scope: the test
// a planner passes before handing a token or grant of that scope to someone else.
func (p Principal) Covers(inner []string) bool {
	if p.Global() {
		return true
	}
	if len(inner) == 0 {
		return false // an unscoped grant would be global
	}
	for _, c := range inner {
		if !p.InScope(c) {
			return false
		}
	}
	return true
}
