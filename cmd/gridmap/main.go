// Command gridmap is the one binary of gridmap: serve the API, tiles and pages; migrate the
// database; load the demo county; draw grids. With no DATABASE_URL it runs its own embedded
// PostgreSQL cluster under the data directory.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
)

const usage = `gridmap — grid-based community management (网格化管理)

usage:
  gridmap serve   [--addr :8080] [--data ./var]   serve (embedded database when DATABASE_URL is unset)
  gridmap migrate                                 apply migrations to the database
  gridmap demo    [--households N] [--seed S]     load the synthetic demo county
  gridmap import  households FILE [--crs gcj02] [--unit CODE] [--skip-invalid] [--encoding gbk]
  gridmap draw    --boundary B.geojson --households H.geojson --min 300 --max 500 --out grids.geojson
                  [--weight households|residents] [--barriers R.geojson] [--seed S]
                                                  draw grids by residential adjacency (file mode, no database)
  gridmap draw    --unit CODE [--min 300 --max 500] [--keep CODES] [--apply] [--out grids.geojson]
                                                  draw a unit's grids from the database (and apply them)
  gridmap coverage --unit CODE [--json | --problems [--kind K,…]]   coverage and span report of a unit
  gridmap user    add NAME --role admin|planner|viewer|worker [--unit CODE,…] [--see-personal] [--password-stdin]
                                                  create an account (a random password is printed once unless from stdin)
  gridmap user    grant|revoke NAME [--unit CODE,…] [--see-personal]   change an account's scope or right to personal data
  gridmap user    list | passwd NAME [--password-stdin] | disable NAME | enable NAME
  gridmap token   create --role ROLE [--unit CODE] [--read-only] [--see-personal] [--name N]
                                                  print a new API token on stdout (Bearer or ?api_key=)
  gridmap token   list | revoke ID
  gridmap help                                    this text

environment: DATABASE_URL (PostgreSQL + PostGIS; unset: embedded), GRIDMAP_ADDR (:8080),
             GRIDMAP_DATA (./var, the embedded cluster's home), GRIDMAP_LOG (info|debug).
`

// exitError carries a process exit code.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		code := 1
		var ee *exitError
		if errors.As(err, &ee) {
			code = ee.code
		}
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "gridmap:", err)
		}
		os.Exit(code)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return &exitError{2, errors.New("no command given")}
	}
	cfg := configFromEnv()
	log := newLogger(stderr, cfg.LogLevel)
	switch args[0] {
	case "serve":
		return runServe(ctx, cfg, log, args[1:], stderr)
	case "migrate":
		return runMigrate(ctx, cfg, log, args[1:], stderr)
	case "demo":
		return runDemo(ctx, cfg, log, args[1:], stdout, stderr)
	case "import":
		return runImport(ctx, cfg, log, args[1:], stdout, stderr)
	case "draw":
		return runDraw(ctx, cfg, log, args[1:], stdout, stderr)
	case "coverage":
		return runCoverage(ctx, cfg, log, args[1:], stdout, stderr)
	case "user":
		return runUser(ctx, cfg, log, args[1:], stdinOf(), stdout, stderr)
	case "token":
		return runToken(ctx, cfg, log, args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return &exitError{2, fmt.Errorf("unknown command %q", args[0])}
}

func newLogger(w io.Writer, level string) *slog.Logger {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		l = slog.LevelInfo
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l}))
}
