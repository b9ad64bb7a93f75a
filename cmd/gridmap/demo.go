package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"gridmap/geo/demo"
	"gridmap/geo/store"
)

func runDemo(ctx context.Context, cfg config, log *slog.Logger, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("demo", stderr)
	opts := demo.DefaultOptions()
	fs.IntVar(&opts.Households, "households", opts.Households, "households in the county")
	fs.Uint64Var(&opts.Seed, "seed", opts.Seed, "random seed (same seed, same county)")
	fs.StringVar(&opts.Code, "code", opts.Code, "6-digit county code")
	fs.StringVar(&opts.Name, "name", opts.Name, "county name")
	if err := fs.Parse(args); err != nil {
		return err
	}
	st, _, done, err := openStore(ctx, cfg, log, 30*time.Minute)
	if err != nil {
		return err
	}
	defer done()
	t0 := time.Now()
	stats, err := loadDemo(ctx, st, opts)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "loaded demo county %s %s: %d units, %d grids, %d households, %d people, %d links in %.1f s\n",
		opts.Code, opts.Name, stats.Units, stats.Grids, stats.Households, stats.People, stats.Links, time.Since(t0).Seconds())
	return nil
}

func loadDemo(ctx context.Context, st *store.Store, opts demo.Options) (demo.Stats, error) {
	c, err := demo.Generate(opts)
	if err != nil {
		return demo.Stats{}, err
	}
	return demo.Load(ctx, st.Pool(), c)
}
