// Command benchtiles supports scripts/bench-tiles.sh: it lists the tiles that cover the
// loaded counties at a zoom, measures tile sizes over HTTP, and times the database floor
// (the same ST_AsMVT work through pgx, no HTTP, no cache) at a given concurrency.
//
//	benchtiles list  -dsn DSN -z 14 [-max 2000] > paths.txt
//	benchtiles sizes -base http://127.0.0.1:8080 -layers grids -paths paths.txt
//	benchtiles floor -dsn DSN -layers grids -paths paths.txt [-conc 8] [-dur 10s] [-plain]
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"

	"gridmap/scripts/internal/loadgen"
	"gridmap/tiles"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: benchtiles list|sizes|floor …")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "list":
		err = list(os.Args[2:])
	case "sizes":
		err = sizes(os.Args[2:])
	case "floor":
		err = floor(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchtiles:", err)
		os.Exit(1)
	}
}

// list prints z/x/y of the tiles covering the counties' extent, evenly sampled to -max.
func list(args []string) error {
	fs := flag.NewFlagSet("list", flag.ExitOnError)
	dsn := fs.String("dsn", "", "database")
	z := fs.Int("z", 14, "zoom")
	maxN := fs.Int("max", 2000, "at most this many tiles")
	fs.Parse(args)
	pool, err := pgxpool.New(context.Background(), *dsn)
	if err != nil {
		return err
	}
	defer pool.Close()
	var b orb.Bound
	err = pool.QueryRow(context.Background(), `SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e)
		FROM (SELECT ST_Extent(boundary) e FROM units WHERE parent_code IS NULL) x`).Scan(&b.Min[0], &b.Min[1], &b.Max[0], &b.Max[1])
	if err != nil {
		return err
	}
	lo := maptile.At(orb.Point{b.Min[0], b.Max[1]}, maptile.Zoom(*z))
	hi := maptile.At(orb.Point{b.Max[0], b.Min[1]}, maptile.Zoom(*z))
	var all []string
	for x := lo.X; x <= hi.X; x++ {
		for y := lo.Y; y <= hi.Y; y++ {
			all = append(all, fmt.Sprintf("%d/%d/%d", *z, x, y))
		}
	}
	step := math.Max(1, float64(len(all))/float64(*maxN))
	for i := 0.0; int(i) < len(all); i += step {
		fmt.Println(all[int(i)])
	}
	return nil
}

func readPaths(file string) ([]string, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	return strings.Fields(string(b)), nil
}

// sizes fetches every tile once (uncompressed) and prints the size distribution.
func sizes(args []string) error {
	fs := flag.NewFlagSet("sizes", flag.ExitOnError)
	base := fs.String("base", "http://127.0.0.1:8080", "server")
	layers := fs.String("layers", "grids", "layers")
	file := fs.String("paths", "", "z/x/y list")
	fs.Parse(args)
	paths, err := readPaths(*file)
	if err != nil {
		return err
	}
	var got []int
	empty := 0
	for _, p := range paths {
		req, _ := http.NewRequest("GET", fmt.Sprintf("%s/tiles/%s/%s.mvt", *base, *layers, p), nil)
		req.Header.Set("Accept-Encoding", "identity")
		if tok := os.Getenv("GRIDMAP_TOKEN"); tok != "" { // gridmap token create
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		res, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			return err
		}
		n, _ := io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode == http.StatusNoContent {
			empty++
			continue
		}
		if res.StatusCode != 200 {
			return fmt.Errorf("%s: status %d", p, res.StatusCode)
		}
		got = append(got, int(n))
	}
	sort.Ints(got)
	if len(got) == 0 {
		fmt.Printf("sizes %s: %d tiles, all empty\n", *layers, len(paths))
		return nil
	}
	sum := 0
	for _, n := range got {
		sum += n
	}
	fmt.Printf("sizes %s: %d tiles (%d empty) mean %.1f KB p50 %.1f KB max %.1f KB (uncompressed)\n", *layers,
		len(paths), empty, float64(sum)/float64(len(got))/1024, float64(got[len(got)/2])/1024, float64(got[len(got)-1])/1024)
	return nil
}

// floor runs the layer queries straight through pgx for -dur at -conc and prints rate and
// latency percentiles: what the database alone can do.
func floor(args []string) error {
	fs := flag.NewFlagSet("floor", flag.ExitOnError)
	dsn := fs.String("dsn", "", "database")
	layers := fs.String("layers", "grids", "layers")
	file := fs.String("paths", "", "z/x/y list")
	conc := fs.Int("conc", 8, "concurrent queries")
	dur := fs.Duration("dur", 10*time.Second, "duration")
	plain := fs.Bool("plain", false, "the plain ST_AsMVT of grid polygons with their code (no joins)")
	fs.Parse(args)
	paths, err := readPaths(*file)
	if err != nil {
		return err
	}
	cfg, err := pgxpool.ParseConfig(*dsn)
	if err != nil {
		return err
	}
	cfg.MaxConns = int32(*conc)
	cfg.ConnConfig.RuntimeParams["plan_cache_mode"] = "force_generic_plan" // as the server's tile pool
	ctx := context.Background()
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return err
	}
	defer pool.Close()
	svc := tiles.New(pool, tiles.Options{})
	names, err := svc.ParseLayers(*layers)
	if err != nil {
		return err
	}
	const plainSQL = `SELECT ST_AsMVT(t, 'grids', 4096, 'geom', 'id') FROM (
		SELECT id, code, ST_AsMVTGeom(boundary_3857, ST_TileEnvelope($1, $2, $3), 4096, 64, true) AS geom
		FROM grids WHERE valid_to IS NULL AND boundary_3857 && ST_TileEnvelope($1, $2, $3, margin => 0.015625)) t`
	res, err := loadgen.Run(*conc, *dur, func(i int) error {
		var z, x, y int
		fmt.Sscanf(paths[i%len(paths)], "%d/%d/%d", &z, &x, &y)
		if *plain {
			var b []byte
			return pool.QueryRow(ctx, plainSQL, z, x, y).Scan(&b)
		}
		_, err := svc.Get(ctx, names, z, x, y, nil)
		return err
	})
	if err != nil {
		return err
	}
	kind := "gridmap SQL via pgx"
	if *plain {
		kind = "plain ST_AsMVT via pgx"
	}
	fmt.Printf("floor %s (%s, %d conns): %s\n", *layers, kind, *conc, strings.Replace(res.String(), "req/s", "q/s", 1))
	return nil
}
