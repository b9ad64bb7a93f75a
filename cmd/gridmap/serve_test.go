package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
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
	bin := filepath.Join(tmp, "gridmap")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
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
	stop(cmd, logs)

	cmd, logs, addr = start()
	if again := units(addr); again != first {
		t.Fatalf("second start lists %s, first listed %s", again, first)
	}
	if strings.Contains(logs.String(), "loaded the demo county") || strings.Contains(logs.String(), "created embedded") {
		t.Fatalf("second start did not reuse the data:\n%s", logs)
	}
	stop(cmd, logs)
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
