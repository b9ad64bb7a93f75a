package main

import (
	"context"
	"strings"
	"testing"

	"gridmap/geo/auth"
)

// TestUserAndTokenCommands: user add prints a random password once (or reads one from
// stdin), grant and revoke change the scope, list shows accounts without hashes, and token
// create prints a working token on stdout.
func TestUserAndTokenCommands(t *testing.T) {
	st := demoDatabase(t, 500, 1)
	ctx := context.Background()

	out, errOut, err := runArgs("user", "add", "li", "--role", "planner", "--unit", "999001001")
	if err != nil {
		t.Fatalf("user add: %v %s", err, errOut)
	}
	pw := strings.TrimSpace(out)
	u, err := st.UserByName(ctx, "li")
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := auth.VerifyPassword(u.PasswordHash, pw); err != nil || !ok || u.Role != "planner" || u.SeePersonal {
		t.Fatalf("user %+v: password works %v %v", u, ok, err)
	}
	if strings.Contains(errOut, pw) {
		t.Fatal("the password went to stderr too")
	}
	if _, _, err := runArgs("user", "add", "li", "--role", "planner", "--unit", "999001001"); err == nil {
		t.Fatal("a second li was created")
	}
	if _, _, err := runArgs("user", "add", "x", "--role", "boss"); err == nil {
		t.Fatal("role boss accepted")
	}
	if _, _, err := runArgs("user", "grant", "li", "--unit", "999001002", "--see-personal"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := runArgs("user", "revoke", "li", "--unit", "999001001"); err != nil {
		t.Fatal(err)
	}
	u, _ = st.UserByName(ctx, "li")
	if strings.Join(u.Scope, ",") != "999001002" || !u.SeePersonal {
		t.Fatalf("after grant and revoke: %+v", u)
	}
	if _, _, err := runArgs("user", "add", "root", "--role", "admin"); err != nil {
		t.Fatal(err)
	}
	list, _, err := runArgs("user", "list")
	if err != nil || !strings.Contains(list, "li") || !strings.Contains(list, "root") || strings.Contains(list, "argon2") {
		t.Fatalf("user list: %v\n%s", err, list)
	}

	out, _, err = runArgs("token", "create", "--role", "viewer", "--unit", "999001", "--read-only", "--name", "qgis")
	if err != nil {
		t.Fatal(err)
	}
	token := strings.TrimSpace(out)
	tok, err := st.TokenByHash(ctx, auth.Digest(token))
	if err != nil || tok.Role != "viewer" || !tok.ReadOnly || tok.Units[0] != "999001" || tok.CreatedBy != "cli" {
		t.Fatalf("token %q: %+v %v", token, tok, err)
	}
	if _, _, err := runArgs("token", "create", "--role", "planner"); err == nil {
		t.Fatal("a planner token without --unit was created")
	}
	if _, _, err := runArgs("token", "revoke", "1"); err != nil {
		t.Fatal(err)
	}
	if _, err := st.TokenByHash(ctx, auth.Digest(token)); err == nil {
		t.Fatal("revoked token still found")
	}
}
