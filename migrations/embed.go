// Package migrations holds gridmap's numbered SQL migrations (NNN_name.sql), embedded in the
// binary and applied by jackc/tern under an advisory lock (see geo/store.Migrate).
package migrations

import (
	"embed"
	"io/fs"
)

//go:embed *.sql
var files embed.FS

// FS returns the migration files.
func FS() fs.FS { return files }
