package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/tern/v2/migrate"

	"gridmap/migrations"
)

// ErrNoPostGIS says the PostGIS extension is not installed on the database server.
var ErrNoPostGIS = errors.New("store: PostGIS is not installed on the database server")

// Migrate applies the embedded migrations to the database at dsn, under tern's advisory
// lock, so several replicas starting at once migrate exactly once.
func Migrate(ctx context.Context, dsn string) error {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return classify("connect to migrate", err)
	}
	defer conn.Close(context.Background())

	var available bool
	var major int
	err = conn.QueryRow(ctx, `
		SELECT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'postgis'),
		       current_setting('server_version_num')::int / 10000`).Scan(&available, &major)
	if err != nil {
		return classify("look for PostGIS", err)
	}
	if !available {
		return fmt.Errorf("%w: install it with apt-get install postgresql-%d-postgis-3", ErrNoPostGIS, major)
	}

	m, err := migrate.NewMigrator(ctx, conn, "schema_version")
	if err != nil {
		return fmt.Errorf("store: prepare migrations: %w", err)
	}
	if err := m.LoadMigrations(migrations.FS()); err != nil {
		return fmt.Errorf("store: load migrations: %w", err)
	}
	if err := m.Migrate(ctx); err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	return nil
}
