package pgcluster_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"gridmap/geo/store/pgcluster"
)

func TestLifecycle(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "nested", "pg")
	c, err := pgcluster.New(dir, pgcluster.Options{Throwaway: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Stop(ctx)
	if created, err := c.Init(ctx); err != nil || !created {
		t.Fatalf("first init: created %v, %v", created, err)
	}
	if created, err := c.Init(ctx); err != nil || created {
		t.Fatalf("second init must reuse: created %v, %v", created, err)
	}
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, c.DSN("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	var listen string
	if err := conn.QueryRow(ctx, "SHOW listen_addresses").Scan(&listen); err != nil {
		t.Fatal(err)
	}
	conn.Close(ctx)
	if listen != "" {
		t.Fatalf("the cluster listens on TCP %q; it must use its Unix socket only", listen)
	}
	if err := c.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(c.DataDir(), "postmaster.pid")); !os.IsNotExist(err) {
		t.Fatal("postmaster.pid left after stop")
	}
	// Stopping a stopped cluster is fine; starting again reuses the data.
	if err := c.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestMissingBinaries(t *testing.T) {
	empty := t.TempDir()
	c, err := pgcluster.New(filepath.Join(t.TempDir(), "pg"), pgcluster.Options{BinDir: empty})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Init(context.Background())
	if err == nil || !strings.Contains(err.Error(), "initdb") {
		t.Fatalf("want an initdb error, got %v", err)
	}
	if !strings.Contains(pgcluster.ErrNoPostgres.Error(), "apt-get install postgresql-15") {
		t.Fatalf("the missing-server error must say what to install: %v", pgcluster.ErrNoPostgres)
	}
}

func TestSocketPathTooLong(t *testing.T) {
	long := filepath.Join(t.TempDir(), strings.Repeat("x", 120))
	if _, err := pgcluster.New(long, pgcluster.Options{}); err == nil || !strings.Contains(err.Error(), "GRIDMAP_DATA") {
		t.Fatalf("want a socket path error naming GRIDMAP_DATA, got %v", err)
	}
}
