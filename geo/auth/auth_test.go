package auth_test

import (
	"strings"
	"testing"
	"time"

	"gridmap/geo/auth"
)

func TestPassword(t *testing.T) {
	p := auth.Params{Memory: 1024, Time: 1, Threads: 1}
	h, err := auth.HashPassword("correct horse battery", p)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=1024,t=1,p=1$") || strings.Contains(h, "horse") {
		t.Fatalf("hash %s", h)
	}
	h2, _ := auth.HashPassword("correct horse battery", p)
	if h == h2 {
		t.Fatal("same salt twice")
	}
	for pw, want := range map[string]bool{"correct horse battery": true, "correct horse batter": false, "": false} {
		if ok, err := auth.VerifyPassword(h, pw); err != nil || ok != want {
			t.Fatalf("verify %q: %v %v", pw, ok, err)
		}
	}
	for _, bad := range []string{"", "$argon2i$v=19$m=1,t=1,p=1$a$b", "$argon2id$v=19$m=x$a$b", "$argon2id$v=19$m=1024,t=1,p=1$!!$b"} {
		if _, err := auth.VerifyPassword(bad, "x"); err == nil {
			t.Fatalf("accepted hash %q", bad)
		}
	}
	if auth.CheckPassword("short") == nil || auth.CheckPassword("long enough pw") != nil {
		t.Fatal("password length check")
	}
}

func TestSecrets(t *testing.T) {
	a, da, err := auth.NewToken()
	if err != nil {
		t.Fatal(err)
	}
	b, _, _ := auth.NewToken()
	if a == b || !auth.LooksLikeToken(a) || len(da) != 32 || string(auth.Digest(a)) != string(da) {
		t.Fatalf("tokens %s %s", a, b)
	}
	if auth.LooksLikeToken("gm_short") {
		t.Fatal("short token accepted")
	}
	pw, err := auth.NewPassword()
	if err != nil || auth.CheckPassword(pw) != nil {
		t.Fatalf("password %q %v", pw, err)
	}
}

func TestPrincipal(t *testing.T) {
	planner := auth.Principal{Kind: auth.Token, ID: 3, Role: auth.Planner, Scope: []string{"999001001"}}
	viewer := auth.Principal{Kind: auth.Session, Name: "v", Role: auth.Viewer, Scope: []string{"999001"}}
	worker := auth.Principal{Kind: auth.Session, Name: "w", Role: auth.Worker, Scope: []string{"999001001001001"}}
	admin := auth.Principal{Kind: auth.Session, Name: "root", Role: auth.Admin}
	ro := planner
	ro.ReadOnly = true
	anon := auth.AnonymousPrincipal()
	cases := []struct {
		p           auth.Principal
		code        string
		read, write bool
	}{
		{planner, "999001001", true, true},
		{planner, "999001001002", true, true},
		{planner, "999001001002003", true, true},
		{planner, "999001002", false, false},
		{planner, "999001", false, false},
		{planner, "", false, false},
		{ro, "999001001002", true, false},
		{viewer, "999001001", true, false},
		{worker, "999001001001001", true, false},
		{worker, "999001001001002", false, false},
		{admin, "888001", true, true},
		{admin, "", true, true},
		{anon, "999001", false, false},
	}
	for _, c := range cases {
		if c.p.CanRead(c.code) != c.read || c.p.CanWrite(c.code) != c.write {
			t.Errorf("%s %v on %q: read %v write %v", c.p.Role, c.p.Scope, c.code, c.p.CanRead(c.code), c.p.CanWrite(c.code))
		}
	}
	if planner.Covers(nil) || !planner.Covers([]string{"999001001003"}) || planner.Covers([]string{"999001"}) || !admin.Covers(nil) {
		t.Fatal("covers")
	}
	if planner.Actor() != "token:3" || viewer.Actor() != "user:v" || anon.Actor() != "anonymous" {
		t.Fatal("actor")
	}
	if _, err := auth.ParseRole("public"); err == nil {
		t.Fatal("public is not an account role")
	}
	if !auth.Viewer.AtMost(auth.Planner) || auth.Admin.AtMost(auth.Planner) {
		t.Fatal("role order")
	}
}

func TestLimiter(t *testing.T) {
	now := time.Unix(0, 0)
	l := auth.NewLimiter(1, 3, 4)
	l.SetClock(func() time.Time { return now })
	for i := 0; i < 3; i++ {
		if ok, _ := l.Allow("a"); !ok {
			t.Fatalf("request %d refused", i)
		}
	}
	ok, wait := l.Allow("a")
	if ok || wait <= 0 || wait > time.Second {
		t.Fatalf("fourth: %v %v", ok, wait)
	}
	if ok, _ := l.Allow("b"); !ok {
		t.Fatal("another key is limited too")
	}
	now = now.Add(time.Second)
	if ok, _ := l.Allow("a"); !ok {
		t.Fatal("no refill")
	}
	for _, k := range []string{"c", "d", "e", "f", "g"} {
		l.Allow(k)
	}
	if l.Len() > 4 {
		t.Fatalf("%d keys held, max 4", l.Len())
	}
}
