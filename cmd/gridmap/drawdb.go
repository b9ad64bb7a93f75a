package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"gridmap/geo"
	"gridmap/geo/drawjob"
	"gridmap/geo/partition"
)

// dbDrawOptions are the flags of `gridmap draw --unit`.
type dbDrawOptions struct {
	unit     string
	min, max int // 0: the unit's span policy
	weight   string
	barriers string
	keep     []string
	seed     uint64
	budget   time.Duration
	strict   bool
	apply    bool
	out      string
}

// runDrawDB draws a unit's grids from the database, prints the summary (and the
// infeasibility report, exit 3), writes the proposal with --out, and applies it with
// --apply.
func runDrawDB(ctx context.Context, cfg config, log *slog.Logger, o dbDrawOptions, stdout, stderr io.Writer) error {
	if log == nil {
		log = slog.New(slog.NewTextHandler(stderr, nil))
	}
	if o.min < 0 || o.max < 0 || (o.min > 0 && o.max > 0 && o.max < o.min) {
		return &exitError{2, fmt.Errorf("draw: --min %d --max %d: need 0 < min <= max", o.min, o.max)}
	}
	kind, err := partition.ParseWeightKind(o.weight)
	if err != nil {
		return &exitError{2, fmt.Errorf("draw: --weight: %w", err)}
	}
	req := drawjob.Request{Unit: o.unit, Min: o.min, Max: o.max, Weight: kind, Keep: o.keep, Seed: o.seed,
		TimeBudget: o.budget, StrictBarriers: o.strict}
	if o.barriers != "" {
		if req.Barriers, err = readBarriers(o.barriers); err != nil {
			return &exitError{2, err}
		}
	}
	st, _, done, err := openStore(ctx, cfg, log, 10*time.Minute)
	if err != nil {
		return err
	}
	defer done()

	units, err := st.DrawScope(ctx, req.Unit, req.Keep)
	if err != nil {
		return drawDBError(err)
	}
	res, err := drawjob.Run(ctx, st, req, units, func(f float64, stage string) {
		log.Debug("draw", "progress", fmt.Sprintf("%.0f%%", 100*f), "stage", stage)
	})
	if err != nil {
		return drawDBError(err)
	}
	for _, u := range res.Units {
		switch {
		case u.Skipped != "":
			fmt.Fprintf(stderr, "draw: %s %s: skipped: %s\n", u.Unit, u.Name, u.Skipped)
		case u.Infeasible != nil:
			fmt.Fprintf(stderr, "draw: %s %s: %v\n", u.Unit, u.Name, u.Infeasible)
		default:
			s := u.Summary
			fmt.Fprintf(stderr, "draw: %s %s: %d grids, %.1f%% in band %d-%d %s, compactness min %.3f mean %.3f, %d households, %d change grid\n",
				u.Unit, u.Name, s.Grids, s.PctInBand, u.Min, u.Max, kind, s.MinPP, s.MeanPP, u.Households, len(u.Changes))
		}
	}
	m := res.Metrics()
	fmt.Fprintf(stderr, "draw: %d unit(s), %d grids, %.1f%% in band, compactness min %.3f mean %.3f, %d households (%d change grid), %.2fs\n",
		m.Units, m.Grids, m.PctInBand, m.MinPP, m.MeanPP, m.Households, m.Changed, m.Seconds)
	if o.out != "" {
		data, err := json.Marshal(res.FeatureCollection())
		if err != nil {
			return fmt.Errorf("draw: encode output: %w", err)
		}
		if o.out == "-" {
			_, err = stdout.Write(append(data, '\n'))
		} else {
			err = writeFileAtomic(o.out, append(data, '\n'))
		}
		if err != nil {
			return fmt.Errorf("draw: write output: %w", err)
		}
	}
	if res.State() == drawjob.Infeasible {
		return &exitError{3, fmt.Errorf("draw: the band cannot be met in %d unit(s): %w", len(res.Report().Units), partition.ErrInfeasible)}
	}
	if !o.apply {
		return nil
	}
	applied, err := drawjob.Apply(ctx, st, res, "cli")
	if err != nil {
		return drawDBError(err)
	}
	codes := make([]string, len(applied.Created))
	for i, g := range applied.Created {
		codes[i] = g.Code
	}
	fmt.Fprintf(stdout, "applied: retired %d grid(s) %s; created %d grid(s) %s\n",
		len(applied.Retired), strings.Join(applied.Retired, " "), len(applied.Created), strings.Join(codes, " "))
	return nil
}

// drawDBError gives bad input exit code 2 and a conflict exit code 4.
func drawDBError(err error) error {
	var in *geo.InputError
	switch {
	case errors.As(err, &in), errors.Is(err, geo.ErrNotFound):
		return &exitError{2, fmt.Errorf("draw: %w", err)}
	case errors.Is(err, geo.ErrConflict):
		return &exitError{4, fmt.Errorf("draw: %w", err)}
	}
	return fmt.Errorf("draw: %w", err)
}
