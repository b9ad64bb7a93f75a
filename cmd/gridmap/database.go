package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/jackc/pgx/v5"

	"gridmap/geo/store"
	"gridmap/geo/store/pgcluster"
)

// database is an open, migrated database, with the embedded cluster behind it if any.
type database struct {
	dsn     string
	cluster *pgcluster.Cluster // nil with DATABASE_URL
	fresh   bool               // the embedded cluster was created just now
}

// openDatabase returns DATABASE_URL, or starts (creating on first use) the embedded cluster
// under cfg.DataDir/pg with its "gridmap" database. It migrates either way.
func openDatabase(ctx context.Context, cfg config, log *slog.Logger) (*database, error) {
	if cfg.DatabaseURL != "" {
		if err := store.Migrate(ctx, cfg.DatabaseURL); err != nil {
			return nil, err
		}
		return &database{dsn: cfg.DatabaseURL}, nil
	}
	cl, err := pgcluster.New(filepath.Join(cfg.DataDir, "pg"), pgcluster.Options{})
	if err != nil {
		return nil, err
	}
	created, err := cl.Init(ctx)
	if err != nil {
		return nil, err
	}
	if created {
		log.Info("created embedded PostgreSQL cluster", "dir", cl.DataDir())
	}
	for _, d := range cl.Opened {
		log.Warn("gave the postgres user search permission on a parent directory", "dir", d)
	}
	t0 := time.Now()
	if err := cl.Start(ctx); err != nil {
		return nil, err
	}
	log.Info("started embedded PostgreSQL", "socket", cl.SocketDir(), "took", time.Since(t0).Round(time.Millisecond))
	db := &database{dsn: cl.DSN("gridmap"), cluster: cl, fresh: created}
	if err := db.ensureDatabase(ctx); err != nil {
		db.close(log)
		return nil, err
	}
	if err := store.Migrate(ctx, db.dsn); err != nil {
		db.close(log)
		return nil, err
	}
	return db, nil
}

func (db *database) ensureDatabase(ctx context.Context) error {
	conn, err := pgx.Connect(ctx, db.cluster.DSN("postgres"))
	if err != nil {
		return fmt.Errorf("connect to embedded cluster: %w", err)
	}
	defer conn.Close(context.Background())
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'gridmap')`).Scan(&exists); err != nil {
		return fmt.Errorf("look for database gridmap: %w", err)
	}
	if !exists {
		if _, err := conn.Exec(ctx, `CREATE DATABASE gridmap`); err != nil {
			return fmt.Errorf("create database gridmap: %w", err)
		}
	}
	return nil
}

// close stops the embedded cluster, if any.
func (db *database) close(log *slog.Logger) {
	if db.cluster == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := db.cluster.Stop(ctx); err != nil {
		log.Error("stop embedded PostgreSQL", "error", err)
		return
	}
	log.Info("stopped embedded PostgreSQL")
}

func runMigrate(ctx context.Context, cfg config, log *slog.Logger, args []string, stderr io.Writer) error {
	fs := newFlags("migrate", stderr)
	if err := fs.Parse(args); err != nil {
		return err
	}
	db, err := openDatabase(ctx, cfg, log)
	if err != nil {
		return err
	}
	db.close(log)
	log.Info("migrated")
	return nil
}

// openStore opens the database (embedded or DATABASE_URL, migrated) and a store on it with
// the given statement timeout (0: the store's default). done closes both.
func openStore(ctx context.Context, cfg config, log *slog.Logger, timeout time.Duration) (st *store.Store, db *database, done func(), err error) {
	db, err = openDatabase(ctx, cfg, log)
	if err != nil {
		return nil, nil, nil, err
	}
	st, err = store.Open(ctx, db.dsn, store.Options{StatementTimeout: timeout})
	if err != nil {
		db.close(log)
		return nil, nil, nil, err
	}
	return st, db, func() { st.Close(); db.close(log) }, nil
}
