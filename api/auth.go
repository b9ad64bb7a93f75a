package api

import (
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

// Cookie and header names of web sessions.
const (
	sessionCookie = "gridmap_session"
	csrfCookie    = "gridmap_csrf"
	csrfHeader    = "X-CSRF-Token"
	principalKey  = "gridmap.principal"
)

// principal is who the request acts as; the guard middleware sets it before any handler.
func principal(c echo.Context) auth.Principal {
	if p, ok := c.Get(principalKey).(auth.Principal); ok {
		return p
	}
	return auth.AnonymousPrincipal()
}

// actor names the caller in grid histories and the audit trail.
func actor(c echo.Context) string { return principal(c).Actor() }

// credentials say how a request authenticated.
type credentials struct {
	p        auth.Principal
	cookie   bool   // a web session: state-changing requests need the CSRF header
	csrfHash []byte // the session's CSRF digest
}

// keyQueryPaths are where ?api_key= is accepted: URLs that QGIS and MapLibre build
// themselves and cannot always add headers to.
func keyQueryAllowed(path string) bool {
	for _, p := range []string{"/ogc", "/tiles/", "/styles/", "/fonts/"} {
		if strings.HasPrefix(path, p) {
			return true
		}
	}
	return false
}

func unauthorized(msg string) error {
	return &statusError{Status: http.StatusUnauthorized, Detail: ErrorDetail{Code: "unauthorized", Message: msg}}
}

func forbidden(msg string) error {
	return &statusError{Status: http.StatusForbidden, Detail: ErrorDetail{Code: "forbidden", Message: msg}}
}

// authenticate finds the caller: a Bearer token, an api_key on tile and OGC URLs, or a
// session cookie; none is the anonymous public. Bad credentials are 401, never anonymous,
// so a client with a revoked token learns at once. Messages never repeat the secret.
func (s *Server) authenticate(c echo.Context) (credentials, error) {
	r := c.Request()
	ctx := r.Context()
	secret := ""
	if h := r.Header.Get(echo.HeaderAuthorization); h != "" {
		scheme, rest, _ := strings.Cut(h, " ")
		if !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(rest) == "" {
			return credentials{}, unauthorized("Authorization takes a Bearer token")
		}
		secret = strings.TrimSpace(rest)
	} else if k := c.QueryParam("api_key"); k != "" {
		if !keyQueryAllowed(r.URL.Path) {
			return credentials{}, unauthorized("api_key is accepted on tile, style, font and OGC URLs only; send Authorization: Bearer")
		}
		secret = k
	}
	if secret != "" {
		if !auth.LooksLikeToken(secret) {
			return credentials{}, unauthorized("the token is not valid")
		}
		digest := auth.Digest(secret)
		p, ok, gen := s.tokens.get(digest)
		if ok {
			return credentials{p: p}, nil
		}
		t, err := s.store.TokenByHash(ctx, digest)
		if errors.Is(err, geo.ErrNotFound) {
			return credentials{}, unauthorized("the token is not valid or was revoked")
		}
		if err != nil {
			return credentials{}, err
		}
		role, err := auth.ParseRole(t.Role)
		if err != nil {
			return credentials{}, fmt.Errorf("token %d: %w", t.ID, err)
		}
		p = auth.Principal{Kind: auth.Token, ID: t.ID, Name: t.Name, Role: role, Scope: t.Units,
			ReadOnly: t.ReadOnly, SeePersonal: t.SeePersonal}
		s.tokens.put(digest, p, gen)
		return credentials{p: p}, nil
	}
	if ck, err := r.Cookie(sessionCookie); err == nil && ck.Value != "" {
		u, csrf, err := s.store.Session(ctx, auth.Digest(ck.Value))
		switch {
		case errors.Is(err, geo.ErrNotFound):
			// An expired or ended session: the caller is anonymous again (public pages work).
		case err != nil:
			return credentials{}, err
		default:
			role, err := auth.ParseRole(u.Role)
			if err != nil {
				return credentials{}, fmt.Errorf("user %d: %w", u.ID, err)
			}
			return credentials{p: auth.Principal{Kind: auth.Session, ID: u.ID, UserID: u.ID, Name: u.Username, Role: role,
				Scope: u.Scope, SeePersonal: u.SeePersonal}, cookie: true, csrfHash: csrf}, nil
		}
	}
	return credentials{p: auth.AnonymousPrincipal()}, nil
}

// checkCSRF refuses a state-changing request of a cookie session without the session's
// CSRF token in X-CSRF-Token (double submit: a cross-site form cannot read or set it).
func checkCSRF(c echo.Context, cr credentials) error {
	if !cr.cookie {
		return nil
	}
	switch c.Request().Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return nil
	}
	got := c.Request().Header.Get(csrfHeader)
	if got == "" || !equalDigest(auth.Digest(got), cr.csrfHash) {
		return forbidden("missing or wrong " + csrfHeader + " header (send the csrf_token from login)")
	}
	return nil
}

func equalDigest(a, b []byte) bool {
	if len(a) != len(b) {
		return false
	}
	var d byte
	for i := range a {
		d |= a[i] ^ b[i]
	}
	return d == 0
}

// tooMany is a 429 with Retry-After.
func tooMany(c echo.Context, wait time.Duration, what string) error {
	secs := int(wait/time.Second) + 1
	c.Response().Header().Set("Retry-After", strconv.Itoa(secs))
	return &statusError{Status: http.StatusTooManyRequests, Detail: ErrorDetail{Code: "rate_limited",
		Message: fmt.Sprintf("too many %s; try again in %d s", what, secs)}}
}

// guard is the one place access is decided: it authenticates the caller, looks up the
// route's rule (a route without one is refused: New checks that none is missing), checks
// role, read-only, scope and CSRF, rate-limits public callers, and records writes that the
// store does not record itself in the audit trail.
func (s *Server) guard(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		method := c.Request().Method
		r, ok := s.rules.lookup(method, c.Path())
		if !ok {
			if !s.rules.registered(method, c.Path()) {
				return next(c) // no such route: the router answers 404 or 405
			}
			return fmt.Errorf("api: route %s %s has no access rule", method, c.Path())
		}
		cr, err := s.authenticate(c)
		if err != nil {
			return err
		}
		p := cr.p
		c.Set(principalKey, p)
		req := c.Request()
		c.SetRequest(req.WithContext(store.WithActor(req.Context(), p.Actor())))
		if r.limited && !p.Authenticated() {
			if ok, wait := s.publicLimit.Allow(c.RealIP()); !ok {
				return tooMany(c, wait, "requests")
			}
		}
		if err := s.rules.check(c, s, r, p); err != nil {
			if !p.Authenticated() && isStatus(err, http.StatusForbidden) {
				c.Response().Header().Set("WWW-Authenticate", `Bearer realm="gridmap"`)
				return unauthorized("sign in or send an API token (Authorization: Bearer gm_…)")
			}
			return err
		}
		if !r.noCSRF {
			if err := checkCSRF(c, cr); err != nil {
				return err
			}
		}
		if r.audit == "" {
			return next(c)
		}
		// The store records the entry in the write's own transaction; one that no write
		// took is recorded after a success.
		pending := &store.PendingAudit{Entry: s.auditEntry(c, r)}
		req = c.Request()
		c.SetRequest(req.WithContext(store.WithPendingAudit(req.Context(), pending)))
		if err := next(c); err != nil {
			return err
		}
		if !pending.Written && c.Response().Status < 400 {
			if err := s.store.Audit(c.Request().Context(), pending.Entry); err != nil {
				s.log.Error("audit: record write", "error", err, "id", requestID(c))
			}
		}
		return nil
	}
}

func isStatus(err error, status int) bool {
	var se *statusError
	return errors.As(err, &se) && se.Status == status
}

// auditEntry is the audit entry of a write the store does not describe itself: which
// route, which entity, the unit it touches (the actor comes from the context).
func (s *Server) auditEntry(c echo.Context, r rule) store.AuditEntry {
	id := ""
	for _, n := range c.ParamNames() {
		if id != "" {
			id += "/"
		}
		id += c.Param(n)
	}
	unit, _ := c.Get(scopeKey).(string)
	if unit == "" && r.scope != nil { // admins skip the scope check: find the unit now where it is cheap
		unit, _ = r.scope(c, s)
	}
	if len(unit) == 15 {
		unit = unit[:12] // a grid's village/community
	}
	return store.AuditEntry{Action: c.Request().Method + " " + c.Path(), Entity: r.audit, EntityID: id, Unit: unit}
}

// listScope is the scope a list query is filtered to: nil for admins (everything), the
// caller's subtrees otherwise. The store applies it where a rule cannot decide alone.
func listScope(c echo.Context) []string {
	p := principal(c)
	if p.Global() {
		return nil
	}
	if p.Scope == nil {
		return []string{}
	}
	return p.Scope
}
