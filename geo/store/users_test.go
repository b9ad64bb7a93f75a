package store_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"gridmap/geo"
	"gridmap/geo/auth"
	"gridmap/geo/store"
)

// TestUsersSessionsTokens: accounts with scopes, sessions that expire and end with the
// account, tokens found by digest until revoked, and every change in the audit trail
// without a hash.
func TestUsersSessionsTokens(t *testing.T) {
	st := pg.Store(t)
	mustExec(t, st.Pool(), county, township, village)
	ctx := store.WithActor(context.Background(), "user:root")
	hash, err := auth.HashPassword("a long password", auth.Params{Memory: 1024, Time: 1, Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	u, err := st.CreateUser(ctx, store.NewUser{Username: "li", PasswordHash: hash, Role: "planner", Scope: []string{"999001001"}})
	if err != nil || u.PasswordHash != "" || len(u.Scope) != 1 {
		t.Fatalf("create: %+v %v", u, err)
	}
	if _, err := st.CreateUser(ctx, store.NewUser{Username: "li", PasswordHash: hash, Role: "viewer"}); !errors.Is(err, geo.ErrConflict) {
		t.Fatalf("duplicate: %v", err)
	}
	var in *geo.InputError
	if _, err := st.CreateUser(ctx, store.NewUser{Username: "wu", PasswordHash: hash, Role: "viewer", Scope: []string{"888001"}}); !errors.As(err, &in) {
		t.Fatalf("unknown unit in scope: %v", err)
	}
	if _, err := st.CreateUser(ctx, store.NewUser{Username: "bad name!", PasswordHash: hash, Role: "viewer"}); !errors.As(err, &in) {
		t.Fatalf("bad username: %v", err)
	}
	got, err := st.UserByName(ctx, "li")
	if err != nil || got.PasswordHash != hash {
		t.Fatalf("by name: %+v %v", got, err)
	}

	sid, csrf := auth.Digest("session"), auth.Digest("csrf")
	if err := st.CreateSession(ctx, sid, u.ID, csrf, time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	su, gotCSRF, err := st.Session(ctx, sid)
	if err != nil || su.Username != "li" || string(gotCSRF) != string(csrf) || su.Scope[0] != "999001001" {
		t.Fatalf("session: %+v %v", su, err)
	}
	disabled := true
	if _, err := st.UpdateUser(ctx, "li", store.UserChange{Disabled: &disabled, Grant: []string{"999001001001"}}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.Session(ctx, sid); !errors.Is(err, geo.ErrNotFound) {
		t.Fatalf("session of a disabled account: %v", err)
	}
	if err := st.CreateSession(ctx, auth.Digest("old"), u.ID, csrf, time.Now().Add(-time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.Session(ctx, auth.Digest("old")); !errors.Is(err, geo.ErrNotFound) {
		t.Fatalf("expired session: %v", err)
	}

	secret, digest, _ := auth.NewToken()
	tok, err := st.CreateToken(ctx, store.NewAPIToken{Hash: digest, Name: "qgis", Role: "viewer", Units: []string{"999001"}, ReadOnly: true})
	if err != nil || tok.CreatedBy != "user:root" {
		t.Fatalf("token: %+v %v", tok, err)
	}
	if got, err := st.TokenByHash(ctx, auth.Digest(secret)); err != nil || got.ID != tok.ID {
		t.Fatalf("by hash: %+v %v", got, err)
	}
	if got, err := st.TokenByHash(ctx, auth.Digest(secret)); err != nil || got.LastUsed == nil { // the first use is noted
		t.Fatalf("by hash: %+v %v", got, err)
	}
	if err := st.RevokeToken(ctx, tok.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := st.TokenByHash(ctx, digest); !errors.Is(err, geo.ErrNotFound) {
		t.Fatalf("revoked token: %v", err)
	}
	if err := st.RevokeToken(ctx, tok.ID); !errors.Is(err, geo.ErrNotFound) {
		t.Fatalf("revoke twice: %v", err)
	}

	entries, more, err := st.AuditLog(ctx, store.AuditFilter{Limit: 3})
	if err != nil || len(entries) != 3 || !more {
		t.Fatalf("audit page: %d entries, more %v, %v", len(entries), more, err)
	}
	all, _, _ := st.AuditLog(ctx, store.AuditFilter{Since: time.Now().Add(-time.Hour)})
	want := []string{"revoke token", "create token", "update user", "create user"}
	if len(all) != len(want) {
		t.Fatalf("%d entries, want %d", len(all), len(want))
	}
	for i, e := range all {
		if e.Action+" "+e.Entity != want[i] || e.Actor != "user:root" {
			t.Errorf("entry %d: %s %s by %s, want %s", i, e.Action, e.Entity, e.Actor, want[i])
		}
		if strings.Contains(string(e.Before), hash) || strings.Contains(string(e.After), hash) {
			t.Errorf("entry %d holds the password hash", i)
		}
	}
	scoped, _, _ := st.AuditLog(ctx, store.AuditFilter{Unit: "999001001"})
	if len(scoped) != 0 {
		t.Fatalf("entries in 999001001: %+v", scoped)
	}
}

// The last enabled admin can be neither disabled nor demoted; with a second admin, one can.
func TestLastAdminStays(t *testing.T) {
	st := pg.Store(t)
	ctx := store.WithActor(context.Background(), "user:root")
	hash, err := auth.HashPassword("a long password", auth.Params{Memory: 1024, Time: 1, Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateUser(ctx, store.NewUser{Username: "root", PasswordHash: hash, Role: "admin"}); err != nil {
		t.Fatal(err)
	}
	yes, viewer := true, "viewer"
	if _, err := st.UpdateUser(ctx, "root", store.UserChange{Disabled: &yes}); !errors.Is(err, geo.ErrConflict) {
		t.Fatalf("disable the last admin: %v", err)
	}
	if _, err := st.UpdateUser(ctx, "root", store.UserChange{Role: &viewer}); !errors.Is(err, geo.ErrConflict) {
		t.Fatalf("demote the last admin: %v", err)
	}
	if _, err := st.CreateUser(ctx, store.NewUser{Username: "zhao", PasswordHash: hash, Role: "admin"}); err != nil {
		t.Fatal(err)
	}
	if u, err := st.UpdateUser(ctx, "root", store.UserChange{Disabled: &yes}); err != nil || !u.Disabled {
		t.Fatalf("disable one of two admins: %+v %v", u, err)
	}
	if _, err := st.UpdateUser(ctx, "zhao", store.UserChange{Role: &viewer}); !errors.Is(err, geo.ErrConflict) {
		t.Fatalf("demote the last enabled admin: %v", err)
	}
}
