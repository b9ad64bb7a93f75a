package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/maptile"

	"gridmap/geo/store/storetest"
)

// lockedBuffer collects a child's output while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// TestServeEmbedded is the README's promise: the binary with no DATABASE_URL creates its own
// cluster, loads the demo, answers /health and /api/v1/units within 60 s, stops its database
// on SIGINT, and reuses the data on the next start.
func TestServeEmbedded(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	tmp := t.TempDir()
	bin := buildBinary(t)
	data := filepath.Join(tmp, "var")

	start := func() (*exec.Cmd, *lockedBuffer, string) {
		addr := freeAddr(t)
		cmd := exec.Command(bin, "serve")
		cmd.Env = append(os.Environ(), "DATABASE_URL=", "GRIDMAP_DATA="+data, "GRIDMAP_ADDR="+addr)
		logs := &lockedBuffer{}
		cmd.Stdout, cmd.Stderr = logs, logs
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Kill() })
		deadline := time.Now().Add(60 * time.Second)
		for {
			res, err := http.Get("http://" + addr + "/health")
			if err == nil {
				res.Body.Close()
				if res.StatusCode == 200 {
					return cmd, logs, addr
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("no healthy answer within 60 s; logs:\n%s", logs)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	units := func(addr string) string {
		res, err := http.Get("http://" + addr + "/api/v1/units")
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var body struct{ Units []struct{ Code, Name string } }
		if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
			t.Fatal(err)
		}
		return fmt.Sprint(body.Units)
	}
	stop := func(cmd *exec.Cmd, logs *lockedBuffer) {
		if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("exit after SIGINT: %v\n%s", err, logs)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("still running 30 s after SIGINT\n%s", logs)
		}
		if _, err := os.Stat(filepath.Join(data, "pg", "pgdata", "postmaster.pid")); !os.IsNotExist(err) {
			t.Fatalf("the embedded PostgreSQL still runs after shutdown\n%s", logs)
		}
	}

	cmd, logs, addr := start()
	first := units(addr)
	if !strings.Contains(first, "999001") || !strings.Contains(logs.String(), "loaded the demo county") {
		t.Fatalf("first start: units %s\n%s", first, logs)
	}
	// The first start creates an admin with a random password, printed once.
	m := regexp.MustCompile(`created user "admin" with password (\S+)`).FindStringSubmatch(logs.String())
	if m == nil {
		t.Fatalf("first start printed no admin password:\n%s", logs)
	}
	login := func(addr, pw string) int {
		res, err := http.Post("http://"+addr+"/api/v1/login", "application/json",
			strings.NewReader(`{"username":"admin","password":"`+pw+`"}`))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if s := login(addr, m[1]); s != 200 {
		t.Fatalf("admin login with the printed password: %d", s)
	}
	stop(cmd, logs)

	// token create works against the embedded database too.
	tokenCmd := exec.Command(bin, "token", "create", "--role", "viewer", "--unit", "999001", "--read-only")
	tokenCmd.Env = append(os.Environ(), "DATABASE_URL=", "GRIDMAP_DATA="+data)
	var tokOut, tokErr bytes.Buffer
	tokenCmd.Stdout, tokenCmd.Stderr = &tokOut, &tokErr
	if err := tokenCmd.Run(); err != nil {
		t.Fatalf("token create: %v\n%s", err, tokErr.String())
	}
	token := strings.TrimSpace(tokOut.String())
	if !strings.HasPrefix(token, "gm_") || strings.Contains(tokErr.String(), token) {
		t.Fatalf("token create printed %q (stderr %q)", token, tokErr.String())
	}

	cmd, logs, addr = start()
	if again := units(addr); again != first {
		t.Fatalf("second start lists %s, first listed %s", again, first)
	}
	if strings.Contains(logs.String(), "loaded the demo county") || strings.Contains(logs.String(), "created embedded") ||
		strings.Contains(logs.String(), "created user") {
		t.Fatalf("second start did not reuse the data:\n%s", logs)
	}
	for tok, want := range map[string]int{token: 200, "": 401} {
		req, _ := http.NewRequest("GET", "http://"+addr+"/api/v1/people?unit=999001&limit=1", nil)
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != want {
			t.Fatalf("people with token %v: %d, want %d", tok != "", res.StatusCode, want)
		}
	}
	if strings.Contains(logs.String(), token) {
		t.Fatal("the token reached the log")
	}
	stop(cmd, logs)
}

// buildBinary builds the gridmap binary into a temporary directory.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "gridmap")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

// waitHealthy polls /health until it answers 200.
func waitHealthy(t *testing.T, addr string, logs *lockedBuffer) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		if res, err := http.Get("http://" + addr + "/health"); err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no healthy answer within 60 s; logs:\n%s", logs)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestReplicasStayCoherent runs two gridmap processes on one database (DATABASE_URL): after
// a grid edit, both serve the new tile and both locate answers name the new grid within one
// second — the cached tiles and the in-memory locate index follow LISTEN/NOTIFY.
func TestReplicasStayCoherent(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	ctx := context.Background()
	pg, err := storetest.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pg.Close() })
	dsn := pg.DSN(t)
	bin := buildBinary(t)
	demoCmd := exec.Command(bin, "demo", "--households", "2000")
	demoCmd.Env = append(os.Environ(), "DATABASE_URL="+dsn)
	if out, err := demoCmd.CombinedOutput(); err != nil {
		t.Fatalf("demo: %v\n%s", err, out)
	}
	var addrs []string
	for range 2 {
		addr := freeAddr(t)
		cmd := exec.Command(bin, "serve")
		cmd.Env = append(os.Environ(), "DATABASE_URL="+dsn, "GRIDMAP_ADDR="+addr, "GRIDMAP_LOG=warn")
		logs := &lockedBuffer{}
		cmd.Stdout, cmd.Stderr = logs, logs
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Signal(syscall.SIGINT); cmd.Wait() })
		waitHealthy(t, addr, logs)
		addrs = append(addrs, addr)
	}
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var code string
	var lon, lat float64
	err = conn.QueryRow(ctx, `SELECT g.code, ST_X(h.location), ST_Y(h.location) FROM households h JOIN grids g ON g.id = h.grid_id
		ORDER BY h.id LIMIT 1`).Scan(&code, &lon, &lat)
	if err != nil {
		t.Fatal(err)
	}
	tl := maptile.At(orb.Point{lon, lat}, 14)
	tileURL := fmt.Sprintf("/tiles/grids/%d/%d/%d.mvt", tl.Z, tl.X, tl.Y)
	locateURL := fmt.Sprintf("/api/v1/locate?lon=%v&lat=%v", lon, lat)
	tileName := func(addr string) string {
		res, err := http.Get("http://" + addr + tileURL)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		layers, err := mvt.Unmarshal(b)
		if err != nil {
			t.Fatalf("tile: %v", err)
		}
		for _, l := range layers {
			for _, f := range l.Features {
				if f.Properties["code"] == code {
					return fmt.Sprint(f.Properties["name"])
				}
			}
		}
		t.Fatalf("grid %s not in tile %s", code, tileURL)
		return ""
	}
	locateName := func(addr string) string {
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			res, err := http.Get("http://" + addr + locateURL)
			if err != nil {
				t.Fatal(err)
			}
			var body struct{ Grid struct{ Code, Name string } }
			err = json.NewDecoder(res.Body).Decode(&body)
			res.Body.Close()
			if res.StatusCode == 200 && err == nil {
				return body.Grid.Name
			}
			if res.StatusCode != 503 || time.Now().After(deadline) { // 503 while the index loads
				t.Fatalf("locate: status %d, %v", res.StatusCode, err)
			}
		}
	}
	for _, a := range addrs { // warm both caches
		if tileName(a) != tileName(a) || locateName(a) == "改名网格" {
			t.Fatal("unexpected answer before the edit")
		}
	}
	if _, err := conn.Exec(ctx, `UPDATE grids SET name = '改名网格', version = version + 1 WHERE code = $1`, code); err != nil {
		t.Fatal(err)
	}
	edited := time.Now()
	for i, a := range addrs {
		for tileName(a) != "改名网格" || locateName(a) != "改名网格" {
			if time.Since(edited) > time.Second {
				t.Fatalf("replica %d: tile %q, locate %q a second after the edit", i, tileName(a), locateName(a))
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

func TestUnknownCommand(t *testing.T) {
	var out, errb bytes.Buffer
	err := run(t.Context(), []string{"frobnicate"}, &out, &errb)
	if err == nil || !strings.Contains(errb.String(), "usage:") {
		t.Fatalf("err %v, stderr %q", err, errb.String())
	}
	if ee, ok := err.(*exitError); !ok || ee.code != 2 {
		t.Fatalf("want exit code 2, got %v", err)
	}
}
