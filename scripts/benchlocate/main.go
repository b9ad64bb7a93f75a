// Command benchlocate supports scripts/bench-locate.sh: it writes a fixed list of points
// spread over the loaded grids, and times the database floor for locate — the same points
// as a prepared PostGIS ST_Intersects query through pgx, no HTTP — at a given concurrency.
//
//	benchlocate points -dsn DSN [-n 10000] [-seed 1] > points.txt
//	benchlocate floor  -dsn DSN -points points.txt [-conc 50] [-dur 10s]
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"gridmap/scripts/internal/loadgen"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: benchlocate points|floor …")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "points":
		err = points(os.Args[2:])
	case "floor":
		err = floor(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchlocate:", err)
		os.Exit(1)
	}
}

// points prints n seeded random "lon lat" lines over the extent of the active grids.
func points(args []string) error {
	fs := flag.NewFlagSet("points", flag.ExitOnError)
	dsn := fs.String("dsn", "", "database")
	n := fs.Int("n", 10000, "points")
	seed := fs.Uint64("seed", 1, "random seed")
	fs.Parse(args)
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, *dsn)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer pool.Close()
	var b [4]float64
	if err := pool.QueryRow(ctx, `SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e)
		FROM (SELECT ST_Extent(boundary) e FROM grids WHERE valid_to IS NULL) x`).Scan(&b[0], &b[1], &b[2], &b[3]); err != nil {
		return fmt.Errorf("grid extent: %w", err)
	}
	var grids, households int64
	if err := pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM grids WHERE valid_to IS NULL), (SELECT count(*) FROM households)`).
		Scan(&grids, &households); err != nil {
		return fmt.Errorf("count: %w", err)
	}
	fmt.Fprintf(os.Stderr, "# %d active grids, %d households; %d points over the grids' extent\n", grids, households, *n)
	rng := rand.New(rand.NewPCG(*seed, 8))
	w := bufio.NewWriter(os.Stdout)
	for range *n {
		fmt.Fprintf(w, "%.6f %.6f\n", b[0]+rng.Float64()*(b[2]-b[0]), b[1]+rng.Float64()*(b[3]-b[1]))
	}
	return w.Flush()
}

// floorSQL is the database doing locate's core: the active grids at a point, lowest id
// first (the same rule as the index), through the GiST index on active boundaries.
const floorSQL = `SELECT id, code FROM grids
	WHERE valid_to IS NULL AND boundary && ST_SetSRID(ST_MakePoint($1, $2), 4326)
	  AND ST_Intersects(boundary, ST_SetSRID(ST_MakePoint($1, $2), 4326))
	ORDER BY id`

// floor runs floorSQL over the points from -conc goroutines for -dur.
func floor(args []string) error {
	fs := flag.NewFlagSet("floor", flag.ExitOnError)
	dsn := fs.String("dsn", "", "database")
	file := fs.String("points", "", "lon lat list")
	conc := fs.Int("conc", 50, "concurrent queries")
	dur := fs.Duration("dur", 10*time.Second, "duration")
	fs.Parse(args)
	pts, err := readPoints(*file)
	if err != nil {
		return err
	}
	cfg, err := pgxpool.ParseConfig(*dsn)
	if err != nil {
		return fmt.Errorf("parse dsn: %w", err)
	}
	cfg.MaxConns = int32(*conc)
	ctx := context.Background()
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer pool.Close()
	res, err := loadgen.Run(*conc, *dur, func(i int) error {
		p := pts[i%len(pts)]
		rows, err := pool.Query(ctx, floorSQL, p[0], p[1]) // prepared on first use per connection
		if err != nil {
			return err
		}
		for rows.Next() {
			var id int64
			var code string
			if err := rows.Scan(&id, &code); err != nil {
				rows.Close()
				return err
			}
		}
		rows.Close()
		return rows.Err()
	})
	if err != nil {
		return err
	}
	fmt.Printf("postgis: %s (%d conns, prepared ST_Intersects via pgx)\n", res, *conc)
	return nil
}

func readPoints(name string) ([][2]float64, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("points: %w", err)
	}
	defer f.Close()
	var out [][2]float64
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var p [2]float64
		if _, err := fmt.Sscanf(sc.Text(), "%f %f", &p[0], &p[1]); err != nil {
			return nil, fmt.Errorf("points: %q: %w", sc.Text(), err)
		}
		out = append(out, p)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("points: %w", err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("points: %s is empty", name)
	}
	return out, nil
}
