package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"time"

	"gridmap/api"
	"gridmap/geo/demo"
	"gridmap/static"
)

func runServe(ctx context.Context, cfg config, log *slog.Logger, args []string, stderr io.Writer) error {
	fs := newFlags("serve", stderr)
	fs.StringVar(&cfg.Addr, "addr", cfg.Addr, "listen address")
	fs.StringVar(&cfg.DataDir, "data", cfg.DataDir, "data directory of the embedded database")
	fs.Int64Var(&cfg.TileCacheMB, "tile-cache-mb", cfg.TileCacheMB, "in-process tile cache in MiB (0: off)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	st, db, done, err := openStore(ctx, cfg, log, 0)
	if err != nil {
		return err
	}
	defer done()

	if db.cluster != nil {
		units, err := st.Units(ctx, "")
		if err != nil {
			return err
		}
		if len(units) == 0 {
			t0 := time.Now()
			stats, err := loadDemo(ctx, st, demo.DefaultOptions())
			if err != nil {
				return err
			}
			log.Info("loaded the demo county on first start", "households", stats.Households, "grids", stats.Grids,
				"took", time.Since(t0).Round(time.Millisecond))
		}
		if err := firstAdmin(ctx, st, stderr); err != nil {
			return err
		}
	}

	srv := api.New(st, api.Config{Logger: log, Static: static.FS(),
		TileCacheBytes: cfg.TileCacheMB << 20, Basemap: cfg.Basemap, TrustProxy: cfg.TrustProxy})
	defer srv.Close()
	if cfg.TileCacheMB > 0 {
		go srv.Tiles().Listen(ctx, log, nil)
	}
	go srv.Locate().Listen(ctx, nil)
	go srv.ListenTokens(ctx, nil) // token lookups are cached while revocations can be heard
	e := srv.Echo()
	errc := make(chan error, 1)
	go func() { errc <- e.Start(cfg.Addr) }()
	log.Info("gridmap serving", "addr", cfg.Addr)
	select {
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			return err
		}
	case <-ctx.Done():
		log.Info("shutting down")
	}
	sctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := e.Shutdown(sctx); err != nil {
		log.Error("shutdown", "error", err)
	}
	return nil
}
