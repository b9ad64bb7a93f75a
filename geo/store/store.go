// Package store is gridmap's PostgreSQL/PostGIS store: one Store wrapping a pgx pool, one
// file per aggregate with each SQL statement next to the code that scans it, values always
// bound as parameters, geometry encoded in the database (ST_AsGeoJSON) where it only passes
// through. Errors are wrapped with context and classified with the geo sentinels.
package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"gridmap/geo"
)

// Store is the PostGIS store.
type Store struct {
	pool *pgxpool.Pool
}

// Options tune the pool.
type Options struct {
	MaxConns         int32
	StatementTimeout time.Duration
}

// Open connects lazily to the database at dsn (a URL or libpq key=value string).
func Open(ctx context.Context, dsn string, opts Options) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("store: parse database address: %w", err)
	}
	if opts.MaxConns > 0 {
		cfg.MaxConns = opts.MaxConns
	}
	if opts.StatementTimeout == 0 {
		opts.StatementTimeout = 60 * time.Second
	}
	cfg.ConnConfig.RuntimeParams["application_name"] = "gridmap"
	cfg.ConnConfig.RuntimeParams["statement_timeout"] = fmt.Sprint(opts.StatementTimeout.Milliseconds())
	cfg.ConnConfig.ConnectTimeout = 5 * time.Second
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("store: open pool: %w", err)
	}
	return &Store{pool: pool}, nil
}

// NewPool opens a second pool to the same database whose sessions carry extra settings
// (say plan_cache_mode for a hot path of prepared statements). The caller closes it.
func (s *Store) NewPool(ctx context.Context, params map[string]string) (*pgxpool.Pool, error) {
	cfg := s.pool.Config()
	for k, v := range params {
		cfg.ConnConfig.RuntimeParams[k] = v
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("store: open pool: %w", err)
	}
	return pool, nil
}

// Pool exposes the pool to the packages that stream through it (tiles, exports, demo).
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Close closes the pool.
func (s *Store) Close() { s.pool.Close() }

// Ping checks that the database answers a query.
func (s *Store) Ping(ctx context.Context) error {
	var one int
	if err := s.pool.QueryRow(ctx, "SELECT 1").Scan(&one); err != nil {
		return classify("ping database", err)
	}
	return nil
}

// classify wraps err with op, adding geo.ErrUnavailable when the database could not be
// reached or went away, so the API answers 503 instead of 500.
func classify(op string, err error) error {
	if err == nil {
		return nil
	}
	if Unavailable(err) {
		return fmt.Errorf("store: %s: %w: %w", op, geo.ErrUnavailable, err)
	}
	return fmt.Errorf("store: %s: %w", op, err)
}

// Unavailable reports whether err means the database cannot be reached or is shutting down.
func Unavailable(err error) bool {
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) {
		return true
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case len(pe.Code) >= 2 && (pe.Code[:2] == "08" || pe.Code[:2] == "53"),
			pe.Code == "57P01", pe.Code == "57P02", pe.Code == "57P03":
			return true
		}
		return false
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || pgconn.SafeToRetry(err) && !errors.Is(err, context.Canceled)
}

// notFoundIfNoRows turns pgx.ErrNoRows into geo.ErrNotFound.
func notFoundIfNoRows(err error, what, key string) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return geo.NotFound(what, key)
	}
	return err
}
