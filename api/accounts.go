package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"gridmap/geo"
	"gridmap/geo/auth"
	"gridmap/geo/store"
)

// accounts serves login, logout, /me, and the admin endpoints for users, grants, API
// tokens and the audit trail.
type accounts struct {
	store      *store.Store
	sessionTTL time.Duration
	params     auth.Params
	dummyHash  string        // verified when the user is unknown, so timing does not tell
	byAccount  *auth.Limiter // login attempts per username
	byAddress  *auth.Limiter // login attempts per client address
	tokens     *tokenCache   // flushed when a token is revoked here
}

func newAccounts(st *store.Store, cfg Config, tokens *tokenCache) (*accounts, error) {
	a := &accounts{store: st, sessionTTL: cfg.SessionTTL, params: auth.DefaultParams(), tokens: tokens,
		byAccount: auth.NewLimiter(1.0/30, 5, 100000), byAddress: auth.NewLimiter(0.5, 30, 100000)}
	pw, err := auth.NewPassword()
	if err != nil {
		return nil, err
	}
	if a.dummyHash, err = auth.HashPassword(pw, a.params); err != nil {
		return nil, err
	}
	return a, nil
}

func decodeJSON(c echo.Context, v any) error {
	dec := json.NewDecoder(c.Request().Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return bodyError(err)
	}
	return nil
}

type loginBody struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

// login: POST /api/v1/login {username, password} → a session cookie (HttpOnly,
// SameSite=Lax), and the CSRF token in the body and a readable cookie. Attempts are
// limited per account and per address (429); a wrong name or password is one 401.
func (a *accounts) login(c echo.Context) error {
	if err := onlyParams(c); err != nil {
		return err
	}
	var b loginBody
	if err := decodeJSON(c, &b); err != nil {
		return err
	}
	name := strings.TrimSpace(b.Username)
	if name == "" || b.Password == "" {
		return geo.Invalid("username", "give username and password")
	}
	if len(b.Password) > auth.MaxPasswordLen || len(name) > 64 {
		return unauthorized("wrong username or password")
	}
	if ok, wait := a.byAddress.Allow("addr:" + c.RealIP()); !ok {
		return tooMany(c, wait, "login attempts from this address")
	}
	accountKey := "user:" + strings.ToLower(name)
	if ok, wait := a.byAccount.Allow(accountKey); !ok {
		return tooMany(c, wait, "login attempts for this account")
	}
	ctx := c.Request().Context()
	u, err := a.store.UserByName(ctx, name)
	hash := a.dummyHash
	switch {
	case err == nil:
		hash = u.PasswordHash
	case !errors.Is(err, geo.ErrNotFound):
		return err
	}
	ok, verr := auth.VerifyPassword(hash, b.Password)
	if verr != nil {
		return fmt.Errorf("api: login: stored hash of a user: %w", verr)
	}
	if u == nil || !ok || u.Disabled {
		return unauthorized("wrong username or password")
	}
	a.byAccount.Reset(accountKey)
	sid, sidHash, err := auth.NewSecret("gs_")
	if err != nil {
		return err
	}
	csrf, csrfHash, err := auth.NewSecret("")
	if err != nil {
		return err
	}
	expires := time.Now().Add(a.sessionTTL)
	if err := a.store.CreateSession(ctx, sidHash, u.ID, csrfHash, expires); err != nil {
		return err
	}
	secure := c.Scheme() == "https"
	c.SetCookie(&http.Cookie{Name: sessionCookie, Value: sid, Path: "/", Expires: expires, HttpOnly: true, Secure: secure, SameSite: http.SameSiteLaxMode})
	c.SetCookie(&http.Cookie{Name: csrfCookie, Value: csrf, Path: "/", Expires: expires, Secure: secure, SameSite: http.SameSiteLaxMode})
	u.PasswordHash = ""
	return c.JSON(http.StatusOK, map[string]any{"user": u, "csrf_token": csrf, "expires_at": expires.UTC()})
}

// logout: POST /api/v1/logout ends the cookie session (a token caller has none to end).
func (a *accounts) logout(c echo.Context) error {
	if ck, err := c.Cookie(sessionCookie); err == nil && ck.Value != "" {
		if err := a.store.DeleteSession(c.Request().Context(), auth.Digest(ck.Value)); err != nil {
			return err
		}
	}
	for _, n := range []string{sessionCookie, csrfCookie} {
		c.SetCookie(&http.Cookie{Name: n, Value: "", Path: "/", MaxAge: -1, HttpOnly: n == sessionCookie, SameSite: http.SameSiteLaxMode})
	}
	return c.NoContent(http.StatusNoContent)
}

// me: GET /api/v1/me → who the caller is and what it may do.
func (a *accounts) me(c echo.Context) error {
	p := principal(c)
	scope := p.Scope
	if scope == nil {
		scope = []string{}
	}
	return c.JSON(http.StatusOK, map[string]any{"kind": p.Kind, "name": p.Name, "role": p.Role, "scope": scope,
		"read_only": p.ReadOnly, "see_personal": p.SeePersonal, "actor": p.Actor()})
}

// listUsers: GET /api/v1/users (admins).
func (a *accounts) listUsers(c echo.Context) error {
	users, err := a.store.Users(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"users": users})
}

type userBody struct {
	Username    string   `json:"username"`
	Password    string   `json:"password"`
	Role        string   `json:"role"`
	SeePersonal bool     `json:"see_personal"`
	Scope       []string `json:"scope"`
}

func validScope(field string, codes []string, role auth.Role) error {
	for _, code := range codes {
		if role == auth.Worker {
			if len(code) != 15 {
				return geo.Invalid(field, fmt.Sprintf("a grid worker's scope is grid codes (15 characters), not %q", code))
			}
			continue
		}
		if _, err := geo.LevelOfCode(field, code); err != nil {
			return err
		}
	}
	return nil
}

// createUser: POST /api/v1/users {username, password, role, see_personal, scope} (admins).
func (a *accounts) createUser(c echo.Context) error {
	var b userBody
	if err := decodeJSON(c, &b); err != nil {
		return err
	}
	u, err := addUser(c.Request().Context(), a.store, a.params, b)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Location", "/api/v1/users/"+u.Username)
	return c.JSON(http.StatusCreated, u)
}

// addUser validates and creates an account (the API and the command line).
func addUser(ctx context.Context, st *store.Store, params auth.Params, b userBody) (*store.User, error) {
	role, err := auth.ParseRole(b.Role)
	if err != nil {
		return nil, geo.Invalid("role", "role: admin, planner, viewer or worker")
	}
	if err := auth.CheckPassword(b.Password); err != nil {
		return nil, geo.Invalid("password", strings.TrimPrefix(err.Error(), "auth: "))
	}
	if err := validScope("scope", b.Scope, role); err != nil {
		return nil, err
	}
	hash, err := auth.HashPassword(b.Password, params)
	if err != nil {
		return nil, err
	}
	return st.CreateUser(ctx, store.NewUser{Username: strings.TrimSpace(b.Username), PasswordHash: hash, Role: string(role),
		SeePersonal: b.SeePersonal, Scope: b.Scope})
}

type userPatch struct {
	Role        *string `json:"role"`
	SeePersonal *bool   `json:"see_personal"`
	Disabled    *bool   `json:"disabled"`
	Password    *string `json:"password"`
}

// updateUser: PATCH /api/v1/users/{username} {role, see_personal, disabled, password} (admins).
func (a *accounts) updateUser(c echo.Context) error {
	var b userPatch
	if err := decodeJSON(c, &b); err != nil {
		return err
	}
	ch := store.UserChange{SeePersonal: b.SeePersonal, Disabled: b.Disabled}
	if b.Role != nil {
		role, err := auth.ParseRole(*b.Role)
		if err != nil {
			return geo.Invalid("role", "role: admin, planner, viewer or worker")
		}
		r := string(role)
		ch.Role = &r
	}
	if b.Password != nil {
		if err := auth.CheckPassword(*b.Password); err != nil {
			return geo.Invalid("password", strings.TrimPrefix(err.Error(), "auth: "))
		}
		hash, err := auth.HashPassword(*b.Password, a.params)
		if err != nil {
			return err
		}
		ch.PasswordHash = &hash
	}
	u, err := a.store.UpdateUser(c.Request().Context(), c.Param("username"), ch)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, u)
}

// grant: POST /api/v1/users/{username}/grants {unit} adds a unit (or grid) to the scope.
func (a *accounts) grant(c echo.Context) error {
	var b struct {
		Unit string `json:"unit"`
	}
	if err := decodeJSON(c, &b); err != nil {
		return err
	}
	if len(b.Unit) != 15 {
		if _, err := geo.LevelOfCode("unit", b.Unit); err != nil {
			return err
		}
	}
	u, err := a.store.UpdateUser(c.Request().Context(), c.Param("username"), store.UserChange{Grant: []string{b.Unit}})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, u)
}

// revoke: DELETE /api/v1/users/{username}/grants/{code} removes a unit from the scope.
func (a *accounts) revoke(c echo.Context) error {
	u, err := a.store.UpdateUser(c.Request().Context(), c.Param("username"), store.UserChange{Revoke: []string{c.Param("code")}})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, u)
}

type tokenBody struct {
	Name        string   `json:"name"`
	Role        string   `json:"role"`
	Units       []string `json:"units"`
	ReadOnly    bool     `json:"read_only"`
	SeePersonal bool     `json:"see_personal"`
}

// createToken: POST /api/v1/tokens {name, role, units, read_only, see_personal} → 201 with
// the token, shown this once. Planners hand out at most their own role, scope and rights.
func (a *accounts) createToken(c echo.Context) error {
	var b tokenBody
	if err := decodeJSON(c, &b); err != nil {
		return err
	}
	p := principal(c)
	role, err := auth.ParseRole(b.Role)
	if err != nil {
		return geo.Invalid("role", "role: admin, planner, viewer or worker")
	}
	if err := validScope("units", b.Units, role); err != nil {
		return err
	}
	if !p.Global() {
		switch {
		case !role.AtMost(p.Role):
			return forbidden(fmt.Sprintf("a %s may not create %s tokens", p.Role, role))
		case !p.Covers(b.Units):
			return forbidden("a token's units must lie inside your scope (" + strings.Join(p.Scope, ", ") + ")")
		case b.SeePersonal && !p.SeePersonal:
			return forbidden("you may not hand out the right to see personal data")
		}
	}
	secret, t, err := issueToken(c.Request().Context(), a.store, store.NewAPIToken{Name: b.Name, Role: string(role),
		Units: b.Units, ReadOnly: b.ReadOnly, SeePersonal: b.SeePersonal})
	if err != nil {
		return err
	}
	c.Response().Header().Set("Location", fmt.Sprintf("/api/v1/tokens/%d", t.ID))
	return c.JSON(http.StatusCreated, map[string]any{"token": secret, "id": t.ID, "name": t.Name, "role": t.Role,
		"units": t.Units, "read_only": t.ReadOnly, "see_personal": t.SeePersonal, "created_at": t.CreatedAt})
}

// issueToken makes a new token and stores its digest.
func issueToken(ctx context.Context, st *store.Store, in store.NewAPIToken) (string, *store.APIToken, error) {
	secret, hash, err := auth.NewToken()
	if err != nil {
		return "", nil, err
	}
	in.Hash = hash
	t, err := st.CreateToken(ctx, in)
	if err != nil {
		return "", nil, err
	}
	return secret, t, nil
}

// listTokens: GET /api/v1/tokens → every token for admins, a planner's own otherwise.
func (a *accounts) listTokens(c echo.Context) error {
	p := principal(c)
	by := ""
	if !p.Global() {
		by = p.Actor()
	}
	ts, err := a.store.Tokens(c.Request().Context(), by)
	if err != nil {
		return err
	}
	if ts == nil {
		ts = []store.APIToken{}
	}
	return c.JSON(http.StatusOK, map[string]any{"tokens": ts})
}

// revokeToken: DELETE /api/v1/tokens/{id} → 204; it stops working at once.
func (a *accounts) revokeToken(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	p := principal(c)
	if !p.Global() {
		t, err := a.store.Token(ctx, id)
		if err != nil {
			return err
		}
		if t.CreatedBy != p.Actor() {
			return forbidden("planners revoke only the tokens they created")
		}
	}
	if err := a.store.RevokeToken(ctx, id); err != nil {
		return err
	}
	a.tokens.flush() // at once here; other replicas hear it through LISTEN
	return c.NoContent(http.StatusNoContent)
}

// listAudit: GET /api/v1/audit?unit=&since=&before=&limit= (admins), newest first.
func (a *accounts) listAudit(c echo.Context) error {
	if err := onlyParams(c, "unit", "since", "before", "limit"); err != nil {
		return err
	}
	var f store.AuditFilter
	var err error
	if f.Unit, err = unitParam(c, "unit"); err != nil {
		return err
	}
	if v := c.QueryParam("since"); v != "" {
		if f.Since, err = time.Parse(time.RFC3339, v); err != nil {
			if f.Since, err = time.Parse(time.DateOnly, v); err != nil {
				return geo.Invalid("since", "since takes an RFC 3339 time (2026-01-02T15:04:05Z) or a date")
			}
		}
	}
	if v := c.QueryParam("before"); v != "" {
		if f.Before, err = strconv.ParseInt(v, 10, 64); err != nil || f.Before <= 0 {
			return geo.Invalid("before", "before takes the id of the oldest entry of the previous page")
		}
	}
	f.Limit = 100
	if v := c.QueryParam("limit"); v != "" {
		if f.Limit, err = strconv.Atoi(v); err != nil || f.Limit < 1 || f.Limit > 1000 {
			return geo.Invalid("limit", "limit takes a number from 1 to 1000")
		}
	}
	entries, more, err := a.store.AuditLog(c.Request().Context(), f)
	if err != nil {
		return err
	}
	if entries == nil {
		entries = []store.AuditEntry{}
	}
	out := map[string]any{"entries": entries}
	if more {
		q := c.QueryParams()
		q.Set("before", strconv.FormatInt(entries[len(entries)-1].ID, 10))
		out["next"] = c.Request().URL.Path + "?" + q.Encode()
	}
	return c.JSON(http.StatusOK, out)
}

// accountOps documents the account, token and audit routes.
func accountOps() []apiOp {
	return []apiOp{
		{"POST", "/api/v1/login", "accounts", "Sign in with {username, password}: a session cookie (HttpOnly, SameSite=Lax) and csrf_token for the X-CSRF-Token header; limited per account and per address", nil, "application/json", 200, "application/json", []int{400, 401, 429}},
		{"POST", "/api/v1/logout", "accounts", "End the session", nil, "", 204, "", []int{401, 403}},
		{"GET", "/api/v1/me", "accounts", "Who the caller is: kind, role, scope, read_only, see_personal", nil, "", 200, "application/json", []int{401}},
		{"GET", "/api/v1/users", "accounts", "List accounts with role and scope (admins)", nil, "", 200, "application/json", []int{401, 403}},
		{"POST", "/api/v1/users", "accounts", "Create an account {username, password, role, see_personal, scope} (admins)", nil, "application/json", 201, "application/json", []int{400, 401, 403, 409}},
		{"PATCH", "/api/v1/users/{username}", "accounts", "Change role, see_personal, disabled or password (admins); ends sessions when disabling or changing the password", nil, "application/json", 200, "application/json", []int{400, 401, 403, 404}},
		{"POST", "/api/v1/users/{username}/grants", "accounts", "Add a unit subtree (or a worker's grid) to an account's scope {unit} (admins)", nil, "application/json", 200, "application/json", []int{400, 401, 403, 404}},
		{"DELETE", "/api/v1/users/{username}/grants/{code}", "accounts", "Remove a unit from an account's scope (admins)", nil, "", 200, "application/json", []int{401, 403, 404}},
		{"GET", "/api/v1/tokens", "accounts", "List API tokens (admins: all; planners: their own); never the tokens themselves", nil, "", 200, "application/json", []int{401, 403}},
		{"POST", "/api/v1/tokens", "accounts", "Create an API token {name, role, units, read_only, see_personal}; the token is in the answer once", nil, "application/json", 201, "application/json", []int{400, 401, 403}},
		{"DELETE", "/api/v1/tokens/{id}", "accounts", "Revoke an API token; it stops working at once", nil, "", 204, "", []int{401, 403, 404}},
		{"GET", "/api/v1/audit", "accounts", "The audit trail, newest first: who, when, what, before/after (grids with geometry) (admins)", []string{"unit: a unit's subtree", "since: RFC 3339 time or date", "before: id for the next page", "limit: 1–1000 (100)"}, "", 200, "application/json", []int{400, 401, 403}},
	}
}
