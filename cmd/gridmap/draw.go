package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"

	"gridmap/geo/partition"
)

const drawUsage = `usage: gridmap draw --boundary B.geojson --households H.geojson --min 300 --max 500 \
                   [--weight households|residents] [--barriers R.geojson [--strict-barriers]] [--seed S] \
                   --out grids.geojson

Draws grids by residential adjacency without a database. B holds the boundary (Polygon or
MultiPolygon, lon/lat WGS84); H holds household Points whose optional properties "households"
(default 1) and "residents" (default 0) are the weights; R holds barrier lines (roads, rivers,
rail) that grids should not straddle. The output is a FeatureCollection of grid polygons with
properties grid, households, residents, points, polsby_popper. Exit code 3: the band cannot
be met (a report names each component and the numbers).

Database mode: gridmap draw --unit CODE [--min N --max N] [--weight …] [--barriers R.geojson]
[--keep GRID,GRID] [--seed S] [--out grids.geojson] [--apply] draws a village/community (12
digits) or each village/community of a township/street (9 digits) from the database; the band
defaults to the unit's span policy. --apply retires the unit's grids (except --keep) and
creates the drawn ones in one transaction.
`

// runDraw implements `gridmap draw`: file mode, or database mode with --unit.
func runDraw(ctx context.Context, cfg config, log *slog.Logger, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("draw", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, drawUsage)
		fs.PrintDefaults()
	}
	boundary := fs.String("boundary", "", "boundary GeoJSON file (Polygon/MultiPolygon)")
	households := fs.String("households", "", "household points GeoJSON file")
	minW := fs.Int("min", 300, "smallest grid weight")
	maxW := fs.Int("max", 500, "largest grid weight")
	weight := fs.String("weight", "households", "weight the band applies to: households or residents")
	barriers := fs.String("barriers", "", "barrier lines GeoJSON file (optional)")
	strict := fs.Bool("strict-barriers", false, "never let a grid cross a barrier, even where a part is too small (exit 3)")
	seed := fs.Uint64("seed", 1, "random seed; the same seed gives the same grids")
	out := fs.String("out", "", "output GeoJSON file, - for standard output")
	budget := fs.Duration("time-budget", 0, "cap on the compactness search (0: automatic)")
	unit := fs.String("unit", "", "database mode: draw the grids of this village/community or township/street")
	keep := fs.String("keep", "", "database mode: comma-separated grid codes to keep as they are")
	apply := fs.Bool("apply", false, "database mode: apply the drawing (retire the old grids, create the new ones)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return &exitError{2, fmt.Errorf("draw: %w", err)}
	}
	if *unit != "" {
		set := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		for _, name := range []string{"boundary", "households"} {
			if set[name] {
				return &exitError{2, fmt.Errorf("draw: --%s is for file mode; --unit reads the unit from the database", name)}
			}
		}
		o := dbDrawOptions{unit: *unit, weight: *weight, barriers: *barriers, seed: *seed, budget: *budget,
			strict: *strict, apply: *apply, out: *out}
		if set["min"] {
			o.min = *minW
		}
		if set["max"] {
			o.max = *maxW
		}
		if *keep != "" {
			o.keep = strings.Split(*keep, ",")
		}
		return runDrawDB(ctx, cfg, log, o, stdout, stderr)
	}
	if *keep != "" || *apply {
		return &exitError{2, errors.New("draw: --keep and --apply need --unit (database mode)")}
	}
	var missing []string
	for name, v := range map[string]string{"--boundary": *boundary, "--households": *households, "--out": *out} {
		if v == "" {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		fs.Usage()
		return &exitError{2, fmt.Errorf("draw: missing %s", strings.Join(slices.Sorted(slices.Values(missing)), ", "))}
	}
	if *minW <= 0 || *maxW < *minW {
		return &exitError{2, fmt.Errorf("draw: --min %d --max %d: need 0 < min <= max", *minW, *maxW)}
	}
	kind, err := partition.ParseWeightKind(*weight)
	if err != nil {
		return &exitError{2, fmt.Errorf("draw: --weight: %w", err)}
	}
	in := partition.Input{Min: *minW, Max: *maxW, Weight: kind, Seed: *seed, TimeBudget: *budget, StrictBarriers: *strict}
	if in.Boundary, err = readBoundary(*boundary); err != nil {
		return &exitError{2, err}
	}
	if in.Points, err = readHouseholds(*households); err != nil {
		return &exitError{2, err}
	}
	if *barriers != "" {
		if in.Barriers, err = readBarriers(*barriers); err != nil {
			return &exitError{2, err}
		}
	}

	t0 := time.Now()
	res, err := partition.Draw(ctx, in)
	if err != nil {
		if errors.Is(err, partition.ErrInfeasible) {
			fmt.Fprintln(stderr, err)
			return &exitError{3, err}
		}
		return fmt.Errorf("draw: %w", err)
	}
	fc := gridsFeatureCollection(res)
	data, err := json.Marshal(fc)
	if err != nil {
		return fmt.Errorf("draw: encode output: %w", err)
	}
	if *out == "-" {
		if _, err := stdout.Write(append(data, '\n')); err != nil {
			return fmt.Errorf("draw: write output: %w", err)
		}
	} else if err := writeFileAtomic(*out, append(data, '\n')); err != nil {
		return fmt.Errorf("draw: write output: %w", err)
	}
	s := res.Summary
	fmt.Fprintf(stderr, "draw: %d grids, %.1f%% in band %d-%d %s, compactness (Polsby-Popper) min %.3f mean %.3f, %d points (%d outside the boundary, %d merged), %.2fs\n",
		s.Grids, s.PctInBand, in.Min, in.Max, kind, s.MinPP, s.MeanPP, s.Points, s.Outside, s.Merged, time.Since(t0).Seconds())
	if s.BarrierRelaxed > 0 {
		fmt.Fprintf(stderr, "draw: %d barrier crossing(s) allowed where a part was too small for a grid of its own (--strict-barriers forbids this)\n", s.BarrierRelaxed)
	}
	if s.EmptyAreas > 0 {
		fmt.Fprintf(stderr, "draw: %d part(s) of the boundary hold no household and are not in any grid\n", s.EmptyAreas)
	}
	return nil
}

// gridsFeatureCollection renders a result as GeoJSON features numbered in
// the result's order (west→east, north→south).
func gridsFeatureCollection(res *partition.Result) *geojson.FeatureCollection {
	fc := geojson.NewFeatureCollection()
	for i, g := range res.Grids {
		f := geojson.NewFeature(g.Polygon)
		f.Properties = geojson.Properties{
			"grid":          i + 1,
			"households":    g.Households,
			"residents":     g.Residents,
			"points":        len(g.Points),
			"polsby_popper": math.Round(g.PolsbyPopper*10000) / 10000,
			"area_m2":       math.Round(g.Area),
		}
		fc.Append(f)
	}
	return fc
}

func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".gridmap-draw-*")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// readFeatures reads a GeoJSON file holding a FeatureCollection, a Feature
// or a bare geometry.
func readFeatures(path string) ([]*geojson.Feature, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("draw: %w", err)
	}
	var head struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return nil, fmt.Errorf("draw: %s: not JSON: %w", path, err)
	}
	switch head.Type {
	case "FeatureCollection":
		fc, err := geojson.UnmarshalFeatureCollection(data)
		if err != nil {
			return nil, fmt.Errorf("draw: %s: %w", path, err)
		}
		return fc.Features, nil
	case "Feature":
		f, err := geojson.UnmarshalFeature(data)
		if err != nil {
			return nil, fmt.Errorf("draw: %s: %w", path, err)
		}
		return []*geojson.Feature{f}, nil
	default:
		g, err := geojson.UnmarshalGeometry(data)
		if err != nil {
			return nil, fmt.Errorf("draw: %s: %w", path, err)
		}
		return []*geojson.Feature{geojson.NewFeature(g.Geometry())}, nil
	}
}

func readBoundary(path string) (orb.MultiPolygon, error) {
	fs, err := readFeatures(path)
	if err != nil {
		return nil, err
	}
	var mp orb.MultiPolygon
	for i, f := range fs {
		switch g := f.Geometry.(type) {
		case orb.Polygon:
			mp = append(mp, g)
		case orb.MultiPolygon:
			mp = append(mp, g...)
		default:
			return nil, fmt.Errorf("draw: %s: feature %d: boundary must be a Polygon or MultiPolygon, not %T", path, i, f.Geometry)
		}
	}
	if len(mp) == 0 {
		return nil, fmt.Errorf("draw: %s: no boundary polygon", path)
	}
	return mp, nil
}

func readHouseholds(path string) ([]partition.Point, error) {
	fs, err := readFeatures(path)
	if err != nil {
		return nil, err
	}
	var pts []partition.Point
	for i, f := range fs {
		hh, err := intProperty(f.Properties, "households", 1)
		if err != nil {
			return nil, fmt.Errorf("draw: %s: feature %d: %w", path, i, err)
		}
		res, err := intProperty(f.Properties, "residents", 0)
		if err != nil {
			return nil, fmt.Errorf("draw: %s: feature %d: %w", path, i, err)
		}
		switch g := f.Geometry.(type) {
		case orb.Point:
			pts = append(pts, partition.Point{Loc: g, Households: hh, Residents: res})
		default:
			return nil, fmt.Errorf("draw: %s: feature %d: household must be a Point, not %T", path, i, f.Geometry)
		}
	}
	if len(pts) == 0 {
		return nil, fmt.Errorf("draw: %s: no household points", path)
	}
	return pts, nil
}

// intProperty reads a non-negative whole number given as a JSON number or
// a numeric string; a missing or null property gives def.
func intProperty(p geojson.Properties, key string, def int) (int, error) {
	v, ok := p[key]
	if !ok || v == nil {
		return def, nil
	}
	var f float64
	switch x := v.(type) {
	case float64:
		f = x
	case json.Number:
		var err error
		if f, err = x.Float64(); err != nil {
			return 0, fmt.Errorf("property %s: %w", key, err)
		}
	case string:
		var err error
		if f, err = strconv.ParseFloat(strings.TrimSpace(x), 64); err != nil {
			return 0, fmt.Errorf("property %s: %q is not a number", key, x)
		}
	default:
		return 0, fmt.Errorf("property %s: %v is not a number", key, v)
	}
	if f < 0 || f != math.Trunc(f) || f > math.MaxInt32 {
		return 0, fmt.Errorf("property %s: %v is not a non-negative whole number", key, v)
	}
	return int(f), nil
}

func readBarriers(path string) ([]orb.LineString, error) {
	fs, err := readFeatures(path)
	if err != nil {
		return nil, err
	}
	var ls []orb.LineString
	for i, f := range fs {
		switch g := f.Geometry.(type) {
		case orb.LineString:
			ls = append(ls, g)
		case orb.MultiLineString:
			ls = append(ls, g...)
		case orb.Polygon: // a river or rail yard as an area: its outline
			for _, r := range g {
				ls = append(ls, orb.LineString(r))
			}
		case orb.MultiPolygon:
			for _, p := range g {
				for _, r := range p {
					ls = append(ls, orb.LineString(r))
				}
			}
		default:
			return nil, fmt.Errorf("draw: %s: feature %d: barrier must be a line, not %T", path, i, f.Geometry)
		}
	}
	return ls, nil
}
