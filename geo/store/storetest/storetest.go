// Package storetest gives tests a real, throwaway PostgreSQL + PostGIS: one cluster per test
// binary in a temporary directory (no fsync, Unix socket only), migrated once into a template
// database, and a fresh database cloned from the template for every test that asks.
//
//	var pg *storetest.Cluster
//
//	func TestMain(m *testing.M) { os.Exit(storetest.Run(m, &pg)) }
//
//	func TestSomething(t *testing.T) { st := pg.Store(t); … }
package storetest

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"gridmap/geo/store"
	"gridmap/geo/store/pgcluster"
)

const template = "gridmap_tpl"

// Cluster is a running throwaway cluster with a migrated template database.
type Cluster struct {
	pg *pgcluster.Cluster
	mu sync.Mutex
	n  int
}

// Run starts a cluster, stores it in *c, runs the tests and removes the cluster. It returns
// the exit code for os.Exit.
func Run(m *testing.M, c **Cluster) int {
	cl, err := Start(context.Background())
	if err != nil {
		fmt.Fprintln(os.Stderr, "storetest:", err)
		return 1
	}
	*c = cl
	code := m.Run()
	if err := cl.Close(); err != nil {
		fmt.Fprintln(os.Stderr, "storetest:", err)
	}
	return code
}

// Start initialises and starts a cluster in a new temporary directory and migrates the
// template database.
func Start(ctx context.Context) (*Cluster, error) {
	dir, err := os.MkdirTemp("", "gridmap-pg-")
	if err != nil {
		return nil, fmt.Errorf("storetest: temp dir: %w", err)
	}
	pg, err := pgcluster.New(dir, pgcluster.Options{Throwaway: true})
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	c := &Cluster{pg: pg}
	if _, err := pg.Init(ctx); err != nil {
		pg.Remove()
		return nil, err
	}
	if err := pg.Start(ctx); err != nil {
		pg.Remove()
		return nil, err
	}
	if err := c.exec(ctx, "CREATE DATABASE "+template); err != nil {
		c.Close()
		return nil, err
	}
	if err := store.Migrate(ctx, pg.DSN(template)); err != nil {
		c.Close()
		return nil, fmt.Errorf("storetest: migrate template: %w", err)
	}
	return c, nil
}

// Close stops the cluster and deletes its directory.
func (c *Cluster) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err := c.pg.Stop(ctx)
	if rerr := c.pg.Remove(); err == nil {
		err = rerr
	}
	return err
}

// Cluster returns the underlying cluster (to stop it in an outage test, say).
func (c *Cluster) Cluster() *pgcluster.Cluster { return c.pg }

// DSN creates a fresh migrated database for the test, dropped when the test ends, and
// returns its connection string.
func (c *Cluster) DSN(t testing.TB) string {
	t.Helper()
	c.mu.Lock()
	c.n++
	name := fmt.Sprintf("t_%d", c.n)
	c.mu.Unlock()
	ctx := context.Background()
	// Concurrent clones of one template collide; clone one at a time.
	c.mu.Lock()
	err := c.exec(ctx, fmt.Sprintf("CREATE DATABASE %s TEMPLATE %s", name, template))
	c.mu.Unlock()
	if err != nil {
		t.Fatalf("storetest: %v", err)
	}
	t.Cleanup(func() {
		if err := c.exec(context.Background(), fmt.Sprintf("DROP DATABASE IF EXISTS %s WITH (FORCE)", name)); err != nil {
			t.Logf("storetest: %v", err)
		}
	})
	return c.pg.DSN(name)
}

// Store opens a store on a fresh database for the test; it is closed when the test ends.
func (c *Cluster) Store(t testing.TB) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), c.DSN(t), store.Options{})
	if err != nil {
		t.Fatalf("storetest: %v", err)
	}
	t.Cleanup(st.Close)
	return st
}

func (c *Cluster) exec(ctx context.Context, sql string) error {
	conn, err := pgx.Connect(ctx, c.pg.DSN("postgres"))
	if err != nil {
		return fmt.Errorf("storetest: connect: %w", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql); err != nil {
		return fmt.Errorf("storetest: %s: %w", sql, err)
	}
	return nil
}

// TableShape fingerprints a table's indexes (with their validity), constraints (with their
// validation state) and triggers (with their enabled state): what a bulk load sets aside
// and must put back.
func TableShape(t testing.TB, pool *pgxpool.Pool, table string) string {
	t.Helper()
	var s string
	err := pool.QueryRow(context.Background(), `
		SELECT concat_ws(E'\n',
		    (SELECT string_agg(pg_get_indexdef(indexrelid) || ' valid=' || indisvalid, E'\n' ORDER BY indexrelid::regclass::text)
		     FROM pg_index WHERE indrelid = $1::regclass),
		    (SELECT string_agg(conname || ' ' || pg_get_constraintdef(oid) || ' validated=' || convalidated, E'\n' ORDER BY conname)
		     FROM pg_constraint WHERE conrelid = $1::regclass),
		    (SELECT string_agg(tgname || ' ' || tgenabled::text, E'\n' ORDER BY tgname)
		     FROM pg_trigger WHERE tgrelid = $1::regclass AND NOT tgisinternal))`, table).Scan(&s)
	if err != nil {
		t.Fatalf("storetest: shape of %s: %v", table, err)
	}
	return s
}
